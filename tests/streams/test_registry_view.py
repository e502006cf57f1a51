"""Every worker's registry view without a broker: a fake librdkafka consumer over in-memory
registry partitions (a high watermark that can be too low, end-of-partition events as librdkafka
sends them), the load, the follower's queue, and changes applied only between batches."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import structlog
from confluent_kafka import KafkaError, TopicPartition

from rules import Registry
from streams.metrics import Metrics
from streams.ports import Record
from streams.registry_processing import MAX_REGISTRY_RECORD_BYTES, apply_registry_change, registry_record_change
from streams.registry_read import TAKE_MAX, read_registry
from streams.registry_view import RegistryView, State
from streams.screen_loop import ScreenLoop
from streams.serde import Serde
from streams.settings import Settings
from tests.conftest import account
from tests.streams.test_screen_loop import FakeConsumer, FakeFlusher, FakeLoader, msgs, spin, until

SETTINGS = Settings(partitions=2, poll_interval_s=0.001, batch_size=100)
SERDE = Serde(SETTINGS)
ACCOUNTS = SETTINGS.topics.registry_accounts
INSTITUTIONS = SETTINGS.topics.registry_institutions


@dataclass
class Rec:
    """A consumed registry record or end-of-partition event (confluent_kafka.Message)."""

    _topic: str
    _offset: int
    _key: bytes | None = None
    _value: bytes | None = None
    _eof: bool = False

    def topic(self) -> str:
        return self._topic

    def partition(self) -> int:
        return 0

    def offset(self) -> int:
        return self._offset

    def key(self) -> bytes | None:
        return self._key

    def value(self) -> bytes | None:
        return self._value

    def error(self) -> KafkaError | None:
        return KafkaError(KafkaError._PARTITION_EOF) if self._eof else None

    def timestamp(self) -> tuple[int, int]:
        return (1, 1_780_000_000_000)


class FakeRegistryTopics:
    """Two one-partition topics. consume() hands over up to `per_take` records per call from each
    partition's position, and one end-of-partition event each time a partition reaches its end
    (again after new records), as librdkafka does with enable.partition.eof."""

    def __init__(self, low_watermark: bool = False, per_take: int = TAKE_MAX) -> None:
        self.logs: dict[str, list[tuple[bytes | None, bytes | None]]] = {ACCOUNTS: [], INSTITUTIONS: []}
        self.low_watermark = low_watermark
        self.per_take = per_take
        self.lock = threading.Lock()
        self.positions: dict[str, int] = {}
        self.eof_sent: dict[str, bool] = {}
        self.takes: list[int] = []
        self.on_take: list[Any] = []
        self.closed = False

    def append(self, topic: str, key: str | None, value: bytes | None) -> None:
        with self.lock:
            self.logs[topic].append((key.encode() if key is not None else None, value))
            self.eof_sent[topic] = False

    # -- the RegistryConsumer protocol --
    def list_topics(self, topic: str | None = None, timeout: float = -1) -> Any:
        return SimpleNamespace(topics={t: SimpleNamespace(error=None, partitions={0: None}) for t in self.logs})

    def get_watermark_offsets(
        self, partition: TopicPartition, timeout: float = -1, cached: bool = False
    ) -> tuple[int, int]:
        end = len(self.logs[partition.topic])
        # The embedded broker can answer per record batch: below the true end.
        return (0, end // 2 if self.low_watermark else end)

    def assign(self, partitions: list[TopicPartition]) -> None:
        for tp in partitions:
            self.positions[tp.topic] = 0
            self.eof_sent[tp.topic] = False

    def consume(self, num_messages: int = 1, timeout: float = -1) -> Sequence[Record]:
        for hook in self.on_take:
            hook()
        out: list[Rec] = []
        with self.lock:
            for topic, pos in list(self.positions.items()):
                log = self.logs[topic]
                take = log[pos : pos + min(num_messages, self.per_take)]
                out += [Rec(topic, pos + i, k, v) for i, (k, v) in enumerate(take)]
                end = self.positions[topic] = pos + len(take)
                if end == len(log) and not self.eof_sent[topic]:
                    out.append(Rec(topic, end, _eof=True))
                    self.eof_sent[topic] = True
        self.takes.append(len(out))
        return out

    def close(self) -> None:
        self.closed = True


def acc(account_id: str, **fields: Any) -> bytes:
    return SERDE.encode(ACCOUNTS, "Account", account(account_id, **fields))


def inst(bic: str, name: str = "Hanseatic Commerce Bank AG") -> bytes:
    return SERDE.encode(
        INSTITUTIONS, "RegistryInstitution", {"bic": bic, "name": name, "country": "DE", "kind": "bank"}
    )


def view_on(topics: FakeRegistryTopics, metrics: Metrics | None = None) -> RegistryView:
    return RegistryView(SETTINGS, SERDE, Registry(), metrics or Metrics(), State(), make_consumer=lambda _: topics)


def load(view: RegistryView) -> None:
    """The load alone: read() returns once loaded (the view stops itself when told it is)."""
    view.read(view.stop)


def expected(records: list[tuple[str, str | None, bytes | None]]) -> Registry:
    """The registry the records make, each applied with apply_registry_change, bad ones left out."""
    registry = Registry()
    for topic, key, value in records:
        with contextlib.suppress(ValueError):  # skipped, as the view skips it
            apply_registry_change(registry, SERDE, SETTINGS, topic, key.encode() if key else None, value)
    return registry


def test_the_load_applies_in_bulk_to_the_true_end_not_the_watermark() -> None:
    topics = FakeRegistryTopics(low_watermark=True)
    records: list[tuple[str, str | None, bytes | None]] = [
        (ACCOUNTS, "ACC-1", acc("ACC-1", status="open")),
        (ACCOUNTS, "ACC-2", acc("ACC-2")),
        (ACCOUNTS, "ACC-1", acc("ACC-1", status="closing")),  # a later record for a key wins
        (ACCOUNTS, "ACC-2", None),  # a tombstone
        (INSTITUTIONS, "HNSEDEFF", inst("HNSEDEFF")),  # BIC8 key, canonical BIC11 in the view
        (INSTITUTIONS, "KKBCKPPY", inst("KKBCKPPY", "Korea Kwangson Banking Corp")),
        (INSTITUTIONS, "KKBCKPPYXXX", None),  # the tombstone of the same record, by its BIC11
    ]
    for record in records:
        topics.append(*record)
    view = view_on(topics)

    load(view)

    registry = view.registry
    assert view.loaded and topics.closed
    acc1 = registry.account("ACC-1")
    assert acc1 is not None and acc1.status == "closing" and registry.account("ACC-2") is None
    assert registry.institution_by_bic("HNSEDEFFXXX") is not None and registry.institution_by_bic("KKBCKPPY") is None
    assert registry.version == expected(records).version
    # Read past the watermarks (2 and 1) to the ends, and in bulk: one take held every record.
    assert view.state.registry_report() == {
        ACCOUNTS: {"applied": 4, "target": 4},
        INSTITUTIONS: {"applied": 3, "target": 3},
    }
    assert topics.takes[0] == len(records) + 2  # the records and both end-of-partition events


def test_readiness_reports_progress_while_loading() -> None:
    topics = FakeRegistryTopics(per_take=2)
    for i in range(6):
        topics.append(ACCOUNTS, f"ACC-{i}", acc(f"ACC-{i}"))
    topics.append(INSTITUTIONS, "HNSEDEFF", inst("HNSEDEFF"))
    view = view_on(topics)
    seen: list[dict[str, dict[str, int]]] = []
    topics.on_take.append(lambda: seen.append(view.state.registry_report()))

    load(view)

    assert [s[ACCOUNTS] for s in seen] == [
        {"applied": 0, "target": 6},
        {"applied": 2, "target": 6},
        {"applied": 4, "target": 6},
    ]
    assert view.state.registry_report()[ACCOUNTS] == {"applied": 6, "target": 6}
    assert view.state.registry_report()[INSTITUTIONS] == {"applied": 1, "target": 1}


def test_records_that_cannot_be_applied_are_skipped_counted_and_logged_without_keys() -> None:
    topics = FakeRegistryTopics()
    metrics = Metrics()
    records: list[tuple[str, str | None, bytes | None]] = [
        (ACCOUNTS, "ACC-1", acc("ACC-1")),
        (ACCOUNTS, "ACC-SECRET-2", b"not avro"),
        (ACCOUNTS, "ACC-SECRET-OTHER", acc("ACC-SECRET-3")),  # key is not its id
        (ACCOUNTS, "ACC-SECRET-4", b"\0" * (MAX_REGISTRY_RECORD_BYTES + 1)),  # over the record bound
        (ACCOUNTS, None, acc("ACC-5")),  # no key
        (INSTITUTIONS, "NOT A BIC", inst("HNSEDEFF")),
        (ACCOUNTS, "ACC-6", acc("ACC-6")),
    ]
    for record in records:
        topics.append(*record)
    view = view_on(topics, metrics)

    with structlog.testing.capture_logs() as logs:
        load(view)

    assert [a.account_id for a in view.registry.accounts()] == ["ACC-1", "ACC-6"]
    assert view.registry.institutions() == []
    assert view.registry.version == expected(records).version
    skipped = metrics.registry.get_sample_value
    assert skipped("screener_registry_skipped_total", {"topic": ACCOUNTS}) == 4
    assert skipped("screener_registry_skipped_total", {"topic": INSTITUTIONS}) == 1
    lines = [entry for entry in logs if entry["event"] == "registry record skipped"]
    assert [(e["offset"], e["log_level"]) for e in lines if e["topic"] == ACCOUNTS] == [
        (1, "info"),
        (2, "info"),
        (3, "info"),
        (4, "info"),
    ]
    assert "SECRET" not in repr(logs) and "NOT A BIC" not in repr(logs)


def test_after_the_load_changes_are_queued_and_applied_only_when_the_loop_asks() -> None:
    topics = FakeRegistryTopics()
    topics.append(ACCOUNTS, "ACC-1", acc("ACC-1"))
    view = view_on(topics)
    loaded = threading.Event()
    reader = threading.Thread(target=view.read, args=(loaded.set,))
    reader.start()
    try:
        assert loaded.wait(5)
        before = view.registry.version
        topics.append(ACCOUNTS, "ACC-2", acc("ACC-2"))
        topics.append(ACCOUNTS, "ACC-1", None)
        for _ in range(500):
            if view.state.registry_report()[ACCOUNTS]["applied"] == 3:
                break
            threading.Event().wait(0.01)
        # Read and prepared on the reader's thread; the view has not moved.
        assert view.state.registry_report()[ACCOUNTS]["applied"] == 3
        assert view.registry.version == before and view.registry.account("ACC-2") is None
        assert view.apply_pending() == 2
        assert view.registry.account("ACC-2") is not None and view.registry.account("ACC-1") is None
        assert view.apply_pending() == 0
    finally:
        view.stop()
        reader.join(5)
    assert topics.closed


class VersionScreener:
    """Records the registry version each batch is screened against, at its start and at its end;
    while the first batch is screened, the follower queues a change (a change arriving mid-batch)."""

    def __init__(self, view: RegistryView, change: tuple[str, str, bytes]) -> None:
        self.view = view
        self.change = change
        self.versions: list[tuple[str, str]] = []

    def screen_records(self, sources: list[Any]) -> asyncio.Future[None]:
        at_start = self.view.registry.version
        if not self.versions:
            topic, key, value = self.change
            # What the reader's thread does with a record read while a batch is screened.
            self.view._pending.append(registry_record_change(SERDE, SETTINGS, topic, key.encode(), value))
        self.versions.append((at_start, self.view.registry.version))
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future


def test_a_change_arriving_mid_batch_takes_effect_only_for_the_next_batch() -> None:
    topics = FakeRegistryTopics()
    topics.append(ACCOUNTS, "ACC-1", acc("ACC-1", status="open"))
    view = view_on(topics)
    load(view)
    old = view.registry.version
    new = expected([(ACCOUNTS, "ACC-1", acc("ACC-1", status="closing"))]).version
    screener = VersionScreener(view, (ACCOUNTS, "ACC-1", acc("ACC-1", status="closing")))
    consumer, state = FakeConsumer(), view.state
    state.registry_ready.set()

    async def crash(exc: BaseException) -> None:
        raise AssertionError(exc)

    loop = ScreenLoop(
        SETTINGS,
        state,
        screener,
        FakeLoader(),
        FakeFlusher(),
        crash,
        Metrics(),
        make_consumer=lambda _: consumer,
        registry=view,
    )

    async def scenario() -> None:
        consumer.script.append(lambda: consumer.assign_partitions(0))
        task = asyncio.create_task(loop.run())
        await until(lambda: loop.assigned == {0})
        consumer.script.append(msgs(SETTINGS.topics.payments, 0, 0, 3))
        await until(lambda: len(screener.versions) == 1)
        await spin(5)
        consumer.script.append(msgs(SETTINGS.topics.payments, 0, 3, 3))
        await until(lambda: len(screener.versions) == 2)
        state.draining = True
        await asyncio.wait_for(task, 5)

    asyncio.run(asyncio.wait_for(scenario(), 20))
    # The first batch began and ended under the old version; the next one sees the change.
    assert screener.versions == [(old, old), (new, new)]


def test_the_agents_registry_is_read_up_to_its_position() -> None:
    topics = FakeRegistryTopics()
    records: list[tuple[str, str | None, bytes | None]] = [
        (ACCOUNTS, "ACC-1", acc("ACC-1")),
        (ACCOUNTS, "ACC-2", b"not avro"),
        (ACCOUNTS, "ACC-3", acc("ACC-3")),
        (ACCOUNTS, "ACC-1", None),
        (INSTITUTIONS, "HNSEDEFF", inst("HNSEDEFF")),
    ]
    for record in records:
        topics.append(*record)

    registry = read_registry(SETTINGS, SERDE, {(ACCOUNTS, 0): 3, (INSTITUTIONS, 0): 0}, lambda _: topics)

    assert registry.version == expected(records[:3]).version
    assert registry.account("ACC-1") is not None and registry.institutions() == []
    assert read_registry(SETTINGS, SERDE, {(ACCOUNTS, 0): 0}, lambda _: topics).version == Registry().version
