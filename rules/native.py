"""Which rules modules run compiled, and the guard that never lets a stale compiled module run.

The name search and the checks are compiled to C extensions with mypyc (`python -m ops.native
build`, run by `bash ops/bootstrap.sh`): the same typed source, x1.45 the payments per second
in the same process (README, "Performance"). The source stays the reference: every module listed here is plain
Python that runs unchanged when nothing was compiled.

A compiled module would shadow its source after an edit (Python prefers an extension module to a
.py file in the same directory), so the build records the sha256 of every source file of the
package in a manifest, and `guard()` (called by rules/__init__.py before any compiled module is
imported) loads the sources instead when any file differs from its record, or when
SCREENER_PURE_PYTHON=1. What runs is
reported by `state()`, and the worker's /readyz, `screener bench` and the decisions' logs show it.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent
MANIFEST = ROOT / "_native.json"
PURE_ENV = "SCREENER_PURE_PYTHON"

# The modules the engine spends its time in (py-spy over `screener bench`'s engine phase): the
# name index and scoring, name normalisation, and the checks that call them per payment. Not the
# pydantic models (payment, registry, catalog loading) nor anything that reads files.
COMPILED: tuple[str, ...] = (
    "rules.similarity",
    "rules.word_similarity",
    "rules.name_candidates",
    "rules.word_index",
    "rules.name_index",
    "rules.name_forms",
    "rules.names",
    "rules.korean",
    "rules.recent_memo",
    "rules.word_weights",
    "rules.scripts",
    "rules.places",
    "rules.bic",
    "rules.engine",
    "rules.checks.account_rules",
    "rules.checks.blocked_persons",
    "rules.checks.coverage",
    "rules.checks.evidence",
    "rules.checks.facts",
    "rules.checks.free_text",
    "rules.checks.name_evidence",
    "rules.checks.parties",
    "rules.checks.special_measures",
)

_state = "pure Python: not compiled"


def source_path(module: str) -> Path:
    """The .py file of a module of this package."""
    return ROOT.joinpath(*module.split(".")[1:]).with_suffix(".py")


def source_digests() -> dict[str, str]:
    """sha256 of every source file of the package, by path, as the build's manifest records them.

    Every file, not only the compiled ones: mypyc builds a module with the types of what it
    imports, so a compiled module is stale when any module it may import changed (a function of
    rules/catalog.py returning a frozenset instead of a set makes a compiled caller raise).
    """
    return {
        path.relative_to(ROOT).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(ROOT.rglob("*.py"))
    }


def recorded_sources() -> dict[str, str] | None:
    """The sources' digests the last build recorded, or None without a readable manifest."""
    try:
        recorded = json.loads(MANIFEST.read_text(encoding="utf-8"))["sources"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(recorded, dict) or not all(isinstance(v, str) for v in recorded.values()):
        return None
    return {str(k): v for k, v in recorded.items()}


def stale_modules(recorded: dict[str, str], current: dict[str, str]) -> list[str]:
    """The source files changed, added or removed since the build."""
    return sorted(f for f in recorded.keys() | current.keys() if recorded.get(f) != current.get(f))


class _SourceFirst(importlib.abc.MetaPathFinder):
    """Finds the listed modules' .py files ahead of the extension modules beside them."""

    def __init__(self, modules: Sequence[str]) -> None:
        self._modules = frozenset(modules)

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self._modules:
            return None
        return importlib.util.spec_from_file_location(fullname, source_path(fullname))


def guard() -> str:
    """Decide, once, whether the compiled modules may be used; return what runs."""
    global _state  # noqa: PLW0603 - decided once per process, before the modules are imported
    if any(isinstance(f, _SourceFirst) for f in sys.meta_path):
        return _state
    reason = _pure_reason()
    if reason is None:
        _state = "compiled (mypyc)"
        return _state
    _state = f"pure Python: {reason}"
    sys.meta_path.insert(0, _SourceFirst(COMPILED))
    return _state


def _pure_reason() -> str | None:
    if os.environ.get(PURE_ENV) == "1":
        return f"{PURE_ENV}=1"
    if not MANIFEST.is_file():
        return "not compiled"
    recorded = recorded_sources()
    if recorded is None:
        return "the compiled modules' manifest is unreadable"
    stale = stale_modules(recorded, source_digests())
    if stale:
        warnings.warn(
            f"compiled modules older than the package's source ({', '.join(stale[:5])}): running the source; "
            "rebuild with `python -m ops.native build`",
            RuntimeWarning,
            stacklevel=3,
        )
        return f"compiled modules older than the package's source ({len(stale)} changed)"
    return None


def state() -> str:
    """What runs: compiled modules, or the source and why."""
    if _state.startswith("compiled"):
        missing = [m for m in COMPILED if m in sys.modules and not _is_extension(sys.modules[m])]
        if missing:
            return f"partly compiled: {len(missing)} of {len(COMPILED)} modules run from source"
    return _state


def _is_extension(module: ModuleType) -> bool:
    return str(getattr(module, "__file__", "")).endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))
