"""The registry, kept in step on every worker, and the readiness that waits for it.

Registry records (accounts, institutions) are applied by one worker's registry agent: decoded,
audited on the registry's own chain, written to the registry global tables. Every worker follows
the tables' changelogs into its own `Registry` view. Screening waits until the registry has
caught up with what was on its topics when the worker started.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import faust
from faust.types import EventT
from faust.types.tables import GlobalTableT

from rules import Registry, RegistryError
from schemas.codec import CodecError
from streams.audit import AuditChains
from streams.delivery import Outbox
from streams.logs import get_logger
from streams.metrics import Metrics
from streams.records import Source
from streams.registry_processing import RegistryProcessor, apply_registry_change, registry_key
from streams.serde import Serde
from streams.settings import Settings

log = get_logger("screener.stream")


@dataclass
class State:
    """What the worker knows about itself: readiness, and whether it is draining (SIGTERM)."""

    registry_ready: asyncio.Event = field(default_factory=asyncio.Event)
    draining: bool = False
    registry_progress: dict[str, int] = field(default_factory=dict)


def event_source(event: EventT[bytes]) -> Source:
    msg = event.message
    return Source(msg.topic, msg.partition, msg.offset, msg.key, msg.value, msg.timestamp)


class RegistrySync:
    """The registry agent's work, the registry global tables and the wait for the registry."""

    def __init__(
        self,
        app: faust.App,
        settings: Settings,
        serde: Serde,
        audit: AuditChains,
        registry: Registry,
        changes: RegistryProcessor,
        outbox: Outbox,
        metrics: Metrics,
        state: State,
        rules_version: str,
    ) -> None:
        self.settings = settings
        self.serde = serde
        self.audit = audit
        self.registry = registry
        self.changes = changes
        self.outbox = outbox
        self.metrics = metrics
        self.state = state
        self.rules_version = rules_version
        t = settings.topics
        self.topics = (t.registry_accounts, t.registry_institutions)
        # The registry, replicated to every worker; values are the records' bytes in base64. Each
        # changelog record any worker writes reaches this worker's registry view through Faust's
        # own per-event hook, in changelog order.
        self.tables: dict[str, GlobalTableT] = {
            topic: app.GlobalTable(
                name,
                key_type=str,
                value_type=str,
                partitions=1,
                recovery_buffer_size=1,
                on_changelog_event=self._follower(topic),
            )
            for topic, name in (
                (t.registry_accounts, "registry-accounts"),
                (t.registry_institutions, "registry-institutions"),
            )
        }

    def _follower(self, topic: str) -> Callable[[EventT[str]], Awaitable[None]]:
        """The changelog hook of one registry table: apply the record to the registry view."""

        async def follow(event: EventT[str]) -> None:
            key, value = event.key, event.value
            try:
                apply_registry_change(
                    self.registry,
                    self.serde,
                    self.settings,
                    topic,
                    str(key).encode(),
                    base64.b64decode(value) if value else None,
                )
            except (CodecError, RegistryError, ValueError) as exc:
                log.error("registry changelog record not applied", topic=topic, error=str(exc))

        return follow

    def forget_chain(self) -> None:
        """The registry chain may change hands at a Faust rebalance: its next writer re-reads it."""
        self.audit.forget(self.changes.chain)

    async def apply(self, src: Source) -> None:
        """One registry record: audited, applied to the table, its outputs on the broker."""
        chain = self.changes.chain
        if not self.audit.known(chain):
            await asyncio.get_running_loop().run_in_executor(None, self.audit.recover, chain)
        outcome = self.changes.process(src, self.rules_version)
        if not outcome.dead_letter:
            table = self.tables[src.topic]
            key = registry_key(self.settings, src.topic, src.key)
            if src.value is None:
                table.pop(key, None)
            else:
                table[key] = base64.b64encode(src.value).decode("ascii")
            self.metrics.registry_changes.labels(src.topic).inc()
        else:
            self.metrics.dead_letters.labels(src.topic).inc()
            log.warning("registry record dead-lettered", position=src.position)
        self.outbox.send_outputs(outcome.outputs)
        await self.outbox.flushed()
        self.state.registry_progress[src.topic] = src.offset + 1

    async def wait_until_loaded(
        self,
        end_offsets: Callable[[Settings, list[str]], dict[str, int]] | None = None,
        committed_offsets: Callable[[Settings, str, list[str]], dict[str, int]] | None = None,
        interval: float = 0.2,
    ) -> None:
        """Hold screening until the registry has caught up with what was on its topics at start."""
        from streams import kafka_io

        ends = end_offsets or kafka_io.end_offsets
        committed_of = committed_offsets or kafka_io.committed_offsets
        loop = asyncio.get_running_loop()
        topics = list(self.topics)
        targets = await loop.run_in_executor(None, ends, self.settings, topics)
        while True:
            committed = await loop.run_in_executor(None, committed_of, self.settings, self.settings.app_id, topics)
            behind = {
                topic: target
                for topic, target in targets.items()
                if max(committed.get(topic, 0), self.state.registry_progress.get(topic, 0)) < target
            }
            if not behind:
                self.state.registry_ready.set()
                log.info(
                    "registry loaded",
                    accounts=len(self.registry.accounts()),
                    institutions=len(self.registry.institutions()),
                    registry_version=self.registry.version,
                )
                return
            await asyncio.sleep(interval)
