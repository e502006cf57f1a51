"""A running worker puts a new blocked-persons list in force without a restart (issue 14, point 4):
the list file rewritten by rename and in place, then broken; decisions name the version they were
made under, the audit trail records each change and the refusal, and it verifies."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ops.broker import EmbeddedBroker
from ops.kafka_commands import load_registry
from rules import load_rules
from streams.audit_verify import iter_partition
from streams.kafka_io import Sender
from streams.serde import Serde
from streams.settings import Settings
from tests.integration.conftest import SAMPLES, Worker, collect

pytestmark = pytest.mark.integration

FIRST = "Imaginary Person Alpha"
SECOND = "Fictional Trader Omega"
OTHER = "Zebulon Quartermaine Example"
UPDATE_WITHIN_S = 60.0


def blocked_list(*names: str) -> str:
    entries = [{"id": f"LIVE-{i}", "name": n, "type": "individual", "programs": ["SDGT"]} for i, n in enumerate(names)]
    return json.dumps({"kind": "blocked_persons", "source": "live update test", "entries": entries}, indent=1)


@pytest.fixture(scope="module")
def listed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("lists") / "blocked.yaml"
    path.write_text(blocked_list(OTHER))
    return path


@pytest.fixture(scope="module")
def live_worker(
    broker: EmbeddedBroker, settings: Settings, listed: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Worker]:
    load_registry(settings, SAMPLES / "registry.yaml")
    worker = Worker(broker, tmp_path_factory.mktemp("worker"), "payment-screener")
    worker.env["SCREENER_SANCTIONS"] = str(listed)
    worker.env["SCREENER_RULES_WATCH_INTERVAL_S"] = "1"
    worker.start()
    yield worker
    if worker.proc is not None and worker.proc.poll() is None:
        worker.terminate()


def readyz_until(worker: Worker, condition: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    deadline = time.monotonic() + UPDATE_WITHIN_S
    while time.monotonic() < deadline:
        assert worker.proc is not None and worker.proc.poll() is None, "the worker stopped"
        body = worker.readyz()
        if condition(body):
            return body
        time.sleep(0.2)
    raise AssertionError(f"/readyz never showed the update: {worker.readyz()}")


def decide(settings: Settings, sent: list[str], payment_id: str, creditor: str) -> dict[str, Any]:
    """Send one payment to `creditor` and wait for its decision."""
    payment = {
        "payment_id": payment_id,
        "message_type": "MT103",
        "created_at": "2025-06-10T10:00:00Z",
        "correspondent_account_id": "ACC-DE-001",
        "creditor": {"name": creditor},
    }
    sender = Sender(settings)
    sender.send(settings.topics.payments, payment_id.encode(), json.dumps(payment).encode())
    sender.flush()
    sent.append(payment_id)
    got = collect(settings, settings.topics.decisions, len(sent))
    assert payment_id in got, f"no decision for {payment_id}"
    [decision] = got[payment_id]
    return decision


def audit_records(settings: Settings) -> list[dict[str, Any]]:
    serde = Serde(settings)
    return [
        serde.decode(settings.topics.audit, "AuditRecord", value)
        for partition in range(settings.partitions + 1)
        for _, value in iter_partition(settings, partition)
    ]


def metric(worker: Worker, line_start: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{worker.web_port}/metrics", timeout=2) as resp:
        text = resp.read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(line_start))


def test_a_new_list_is_put_in_force_without_a_restart(live_worker: Worker, settings: Settings, listed: Path):
    worker, sent = live_worker, list[str]()
    pid = worker.proc.pid if worker.proc else None
    first = worker.readyz()["rules_version"]
    assert first == load_rules(sanctions=listed).version

    before = decide(settings, sent, "LIVE-1", FIRST)
    assert (before["decision"], before["rules_version"]) == ("pass", first)

    # Written beside and renamed into place, as an operator should.
    staged = listed.with_name("blocked.staged.yaml")
    staged.write_text(blocked_list(OTHER, FIRST))
    second = load_rules(sanctions=staged).version
    staged.replace(listed)
    readyz_until(worker, lambda body: body["rules_version"] == second)
    blocked = decide(settings, sent, "LIVE-2", FIRST)
    assert (blocked["decision"], blocked["rules_version"]) == ("block", second)

    # Rewritten in place: taken once two looks agree.
    listed.write_text(blocked_list(OTHER, FIRST, SECOND))
    third = load_rules(sanctions=listed).version
    readyz_until(worker, lambda body: body["rules_version"] == third)
    blocked = decide(settings, sent, "LIVE-3", SECOND)
    assert (blocked["decision"], blocked["rules_version"]) == ("block", third)

    # A broken list is refused whole; the last good one stays in force.
    listed.write_text("kind: blocked_persons\nsource: broken\nentries:\n  - id: LIVE-9\n   name: [\n")
    body = readyz_until(worker, lambda body: body["rules_last_refusal"] is not None)
    assert body["rules_version"] == third
    assert "not valid YAML" in body["rules_last_refusal"]["error"]
    still = decide(settings, sent, "LIVE-4", SECOND)
    assert (still["decision"], still["rules_version"]) == ("block", third)
    time.sleep(3)  # several more looks at the same bad content
    assert metric(worker, 'screener_rules_updates_total{outcome="refused"}') == 1
    assert metric(worker, 'screener_rules_updates_total{outcome="applied"}') == 2
    refusals = [line for line in worker.log.read_text().splitlines() if "rules update refused" in line]
    assert len(refusals) == 1, refusals
    assert json.loads(refusals[0])["level"] == "error"
    assert worker.readyz()["rules_version"] == third
    assert worker.proc is not None and worker.proc.pid == pid and worker.proc.poll() is None, "restarted"

    # The trail: each change and the refusal on the chains the worker owns, every decision
    # under the version recorded before it, and the whole trail verifies.
    records = audit_records(settings)
    changes = [json.loads(r["body"]) for r in records if r["kind"] == "rules_change"]
    assert {(c["before"], c["after"]) for c in changes} == {(first, second), (second, third)}
    assert all(c["cause"].startswith("watched path changed: sanctions") and c["by"] for c in changes)
    refused = [r for r in records if r["kind"] == "rules_refused"]
    assert refused and all(r["rules_version"] == third for r in refused)
    for chain in {r["chain"] for r in records if r["kind"] == "decision"}:
        in_force = first
        for record in (r for r in records if r["chain"] == chain):
            if record["kind"] == "rules_change":
                in_force = json.loads(record["body"])["after"]
            elif record["kind"] == "decision":
                assert record["rules_version"] == in_force, record["subject_id"]
    verify = subprocess.run(
        [sys.executable, "-m", "ops", "audit", "verify", "-b", settings.bootstrap_servers],
        env=worker.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
