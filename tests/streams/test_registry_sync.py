"""The registry tables' changelog reaches the worker's registry view through Faust's per-event hook
(no broker: the hook Faust's recovery calls for each changelog record is called directly)."""

import asyncio
import base64
import json
from types import SimpleNamespace
from typing import Any

import faust

from rules import Registry
from streams.audit import AuditChains
from streams.delivery import Outbox
from streams.metrics import Metrics
from streams.records import Source
from streams.registry_processing import RegistryProcessor
from streams.registry_sync import OwnWrites, RegistrySync, State
from streams.serde import Serde
from streams.settings import Settings
from tests.conftest import account


class NoProducer:
    def produce(self, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("following the changelog produces nothing")

    def poll(self, timeout: float = -1) -> int:
        return 0

    def flush(self, timeout: float = -1) -> int:
        return 0


def sync_for(settings: Settings, registry: Registry) -> RegistrySync:
    serde = Serde(settings)
    audit = AuditChains(settings, serde)
    app = faust.App("registry-sync-test", broker="kafka://127.0.0.1:1", store="memory://")
    changes = RegistryProcessor(settings, serde, audit, registry, settings.partitions)
    return RegistrySync(
        app,
        settings,
        serde,
        audit,
        registry,
        changes,
        Outbox(NoProducer(), settings.topics.audit),
        Metrics(),
        State(),
        lambda: "rules-test",
    )


def changelog_event(key: str, value: bytes | None) -> Any:
    return SimpleNamespace(key=key, value=base64.b64encode(value).decode("ascii") if value else None)


def test_a_changelog_record_written_by_another_worker_updates_this_workers_registry() -> None:
    settings = Settings(partitions=2)
    registry = Registry()
    sync = sync_for(settings, registry)
    topic = settings.topics.registry_accounts
    record = Serde(settings).encode(topic, "Account", account("ACC-7"))
    table = sync.tables[topic]

    asyncio.run(table.on_changelog_event(changelog_event("ACC-7", record)))
    assert registry.account("ACC-7") is not None
    before = registry.version

    asyncio.run(table.on_changelog_event(changelog_event("ACC-7", None)))  # a tombstone
    assert registry.account("ACC-7") is None
    assert registry.version != before


def test_an_unreadable_changelog_record_is_logged_and_skipped() -> None:
    settings = Settings(partitions=2)
    registry = Registry()
    sync = sync_for(settings, registry)
    table = sync.tables[settings.topics.registry_accounts]
    asyncio.run(table.on_changelog_event(changelog_event("ACC-8", b"not avro")))
    assert registry.account("ACC-8") is None


# -- the registry agent's batches -----------------------------------------------------------------


class RecordingProducer:
    """Takes every record and reports it delivered at once; flush must never be needed."""

    def __init__(self) -> None:
        self.records: list[tuple[str, bytes | None, bytes | None, int | None]] = []
        self.flushes = 0

    def produce(self, topic: str, *args: Any, **kwargs: Any) -> None:
        self.records.append((topic, kwargs.get("key"), kwargs.get("value"), kwargs.get("partition")))
        on_delivery = kwargs.get("on_delivery")
        if on_delivery is not None:
            on_delivery(None, SimpleNamespace(topic=lambda: topic, partition=lambda: kwargs.get("partition")))

    def poll(self, timeout: float = -1) -> int:
        return 0

    def flush(self, timeout: float = -1) -> int:
        self.flushes += 1
        return 0


class CountingOutbox(Outbox):
    def __init__(self, producer: RecordingProducer, audit_topic: str) -> None:
        super().__init__(producer, audit_topic)
        self.batches = 0

    def end_batch(self) -> "asyncio.Future[None]":
        self.batches += 1
        return super().end_batch()


def batch_sync(settings: Settings) -> tuple[RegistrySync, RecordingProducer, CountingOutbox, Registry]:
    serde = Serde(settings)
    producer = RecordingProducer()
    outbox = CountingOutbox(producer, settings.topics.audit)
    audit = AuditChains(settings, serde, sink=outbox.audit_sink)
    registry = Registry()
    chain = settings.partitions
    audit.start_at(chain)
    app = faust.App("registry-batch-test", broker="kafka://127.0.0.1:1", store="memory://")
    changes = RegistryProcessor(settings, serde, audit, registry, chain)
    sync = RegistrySync(
        app, settings, serde, audit, registry, changes, outbox, Metrics(), State(), lambda: "rules-test"
    )
    return sync, producer, outbox, registry


def src(topic: str, offset: int, key: str | None, value: bytes | None) -> Source:
    return Source(topic, 0, offset, key.encode() if key is not None else None, value, 1_780_000_000.0 + offset)


def institution(bic: str, name: str = "Hanseatic Commerce Bank AG") -> dict[str, Any]:
    return {"bic": bic, "name": name, "country": "DE", "kind": "bank"}


def audit_records(settings: Settings, producer: RecordingProducer) -> list[dict[str, Any]]:
    serde = Serde(settings)
    return [
        serde.decode(settings.topics.audit, "AuditRecord", value)
        for topic, _, value, _ in producer.records
        if topic == settings.topics.audit and value is not None
    ]


def test_a_batch_is_applied_in_order_audited_per_record_and_delivered_with_one_wait() -> None:
    settings = Settings(partitions=2)
    sync, producer, outbox, registry = batch_sync(settings)
    serde = Serde(settings)
    accounts, institutions = settings.topics.registry_accounts, settings.topics.registry_institutions
    first = serde.encode(accounts, "Account", account("ACC-1", status="open"))
    later = serde.encode(accounts, "Account", account("ACC-1", status="closing"))
    batch = [
        src(accounts, 0, "ACC-1", first),
        src(accounts, 1, "ACC-2", serde.encode(accounts, "Account", account("ACC-2"))),
        src(institutions, 0, "HNSEDEFF", serde.encode(institutions, "RegistryInstitution", institution("HNSEDEFF"))),
        src(accounts, 2, "ACC-1", later),  # a later record for a key wins
        src(accounts, 3, "ACC-2", None),  # a tombstone
    ]

    asyncio.run(sync.apply_batch(batch))

    acc1 = registry.account("ACC-1")
    assert acc1 is not None and acc1.status == "closing"
    assert registry.account("ACC-2") is None
    assert registry.institution_by_bic("HNSEDEFFXXX") is not None
    # One delivery wait for the whole batch, and no flush of the producer.
    assert (outbox.batches, producer.flushes) == (1, 0)
    audits = audit_records(settings, producer)
    assert [a["sequence"] for a in audits] == [0, 1, 2, 3, 4]
    assert [a["subject_id"] for a in audits] == [
        f"{accounts}:ACC-1",
        f"{accounts}:ACC-2",
        f"{institutions}:HNSEDEFFXXX",
        f"{accounts}:ACC-1",
        f"{accounts}:ACC-2",
    ]
    # The tables' changelog records, in order, keyed canonically (BIC11), the tombstone kept.
    changelog = [(t, k, v) for t, k, v, _ in producer.records if t.endswith("-changelog")]
    assert [(t.split("-")[-2], json.loads(k or b"")) for t, k, _ in changelog] == [
        ("accounts", "ACC-1"),
        ("accounts", "ACC-2"),
        ("institutions", "HNSEDEFFXXX"),
        ("accounts", "ACC-1"),
        ("accounts", "ACC-2"),
    ]
    assert base64.b64decode(json.loads(changelog[3][2] or b"")) == later and changelog[4][2] is None
    assert sync.state.registry_progress == {accounts: 4, institutions: 1}


def test_bad_records_inside_a_batch_are_dead_lettered_one_by_one_and_the_rest_applied() -> None:
    settings = Settings(partitions=2)
    sync, producer, outbox, registry = batch_sync(settings)
    serde = Serde(settings)
    topic = settings.topics.registry_accounts
    batch = [
        src(topic, 10, "ACC-1", serde.encode(topic, "Account", account("ACC-1"))),
        src(topic, 11, "ACC-2", b"not avro"),
        src(topic, 12, "ACC-OTHER", serde.encode(topic, "Account", account("ACC-3"))),  # key is not its id
        src(topic, 13, "ACC-4", serde.encode(topic, "Account", account("ACC-4"))),
    ]

    asyncio.run(sync.apply_batch(batch))

    assert registry.account("ACC-1") is not None and registry.account("ACC-4") is not None
    assert registry.account("ACC-2") is None and registry.account("ACC-3") is None
    dead = [
        serde.decode(settings.topics.dead_letter, "DeadLetter", v)
        for t, _, v, _ in producer.records
        if t == settings.topics.dead_letter and v is not None
    ]
    assert [(d["source_offset"], d["source_topic"]) for d in dead] == [(11, topic), (12, topic)]
    assert "is not the record's account_id" in dead[1]["error"]
    assert [a["kind"] for a in audit_records(settings, producer)] == [
        "registry",
        "dead_letter",
        "dead_letter",
        "registry",
    ]
    assert outbox.batches == 1
    assert sync.state.registry_progress[topic] == 14


def test_the_changelog_copy_of_this_workers_own_write_is_not_applied_again() -> None:
    settings = Settings(partitions=2)
    sync, _, _, registry = batch_sync(settings)
    serde = Serde(settings)
    topic = settings.topics.registry_accounts
    first = serde.encode(topic, "Account", account("ACC-1", status="open"))
    later = serde.encode(topic, "Account", account("ACC-1", status="closing"))
    asyncio.run(sync.apply_batch([src(topic, 0, "ACC-1", first), src(topic, 1, "ACC-1", later)]))
    table = sync.tables[topic]

    # The first write's copy comes back after the later one was applied: the view keeps the later.
    asyncio.run(table.on_changelog_event(changelog_event("ACC-1", first)))
    acc = registry.account("ACC-1")
    assert acc is not None and acc.status == "closing"
    asyncio.run(table.on_changelog_event(changelog_event("ACC-1", later)))
    assert len(sync.own_writes) == 0
    # Another worker's write (a hand-over) is applied: the changelog decides.
    other = serde.encode(topic, "Account", account("ACC-1", status="closed"))
    asyncio.run(table.on_changelog_event(changelog_event("ACC-1", other)))
    acc = registry.account("ACC-1")
    assert acc is not None and acc.status == "closed"


def test_readiness_reports_progress_against_the_targets_until_loaded() -> None:
    settings = Settings(partitions=2)
    sync, _, _, _ = batch_sync(settings)
    serde = Serde(settings)
    accounts, institutions = settings.topics.registry_accounts, settings.topics.registry_institutions
    targets = {accounts: 3, institutions: 0}
    seen: list[dict[str, dict[str, int]]] = []

    async def scenario() -> None:
        waiting = asyncio.create_task(
            sync.wait_until_loaded(lambda s, t: dict(targets), lambda s, g, t: {}, interval=0.01)
        )
        await asyncio.sleep(0.05)
        seen.append(sync.state.registry_report())
        assert not sync.state.registry_ready.is_set()
        records = [
            src(accounts, i, f"ACC-{i}", serde.encode(accounts, "Account", account(f"ACC-{i}"))) for i in range(2)
        ]
        await sync.apply_batch(records)
        seen.append(sync.state.registry_report())
        assert not sync.state.registry_ready.is_set()
        await sync.apply_batch([src(accounts, 2, "ACC-2", serde.encode(accounts, "Account", account("ACC-2")))])
        await asyncio.wait_for(waiting, 2)

    asyncio.run(scenario())
    assert sync.state.registry_ready.is_set()
    assert [r[accounts] for r in seen] == [{"applied": 0, "target": 3}, {"applied": 2, "target": 3}]
    assert sync.state.registry_report()[accounts] == {"applied": 3, "target": 3}
    assert sync.state.registry_report()[institutions] == {"applied": 0, "target": 0}


def test_another_workers_committed_offsets_count_as_loaded() -> None:
    settings = Settings(partitions=2)
    sync, _, _, _ = batch_sync(settings)
    t = settings.topics
    targets = {t.registry_accounts: 5, t.registry_institutions: 2}
    asyncio.run(sync.wait_until_loaded(lambda s, tp: dict(targets), lambda s, g, tp: dict(targets), interval=0.01))
    assert sync.state.registry_ready.is_set()
    assert sync.state.registry_report()[t.registry_accounts] == {"applied": 5, "target": 5}


def test_own_writes_drop_what_is_pending_when_another_value_arrives() -> None:
    own = OwnWrites()
    own.wrote("t", "k", "a")
    own.wrote("t", "k", "b")
    assert own.echoed("t", "k", "a") and len(own) == 1
    assert not own.echoed("t", "k", "z") and len(own) == 0
    assert not own.echoed("t", "k", "b")
    own.wrote("t", "k", None)
    assert own.echoed("t", "k", None) and len(own) == 0
