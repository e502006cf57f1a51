"""This worker's registry view, read straight from the compacted registry topics (SPEC 1.2).

Every worker builds its own view: one librdkafka consumer assigned every partition of the registry
topics from the beginning (no group joined, nothing committed: the compacted topics are their own
changelog), records taken in bulk, each applied with streams/registry_processing.py (the keys,
canonicalisation, validation and tombstones the registry agent applies). The load reads forward to
end-of-partition, the true end: a high watermark is only a hint, the embedded broker can answer one
per record batch (README, "Defects"). Then the worker is "registry loaded", by its own view alone.

After the load the same reader follows the topics on its thread: each change is prepared there
(decoded, validated) and queued, and the screen loop applies what is queued at the top of its turn
(`apply_pending`), between batches, so every payment of a batch is screened against one registry
version, the one its decision records (SPEC 2.3).

A record that cannot be applied is skipped (counted, logged without keys or names); the registry
agent dead-letters it and keeps the audit trail of every change (streams/registry_audit.py).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

from confluent_kafka import OFFSET_BEGINNING, TopicPartition

from rules import Registry
from streams.logs import get_logger
from streams.metrics import Metrics
from streams.ports import Crash
from streams.registry_processing import RegistryChange
from streams.registry_read import (
    TAKE_MAX,
    TAKE_S,
    Part,
    RegistryConsumer,
    RegistryConsumerFactory,
    is_eof,
    kafka_consumer,
    prepared,
    reader_config,
)
from streams.serde import Serde
from streams.settings import Settings

log = get_logger("screener.registry")

# While following, a take waits longer: it is also how soon the thread sees a stop.
FOLLOW_TAKE_S = 0.2
PROGRESS_LOG_S = 2.0


@dataclass
class State:
    """What the worker knows about itself: readiness, the registry load's progress, and whether it
    is draining (SIGTERM)."""

    registry_ready: asyncio.Event = field(default_factory=asyncio.Event)
    draining: bool = False
    # Per registry topic: the offsets the view has read up to, and the ends it reads to (the
    # high watermarks at first, raised to the true ends as they are reached).
    registry_progress: dict[str, int] = field(default_factory=dict)
    registry_targets: dict[str, int] = field(default_factory=dict)

    def registry_report(self) -> dict[str, dict[str, int]]:
        """Per registry topic, the records applied and the target."""
        return {
            topic: {"applied": min(self.registry_progress.get(topic, 0), target), "target": target}
            for topic, target in self.registry_targets.items()
        }


class RegistryView:
    """Loads this worker's registry from the topics, then follows them (a ports.RegistryChanges)."""

    def __init__(
        self,
        settings: Settings,
        serde: Serde,
        registry: Registry,
        metrics: Metrics,
        state: State,
        make_consumer: RegistryConsumerFactory = kafka_consumer,
    ) -> None:
        self.settings = settings
        self.serde = serde
        self.registry = registry
        self.metrics = metrics
        self.state = state
        self.make_consumer = make_consumer
        t = settings.topics
        self.topics = (t.registry_accounts, t.registry_institutions)
        self.loaded = False
        # Prepared on the reader's thread, applied on the screen loop's turn (deque: thread-safe
        # append and popleft).
        self._pending: deque[RegistryChange] = deque()
        self._positions: dict[Part, int] = {}
        self._ends: dict[Part, int] = {}
        self._open: set[Part] = set()
        self._stop = threading.Event()
        # The thread's outcome, and the event loop to tell once loaded (known once `run` starts).
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._done: Future[None] = Future()

    def start(self) -> None:
        """Start the reader's thread (once). The worker calls it before Faust starts: the load
        needs nothing of Faust, and runs beside Faust's own start."""
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._main, name="registry-view", daemon=True)
        self._thread.start()

    async def run(self, crash: Crash | None = None) -> None:
        """The reader, awaited on the event loop: `registry_ready` is set there once the view is
        loaded. A reader that fails stops the worker (`crash`): nothing would keep the view current."""
        with self._lock:
            self._loop = asyncio.get_running_loop()
            if self.loaded:
                self.state.registry_ready.set()
        self.start()
        try:
            await asyncio.wrap_future(self._done)
        except Exception as exc:
            log.critical("registry reader stopped", error=str(exc))
            if crash is not None:
                await crash(exc)
            raise
        finally:
            self._stop.set()

    def stop(self) -> None:
        self._stop.set()

    def _main(self) -> None:
        try:
            self.read(self._signal_loaded)
            self._done.set_result(None)
        except BaseException as exc:  # noqa: BLE001 - handed to the event loop, raised there
            self._done.set_exception(exc)

    def _signal_loaded(self) -> None:
        with self._lock:
            if self._loop is not None:
                self._loop.call_soon_threadsafe(self.state.registry_ready.set)

    def read(self, on_loaded: Callable[[], None]) -> None:
        """Load, call `on_loaded`, then follow until stopped (blocking: the reader's thread)."""
        consumer = self.make_consumer(reader_config(self.settings, "view"))
        try:
            started = logged = time.monotonic()
            log.info("registry loading", topics=list(self.topics))
            self._assign(consumer)
            log.info("registry load target", targets=self.state.registry_targets)
            while self._open and not self._stop.is_set():
                self._take(consumer, TAKE_S)
                if time.monotonic() - logged >= PROGRESS_LOG_S:
                    logged = time.monotonic()
                    log.info("registry load progress", progress=self.state.registry_report())
            if self._stop.is_set():
                return
            self._loaded(time.monotonic() - started)
            # From here on changes are queued for the screen loop: the view is shared with it.
            with self._lock:
                self.loaded = True
            on_loaded()
            while not self._stop.is_set():
                self._take(consumer, FOLLOW_TAKE_S)
        finally:
            consumer.close()

    def apply_pending(self) -> int:
        """Apply every queued change to the view: the screen loop's call, between batches (no
        payment is being screened). Returns how many were applied."""
        applied = 0
        while self._pending:
            change = self._pending.popleft()
            change.apply(self.registry)
            self.metrics.registry_changes.labels(change.topic).inc()
            applied += 1
        if applied:
            log.info("registry changes applied", changes=applied, registry_version=self.registry.version)
        return applied

    def _assign(self, consumer: RegistryConsumer) -> None:
        metadata = consumer.list_topics(timeout=10).topics
        parts: list[Part] = []
        for topic in self.topics:
            meta = metadata.get(topic)
            if meta is None or meta.error is not None or not meta.partitions:
                raise RuntimeError(f"registry topic {topic} not found")
            parts += [(topic, p) for p in sorted(meta.partitions)]
        for topic, p in parts:
            _low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10, cached=False)
            self._ends[(topic, p)] = max(high, 0)
        self._open = set(parts)
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for topic, p in parts])
        self._publish()

    def _take(self, consumer: RegistryConsumer, timeout: float) -> None:
        direct = not self.loaded
        for msg in consumer.consume(TAKE_MAX, timeout):
            topic, partition, offset = msg.topic(), msg.partition(), msg.offset()
            if topic is None or partition is None or offset is None:
                log.warning("registry read error", error=str(msg.error()))
                continue
            part = (topic, partition)
            if is_eof(msg):
                # The true end now: at least what the partition held when the load began.
                self._positions[part] = max(self._positions.get(part, 0), offset)
                self._ends[part] = self._positions[part]
                self._open.discard(part)
                continue
            if msg.error() is not None:
                log.warning("registry read error", topic=topic, error=str(msg.error()))  # librdkafka retries
                continue
            self._positions[part] = offset + 1
            self._ends[part] = max(self._ends.get(part, 0), offset + 1)
            change = prepared(self.serde, self.settings, msg)
            if change is None:
                self.metrics.registry_skipped.labels(topic).inc()
            elif direct:
                change.apply(self.registry)
                self.metrics.registry_changes.labels(topic).inc()
            else:
                self._pending.append(change)
        self._publish()

    def _publish(self) -> None:
        progress: dict[str, int] = {}
        targets: dict[str, int] = {}
        for (topic, _), end in self._ends.items():
            targets[topic] = targets.get(topic, 0) + end
            progress[topic] = progress.get(topic, 0) + self._positions.get((topic, _), 0)
        self.state.registry_targets, self.state.registry_progress = targets, progress

    def _loaded(self, seconds: float) -> None:
        total = sum(self.state.registry_targets.values())
        log.info(
            "registry loaded",
            records=total,
            seconds=round(seconds, 3),
            records_per_s=round(total / seconds) if seconds > 0 else None,
            accounts=len(self.registry.accounts()),
            institutions=len(self.registry.institutions()),
            registry_version=self.registry.version,
        )
