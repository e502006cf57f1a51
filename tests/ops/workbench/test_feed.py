"""The workbench's feed without a broker: a fake librdkafka consumer over in-memory partitions of
`payments` and `screening.decisions` (end-of-partition events as librdkafka sends them), a store in
a temporary file. Review decisions open cases with their four-eyes reasons and the audit body's
digest; pass and block settle; nothing is opened twice; garbage is counted and passed; positions
are stored with the cases and a restarted feed resumes after them."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from confluent_kafka import KafkaError, TopicPartition

from ops.screen_file import FileScreener, load_registry_file
from ops.workbench.feed import Feed
from ops.workbench.feed_records import Skip, _hit
from ops.workbench.store import Store, case_id_of
from rules import RuleSet, parse_payment, screen
from rules.casework import State
from schemas.codec import encode_single_object
from streams.decision_record import DecisionRecord
from streams.ports import Record
from streams.settings import Settings

SAMPLES = Path(__file__).resolve().parents[3] / "ops" / "samples"
NOW = datetime(2025, 6, 12, 9, 30, tzinfo=UTC)
SETTINGS = Settings(partitions=2)
PAYMENTS, DECISIONS = SETTINGS.topics.payments, SETTINGS.topics.decisions
FOUR_EYES = {
    "P-015": ("authorised_exception 31 CFR 1010.661(b)(1)",),
    "P-018": ("authorised_exception 31 CFR 1010.651(b)(3)",),
    "P-021": ("indirect_use 31 CFR 1010.658(b)(2)(iii)",),
    "P-031": (),
}


@dataclass
class Msg:
    _topic: str
    _partition: int
    _offset: int
    _key: bytes | None = None
    _value: bytes | None = None
    _error: KafkaError | None = None

    def topic(self) -> str:
        return self._topic

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset

    def key(self) -> bytes | None:
        return self._key

    def value(self) -> bytes | None:
        return self._value

    def error(self) -> KafkaError | None:
        return self._error

    def timestamp(self) -> tuple[int, int]:
        return (1, 1_780_000_000_000)


class FakeTopics:
    """Two topics of two partitions. consume() hands over up to `per_take` records per partition
    from its position, and an end-of-partition event each time a partition reaches its end."""

    def __init__(self, per_take: int = 1000) -> None:
        self.logs: dict[tuple[str, int], list[tuple[bytes | None, bytes | None]]] = {
            (t, p): [] for t in (PAYMENTS, DECISIONS) for p in (0, 1)
        }
        self.per_take = per_take
        self.lock = threading.Lock()
        self.positions: dict[tuple[str, int], int] = {}
        self.eof_sent: dict[tuple[str, int], bool] = {}
        self.assigned: list[list[tuple[str, int, int]]] = []
        self.missing: set[str] = set()
        self.closed = False

    def append(self, topic: str, partition: int, key: str | None, value: bytes | None) -> int:
        with self.lock:
            log = self.logs[(topic, partition)]
            log.append((key.encode() if key is not None else None, value))
            self.eof_sent[(topic, partition)] = False
            return len(log) - 1

    def list_topics(self, topic: str | None = None, timeout: float = -1) -> Any:
        names = {t for t, _ in self.logs} - self.missing
        return SimpleNamespace(topics={t: SimpleNamespace(error=None, partitions={0: None, 1: None}) for t in names})

    def assign(self, partitions: list[TopicPartition]) -> None:
        self.positions, self.eof_sent = {}, {}
        self.incremental_assign(partitions)

    def incremental_assign(self, partitions: list[TopicPartition]) -> None:
        self.assigned.append([(tp.topic, tp.partition, tp.offset) for tp in partitions])
        for tp in partitions:
            self.positions[(tp.topic, tp.partition)] = max(tp.offset, 0)
            self.eof_sent[(tp.topic, tp.partition)] = False

    def consume(self, num_messages: int = 1, timeout: float = -1) -> Sequence[Record]:
        out: list[Msg] = []
        with self.lock:
            for (topic, partition), pos in list(self.positions.items()):
                log = self.logs[(topic, partition)]
                take = log[pos : pos + min(num_messages, self.per_take)]
                out += [Msg(topic, partition, pos + i, k, v) for i, (k, v) in enumerate(take)]
                end = self.positions[(topic, partition)] = pos + len(take)
                if end == len(log) and not self.eof_sent[(topic, partition)]:
                    out.append(Msg(topic, partition, end, _error=KafkaError(KafkaError._PARTITION_EOF)))
                    self.eof_sent[(topic, partition)] = True
        if not out:
            time.sleep(0.001)
        return out

    def get_watermark_offsets(
        self, partition: TopicPartition, timeout: float = -1, cached: bool = False
    ) -> tuple[int, int]:
        return (0, len(self.logs[(partition.topic, partition.partition)]))

    def close(self) -> None:
        self.closed = True


def sample_lines() -> dict[str, bytes]:
    lines = (SAMPLES / "payments.jsonl").read_bytes().splitlines()
    return {json.loads(line)["payment_id"]: line for line in lines}


@pytest.fixture(scope="module")
def decided(rules: RuleSet) -> dict[str, dict[str, Any]]:
    """The samples' decisions in wire form, as `screener screen` (and the worker) decide them."""
    out = io.StringIO()
    FileScreener(rules, load_registry_file(SAMPLES / "registry.yaml"), as_of=NOW).run(
        "samples", (SAMPLES / "payments.jsonl").open("rb"), out, lambda _: None
    )
    return {d["payment_id"]: d for d in map(json.loads, out.getvalue().splitlines())}


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "wb.sqlite")


def feed_on(topics: FakeTopics, store: Store, rules: RuleSet, **kw: Any) -> Feed:
    sections = {m.section for m in rules.measures}
    return Feed(SETTINGS, store, sections, make_consumer=lambda _: topics, clock=lambda: NOW, **kw)


def publish(topics: FakeTopics, decided: dict[str, dict[str, Any]], ids: list[str]) -> None:
    """Each payment (JSON, keyed), then its decision (Avro), on partition hash(id) % 2."""
    lines = sample_lines()
    for pid in ids:
        topics.append(PAYMENTS, int(pid[-1]) % 2, pid, lines[pid])
    for pid in ids:
        topics.append(DECISIONS, int(pid[-1]) % 2, pid, encode_single_object("Decision", decided[pid]))


def drain(feed: Feed, topics: FakeTopics, steps: int = 20) -> None:
    """Steps until the feed has read everything and says so."""
    consumer = topics
    if not feed.progress.assigned:
        assert feed._assign(consumer)
    for _ in range(steps):
        feed.step(consumer)
        if feed.status()["caught_up"]:
            return
    raise AssertionError(f"not caught up: {feed.status()}")


def all_cases(store: Store) -> dict[str, Any]:
    return {c.payment_id: c for c in store.queue(states=tuple(State), limit=1000)}


def test_review_decisions_open_cases_with_four_eyes_and_the_audit_digest(store, rules, decided):
    topics = FakeTopics()
    publish(topics, decided, ["P-001", "P-002", "P-015", "P-018", "P-021", "P-031"])
    feed = feed_on(topics, store, rules)
    drain(feed, topics)
    cases = all_cases(store)
    assert set(cases) == set(FOUR_EYES)
    registry = load_registry_file(SAMPLES / "registry.yaml")
    for pid, case in cases.items():
        assert case.state is State.OPEN
        assert case.four_eyes == FOUR_EYES[pid], pid
        assert case.severity == ("high" if FOUR_EYES[pid] else "medium")
        # The worker's audit body for this payment (streams/processing.py) has this digest.
        record = DecisionRecord.of(screen(parse_payment(sample_lines()[pid]), registry, rules, NOW))
        assert case.decision_digest == hashlib.sha256(record.canonical.encode()).hexdigest(), pid
        assert case.decision == decided[pid]
        assert case.account_id == json.loads(sample_lines()[pid])["correspondent_account_id"]
        assert case.source == f"{DECISIONS}/{int(pid[-1]) % 2}@{case.source.rsplit('@')[1]}"
    assert "p-021" in store.queue(search="fbme")[0].payment_id.lower()
    status = feed.status()
    assert status["cases_opened"] == 4
    assert status["settled"] == 2
    assert status["records_read"] == 12
    assert status["caught_up"] is True
    assert status["lag"] == 0


def test_pass_and_block_settle_and_drop_their_payments(store, rules, decided):
    topics = FakeTopics()
    publish(topics, decided, ["P-001", "P-002", "P-015"])
    drain(feed_on(topics, store, rules), topics)
    assert decided["P-001"]["decision"] == "pass"
    assert decided["P-002"]["decision"] == "block"
    assert store.payment("P-001") is None
    assert store.payment("P-002") is None
    assert store.payment("P-015") == (sample_lines()["P-015"], f"{PAYMENTS}/1@1")


def test_a_repeated_decision_opens_nothing_new(store, rules, decided):
    topics = FakeTopics()
    publish(topics, decided, ["P-015"])
    feed = feed_on(topics, store, rules)
    drain(feed, topics)
    first = all_cases(store)["P-015"]
    topics.append(DECISIONS, 1, "P-015", encode_single_object("Decision", decided["P-015"]))
    drain(feed, topics)
    assert list(all_cases(store)) == ["P-015"]
    assert all_cases(store)["P-015"] == first
    assert feed.status()["cases_opened"] == 1
    assert feed.status()["records_read"] == 3


def test_garbage_is_counted_and_passed(store, rules, decided):
    topics = FakeTopics()
    topics.append(DECISIONS, 0, "X", b"not avro at all")
    topics.append(DECISIONS, 0, "X", encode_single_object("Payment", json.loads(sample_lines()["P-001"])))
    topics.append(DECISIONS, 0, "X", None)
    topics.append(PAYMENTS, 0, None, b"\x01\x02 no id anywhere")
    topics.append(PAYMENTS, 0, None, b"")
    publish(topics, decided, ["P-015", "P-018"])
    feed = feed_on(topics, store, rules)
    drain(feed, topics)
    assert feed.status()["skipped"] == {DECISIONS: 3, PAYMENTS: 2}
    # The records after the garbage are read, and the positions past the garbage stored.
    assert set(all_cases(store)) == {"P-015", "P-018"}
    assert store.positions(DECISIONS) == {0: 4, 1: 1}
    assert store.positions(PAYMENTS) == {0: 3, 1: 1}
    # Each is kept as a dead-letter: where it was, why, and its original bytes.
    assert store.dead_letter_count() == 5
    dead = {(d["source_topic"], d["source_offset"]): d for d in store.dead_letters()}
    assert dead[(DECISIONS, 0)]["original"] == "not avro at all"
    assert dead[(DECISIONS, 0)]["error"]
    assert dead[(PAYMENTS, 0)]["original_size"] == len(b"\x01\x02 no id anywhere")
    assert "no payment id" in dead[(PAYMENTS, 0)]["error"]
    # Read again after a restart from the stored positions: nothing is dead-lettered twice.
    drain(feed_on(topics, store, rules), topics)
    assert store.dead_letter_count() == 5


@pytest.mark.parametrize(
    "hit",
    [
        {"rule": "x"},
        {"rule": "x", "citation": "c", "action": "review", "field": "f", "value": "v", "matched": "", "reason": "r"},
        {"rule": "x", "citation": "c", "action": "stop", "field": "f", "value": "v", "matched": "", "reason": "r"}
        | {"score": 1.0},
        "not a hit",
    ],
)
def test_a_hit_of_the_wrong_shape_is_refused_without_its_content(hit: Any):
    with pytest.raises(Skip, match=r"^not a decision: a hit of the wrong shape$"):
        _hit(hit)


def test_positions_persist_and_a_restarted_feed_resumes_after_them(store, rules, decided):
    topics = FakeTopics()
    publish(topics, decided, ["P-001", "P-015"])
    first = feed_on(topics, store, rules)
    drain(first, topics)
    stored = {t: store.positions(t) for t in (PAYMENTS, DECISIONS)}
    assert stored == {PAYMENTS: {1: 2}, DECISIONS: {1: 2}}
    publish(topics, decided, ["P-018", "P-031"])
    second = feed_on(topics, store, rules)
    drain(second, topics)
    # Partitions with a position resume after it; the others from the beginning (-2).
    assert sorted(topics.assigned[-2]) == [(PAYMENTS, 0, -2), (PAYMENTS, 1, 2)]
    assert sorted(topics.assigned[-1]) == [(DECISIONS, 0, -2), (DECISIONS, 1, 2)]
    assert second.status()["records_read"] == 4
    assert second.status()["cases_opened"] == 2
    assert set(all_cases(store)) == {"P-015", "P-018", "P-031"}


def test_decisions_are_read_once_the_payments_backlog_is(store, rules, decided):
    topics = FakeTopics(per_take=1)
    # The decisions first on the broker's partitions as a backlog could have them.
    for pid in ("P-015", "P-021"):
        topics.append(DECISIONS, 0, pid, encode_single_object("Decision", decided[pid]))
    for pid in ("P-015", "P-021"):
        topics.append(PAYMENTS, 1, pid, sample_lines()[pid])
    feed = feed_on(topics, store, rules)
    assert feed._assign(topics)
    feed.step(topics)
    assert feed.status()["payments_first"] is True
    assert all_cases(store) == {}
    drain(feed, topics)
    assert feed.status()["payments_first"] is False
    cases = all_cases(store)
    assert cases["P-015"].account_id == json.loads(sample_lines()["P-015"])["correspondent_account_id"]
    assert cases["P-021"].account_id == "ACC-NESTED-001"


def test_an_unknown_payment_takes_its_account_from_the_notices(store, rules, decided):
    topics = FakeTopics()
    topics.append(DECISIONS, 0, "P-021", encode_single_object("Decision", decided["P-021"]))
    topics.append(DECISIONS, 0, "P-015", encode_single_object("Decision", decided["P-015"]))
    drain(feed_on(topics, store, rules), topics)
    assert all_cases(store)["P-021"].account_id == "ACC-NESTED-001"
    assert all_cases(store)["P-015"].account_id == ""


def test_a_message_of_several_payments_is_kept_under_each_id(store, rules, decided):
    first = (SAMPLES / "messages" / "mt103_clean.fin").read_bytes()
    second = (SAMPLES / "messages" / "mt103_review_name.fin").read_bytes()
    topics = FakeTopics()
    topics.append(PAYMENTS, 0, None, first.rstrip() + b"\n$" + second)
    feed = feed_on(topics, store, rules)
    drain(feed, topics)
    ids = ("8c1d5e27-4b0a-4f9e-a3c6-1b7e9d2f4a10", "3f6b1a9e-2c47-4d8b-9e15-7a0c3d5f8b21")
    kept = [store.payment(pid) for pid in ids]
    assert kept[0] is not None
    assert kept[0] == kept[1]


def test_a_payment_read_after_its_settling_decision_is_not_kept(store, rules, decided):
    topics = FakeTopics()
    topics.append(DECISIONS, 0, "P-002", encode_single_object("Decision", decided["P-002"]))
    feed = feed_on(topics, store, rules)
    feed._assign(topics)
    feed._after_batch(topics)  # payments empty and at their end: the decisions are read
    for _ in range(3):
        feed.step(topics)
    topics.append(PAYMENTS, 0, "P-002", sample_lines()["P-002"])
    drain(feed, topics)
    assert store.payment("P-002") is None


def test_the_thread_waits_for_topics_reads_and_stops(store, rules, decided, monkeypatch):
    monkeypatch.setattr("ops.workbench.feed.RETRY_S", 0.01)
    topics = FakeTopics()
    topics.missing = {DECISIONS}
    publish(topics, decided, ["P-015"])
    feed = feed_on(topics, store, rules)
    feed.start()
    try:
        time.sleep(0.1)
        assert feed.status()["assigned"] is False
        assert feed.status()["running"] is True
        topics.missing = set()
        assert until(lambda: feed.status()["caught_up"])
        assert set(all_cases(store)) == {"P-015"}
    finally:
        feed.stop()
    assert feed.status()["running"] is False
    assert topics.closed


def test_a_batch_the_store_refuses_is_read_again(store, rules, decided, monkeypatch):
    monkeypatch.setattr("ops.workbench.feed.RETRY_S", 0.01)
    topics = FakeTopics()
    publish(topics, decided, ["P-015", "P-018"])
    ingest: Callable[..., int] = store.ingest
    calls: list[int] = []

    def flaky(*args: Any, **kw: Any) -> int:
        calls.append(1)
        if len(calls) == 1:
            raise sqlite3.OperationalError("disk I/O error")
        return ingest(*args, **kw)

    monkeypatch.setattr(store, "ingest", flaky)
    feed = feed_on(topics, store, rules)
    feed.start()
    try:
        assert until(lambda: feed.status()["caught_up"] and feed.status()["cases_opened"] == 2)
    finally:
        feed.stop()
    assert set(all_cases(store)) == {"P-015", "P-018"}
    assert store.payment("P-015") is not None
    assert len(topics.assigned) >= 3  # payments, decisions, then payments again after the failure
    assert feed.status()["error"] is None
    assert case_id_of("P-015") in {c.case_id for c in store.queue()}


def until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_the_callers_stop_event_stops_the_feed(store, rules, decided):
    topics, stop = FakeTopics(), threading.Event()
    publish(topics, decided, ["P-015"])
    feed = feed_on(topics, store, rules, stop=stop)
    thread = threading.Thread(target=feed.run)
    thread.start()
    assert until(lambda: feed.status()["caught_up"])
    stop.set()
    thread.join(5)
    assert not thread.is_alive()
    assert topics.closed
    assert feed.status() | {"last_batch_at": None} == feed.status() | {
        "running": False,
        "caught_up": False,
        "cases_opened": 1,
        "last_batch_at": None,
    }
