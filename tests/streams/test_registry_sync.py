"""The registry tables' changelog reaches the worker's registry view through Faust's per-event hook
(no broker: the hook Faust's recovery calls for each changelog record is called directly)."""

import asyncio
import base64
from types import SimpleNamespace
from typing import Any

import faust

from rules import Registry
from streams.audit import AuditChains
from streams.delivery import Outbox
from streams.metrics import Metrics
from streams.registry_processing import RegistryProcessor
from streams.registry_sync import RegistrySync, State
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
        "rules-test",
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
