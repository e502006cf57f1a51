"""`screener replay` as an operator runs it: payments screened once, then again under a list that
adds and removes names; the transitions, the diff, the lookback report and the closing JSON line."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from ops.cli import main
from ops.replay.compare import compare
from ops.replay.lookback import Row, write_csv
from ops.replay.recorded import find_registry, load_decisions
from ops.replay.topic_sink import TopicSink, TopicSinkError
from streams.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "ops" / "samples"
REGISTRY = SAMPLES / "registry.yaml"
PACKAGED_LIST = ROOT / "rules" / "lists" / "blocked_persons.yaml"
AS_OF = "2026-01-05T12:00:00+00:00"
NEW_NAME = "Zephyr Maritime Holdings Ltd"


def payment(payment_id: str, creditor: str, country: str = "NO", account: str = "ACC-DE-001") -> dict[str, Any]:
    return {
        "payment_id": payment_id,
        "message_type": "pacs.008",
        "amount": "25000.00",
        "currency": "USD",
        "debtor": {"name": "Acme Export LLC", "country": "US"},
        "creditor": {"name": creditor, "country": country},
        "debtor_agent": {"bic": "HNSEDEFF", "name": "Hanseatic Commerce Bank AG"},
        "creditor_agent": {"bic": "NRTHNOKK"},
        "created_at": "2025-06-10T14:00:00Z",
        "correspondent_account_id": account,
    }


PAYMENTS = [
    payment("R-ADDED", NEW_NAME),  # pass, then blocked by the new designation
    payment("R-REMOVED", "Choe Chol Min", "CN"),  # blocked, then released by the removal
    payment("R-CLEAN", "Nordic Timber AS"),  # pass, pass
    payment("R-MEASURE", "Nordic Timber AS", account="ACC-KP-001"),  # blocked by 1010.659 either way
]


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code: int | str | None
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return int(code or 0), out.out, out.err


def new_list(path: Path) -> Path:
    """The packaged list with Choe Chol Min removed and a new entity designated."""
    data = yaml.safe_load(PACKAGED_LIST.read_text(encoding="utf-8"))
    data["entries"] = [e for e in data["entries"] if e["name"] != "Choe Chol Min"]
    data["entries"].append(
        {"id": "new-1", "name": NEW_NAME, "type": "entity", "countries": ["NO"], "programs": ["SDGT"]}
    )
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def screened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> dict[str, Path]:
    """The payments screened once under the packaged list, as `screener screen` does."""
    monkeypatch.setenv("SCREENER_DATA_DIR", str(tmp_path / "data"))
    payments = tmp_path / "payments.jsonl"
    payments.write_text("".join(json.dumps(p) + "\n" for p in PAYMENTS), encoding="utf-8")
    decisions = tmp_path / "decisions.jsonl"
    args = ["screen", "--registry", str(REGISTRY), "--input", str(payments), "--output", str(decisions)]
    code, _, err = run([*args, "--as-of", AS_OF], capsys)
    assert code == 0, err
    before = {d["payment_id"]: d["decision"] for d in map(json.loads, decisions.read_text().splitlines())}
    assert before == {"R-ADDED": "pass", "R-REMOVED": "block", "R-CLEAN": "pass", "R-MEASURE": "block"}
    return {"payments": payments, "decisions": decisions, "list": new_list(tmp_path / "new.yaml")}


def replay(files: dict[str, Path], out: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    args = ["replay", str(files["payments"]), "--against", str(files["decisions"]), "--out", str(out), *extra]
    code, stdout, err = run([*args, "--as-of", AS_OF], capsys)
    assert code == 0, err
    summary: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    return summary


def test_a_new_list_gives_exactly_the_transitions_it_causes(screened, tmp_path, capsys):
    summary = replay(screened, tmp_path / "out", capsys, "--sanctions", str(screened["list"]), "--jobs", "1")
    assert summary["transitions"] == {"block->pass": 1, "pass->block": 1}
    assert summary["changed"] == 2
    assert summary["unchanged"] == 2
    assert summary["replayed"] == 4
    assert summary["rules_version_before"] != summary["rules_version_after"]
    assert summary["registry_version"].startswith("reg-")
    assert summary["by_rule"] == {"+blocked_person": 1, "-blocked_person": 1}
    diff = {d["payment_id"]: d for d in map(json.loads, (tmp_path / "out" / "diff.jsonl").read_text().splitlines())}
    assert (diff["R-ADDED"]["before"], diff["R-ADDED"]["after"]) == ("pass", "block")
    assert [h["matched"] for h in diff["R-ADDED"]["hits_added"]] == [NEW_NAME]
    assert [h["matched"] for h in diff["R-REMOVED"]["hits_removed"]] == ["Choe Chol Min"]
    assert not diff["R-MEASURE"]["changed"]
    assert not diff["R-MEASURE"]["hits_added"]
    assert not diff["R-MEASURE"]["hits_removed"]


def test_the_same_rules_change_nothing_and_every_core_gives_the_same_decisions(screened, tmp_path, capsys):
    one = replay(screened, tmp_path / "one", capsys, "--jobs", "1")
    assert (one["changed"], one["hits_changed"], one["transitions"]) == (0, 0, {})
    assert one["rules_version_before"] == one["rules_version_after"]
    two = replay(screened, tmp_path / "two", capsys, "--jobs", "2", "--sanctions", str(screened["list"]))
    three = replay(screened, tmp_path / "three", capsys, "--jobs", "1", "--sanctions", str(screened["list"]))
    assert two["transitions"] == three["transitions"]
    assert (tmp_path / "two" / "decisions.jsonl").read_text() == (tmp_path / "three" / "decisions.jsonl").read_text()


def test_the_lookback_lists_what_would_now_be_stopped(screened, tmp_path, capsys):
    replay(screened, tmp_path / "out", capsys, "--sanctions", str(screened["list"]))
    rows = list(csv.DictReader((tmp_path / "out" / "lookback.csv").open(encoding="utf-8")))
    assert [r["payment_id"] for r in rows] == ["R-ADDED"]
    assert rows[0]["before"] == "pass"
    assert rows[0]["after"] == "block"
    assert NEW_NAME in rows[0]["new_hits"]
    assert rows[0]["amount"] == "25000.00"
    assert rows[0]["created_at"].startswith("2025-06-10")
    page = (tmp_path / "out" / "lookback.html").read_text(encoding="utf-8")
    assert "R-ADDED" in page
    assert "R-REMOVED" not in page


def test_without_a_registry_the_one_each_decision_names_is_used_or_the_run_refuses(
    screened, tmp_path, monkeypatch, capsys
):
    # The registry kept by `screen` is found by its version: no --registry needed.
    summary = replay(screened, tmp_path / "out", capsys)
    assert summary["changed"] == 0
    # Elsewhere (another data directory), nothing is kept: the operator is told what to give.
    monkeypatch.setenv("SCREENER_DATA_DIR", str(tmp_path / "elsewhere"))
    code, _, err = run(
        ["replay", str(screened["payments"]), "--against", str(screened["decisions"]), "--out", str(tmp_path / "x")],
        capsys,
    )
    assert code == 2
    assert "--registry" in err
    summary = replay(screened, tmp_path / "given", capsys, "--registry", str(REGISTRY))
    assert summary["changed"] == 0
    # A registry file beside the payments with the recorded version is found there; another one
    # (another version) is not taken for it.
    other = yaml.safe_load(REGISTRY.read_text(encoding="utf-8"))
    other["accounts"] = other["accounts"][1:]
    (tmp_path / "another.yaml").write_text(yaml.safe_dump(other), encoding="utf-8")
    (tmp_path / "not-a-registry.json").write_text("{}", encoding="utf-8")
    code, _, err = run(["replay", str(screened["payments"]), "--against", str(screened["decisions"])], capsys)
    assert code == 2, err
    (tmp_path / "registry.yaml").write_bytes(REGISTRY.read_bytes())
    summary = replay(screened, tmp_path / "beside", capsys)
    assert summary["changed"] == 0
    assert summary["dead_lettered"] == 0


def test_bad_input_is_dead_lettered_and_the_run_goes_on(screened, tmp_path, capsys):
    with screened["payments"].open("a", encoding="utf-8") as out:
        out.write('{"payment_id": "R-BAD"\nnot json at all\n')
    with screened["decisions"].open("a", encoding="utf-8") as out:
        out.write("garbage\n")
    summary = replay(screened, tmp_path / "out", capsys, "--sanctions", str(screened["list"]))
    assert summary["dead_lettered"] == 2
    assert summary["transitions"] == {"block->pass": 1, "pass->block": 1}
    dead = (tmp_path / "out" / "dead-letter.jsonl").read_text().splitlines()
    assert len(dead) == 2
    assert all(json.loads(line)["error"] for line in dead)
    assert load_decisions(screened["decisions"]).bad_lines == 1


def test_payments_without_a_recorded_decision_are_counted_not_compared(screened, tmp_path, capsys):
    extra = payment("R-NEW", NEW_NAME)
    with screened["payments"].open("a", encoding="utf-8") as out:
        out.write(json.dumps(extra) + "\n")
    summary = replay(
        screened, tmp_path / "out", capsys, "--sanctions", str(screened["list"]), "--registry", str(REGISTRY)
    )
    assert summary["not_recorded"] == 1
    assert summary["transitions"] == {"block->pass": 1, "pass->block": 1}
    rows = list(csv.DictReader((tmp_path / "out" / "lookback.csv").open(encoding="utf-8")))
    assert {r["payment_id"] for r in rows} == {"R-ADDED", "R-NEW"}


def test_a_hit_is_the_same_hit_when_only_its_score_moved():
    hit = {"rule": "blocked_person", "citation": "c", "action": "review", "field": "creditor.name", "matched": "X"}
    before = {"decision": "review", "hits": [hit | {"score": 91.0, "reason": "a"}]}
    after = {"decision": "review", "hits": [hit | {"score": 93.5, "reason": "b"}]}
    change = compare("P", before, after)
    assert not change.changed
    assert not change.hits_changed
    stronger = compare("P", before, {"decision": "block", "hits": [hit | {"action": "block"}]})
    assert stronger.changed
    assert stronger.transition == "review->block"
    assert len(stronger.hits_added) == len(stronger.hits_removed) == 1


def test_the_csv_report_cannot_carry_a_formula(tmp_path):
    change = compare("=HYPERLINK(1)", None, {"decision": "block", "hits": []})
    path = tmp_path / "r.csv"
    write_csv(path, [Row(change, {"debtor": "+cmd|' /C calc'!A0", "amount": "-1"}, "f:1")])
    row = next(csv.DictReader(path.open(encoding="utf-8")))
    assert row["payment_id"].startswith("'=")
    assert row["debtor"].startswith("'+")
    assert row["amount"] == "'-1"


def test_a_replay_never_writes_to_a_live_topic():
    settings = Settings(bootstrap_servers="127.0.0.1:1")
    for topic in (settings.topics.decisions, settings.topics.payments, settings.topics.audit):
        with pytest.raises(TopicSinkError, match="live screening topic"):
            TopicSink(settings, topic)


def test_a_recorded_payment_that_cannot_be_screened_now_is_a_transition_to_dead_letter():
    change = compare("P", {"decision": "pass", "hits": []}, None)
    assert change.changed
    assert change.transition == "pass->dead-letter"
    assert not compare("P", None, None).changed  # never recorded: nothing to compare


def test_a_payment_id_met_again_is_compared_with_its_own_decision_not_the_first(screened, tmp_path, capsys):
    """`screen` decides every line: two payments under one id have a decision each, and each is
    compared with its own. A repeat with no decision of its own is counted, never a transition."""
    again = payment("R-ADDED", "Choe Chol Min", "CN")  # the same id, a payment that was blocked
    with screened["payments"].open("a", encoding="utf-8") as out:
        out.write(json.dumps(again) + "\n")
    args = ["screen", "--registry", str(REGISTRY), "--input", str(screened["payments"])]
    code, _, err = run([*args, "--output", str(screened["decisions"]), "--as-of", AS_OF], capsys)
    assert code == 0, err
    same = replay(screened, tmp_path / "same", capsys)
    assert (same["changed"], same["transitions"], same["repeated"]) == (0, {}, 0)
    # Recorded by a worker (the first decision only): the repeat is counted, not compared.
    first_only = tmp_path / "first-only.jsonl"
    first_only.write_text("".join(screened["decisions"].read_text().splitlines(keepends=True)[:4]), encoding="utf-8")
    summary = replay(dict(screened, decisions=first_only), tmp_path / "first", capsys)
    assert (summary["changed"], summary["transitions"], summary["repeated"]) == (0, {}, 1)
    rows = list(csv.DictReader((tmp_path / "first" / "lookback.csv").open(encoding="utf-8")))
    assert rows == []


@pytest.mark.parametrize(
    "line",
    [
        '{"payment_id": "R-ADDED", "decision": "pass", "hits": "xy"}',
        '{"payment_id": "R-ADDED", "decision": "pass", "hits": [1]}',
        "[" * 100_000 + "]" * 100_000,
        '{"payment_id": 7, "decision": "pass"}',
    ],
)
def test_a_recorded_decision_of_the_wrong_shape_is_a_counted_bad_line(screened, tmp_path, capsys, line):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(line + "\n" + screened["decisions"].read_text(), encoding="utf-8")
    recorded = load_decisions(bad)
    assert recorded.bad_lines == 1
    assert len(recorded.decisions) == len(PAYMENTS)
    summary = replay(dict(screened, decisions=bad), tmp_path / "out", capsys, "--jobs", "2")
    assert summary["changed"] == 0


def test_a_recorded_registry_version_names_no_file_outside_the_kept_registries(tmp_path):
    outside = tmp_path / "outside.yaml"
    outside.write_bytes(REGISTRY.read_bytes())
    (tmp_path / "data" / "registries").mkdir(parents=True)
    assert find_registry(tmp_path / "data", "../../outside") is None
    assert find_registry(tmp_path / "data", "reg-0123456789abcdef") is None


def test_a_payment_without_a_registry_is_counted_apart_from_the_changes(screened, tmp_path, capsys):
    recorded = [json.loads(line) for line in screened["decisions"].read_text().splitlines()]
    recorded[0]["registry_version"] = "reg-00000000000000ff"  # a registry kept nowhere
    other = tmp_path / "other.jsonl"
    other.write_text("".join(json.dumps(d) + "\n" for d in recorded), encoding="utf-8")
    summary = replay(dict(screened, decisions=other), tmp_path / "out", capsys)
    assert summary["no_registry"] == 1
    assert summary["transitions"] == {}
    assert summary["changed"] == 0
    assert len((tmp_path / "out" / "dead-letter.jsonl").read_text().splitlines()) == 1
