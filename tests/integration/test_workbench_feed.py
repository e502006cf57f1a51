"""The workbench's feed on the embedded broker (issue 15): the sample payments screened by a real
worker become cases in the workbench's store, one per review, each with its four-eyes reasons,
its account and the digest of the worker's audit record body; block and pass decisions settle
their payments; a restarted feed resumes after its stored positions and duplicates nothing."""

from __future__ import annotations

import hashlib
import io
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ops.kafka_commands import produce_payments
from ops.screen_file import FileScreener, load_registry_file
from ops.workbench.feed import Feed
from ops.workbench.store import CaseRow, Store
from rules import load_rules
from rules.casework import State, four_eyes_reasons
from rules.decision import Hit
from streams.settings import Settings
from tests.integration.conftest import SAMPLES, Worker, collect

pytestmark = pytest.mark.integration

FOUR_EYES = {
    "P-015": ("authorised_exception 31 CFR 1010.661(b)(1)",),
    "P-018": ("authorised_exception 31 CFR 1010.651(b)(3)",),
    "P-021": ("indirect_use 31 CFR 1010.658(b)(2)(iii)",),
    "P-031": (),
}


def offline_decisions() -> dict[str, dict[str, Any]]:
    out = io.StringIO()
    FileScreener(load_rules(), load_registry_file(SAMPLES / "registry.yaml")).run(
        "samples", (SAMPLES / "payments.jsonl").open("rb"), out, lambda _: None
    )
    return {d["payment_id"]: d for d in map(json.loads, out.getvalue().splitlines())}


def until(condition: Callable[[], bool], timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def cases_of(store: Store) -> dict[str, CaseRow]:
    return {c.payment_id: c for c in store.queue(states=tuple(State), limit=1000)}


def run_feed(settings: Settings, store: Store, ready: Callable[[Feed], bool]) -> dict[str, Any]:
    """A feed on its thread until `ready` says so (and it has read to the end), then stopped."""
    feed = Feed(settings, store, {m.section for m in load_rules().measures})
    feed.start()
    try:
        assert until(lambda: feed.status()["caught_up"] and ready(feed)), feed.status()
    finally:
        feed.stop()
    status = feed.status()
    assert status["running"] is False
    return status


def test_screened_samples_become_cases_and_a_restart_duplicates_nothing(
    worker: Worker, settings: Settings, tmp_path: Path
) -> None:
    expected = offline_decisions()
    reviews = {p for p, d in expected.items() if d["decision"] == "review"}
    assert set(FOUR_EYES) <= reviews
    with (SAMPLES / "payments.jsonl").open("rb") as source:
        sent, _raw, errors = produce_payments(settings, source, None, raw=False)
    assert (sent, errors) == (len(expected), [])
    decided = collect(settings, settings.topics.decisions, len(expected))
    assert {p: r[0]["decision"] for p, r in decided.items()} == {p: d["decision"] for p, d in expected.items()}

    store = Store(tmp_path / "workbench.sqlite")
    first = run_feed(settings, store, lambda feed: len(cases_of(store)) >= len(reviews))
    cases = cases_of(store)
    assert set(cases) == reviews
    assert first["cases_opened"] == len(reviews)
    assert first["skipped"] == {}

    audit = collect(settings, settings.topics.audit, len(expected), key="subject_id")
    sections = {m.section for m in load_rules().measures}
    for pid, case in cases.items():
        assert case.state is State.OPEN
        wire = decided[pid][0]
        assert case.decision == {k: v for k, v in wire.items() if k != "_position"}
        reasons = four_eyes_reasons([Hit(**h) for h in expected[pid]["hits"]], sections)
        assert case.four_eyes == FOUR_EYES.get(pid, reasons), pid
        assert case.severity == ("high" if case.four_eyes else "medium")
        assert case.account_id == expected_account(pid), pid
        # The audit trail's body for this decision is the case's decision, byte for byte.
        bodies = [r["body"] for r in audit[pid] if r["kind"] == "decision"]
        assert bodies, pid
        assert case.decision_digest == hashlib.sha256(bodies[0].encode()).hexdigest(), pid
        assert case.source.startswith(settings.topics.decisions + "/")
        assert store.payment(pid) is not None
    assert store.payment("P-002") is None  # a block settles its payment: its bytes are not kept
    assert store.payment("P-001") is None  # so does a pass
    positions = {t: store.positions(t) for t in (settings.topics.payments, settings.topics.decisions)}
    assert sum(positions[settings.topics.decisions].values()) >= len(expected)

    # A restarted feed resumes after the stored positions: nothing read again, nothing opened.
    again = run_feed(settings, store, lambda feed: True)
    assert (again["records_read"], again["cases_opened"]) == (0, 0)
    assert cases_of(store) == cases

    # A new review after the restart opens exactly one more case.
    line = sample("P-031")
    new = dict(line, payment_id="WB-031")
    sent, _raw, errors = produce_payments(settings, io.BytesIO(json.dumps(new).encode() + b"\n"), None, raw=False)
    assert (sent, errors) == (1, [])
    third = run_feed(settings, store, lambda feed: "WB-031" in cases_of(store))
    assert third["cases_opened"] == 1
    assert set(cases_of(store)) == reviews | {"WB-031"}
    assert cases_of(store)["WB-031"].account_id == line["correspondent_account_id"]
    store.close()


def sample(payment_id: str) -> dict[str, Any]:
    for line in (SAMPLES / "payments.jsonl").read_text().splitlines():
        record: dict[str, Any] = json.loads(line)
        if record["payment_id"] == payment_id:
            return record
    raise AssertionError(payment_id)


def expected_account(payment_id: str) -> str:
    return str(sample(payment_id).get("correspondent_account_id") or "")


def test_serve_follows_the_decisions_reports_ready_and_stops_on_sigterm(
    worker: Worker, settings: Settings, tmp_path: Path
) -> None:
    """`screener workbench serve` as a process: its queue (through the API) gets the reviews a
    worker decides, /api/v1/status says ready, and SIGTERM ends it at once with code 0."""
    import urllib.request

    from ops.workbench.demo_stack import WorkbenchProcess, demo_users, wait_for_cases, write_users_file

    ids = {"SV-015": "P-015", "SV-021": "P-021", "SV-002": "P-002"}
    lines = b"".join(json.dumps(dict(sample(src), payment_id=pid)).encode() + b"\n" for pid, src in ids.items())
    assert produce_payments(settings, io.BytesIO(lines), None, raw=False)[0] == len(ids)
    users = demo_users([("ann", "analyst"), ("bob", "approver")], api_user="ann")
    token = users[0].api_token
    assert token is not None
    process = WorkbenchProcess(
        settings.bootstrap_servers,
        write_users_file(tmp_path / "users.yaml", users),
        tmp_path / "serve.sqlite",
        tmp_path / "serve.log",
        env={"SCREENER_PARTITIONS": str(settings.partitions)},
    ).start()
    try:
        assert wait_for_cases(process.url, token, {"SV-015", "SV-021"}) == {"SV-015", "SV-021"}, process.log_tail()
        request = urllib.request.Request(f"{process.url}/api/v1/status", headers={"Authorization": f"Bearer {token}"})

        def status() -> dict[str, Any]:
            with urllib.request.urlopen(request, timeout=5) as resp:
                return dict(json.load(resp))

        assert until(lambda: status()["caught_up"], timeout=30), status()
        body = status()
        assert body["ready"] is True
        assert body["registry"]["loaded"] is True
        assert body["feed"]["skipped"] == {}
    finally:
        started = time.monotonic()
        code = process.stop()
    assert code == 0, process.log_tail()
    assert time.monotonic() - started < 10
    log = [json.loads(line) for line in process.log_tail(200_000).splitlines() if line.startswith("{")]
    events = [e["event"] for e in log]
    assert "workbench serving" in events
    assert events[-1] == "workbench stopped"
    # Info logs carry no account numbers or names of the payments worked.
    text = process.log_tail(200_000)
    for src in ids.values():
        record = sample(src)
        assert record["correspondent_account_id"] not in text
        assert record["debtor"]["name"] not in text
