"""`python -m ops.native build | check | clean`: the rules modules compiled with mypyc, in place.

The modules are the ones rules/native.py lists; the extension modules are written beside their
sources (rules/*.so, rules/checks/*.so, and mypyc's shared library rules/_native__mypyc*.so), with
a manifest of the sources' sha256 (rules/_native.json) that rules/native.guard() checks before it
lets them run. `bash ops/bootstrap.sh` builds them when a source changed; without a C compiler the
build says so and the source runs (slower, same decisions). The production image builds them
before its wheel (docker/Dockerfile), and the wheel carries them as package data.

Run from the repository root: mypy reads pyproject.toml's [tool.mypy] and names the modules by
their paths.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

from rules.native import COMPILED, MANIFEST, ROOT, recorded_sources, source_digests, source_path, stale_modules

REPO = ROOT.parent
BUILD_DIR = REPO / "build" / "native"
GROUP = "rules._native"


def _outputs() -> list[Path]:
    """The extension modules a build leaves in the package (any Python ABI tag)."""
    return sorted(p for pattern in ("*.so", "*.pyd") for p in ROOT.rglob(pattern))


def up_to_date() -> bool:
    """Whether every listed module is compiled from its current source."""
    recorded = recorded_sources()
    if recorded is None:
        return False
    built = {p.name.split(".", 1)[0] for p in _outputs()}
    every_module = all(m.rsplit(".", 1)[1] in built for m in COMPILED)
    return every_module and not stale_modules(recorded, source_digests())


def clean() -> None:
    for path in _outputs():
        path.unlink()
    MANIFEST.unlink(missing_ok=True)
    shutil.rmtree(BUILD_DIR, ignore_errors=True)


def build() -> None:
    """Compile every listed module into the package and record the sources compiled."""
    # Imported here: mypy and setuptools are build tools (the dev extra), not run-time dependencies.
    from mypyc.build import mypycify
    from setuptools import Distribution

    os.chdir(REPO)
    digests = source_digests()
    clean()
    extensions = mypycify(
        [str(source_path(m).relative_to(REPO)) for m in COMPILED],
        opt_level="3",
        group_name=GROUP,
        target_dir=str(BUILD_DIR),
    )
    # A bare Distribution: setup() would read pyproject.toml's [project] table, which only the
    # packaging build needs.
    dist = Distribution({"name": "payment-screener-native", "ext_modules": extensions})
    command = dist.get_command_obj("build_ext")
    command.inplace = True
    command.build_temp = str(BUILD_DIR / "temp")
    command.parallel = os.cpu_count() or 1
    dist.run_command("build_ext")
    if source_digests() != digests:
        clean()
        raise SystemExit("a source changed while it was compiled: run the build again")
    MANIFEST.write_text(json.dumps({"sources": digests}, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "build"
    if command == "check":
        print("up to date" if up_to_date() else "not built or stale")
        return 0 if up_to_date() else 1
    if command == "clean":
        clean()
        return 0
    if command != "build":
        print("usage: python -m ops.native [build|check|clean]", file=sys.stderr)
        return 2
    if up_to_date():
        print(f"compiled rules modules up to date ({len(COMPILED)} modules)")
        return 0
    started = time.monotonic()
    build()
    print(f"compiled {len(COMPILED)} rules modules with mypyc in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
