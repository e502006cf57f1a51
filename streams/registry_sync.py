"""The registry, kept in step on every worker, and the readiness that waits for it.

Registry records (accounts, institutions) are applied by one worker's registry agent, a batch at a
time: each decoded, applied to the registry view, audited on the registry's own chain and written
to the registry global tables; the batch's outputs are produced together and delivery is awaited
once per batch. Every worker follows the tables' changelogs into its own `Registry` view. Screening
waits until the registry has caught up with what was on its topics when the worker started.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import cast

import faust
from faust.tables.base import Collection
from faust.types import EventT, StreamT
from faust.types.tables import GlobalTableT

from rules import Registry, RegistryError
from schemas.codec import CodecError
from streams.audit import AuditChains
from streams.delivery import Outbox
from streams.logs import get_logger
from streams.metrics import Metrics
from streams.records import Source
from streams.registry_processing import RegistryProcessor, apply_registry_change
from streams.serde import Serde
from streams.settings import Settings

log = get_logger("screener.stream")

# Records the registry agent takes at once, and how long it waits to fill a batch. A batch costs
# one broker round trip for its outputs whatever its size; the wait bounds how long a single
# registry change waits for company once the registry is loaded.
BATCH_MAX = 2000
BATCH_WITHIN_S = 0.05
# While loading, progress is logged this often.
PROGRESS_LOG_S = 2.0
# The group's committed offsets (another worker's agent applying) are read this often: each read
# is a new consumer, too costly to repeat at the progress interval.
COMMITTED_READ_S = 1.0


@dataclass
class State:
    """What the worker knows about itself: readiness, and whether it is draining (SIGTERM)."""

    registry_ready: asyncio.Event = field(default_factory=asyncio.Event)
    draining: bool = False
    # Per registry topic: the offset this worker's agent has applied and delivered up to, the
    # group's committed offset when last read, and the topic's end when the worker started.
    registry_progress: dict[str, int] = field(default_factory=dict)
    registry_committed: dict[str, int] = field(default_factory=dict)
    registry_targets: dict[str, int] = field(default_factory=dict)

    def registry_applied(self, topic: str) -> int:
        return max(self.registry_progress.get(topic, 0), self.registry_committed.get(topic, 0))

    def registry_report(self) -> dict[str, dict[str, int]]:
        """Per registry topic, the records applied and the target (end offset at start)."""
        return {
            topic: {"applied": min(self.registry_applied(topic), target), "target": target}
            for topic, target in self.registry_targets.items()
        }


def event_source(event: EventT[bytes]) -> Source:
    msg = event.message
    return Source(msg.topic, msg.partition, msg.offset, msg.key, msg.value, msg.timestamp)


class OwnWrites:
    """Table values this worker's agent wrote, already in its registry view, until their changelog
    copy comes back: that copy is not decoded and applied a second time (and an older value of a
    key is never re-applied over a newer one the agent already applied)."""

    def __init__(self) -> None:
        self._pending: dict[tuple[str, str], deque[str | None]] = {}

    def wrote(self, topic: str, key: str, value: str | None) -> None:
        self._pending.setdefault((topic, key), deque()).append(value)

    def echoed(self, topic: str, key: str, value: str | None) -> bool:
        """True for the changelog copy of this worker's next write of the key. Any other value (a
        write by another worker, at a hand-over) drops what was pending: the changelog decides."""
        pending = self._pending.get((topic, key))
        if not pending:
            return False
        if pending[0] == value:
            pending.popleft()
            if not pending:
                del self._pending[(topic, key)]
            return True
        del self._pending[(topic, key)]
        return False

    def __len__(self) -> int:
        return sum(len(values) for values in self._pending.values())


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
        rules_version: Callable[[], str],
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
        self.serializers = app.serializers
        self.own_writes = OwnWrites()
        t = settings.topics
        self.topics = (t.registry_accounts, t.registry_institutions)
        # The registry, replicated to every worker; values are the records' bytes in base64. Each
        # changelog record any worker writes reaches this worker's registry view through Faust's
        # own per-event hook, in changelog order. A recovery buffer of one is what Faust requires
        # of a global table shared by several workers (faust/tables/globaltable.py); it is also
        # what keeps its changelog followed after recovery. It costs a store write per record, not
        # a decode: the hook below is where the registry view is kept.
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
            key = str(event.key)
            value = None if event.value is None else str(event.value)
            if self.own_writes.echoed(topic, key, value):
                return
            try:
                apply_registry_change(
                    self.registry,
                    self.serde,
                    self.settings,
                    topic,
                    key.encode(),
                    base64.b64decode(value) if value else None,
                )
            except (CodecError, RegistryError, ValueError) as exc:
                log.error("registry changelog record not applied", topic=topic, error=str(exc))

        return follow

    def forget_chain(self) -> None:
        """The registry chain may change hands at a Faust rebalance: its next writer re-reads it."""
        self.audit.forget(self.changes.chain)

    async def consume(self, stream: StreamT[bytes]) -> None:
        """The registry agent: its stream taken in batches, each applied before the next is taken
        (Faust acknowledges a batch's events once the batch is done)."""
        # take_events is faust.Stream's; StreamT, what an agent is given, does not declare it.
        batches = cast("faust.Stream[bytes]", stream).take_events(BATCH_MAX, within=BATCH_WITHIN_S)
        async for events in batches:
            await self.apply_batch([event_source(event) for event in events])

    async def apply(self, src: Source) -> None:
        """One registry record (a batch of one)."""
        await self.apply_batch([src])

    async def apply_batch(self, sources: Sequence[Source]) -> None:
        """Registry records in their order: each audited and applied to the view and the table (a
        bad one dead-lettered), the batch's outputs produced together, delivery awaited once."""
        if not sources:
            return
        loop = asyncio.get_running_loop()
        chain = self.changes.chain
        if not self.audit.known(chain):
            await loop.run_in_executor(None, self.audit.recover, chain)
        # Nothing awaits between begin_batch and end_batch: every record produced (the audit
        # records as they are appended, in chain order) belongs to this batch.
        self.outbox.begin_batch(loop)
        try:
            for src in sources:
                self._apply_one(src)
        finally:
            delivered = self.outbox.end_batch()
        await delivered
        progress = self.state.registry_progress
        for src in sources:
            progress[src.topic] = max(progress.get(src.topic, 0), src.offset + 1)

    def _apply_one(self, src: Source) -> None:
        outcome, key = self.changes.process_change(src, self.rules_version())
        if key is None:
            self.metrics.dead_letters.labels(src.topic).inc()
            log.warning("registry record dead-lettered", position=src.position)
        else:
            value = None if src.value is None else base64.b64encode(src.value).decode("ascii")
            self._write_table(src.topic, key, value)
            self.own_writes.wrote(src.topic, key, value)
            self.metrics.registry_changes.labels(src.topic).inc()
        self.outbox.send_outputs(outcome.outputs)

    def _write_table(self, topic: str, key: str, value: str | None) -> None:
        """The table's changelog record, in Faust's own serialisation, produced with the batch.

        Not through the table (`table[key] = value`): Faust's producer sends about one request per
        record, and its records would not be in the batch's delivery. Every worker, this one
        included, gets it back through the changelog hook (`_follower`), as it would a table
        write; the table's local copy is updated there too, by Faust's recovery."""
        # The table's serialisers are Collection's attributes, not GlobalTableT's.
        table = cast("Collection", self.tables[topic])
        serializers = self.serializers
        key_bytes = serializers.dumps_key(table.key_type, key, serializer=table.key_serializer)
        if key_bytes is None:
            raise RegistryError(f"registry key {key[:64]!r} has no changelog form")
        value_bytes = (
            None
            if value is None
            else serializers.dumps_value(table.value_type, value, serializer=table.value_serializer)
        )
        self.outbox.send(table.changelog_topic.get_topic_name(), key_bytes, value_bytes, 0)

    async def wait_until_loaded(
        self,
        end_offsets: Callable[[Settings, list[str]], dict[str, int]] | None = None,
        committed_offsets: Callable[[Settings, str, list[str]], dict[str, int]] | None = None,
        interval: float = 0.05,
    ) -> None:
        """Hold screening until the registry has caught up with what was on its topics at start,
        logging progress while it loads."""
        from streams import kafka_io

        ends = end_offsets or kafka_io.end_offsets
        committed_of = committed_offsets or kafka_io.committed_offsets
        loop = asyncio.get_running_loop()
        topics = list(self.topics)
        state = self.state
        started = time.monotonic()
        # Logged before the ends are read: the agent is taking records from now on.
        log.info("registry loading", topics=topics)
        state.registry_targets = targets = await loop.run_in_executor(None, ends, self.settings, topics)
        total = sum(targets.values())
        log.info("registry load target", records=total, targets=targets)
        committed_at, logged_at = float("-inf"), started
        while True:
            now = time.monotonic()
            if now - committed_at >= COMMITTED_READ_S and self._behind(targets):
                state.registry_committed = await loop.run_in_executor(
                    None, committed_of, self.settings, self.settings.app_id, topics
                )
                committed_at = now
            if not self._behind(targets):
                seconds = time.monotonic() - started
                state.registry_ready.set()
                log.info(
                    "registry loaded",
                    records=total,
                    seconds=round(seconds, 3),
                    records_per_s=round(total / seconds) if seconds > 0 else None,
                    accounts=len(self.registry.accounts()),
                    institutions=len(self.registry.institutions()),
                    registry_version=self.registry.version,
                )
                return
            if now - logged_at >= PROGRESS_LOG_S:
                log.info("registry load progress", progress=state.registry_report())
                logged_at = now
            await asyncio.sleep(interval)

    def _behind(self, targets: dict[str, int]) -> bool:
        return any(self.state.registry_applied(topic) < target for topic, target in targets.items())
