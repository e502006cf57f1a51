"""The Kafka sources of `screener replay` (ops/replay/kafka_sources.py) on the embedded broker: bounded
reads of payments by time and offset, the recorded decisions from the decisions topic and from the
audit trail, and the registry as it stood at an instant, from the topics and from the audit trail."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from confluent_kafka import OFFSET_INVALID, Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from ops.broker import free_port
from ops.kafka_commands import load_registry, produce_payments
from ops.replay.kafka_sources import (
    RegistryAt,
    ReplaySourceError,
    TopicRecord,
    payment_records,
    recorded_decisions_from_audit,
    recorded_decisions_from_topic,
    registry_at,
)
from ops.screen_file import load_registry_file
from streams.settings import Settings
from tests.integration.conftest import SAMPLES, Worker, collect, sample_payments

pytestmark = pytest.mark.integration

BASE_MS = 1_750_000_000_000  # 2025-06-15T15:06:40Z
TOPIC = "replay-test-payments"


def at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


@pytest.fixture(scope="module")
def timed_topic(settings: Settings) -> str:
    """Two partitions of ten records each, one a second apart from BASE_MS; record 7 of partition 1
    carries a timestamp earlier than the records around it (a late record)."""
    admin = AdminClient(settings.kafka_config())
    admin.create_topics([NewTopic(TOPIC, 2, 1)])[TOPIC].result()
    producer = Producer(settings.kafka_config())
    for partition in (0, 1):
        for i in range(10):
            ts = BASE_MS + (500 if partition == 1 and i == 7 else i * 1000)
            value = f'{{"p": {partition}, "i": {i}}}'.encode()
            producer.produce(TOPIC, key=f"k{i}".encode(), value=value, partition=partition, timestamp=ts)
    assert producer.flush(30) == 0
    return TOPIC


def ids(records: list[TopicRecord]) -> list[tuple[int, int]]:
    return [(r.partition, r.offset) for r in records]


def test_every_record_partition_by_partition_in_offset_order(settings: Settings, timed_topic: str):
    records = list(payment_records(settings, topic=timed_topic))
    assert ids(records) == [(p, o) for p in (0, 1) for o in range(10)]
    assert records[3].position == f"{timed_topic}/0/3"
    assert records[3].timestamp == (BASE_MS + 3000) / 1000
    assert records[3].key == b"k3"
    assert records[3].value == b'{"p": 0, "i": 3}'
    # Nothing committed: the replay leaves no offsets behind for any group.
    consumer = Consumer(settings.kafka_config() | {"group.id": f"{settings.app_id}-replay-payments"})
    try:
        committed = consumer.committed([TopicPartition(timed_topic, p) for p in (0, 1)], timeout=10)
    finally:
        consumer.close()
    assert [tp.offset for tp in committed] == [OFFSET_INVALID, OFFSET_INVALID]


def test_time_window_since_inclusive_until_exclusive(settings: Settings, timed_topic: str):
    records = list(payment_records(settings, topic=timed_topic, since=at(BASE_MS + 2000), until=at(BASE_MS + 5000)))
    assert ids(records) == [(0, 2), (0, 3), (0, 4), (1, 2), (1, 3), (1, 4)]
    # The late record (timestamp BASE+0.5 s at offset 7) is in a window by its timestamp, not its offset.
    records = list(payment_records(settings, topic=timed_topic, since=at(BASE_MS + 500), until=at(BASE_MS + 1000)))
    assert ids(records) == [(1, 7)]
    assert list(payment_records(settings, topic=timed_topic, since=at(BASE_MS + 60_000))) == []
    # Sub-millisecond bounds: a record at BASE+2000 ms is after BASE+1999.5 ms and before BASE+2000.5 ms.
    half = timedelta(microseconds=500)
    records = list(
        payment_records(settings, topic=timed_topic, since=at(BASE_MS + 1999) + half, until=at(BASE_MS + 2000) + half)
    )
    assert ids(records) == [(0, 2), (1, 2)]
    naive = at(BASE_MS + 9000).replace(tzinfo=None)  # taken as UTC
    assert ids(list(payment_records(settings, topic=timed_topic, since=naive))) == [(0, 9), (1, 9)]


def test_offset_bounds_apply_to_every_partition_and_combine_with_time(settings: Settings, timed_topic: str):
    records = list(payment_records(settings, topic=timed_topic, from_offset=3, to_offset=5))
    assert ids(records) == [(0, 3), (0, 4), (1, 3), (1, 4)]
    assert ids(list(payment_records(settings, topic=timed_topic, from_offset=8))) == [(0, 8), (0, 9), (1, 8), (1, 9)]
    records = list(payment_records(settings, topic=timed_topic, to_offset=8, since=at(BASE_MS + 6000)))
    assert ids(records) == [(0, 6), (0, 7), (1, 6)]


def test_records_produced_after_the_start_are_not_read(settings: Settings, timed_topic: str):
    records = payment_records(settings, topic=timed_topic)
    first = next(records)
    producer = Producer(settings.kafka_config())
    for partition in (0, 1):
        producer.produce(timed_topic, value=b"later", partition=partition, timestamp=BASE_MS + 3000)
    assert producer.flush(30) == 0
    rest = list(records)
    assert len(rest) == 19 and all(r.value != b"later" for r in [first, *rest])
    later = list(payment_records(settings, topic=timed_topic, from_offset=10))
    assert [r.value for r in later] == [b"later", b"later"]


def test_inconsistent_arguments_missing_topic_and_absent_broker_raise_one_error(settings: Settings):
    with pytest.raises(ReplaySourceError, match="must be before"):
        payment_records(settings, since=at(BASE_MS + 1), until=at(BASE_MS))
    with pytest.raises(ReplaySourceError, match="must be below"):
        payment_records(settings, from_offset=5, to_offset=5)
    with pytest.raises(ReplaySourceError, match="0 or more"):
        payment_records(settings, from_offset=-1)
    with pytest.raises(ReplaySourceError, match="not found"):
        payment_records(settings, topic="no-such-topic")
    with pytest.raises(ReplaySourceError, match="not found"):
        recorded_decisions_from_topic(settings, "no-such-topic")
    away = Settings(bootstrap_servers=f"127.0.0.1:{free_port()}", partitions=4)
    with pytest.raises(ReplaySourceError, match="unreachable") as err:
        payment_records(away)
    assert "\n" not in str(err.value)
    with pytest.raises(ReplaySourceError, match="unreachable"):
        registry_at(away, datetime.now(UTC), "audit")


def test_recorded_decisions_from_topic_and_audit_are_the_decisions_topic(worker: Worker, settings: Settings):
    payments = sample_payments("REPLAY", 40)
    sent, _, errors = produce_payments(settings, jsonl(payments), None, raw=False)
    assert (sent, errors) == (40, [])
    # A payment seen again gets its first decision back: one id, two decisions on the topic.
    produce_payments(settings, jsonl(payments[:1]), None, raw=False)
    wanted = {f"REPLAY-{i:05d}" for i in range(40)}
    on_topic = collect(settings, settings.topics.decisions, len(wanted))
    deadline = time.monotonic() + 60
    while len(on_topic.get("REPLAY-00000", [])) < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
        on_topic = collect(settings, settings.topics.decisions, len(wanted))
    assert wanted <= set(on_topic) and len(on_topic["REPLAY-00000"]) == 2

    topic_errors: list[str] = []
    audit_errors: list[str] = []
    from_topic = recorded_decisions_from_topic(settings, errors=topic_errors)
    from_audit = recorded_decisions_from_audit(settings, errors=audit_errors)
    assert (topic_errors, audit_errors) == ([], [])
    assert wanted <= set(from_topic) and set(from_topic) == set(from_audit)
    fields = ("payment_id", "decision", "hits", "citations", "rules_version", "registry_version", "screened_at")
    for payment_id in wanted:
        recorded = on_topic[payment_id][0]
        for field in (*fields, "notices"):
            assert from_topic[payment_id][field] == recorded[field], (payment_id, field)
            assert from_audit[payment_id][field] == recorded[field], (payment_id, field)
    assert {d["decision"] for d in from_topic.values()} >= {"block", "pass"}
    assert any(d["hits"] for d in from_audit.values())

    replayed = list(payment_records(settings))
    assert wanted <= {r.key.decode() for r in replayed if r.key}


def test_registry_at_an_instant_from_topics_and_from_the_audit_trail(
    worker: Worker, settings: Settings, tmp_path: Path
):
    before_any = datetime(2000, 1, 1, tzinfo=UTC)
    old = load_registry_file(SAMPLES / "registry.yaml")
    data = yaml.safe_load((SAMPLES / "registry.yaml").read_text())
    changed, removed = data["accounts"][0], data["accounts"][1]
    changed["status"] = "closing"
    data["accounts"] = [a for a in data["accounts"] if a is not removed]
    changed_file = tmp_path / "registry.yaml"
    changed_file.write_text(yaml.safe_dump(data))
    new = load_registry_file(changed_file)
    assert new.version != old.version

    time.sleep(0.05)  # the first load's records are strictly before `between`
    between = datetime.now(UTC)
    time.sleep(0.05)
    counts = load_registry(settings, changed_file)
    assert counts["tombstones"] == 1
    after = datetime.now(UTC)

    for source in ("topics", "audit"):
        state = wait_for_version(settings, after, source, new.version)
        assert state.version == new.version, (source, state)
        assert state.registry.account(removed["account_id"]) is None
        assert state.registry.account(changed["account_id"]).status == "closing"  # type: ignore[union-attr]
        assert (state.skipped, state.errors, state.notes) == (0, (), ())
        then = registry_at(settings, between, source)
        assert then.version == old.version, (source, then)
        # From the audit trail: the rebuilt version is the one the worker recorded with the change.
        assert (then.skipped, then.errors, then.notes) == (0, (), ())
        assert then.registry.account(removed["account_id"]) is not None
        assert then.registry.account(changed["account_id"]).status == "open"  # type: ignore[union-attr]
        assert len(registry_at(settings, before_any, source).registry) == 0


def wait_for_version(settings: Settings, instant: datetime, source: str, version: str) -> RegistryAt:
    """The audit trail has a change only once the worker's registry agent has taken it."""
    deadline = time.monotonic() + 60
    while True:
        state = registry_at(settings, instant, source)  # type: ignore[arg-type]
        if state.version == version or time.monotonic() > deadline:
            return state
        time.sleep(0.5)


def jsonl(lines: list[str]) -> io.BytesIO:
    return io.BytesIO("\n".join(lines).encode() + b"\n")
