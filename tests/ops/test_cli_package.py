"""The `screener` CLI as a package: every command registered, in the help's order; no module of it
imports one that imports it back; `bench --sanctions` reaches the benchmark."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from ops.cli import app, main

CLI = Path(__file__).resolve().parents[2] / "ops" / "cli"


def test_every_command_is_registered_in_the_help_order():
    names = [c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands]
    assert names == [
        "screen",
        "rules",
        "replay",
        "match-eval",
        "explain-match",
        "list-report",
        "broker",
        "run",
        "config",
        "produce",
        "tail",
        "demo",
        "bench",
    ]
    assert [g.name for g in app.registered_groups] == ["registry", "audit", "workbench"]


def _cli_imports(path: Path) -> set[str]:
    """The CLI modules a module imports, lazy imports included."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return {m for m in found if m.startswith("ops.cli.")}


def test_no_cli_module_imports_one_that_imports_it_back():
    graph = {("ops.cli" if p.stem == "__init__" else f"ops.cli.{p.stem}"): _cli_imports(p) for p in CLI.glob("*.py")}
    assert graph["ops.cli.common"] == set()
    for module, imported in graph.items():
        for other in imported:
            assert module not in graph.get(other, set()), f"{module} <-> {other}"


@pytest.mark.parametrize("given", [True, False])
def test_bench_passes_the_sanctions_list_to_the_benchmark(tmp_path, monkeypatch, given):
    import ops.bench.run

    calls = []

    def fake_run(*args, **kwargs):
        calls.append((args, kwargs))
        return {}

    monkeypatch.setattr(ops.bench.run, "run", fake_run)
    monkeypatch.setattr(ops.bench.run, "print_summary", lambda result: None)
    main(["bench", "--quick", *(["--sanctions", str(tmp_path)] if given else [])])
    (args, kwargs), *_ = calls
    assert args[0] is True
    assert kwargs["sanctions"] == (tmp_path if given else None)
