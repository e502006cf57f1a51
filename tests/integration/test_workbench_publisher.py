"""The workbench publisher on the embedded broker (issue 15): a four-eyes release, a stop and a plain
release sent through two crashes (after the events, before any audit record; after the audit
records, before marking) and a restart: each release once on screening.releases, each disposition
once on screening.dispositions, and the casework chain verifying as `screener audit verify` does."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from ops.workbench.events import build_records, release_id_of
from ops.workbench.publisher import POSITIONS, Publisher
from ops.workbench.store import NewCase, OutboxEntry, Store, case_id_of
from rules.casework import Action, Kind, Role
from streams.audit_verify import iter_partition, trusted_records, verify
from streams.delivery import Producer, idempotent_producer
from streams.kafka_io import DeliveryCallback, read_partitions
from streams.serde import Serde
from streams.settings import Settings
from streams.topics import audit_partition_for_casework

pytestmark = pytest.mark.integration

AT = "2026-11-23T10:00:00+00:00"


class Crash(Exception):  # noqa: N818 (the workbench process dying at that point)
    pass


class CrashingStore(Store):
    crash_marks = 0

    def mark_sent(self, seqs: Any, at: str) -> None:
        if self.crash_marks:
            self.crash_marks -= 1
            raise Crash("before mark_sent")
        super().mark_sent(seqs, at)


class DiesBeforeAudit:
    """The service's producer, dying when the first audit record is produced (the events are on
    the broker by then: the publisher awaits them first)."""

    def __init__(self, settings: Settings) -> None:
        self.audit = settings.topics.audit
        self.inner = idempotent_producer(settings.kafka_config())

    def produce(
        self,
        topic: str,
        value: str | bytes | None = None,
        key: str | bytes | None = None,
        partition: int | None = None,
        callback: DeliveryCallback | None = None,
        on_delivery: DeliveryCallback | None = None,
    ) -> None:
        if topic == self.audit:
            raise Crash("before the audit records")
        assert partition is None
        self.inner.produce(topic, value=value, key=key, on_delivery=on_delivery)

    def poll(self, timeout: float = 0) -> int:
        return self.inner.poll(timeout)

    def flush(self, timeout: float = -1) -> int:
        return self.inner.flush(timeout)


def case(payment_id: str, four_eyes: tuple[str, ...] = ()) -> NewCase:
    decision = {"payment_id": payment_id, "decision": "review", "rules_version": "r1", "registry_version": "g1"}
    return NewCase(payment_id, json.dumps(decision), AT, four_eyes, "ACC-1", payment_id, "d/0@1")


def act(store: Store, payment_id: str, kind: Kind, actor: str, role: Role = Role.ANALYST, **kw: str) -> str:
    action = Action(f"{kind}-{actor}-{payment_id}", kind, actor, role, "why", **kw)
    store.act(case_id_of(payment_id), action, lambda c, a, s: build_records(c, a, s, AT), AT)
    return action.disposition_id


def records(settings: Settings, topic: str, name: Any) -> list[dict[str, Any]]:
    serde = Serde(settings)
    read = read_partitions(settings, [(topic, p) for p in range(settings.partitions)])
    return [serde.decode(topic, name, value) for part in read.values() for _, _, value in part]


def assert_chain(settings: Settings, entries: list[OutboxEntry], everything: bool = False) -> None:
    """The casework chain verifies and holds one record per outbox entry, in outbox order, with the
    entry's event; with `everything`, the whole trail verifies as `screener audit verify` does."""
    casework, serde = audit_partition_for_casework(settings), Serde(settings)
    if everything:
        report = verify(settings, serde)
        assert report.first_break is None, report.first_break
        assert report.chains[casework] == len(entries)
    chain, broken = trusted_records(settings, serde, casework, iter_partition(settings, casework))
    assert broken is None, broken
    bodies = [json.loads(r["body"]) for r in chain]
    assert [b["outbox_seq"] for b in bodies] == [e.seq for e in entries]
    assert [(r["kind"], r["subject_id"]) for r in chain] == [(e.kind, e.payment_id) for e in entries]
    assert [b["event"] for b in bodies] == [e.record for e in entries]


def test_each_release_and_disposition_once_through_crashes_and_a_restart(settings: Settings, tmp_path: Path) -> None:
    store = CrashingStore(tmp_path / "workbench.sqlite")
    store.ingest([case("P-four", ("blocked_person x",)), case("P-stop"), case("P-plain")])
    dispositions = [
        act(store, "P-four", Kind.CLEAR, "ann"),  # four eyes: proposed ...
        act(store, "P-four", Kind.APPROVE, "bob", Role.APPROVER),  # ... and approved by another person
        act(store, "P-stop", Kind.CONFIRM, "ann", stop_action="block"),
    ]
    first = store.unsent()

    def dies_before_audit() -> Producer:
        return DiesBeforeAudit(settings)

    # 1. The events are delivered, then the process dies before any audit record.
    with pytest.raises(Crash):
        Publisher(settings, store, producer_factory=dies_before_audit).run_once()
    assert len(records(settings, settings.topics.dispositions, "Disposition")) == 3
    assert store.unsent() == first

    # 2. A restart finds those events and writes only their audit records, sends a new action's
    # events and audit records, and dies before marking any of it sent.
    dispositions.append(act(store, "P-plain", Kind.CLEAR, "cy"))
    entries = store.unsent()
    store.crash_marks = 1
    with pytest.raises(Crash):
        Publisher(settings, store).run_once()
    assert store.unsent() == entries

    # 3. The next start marks them sent from the chain, and sends nothing again.
    publisher = Publisher(settings, store, poll_s=0.1)
    publisher.start()
    publisher.wake()
    deadline = time.monotonic() + 60
    while publisher.status().pending and time.monotonic() < deadline:
        time.sleep(0.1)
    publisher.stop()
    status = publisher.status()
    assert (status.pending, status.sent, status.last_error, status.fatal) == (0, 0, None, False)
    assert store.positions(POSITIONS + settings.topics.releases)  # the outbox was empty: read from here next

    releases = records(settings, settings.topics.releases, "Release")
    assert Counter(r["payment_id"] for r in releases) == {"P-four": 1, "P-stop": 1, "P-plain": 1}
    by_payment = {r["payment_id"]: r for r in releases}
    assert by_payment["P-four"]["decided_by"] == ["ann", "bob"]
    assert by_payment["P-four"]["release_id"] == release_id_of("P-four")
    assert (by_payment["P-stop"]["outcome"], by_payment["P-stop"]["stop_action"]) == ("stop", "block")
    sent = records(settings, settings.topics.dispositions, "Disposition")
    assert sorted(d["disposition_id"] for d in sent) == sorted(dispositions)

    assert_chain(settings, entries)

    # 4. Another action after the restart: read back from the stored positions, sent once.
    store.ingest([case("P-late")])
    act(store, "P-late", Kind.CLEAR, "dee")
    late = store.unsent()
    assert Publisher(settings, store).run_once() == 2
    releases = records(settings, settings.topics.releases, "Release")
    assert Counter(r["payment_id"] for r in releases) == {"P-four": 1, "P-stop": 1, "P-plain": 1, "P-late": 1}
    assert_chain(settings, entries + late, everything=True)
