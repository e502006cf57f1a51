"""`screener screen` and `screener rules` as an operator runs them."""

import csv
import io
import json
import subprocess
import sys
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from ops.cli import main
from ops.screen_file import FileScreener, load_registry_file
from rules import load_rules
from tests.conftest import SCREENED_AT

SAMPLES = Path(__file__).resolve().parents[2] / "ops" / "samples"
REGISTRY = SAMPLES / "registry.yaml"


def run(args, capsys):
    """main() with args: (exit code, stdout, stderr); returning normally is exit code 0."""
    code: int | str | None
    try:
        main([*args])
        code = 0
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_sample_payments_decide_as_documented(tmp_path, capsys):
    out = tmp_path / "decisions.jsonl"
    code, _, err = run(
        [
            "screen",
            "--registry",
            str(REGISTRY),
            "--input",
            str(SAMPLES / "payments.jsonl"),
            "--output",
            str(out),
        ],
        capsys,
    )
    assert code == 0
    expected = list(csv.DictReader((SAMPLES / "payments_expected.tsv").open(), delimiter="\t"))
    got = [json.loads(line) for line in out.read_text().splitlines()]
    assert [d["payment_id"] for d in got] == [e["payment_id"] for e in expected]  # input order
    assert [(d["payment_id"], d["decision"]) for d in got] == [(e["payment_id"], e["expected"]) for e in expected]
    counts = Counter(e["expected"] for e in expected)
    verdicts = f"block {counts['block']}, review {counts['review']}, pass {counts['pass']}"
    assert f"screened {len(expected)} payments: {verdicts}; dead-lettered 0" in err


def test_bad_lines_go_to_the_dead_letter_file_and_the_run_goes_on(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    good = (SAMPLES / "payments.jsonl").read_text().splitlines()[0]
    src.write_bytes(b"\n".join([good.encode(), b"not json", b"\xff\xfe", b"", good.encode()]) + b"\n")
    dead = tmp_path / "dead.jsonl"
    code, out, err = run(
        ["screen", "--registry", str(REGISTRY), "--input", str(src), "--dead-letter", str(dead)], capsys
    )
    assert code == 0
    assert len(out.splitlines()) == 2
    records = [json.loads(line) for line in dead.read_text().splitlines()]
    assert [(r["line"], r["error"][:14]) for r in records] == [(2, "not valid JSON"), (3, "not valid JSON")]
    assert records[0]["original"] == "not json"
    assert records[1]["original_base64"] == "//4="  # bytes kept exactly
    assert "dead-lettered 2" in err


def test_default_dead_letter_file_sits_beside_the_input(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text('{"payment_id": 1}\n')
    code, _, err = run(["screen", "--registry", str(REGISTRY), "--input", str(src)], capsys)
    assert code == 0
    assert (tmp_path / "in.jsonl.dead-letter.jsonl").exists()
    assert "in.jsonl.dead-letter.jsonl" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["screen", "--registry", "missing.yaml", "--input", "{payments}"],
            "cannot read registry missing.yaml",
        ),
        (
            ["screen", "--registry", "{registry}", "--input", "missing.jsonl"],
            "cannot read input missing.jsonl",
        ),
        (["screen", "--input", "{payments}"], "Missing option '--registry'"),
        (
            ["screen", "--registry", "{registry}", "--input", "{payments}", "--rules", "/nonexistent"],
            "not a directory",
        ),
        (
            [
                "screen",
                "--registry",
                "{registry}",
                "--input",
                "{payments}",
                "--sanctions",
                "/nonexistent.csv",
            ],
            "no such file",
        ),
        (["screen", "--registry", "{payments}", "--input", "{payments}"], "registry"),
        (["screen", "--registry", "{registry}", "--input", "{payments}", "--as-of", "yesterday"], "RFC 3339"),
    ],
)
def test_unusable_arguments_exit_2_with_one_line(args, message, capsys):
    args = [a.format(payments=SAMPLES / "payments.jsonl", registry=REGISTRY) for a in args]
    code, _, err = run(args, capsys)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("screener: error:")
    assert message in err
    assert "Traceback" not in err


def test_console_script_reads_stdin_and_writes_stdout():
    line = (SAMPLES / "payments.jsonl").read_text().splitlines()[2]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "ops",
            "screen",
            "--registry",
            str(REGISTRY),
            "--input",
            "-",
            "--as-of",
            "2026-01-01T00:00:00Z",
        ],
        input=line + "\n",
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    decision = json.loads(proc.stdout)
    assert (decision["payment_id"], decision["decision"], decision["screened_at"]) == (
        "P-003",
        "block",
        "2026-01-01T00:00:00+00:00",
    )


def test_memory_stays_flat_as_the_input_grows(rules):
    registry = load_registry_file(REGISTRY)
    lines = (SAMPLES / "payments.jsonl").read_bytes().splitlines()

    class Sink(io.StringIO):
        def write(self, s: str) -> int:
            return len(s)

    def peak_to_sink(copies: int) -> int:
        data = io.BytesIO(b"\n".join(lines * copies) + b"\n")
        screener = FileScreener(rules, registry, as_of=SCREENED_AT)
        tracemalloc.start()
        screener.run("mem", data, Sink(), lambda _: None)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    peak_to_sink(1)  # warm the name caches first
    small, large = peak_to_sink(10), peak_to_sink(100)
    assert large < small * 1.5 + 256_000


def test_rules_command_lists_every_section_and_the_version(capsys, rules):
    code, out, _ = run(["rules"], capsys)
    assert code == 0
    for section in (
        "1010.651",
        "1010.653",
        "1010.658",
        "1010.659",
        "1010.660",
        "1010.661",
        "1010.630",
        "1010.670",
        "1010.610",
    ):
        assert section in out
    assert "effective 2015-08-28" in out
    assert rules.version in out


def test_match_eval_prints_precision_and_recall(capsys):
    code, out, _ = run(["match-eval"], capsys)
    assert code == 0
    assert "precision 1.000" in out and "recall" in out


def test_a_payment_whose_screening_raises_is_dead_lettered_and_the_run_goes_on(tmp_path, monkeypatch):
    import ops.screen_file
    from rules.engine import screen as real  # the engine's screen, which ops.screen_file calls

    def failing(p, *args):
        if p.payment_id == "P-002":
            raise RuntimeError("boom")
        return real(p, *args)

    monkeypatch.setattr(ops.screen_file, "screen", failing)
    lines = (SAMPLES / "payments.jsonl").read_bytes().splitlines()[:3]
    out = io.StringIO()
    dead: list[dict[str, Any]] = []
    summary = FileScreener(load_rules(), load_registry_file(REGISTRY)).run(
        "in", io.BytesIO(b"\n".join(lines) + b"\n"), out, dead.append
    )
    assert [json.loads(line)["payment_id"] for line in out.getvalue().splitlines()] == ["P-001", "P-003"]
    assert summary.dead_letters == 1
    assert dead[0]["error"] == "screening failed: RuntimeError: boom" and dead[0]["line"] == 2


def test_a_broken_audit_trail_exits_1(monkeypatch, capsys):
    import streams.audit_verify

    broken = streams.audit_verify.VerifyReport(
        3, {0: 3}, streams.audit_verify.Break(0, 2, "aud-x", "hash does not chain")
    )
    monkeypatch.setattr(streams.audit_verify, "verify", lambda settings, serde, checkpoints=None: broken)
    with pytest.raises(SystemExit) as exc:
        main(["audit", "verify"])
    assert exc.value.code == 1
    assert "audit trail BROKEN" in capsys.readouterr().out


def test_an_intact_audit_trail_exits_0(monkeypatch, capsys):
    import streams.audit_verify

    monkeypatch.setattr(
        streams.audit_verify,
        "verify",
        lambda settings, serde, checkpoints=None: streams.audit_verify.VerifyReport(3, {0: 3}, None),
    )
    main(["audit", "verify"])
    assert "audit trail intact" in capsys.readouterr().out


def test_blank_lines_are_counted_in_the_summary(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    good = (SAMPLES / "payments.jsonl").read_text().splitlines()[0]
    src.write_text(f"{good}\n\n   \n{good.replace('P-001', 'P-001B')}\n")
    code, _, err = run(["screen", "--registry", str(REGISTRY), "--input", str(src)], capsys)
    assert code == 0
    assert "screened 2 payments" in err and "2 blank lines skipped" in err


def test_an_empty_audit_trail_is_not_reported_intact(monkeypatch, capsys):
    import streams.audit_verify

    monkeypatch.setattr(
        streams.audit_verify,
        "verify",
        lambda settings, serde, checkpoints=None: streams.audit_verify.VerifyReport(0, {0: 0}, None),
    )
    with pytest.raises(SystemExit) as exc:
        main(["audit", "verify"])
    assert exc.value.code == 1
    assert "audit trail EMPTY" in capsys.readouterr().out


def test_the_worker_does_not_start_without_an_audit_key(monkeypatch, capsys):
    monkeypatch.delenv("SCREENER_AUDIT_KEYS")
    with pytest.raises(SystemExit) as exc:
        main(["run", "-b", "127.0.0.1:1"])
    assert exc.value.code == 2
    assert "no audit key: set SCREENER_AUDIT_KEYS" in capsys.readouterr().err
