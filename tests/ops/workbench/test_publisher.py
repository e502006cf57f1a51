"""The workbench publisher (ops/workbench/publisher.py) against a fake broker: order, delivery before
marking, crashes at each step followed by a fresh publisher, a broker that is down, fatal errors."""

from __future__ import annotations

import json
import time
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import pytest
from confluent_kafka import KafkaError, Message
from structlog.testing import capture_logs

from ops.workbench.events import build_records
from ops.workbench.publisher import POSITIONS, FatalError, Publisher
from ops.workbench.store import NewCase, OutboxEntry, Store, case_id_of
from ops.workbench.topic_reader import Records
from rules.casework import Action, Kind, Role
from streams.audit_verify import trusted_records
from streams.kafka_io import DeliveryCallback
from streams.serde import Serde
from streams.settings import Settings
from streams.topics import audit_partition_for_casework

AT = "2026-11-23T10:00:00+00:00"
SETTINGS = Settings(bootstrap_servers="localhost:1", partitions=4)
CHAIN = audit_partition_for_casework(SETTINGS)


class Crash(Exception):  # noqa: N818 (the process dying at that point)
    pass


class FakeMessage:
    def __init__(self, topic: str, partition: int, offset: int | None) -> None:
        self._where = (topic, partition, offset)

    def topic(self) -> str:
        return self._where[0]

    def partition(self) -> int:
        return self._where[1]

    def offset(self) -> int | None:
        return self._where[2]


class FakeKafka:
    """Partitions as lists of (key, value); producers that deliver on flush; a reader over them.

    `crash(point, topic)` is asked before each produce ("produce") and each delivery ("deliver"):
    True raises Crash there, and what was queued and not delivered is lost, as in a process death.
    """

    def __init__(self) -> None:
        self.logs: dict[tuple[str, int], list[tuple[bytes | None, bytes | None]]] = defaultdict(list)
        self.delivered: list[tuple[str, int, bytes | None, bytes | None]] = []
        self.down = False
        self.persist_but_fail = False  # a delivery that times out after the broker wrote it
        self.crash: Callable[[str, str], bool] = lambda point, topic: False
        self.reads: list[tuple[str, dict[int, int]]] = []

    def producer(self) -> FakeProducer:
        return FakeProducer(self)

    def read(self, topic: str, starts: Mapping[int, int]) -> Records:
        self.reads.append((topic, dict(starts)))
        out: Records = []
        for p, start in starts.items():
            log = self.logs[(topic, p)]
            begin = max(0, len(log) + start) if start < 0 else start
            out += [(p, offset, value) for offset, (_, value) in enumerate(log) if offset >= begin]
        return out

    def values(self, topic: str) -> list[bytes | None]:
        return [v for (t, _), log in sorted(self.logs.items()) if t == topic for _, v in log]


class FakeProducer:
    def __init__(self, kafka: FakeKafka) -> None:
        self.kafka = kafka
        self.queue: list[tuple[str, int, bytes | None, bytes | None, DeliveryCallback]] = []

    def produce(
        self,
        topic: str,
        value: str | bytes | None = None,
        key: str | bytes | None = None,
        partition: int | None = None,
        callback: DeliveryCallback | None = None,
        on_delivery: DeliveryCallback | None = None,
    ) -> None:
        assert isinstance(key, bytes)
        assert isinstance(value, bytes)
        assert on_delivery is not None
        if self.kafka.crash("produce", topic):
            raise Crash(f"before producing to {topic}")
        where = zlib.crc32(key) % SETTINGS.partitions if partition is None else partition
        self.queue.append((topic, where, key, value, on_delivery))

    def poll(self, timeout: float = 0) -> int:
        return 0

    def flush(self, timeout: float = -1) -> int:
        queue, self.queue = self.queue, []
        for topic, partition, key, value, report in queue:
            if self.kafka.crash("deliver", topic):
                raise Crash(f"before delivery to {topic}")
            if self.kafka.down and not self.kafka.persist_but_fail:
                report(KafkaError(KafkaError._MSG_TIMED_OUT), cast("Message", FakeMessage(topic, partition, None)))
                continue
            log = self.kafka.logs[(topic, partition)]
            log.append((key, value))
            self.kafka.delivered.append((topic, partition, key, value))
            err = KafkaError(KafkaError._MSG_TIMED_OUT) if self.kafka.persist_but_fail else None
            report(err, cast("Message", FakeMessage(topic, partition, len(log) - 1)))
        return 0


class CrashingStore(Store):
    """Dies once before marking entries sent."""

    crash_marks = 0

    def mark_sent(self, seqs: Sequence[int], at: str) -> None:
        if self.crash_marks:
            self.crash_marks -= 1
            raise Crash("before mark_sent")
        super().mark_sent(seqs, at)


def case(payment_id: str, four_eyes: tuple[str, ...] = ()) -> NewCase:
    decision = {"payment_id": payment_id, "decision": "review", "rules_version": "r1", "registry_version": "g1"}
    return NewCase(payment_id, json.dumps(decision), AT, four_eyes, "ACC-1", payment_id, "d/0@1")


def act(store: Store, payment_id: str, kind: Kind, actor: str, role: Role = Role.ANALYST, **kw: str) -> None:
    action = Action(f"{kind}-{actor}-{payment_id}", kind, actor, role, "why", **kw)
    store.act(case_id_of(payment_id), action, lambda c, a, s: build_records(c, a, s, AT), AT)


def held_and_decided(store: Store, n: int = 3) -> list[OutboxEntry]:
    """n cases: four-eyes clears approved (two dispositions and a release each), and a stop."""
    store.ingest([case(f"P-{i}", ("blocked_person x",)) for i in range(n)] + [case("P-stop")])
    for i in range(n):
        act(store, f"P-{i}", Kind.CLEAR, "annika")
        act(store, f"P-{i}", Kind.APPROVE, "bobby", Role.APPROVER)
    act(store, "P-stop", Kind.CONFIRM, "annika", stop_action="block")
    return store.unsent()


def publisher(store: Store, kafka: FakeKafka, settings: Settings = SETTINGS, **kw: Any) -> Publisher:
    return Publisher(settings, store, kafka.producer, kafka, **kw)


def chain(kafka: FakeKafka) -> list[dict[str, Any]]:
    records = [(o, v) for o, (_, v) in enumerate(kafka.logs[(SETTINGS.topics.audit, CHAIN)])]
    trusted, broken = trusted_records(SETTINGS, Serde(SETTINGS), CHAIN, records)
    assert broken is None, broken
    return trusted


def assert_exactly_once(kafka: FakeKafka, store: Store, entries: list[OutboxEntry]) -> None:
    """Every entry sent and marked, its event on its topic once, and one audit record, in order."""
    assert store.unsent() == []
    serde, t = Serde(SETTINGS), SETTINGS.topics
    ids = Counter(
        serde.decode(t.dispositions, "Disposition", v)["disposition_id"] for v in kafka.values(t.dispositions)
    )
    ids.update(serde.decode(t.releases, "Release", v)["release_id"] for v in kafka.values(t.releases))
    assert ids == Counter(e.event_id for e in entries)
    bodies = [json.loads(r["body"]) for r in chain(kafka)]
    assert [b["outbox_seq"] for b in bodies] == [e.seq for e in entries]
    assert [b["event"] for b in bodies] == [e.record for e in entries]


@pytest.fixture
def store(tmp_path: Path) -> CrashingStore:
    return CrashingStore(tmp_path / "wb.sqlite")


def test_entries_go_out_in_order_events_before_their_audit_records(store):
    kafka = FakeKafka()
    entries = held_and_decided(store)
    assert publisher(store, kafka).run_once() == len(entries)
    assert_exactly_once(kafka, store, entries)
    topics = [topic for topic, *_ in kafka.delivered]
    assert topics.count(SETTINGS.topics.audit) == len(entries)
    assert topics.index(SETTINGS.topics.audit) == len(entries)  # every event of the batch first
    records = chain(kafka)
    assert [(r["kind"], r["subject_id"]) for r in records] == [(e.kind, e.payment_id) for e in entries]
    first = records[0]
    assert (first["rules_version"], first["registry_version"], first["recorded_at"]) == ("r1", "g1", AT)
    assert first["input_digest"] == entries[0].record["decision_digest"]
    # Keyed by payment id: a payment's dispositions and release share a partition, in order.
    assert len({p for topic, p, key, _ in kafka.delivered if key == b"P-0" and topic != SETTINGS.topics.audit}) == 1


def test_marked_sent_only_once_both_records_are_delivered(store: CrashingStore):
    kafka = FakeKafka()
    entries = held_and_decided(store, 1)
    seen: list[int] = []

    def mark_sent(seqs: Sequence[int], at: str) -> None:
        # Both records of every entry marked are on the broker already.
        assert len(kafka.values(SETTINGS.topics.audit)) >= max(seqs)
        seen.extend(seqs)
        Store.mark_sent(store, seqs, at)

    store.mark_sent = mark_sent  # type: ignore[method-assign]
    publisher(store, kafka, batch=2).run_once()
    assert seen == [e.seq for e in entries]
    assert_exactly_once(kafka, store, entries)


@pytest.mark.parametrize(
    ("point", "topic", "after"),
    [
        ("deliver", "screening.dispositions", 0),  # the first event not delivered
        ("deliver", "screening.releases", 0),  # some events delivered, not all
        ("produce", "screening.audit", 0),  # every event delivered, no audit record
        ("deliver", "screening.audit", 2),  # two audit records delivered, then the crash
        ("deliver", "screening.audit", 0),  # audit records queued, none delivered
    ],
)
def test_a_crash_at_any_step_then_a_new_publisher_sends_each_entry_once(
    store: CrashingStore, point: str, topic: str, after: int
):
    kafka = FakeKafka()
    entries = held_and_decided(store)
    left = [after]

    def crash(at: str, to: str) -> bool:
        if (at, to) != (point, topic):
            return False
        left[0] -= 1
        return left[0] < 0

    kafka.crash = crash
    with pytest.raises(Crash):
        publisher(store, kafka).run_once()
    kafka.crash = lambda at, to: False
    publisher(store, kafka).run_once()
    assert_exactly_once(kafka, store, entries)


def test_a_crash_after_the_audit_records_before_marking(store):
    kafka = FakeKafka()
    entries = held_and_decided(store)
    store.crash_marks = 1
    with pytest.raises(Crash):
        publisher(store, kafka).run_once()
    assert len(store.unsent()) == len(entries)
    with capture_logs() as logs:
        assert publisher(store, kafka).run_once() == 0  # all marked from the chain, nothing sent again
    assert [e["event"] for e in logs] == ["outbox entries found audited on recovery"]
    assert_exactly_once(kafka, store, entries)


def test_crashes_in_every_batch_and_restarts_until_done(store):
    kafka = FakeKafka()
    entries = held_and_decided(store, 6)
    calls = [0]

    def crash(at: str, to: str) -> bool:
        calls[0] += 1
        return calls[0] % 7 == 0

    kafka.crash = crash
    for _ in range(100):
        store.crash_marks = 1 if calls[0] % 2 else 0
        try:
            publisher(store, kafka, batch=3).run_once()
            break
        except Crash:
            continue
    kafka.crash = lambda at, to: False
    publisher(store, kafka).run_once()
    assert_exactly_once(kafka, store, entries)


def test_a_record_written_though_its_delivery_failed_is_not_sent_again(store):
    kafka = FakeKafka()
    entries = held_and_decided(store, 1)
    kafka.persist_but_fail = True
    with pytest.raises(RuntimeError, match="not delivered"):
        publisher(store, kafka).run_once()
    kafka.persist_but_fail = False
    publisher(store, kafka).run_once()
    assert_exactly_once(kafka, store, entries)


def test_the_broker_down_then_up(store):
    kafka = FakeKafka()
    kafka.down = True
    one = publisher(store, kafka, poll_s=0.05)
    with capture_logs() as logs:
        one.start()
        entries = held_and_decided(store)  # the store takes actions while the broker is down
        one.wake()
        deadline = time.monotonic() + 5
        while len(kafka.reads) < 9 and time.monotonic() < deadline:  # three attempts, three reads each
            time.sleep(0.01)
        status = one.status()
        assert status.running
        assert status.pending == len(entries)
        assert status.last_error is not None
        assert "not delivered" in status.last_error
        assert not status.fatal
        kafka.down = False
        deadline = time.monotonic() + 10
        while one.status().pending and time.monotonic() < deadline:
            time.sleep(0.02)
        one.stop()
    status = one.status()
    assert (status.running, status.sent, status.pending, status.last_error) == (False, len(entries), 0, None)
    assert_exactly_once(kafka, store, entries)
    # Logged when it starts and when it is over, not at each retry; no person's name in them.
    assert [e["event"] for e in logs] == [
        "workbench publisher cannot send; retrying",
        "workbench publisher sending again",
    ]
    assert not any(name in json.dumps(e, default=str) for e in logs for name in ("annika", "bobby"))


def test_stop_sends_what_is_pending(store):
    kafka = FakeKafka()
    one = publisher(store, kafka, poll_s=60)
    one.start()
    time.sleep(0.05)
    entries = held_and_decided(store, 1)
    one.stop(timeout=10)
    assert_exactly_once(kafka, store, entries)


def test_wake_sends_at_once(store):
    kafka = FakeKafka()
    one = publisher(store, kafka, poll_s=60)
    one.start()
    time.sleep(0.05)  # the first pass, with nothing to send, is over: the next poll is a minute away
    entries = held_and_decided(store, 1)
    one.wake()
    deadline = time.monotonic() + 5
    while one.status().pending and time.monotonic() < deadline:
        time.sleep(0.01)
    assert one.status().sent == len(entries)
    one.stop()
    assert_exactly_once(kafka, store, entries)


def test_recovery_reads_the_topics_from_where_the_outbox_was_last_empty(store):
    kafka = FakeKafka()
    publisher(store, kafka).run_once()
    first = held_and_decided(store, 2)
    publisher(store, kafka).run_once()
    positions = store.positions(POSITIONS + SETTINGS.topics.dispositions)
    assert sum(positions.values()) == sum(e.kind == "disposition" for e in first)
    store.ingest([case("P-late")])
    act(store, "P-late", Kind.CLEAR, "cy")
    late = store.unsent()
    kafka.reads.clear()
    publisher(store, kafka).run_once()
    starts = dict(kafka.reads)
    assert starts[SETTINGS.topics.dispositions] == {p: positions.get(p, 0) for p in range(SETTINGS.partitions)}
    assert starts[SETTINGS.topics.audit] == {CHAIN: -16}
    assert_exactly_once(kafka, store, first + late)


def test_a_chain_read_back_far_enough_when_many_entries_were_audited_unmarked(store):
    kafka = FakeKafka()
    entries = held_and_decided(store, 12)  # 37 entries: more than the first read back of 16
    store.crash_marks = 1
    with pytest.raises(Crash):
        publisher(store, kafka, batch=100).run_once()
    kafka.reads.clear()
    assert publisher(store, kafka).run_once() == 0
    assert [s for t, s in kafka.reads if t == SETTINGS.topics.audit] == [{CHAIN: -16}, {CHAIN: -64}]
    assert_exactly_once(kafka, store, entries)


def test_without_an_audit_key_the_publisher_stops_and_says_so_once(store):
    kafka = FakeKafka()
    held_and_decided(store, 1)
    keyless = SETTINGS.model_copy(update={"audit_keys": {}})  # the environment's key merges into a constructor's
    one = publisher(store, kafka, keyless, poll_s=0.01)
    with capture_logs() as logs:
        one.start()
        deadline = time.monotonic() + 5
        while one.status().running and time.monotonic() < deadline:
            time.sleep(0.01)
        one.wake()
        time.sleep(0.05)
    status = one.status()
    assert status.fatal
    assert not status.running
    assert status.last_error is not None
    assert "SCREENER_AUDIT_KEYS" in status.last_error
    assert [e["log_level"] for e in logs] == ["error"]
    assert kafka.delivered == []
    with pytest.raises(FatalError):
        one.run_once()


def test_a_store_that_is_not_the_chains_is_refused(tmp_path: Path):
    kafka = FakeKafka()
    first = Store(tmp_path / "a.sqlite")
    held_and_decided(first, 1)
    publisher(first, kafka).run_once()
    other = Store(tmp_path / "b.sqlite")  # e.g. restored from before those entries
    other.ingest([case("P-other")])
    act(other, "P-other", Kind.CLEAR, "dee")
    with pytest.raises(FatalError, match="disagree on outbox entry 1"):
        publisher(other, kafka).run_once()
    assert len(other.unsent()) == 2  # a clear without four eyes: its disposition and its release


def test_a_forged_record_at_the_chain_end_is_not_extended(store):
    kafka = FakeKafka()
    held_and_decided(store, 1)
    publisher(store, kafka).run_once()
    key, value = kafka.logs[(SETTINGS.topics.audit, CHAIN)][-1]
    assert value is not None
    serde = Serde(SETTINGS)
    record = serde.decode(SETTINGS.topics.audit, "AuditRecord", value)
    record["body"] = record["body"].replace("why", "who")
    kafka.logs[(SETTINGS.topics.audit, CHAIN)][-1] = (key, serde.encode(SETTINGS.topics.audit, "AuditRecord", record))
    store.ingest([case("P-new")])
    act(store, "P-new", Kind.CLEAR, "eve")
    with pytest.raises(FatalError, match="does not verify"):
        publisher(store, kafka).run_once()


class OneBadEntryStore(Store):
    """Hands the publisher one entry whose record the schema refuses (a defect upstream)."""

    bad_seq = 1

    def unsent(self, limit: int = 500) -> list[OutboxEntry]:
        return [
            OutboxEntry(e.seq, e.kind, e.event_id, e.payment_id, {k: v for k, v in e.record.items() if k != "reason"})
            if e.seq == self.bad_seq
            else e
            for e in super().unsent(limit)
        ]


def test_an_entry_that_does_not_encode_is_dead_lettered_and_holds_nothing_back(tmp_path: Path):
    kafka = FakeKafka()
    store = OneBadEntryStore(tmp_path / "wb.sqlite")
    entries = held_and_decided(store, 2)
    with capture_logs() as logs:
        assert publisher(store, kafka).run_once() == len(entries)
    assert store.unsent() == []
    serde, t = Serde(SETTINGS), SETTINGS.topics
    (dead,) = [serde.decode(t.dead_letter, "DeadLetter", v) for v in kafka.values(t.dead_letter)]
    assert (dead["source_file"], dead["line"]) == ("workbench outbox", 1)
    assert "not a valid Disposition" in dead["error"]
    assert json.loads(dead["original"])["disposition_id"] == entries[0].event_id
    # Every other entry reached its topic; the chain holds one record per entry, the bad one's a dead_letter.
    sent = [serde.decode(t.dispositions, "Disposition", v)["disposition_id"] for v in kafka.values(t.dispositions)]
    assert sorted(sent) == sorted(e.event_id for e in entries[1:] if e.kind == "disposition")
    records = chain(kafka)
    assert [r["kind"] for r in records][:1] == ["dead_letter"]
    assert len(records) == len(entries)
    assert [e["log_level"] for e in logs if e["event"] == "outbox entry dead-lettered"] == ["error"]
    # Recovery reads the chain: the dead-lettered entry counts as handled, nothing is sent twice.
    assert publisher(store, kafka).run_once() == 0
    assert len(kafka.values(t.dead_letter)) == 1
