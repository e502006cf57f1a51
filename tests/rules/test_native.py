"""The compiled rules modules (rules/native.py, ops/native.py): the same decisions as the source,
and never a compiled module older than its source."""

from __future__ import annotations

import importlib.machinery
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ops import native as build
from rules import native

REPO = Path(__file__).resolve().parents[2]

# Screens the sample payments and a generated mix (listed names in several scripts, typos, other
# alphabets, every rule) and prints what ran and a digest of every decision's canonical JSON.
_SCREEN_ALL = """
import hashlib, json
from datetime import UTC, datetime
from pathlib import Path
from ops.bench import data
from ops.bench.engine_bench import rules_with_list
from rules import load_rules, native, parse_payment, registry_from_mapping, screen
from streams.decision_record import DecisionRecord
import yaml

listed = data.blocked_persons(2000, 11)
registry_data = data.registry(11, clean_accounts=50)
registry = registry_from_mapping(registry_data)
rules, _ = rules_with_list(load_rules(), listed)
payments = [g.payment for g in data.payments(1500, 11, listed[:500], registry_data, run=2)]
payments += [g.payment for g in data.payments(500, 11, listed[:500], registry_data, run=5, one_off=1.0)]
sample = load_rules()
sample_registry = registry_from_mapping(yaml.safe_load(Path("ops/samples/registry.yaml").read_text()))
as_of = datetime(2025, 6, 10, 18, 0, tzinfo=UTC)
digest = hashlib.sha256()
blocked = 0
for p in payments:
    d = screen(parse_payment(p), registry, rules, as_of)
    blocked += d.decision == "block"
    digest.update(DecisionRecord.of(d).canonical.encode())
for line in Path("ops/samples/payments.jsonl").read_text().splitlines():
    d = screen(parse_payment(json.loads(line)), sample_registry, sample, as_of)
    digest.update(DecisionRecord.of(d).canonical.encode())
print(json.dumps({"state": native.state(), "digest": digest.hexdigest(), "blocked": blocked}))
"""


def _screen_all(env: dict[str, str]) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", _SCREEN_ALL],
        cwd=REPO,
        env=os.environ | env,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.skipif(
    not build.up_to_date(), reason="the rules modules are not compiled here (python -m ops.native build)"
)
def test_compiled_modules_decide_exactly_as_the_source():
    compiled = _screen_all({native.PURE_ENV: "0"})
    source = _screen_all({native.PURE_ENV: "1"})
    assert compiled["state"] == "compiled (mypyc)"
    assert str(source["state"]).startswith("pure Python")
    assert int(str(compiled["blocked"])) > 0
    assert compiled["digest"] == source["digest"]


def test_pure_python_switch_loads_every_listed_module_from_its_source():
    code = (
        "import json, sys, rules, rules.native as n\n"
        "import rules.checks.free_text, rules.checks.parties\n"
        "print(json.dumps({'state': n.state(), 'files': {m: sys.modules[m].__file__ for m in n.COMPILED}}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=os.environ | {native.PURE_ENV: "1"},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    result = json.loads(out.stdout)
    assert result["state"] == f"pure Python: {native.PURE_ENV}=1"
    assert set(result["files"]) == set(native.COMPILED)
    assert all(path.endswith(".py") for path in result["files"].values()), result["files"]


def test_a_changed_added_or_removed_source_is_stale():
    recorded = {"a.py": "1", "b.py": "2"}
    assert native.stale_modules(recorded, {"a.py": "1", "b.py": "2"}) == []
    assert native.stale_modules(recorded, {"a.py": "1", "b.py": "3"}) == ["b.py"]
    assert native.stale_modules(recorded, {"a.py": "1", "b.py": "2", "c.py": "9"}) == ["c.py"]
    assert native.stale_modules(recorded, {"a.py": "1"}) == ["b.py"]


def test_every_source_of_the_package_is_recorded_not_only_the_compiled_ones():
    digests = native.source_digests()
    # A compiled module is built with the types of what it imports (rules/catalog.py is not compiled).
    assert "catalog.py" in digests
    assert "checks/parties.py" in digests
    assert all(native.source_path(m).relative_to(native.ROOT).as_posix() in digests for m in native.COMPILED)


@pytest.mark.parametrize("changed", ["similarity.py", "catalog.py"])
def test_manifest_older_than_any_source_means_the_source_runs(tmp_path, monkeypatch, changed):
    digests = native.source_digests()
    manifest = tmp_path / "_native.json"
    manifest.write_text(json.dumps({"sources": dict(digests, **{changed: "0" * 64})}), encoding="utf-8")
    monkeypatch.setattr(native, "MANIFEST", manifest)
    monkeypatch.delenv(native.PURE_ENV, raising=False)
    with pytest.warns(RuntimeWarning, match=changed.replace(".", r"\.")):
        reason = native._pure_reason()
    assert reason == "compiled modules older than the package's source (1 changed)"
    manifest.write_text(json.dumps({"sources": digests}), encoding="utf-8")
    assert native._pure_reason() is None


@pytest.mark.parametrize("content", [None, "not json", '{"other": 1}', '{"sources": 3}'])
def test_missing_or_unreadable_manifest_means_the_source_runs(tmp_path, monkeypatch, content):
    manifest = tmp_path / "_native.json"
    if content is not None:
        manifest.write_text(content, encoding="utf-8")
    monkeypatch.setattr(native, "MANIFEST", manifest)
    monkeypatch.delenv(native.PURE_ENV, raising=False)
    reason = native._pure_reason()
    assert reason is not None
    assert reason.startswith(("not compiled", "the compiled modules' manifest is unreadable"))


def test_the_source_finder_serves_only_the_listed_modules():
    finder = native._SourceFirst(["rules.similarity", "rules.checks.parties"])
    spec = finder.find_spec("rules.similarity", None)
    assert spec is not None
    assert spec.origin == str(REPO / "rules" / "similarity.py")
    assert isinstance(spec.loader, importlib.machinery.SourceFileLoader)
    nested = finder.find_spec("rules.checks.parties", None)
    assert nested is not None
    assert nested.origin == str(REPO / "rules" / "checks" / "parties.py")
    assert finder.find_spec("rules.catalog", None) is None


def test_every_listed_module_exists_and_build_checks_each():
    for module in native.COMPILED:
        assert native.source_path(module).is_file(), module
    assert len(set(native.COMPILED)) == len(native.COMPILED)
