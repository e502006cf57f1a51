"""The screen loop: payments and notice requests, consumed in bulk with librdkafka.

Why not a Faust agent: on the embedded broker a Faust stream delivers about 11,000 events/s
before the agent does anything, and a naive forwarding agent 4,000-5,000/s (README,
"Performance"), while a librdkafka consumer hands over hundreds of thousands a second in batches.
Faust still runs the worker (registry agent, web, lifecycle); this loop runs inside it, on its
event loop, and decides nothing: every batch goes to a BatchScreener (streams/batches.py). Its
collaborators are Protocols (streams/ports.py), wired in streams/app.py.

Guarantees (README, "Delivery guarantees"):
- at least once: offsets are committed only for batches whose every record (decision, derived
  events, audit, the decided changelog) is on the broker, in screening order (streams/offsets.py);
  a crash replays the rest, and the decided store answers a replayed payment with its first
  decision;
- one writer per audit chain: payments and notice requests are subscribed together with the
  range assignor, so partition p of both goes to one worker, which writes chain p; before a
  partition is given up, everything produced is flushed and its offsets committed; partitions
  lost without a hand-over commit nothing;
- no record before its state: an assigned partition stays paused until its chain tip, decided
  store and notices sent are loaded; a revocation while loading moves a generation counter on,
  so a stale load never resumes a partition;
- no skipped payment: librdkafka delivers each partition's records in offset order (the gap
  repair the Faust stream needed on this broker is gone with it);
- one RuleSet and one registry version per batch: new rules and registry changes are put in
  force only at the top of a turn, between batches (streams/rules_in_force.py,
  streams/registry_view.py); the rules' audit records are delivered like a batch's;
- nothing screened before the registry is loaded: the group is joined and partition state loaded
  while the registry loads, but partitions stay paused until it is.

(About 320 lines: the consumer's turns, commits, assignment, revocation and loss are one state
machine sharing the paused partitions and the load generation, so they are read together.)
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Sequence

from confluent_kafka import TopicPartition

from streams.logs import get_logger
from streams.metrics import Metrics
from streams.offsets import Offsets, next_offsets
from streams.ports import (
    BatchScreener,
    Consumer,
    ConsumerFactory,
    Crash,
    Flusher,
    LoopState,
    PartitionLoader,
    Record,
    RegistryChanges,
    RulesSwitcher,
)
from streams.records import Source
from streams.screen_consumer import BrokerReach, consumer_config
from streams.settings import Settings

log = get_logger("screener.loop")

# Batches screened but not yet delivered; beyond this the loop waits for the oldest.
MAX_IN_FLIGHT = 8
LAG_REPORT_S = 5.0
# How long a hand-over waits for the producer before it gives the partitions up uncommitted.
FLUSH_TIMEOUT_S = 30.0


def _source(msg: Record) -> Source:
    topic, partition, offset = msg.topic(), msg.partition(), msg.offset()
    if topic is None or partition is None or offset is None:  # only error events lack them
        raise RuntimeError(f"consumed record without a position: {topic}/{partition}/{offset}")
    return Source(topic, partition, offset, msg.key(), msg.value(), msg.timestamp()[1] / 1000.0)


def _kafka_consumer(config: dict[str, object]) -> Consumer:
    from confluent_kafka import Consumer as KafkaConsumer

    return KafkaConsumer(config)


class ScreenLoop:
    """Consume, hand batches to the screener, commit what is delivered, hand partitions over cleanly."""

    def __init__(
        self,
        settings: Settings,
        state: LoopState,
        screener: BatchScreener,
        partitions: PartitionLoader,
        flusher: Flusher,
        crash: Crash,
        metrics: Metrics,
        make_consumer: ConsumerFactory = _kafka_consumer,
        rules: RulesSwitcher | None = None,
        registry: RegistryChanges | None = None,
    ) -> None:
        self.settings = settings
        self.state = state
        self.screener = screener
        self.partitions = partitions
        self.flusher = flusher
        self.crash = crash
        self.metrics = metrics
        self.make_consumer = make_consumer
        self.rules = rules
        self.registry = registry
        self.topics = (settings.topics.payments, settings.topics.notice_requests)
        self.consumer: Consumer | None = None
        self.assigned: set[int] = set()
        self.reach = BrokerReach()
        self.closed = asyncio.Event()
        self.offsets = Offsets(settings.commit_interval_s)
        self._last_lag = 0.0
        # Assignments whose state is still loading, and a counter that revocations move on.
        self._loading: deque[tuple[int, list[int], list[TopicPartition]]] = deque()
        # Partitions whose state is loaded, paused until the registry is.
        self._held: list[tuple[list[int], list[TopicPartition]]] = []
        self._generation = 0
        # Set when partitions could not be handed over cleanly: the loop stops at its next turn.
        self._handover_failed: str | None = None

    def config(self) -> dict[str, object]:
        return consumer_config(self.settings, self.reach)

    @property
    def broker_up(self) -> bool:
        return self.reach.up

    # -- the loop ---------------------------------------------------------------------------

    def subscribe(self) -> Consumer:
        """Join the group (once). The worker calls it before Faust starts, so that this join runs
        beside Faust's own instead of after it; librdkafka joins in the background, and the
        partitions are taken when `run` consumes."""
        if self.consumer is None:
            self.consumer = self.make_consumer(self.config())
            self.consumer.subscribe(
                list(self.topics), on_assign=self._on_assign, on_revoke=self._on_revoke, on_lost=self._on_lost
            )
            log.info("screen loop subscribed", group=f"{self.settings.app_id}.screen", topics=list(self.topics))
        return self.consumer

    async def run(self) -> None:
        state = self.state
        # The group is joined while the registry loads (the join and the partitions' state take
        # seconds of their own); partitions are resumed only once it is loaded (_resume_held).
        consumer = self.subscribe()
        try:
            while not state.draining:
                self._settle(final=False)
                if state.registry_ready.is_set():
                    self._between_batches()
                msgs = consumer.consume(self.settings.batch_size, 0)
                if self._handover_failed is not None:
                    raise RuntimeError(self._handover_failed)
                if self._loading:
                    await self._load()
                if not msgs:
                    await asyncio.sleep(self.settings.poll_interval_s)
                    continue
                sources = self._sources(msgs)
                if not sources:
                    continue
                self.offsets.add(self.screener.screen_records(sources), next_offsets(sources))
                while len(self.offsets) > MAX_IN_FLIGHT:
                    oldest = self.offsets.oldest()
                    assert oldest is not None
                    await oldest
                    self._settle(final=False)
                # Let the registry agent, the web server and delivery callbacks run between batches.
                await asyncio.sleep(0)
            log.info("screen loop draining", in_flight=len(self.offsets))
            for delivered in self.offsets.futures():
                await delivered
            self._settle(final=True)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.critical("screening stopped", error=str(exc))
            await self.crash(exc)
            raise
        finally:
            try:
                # Leaving the group revokes the partitions (_on_revoke flushes and commits).
                consumer.close()
            except Exception as exc:  # noqa: BLE001 - closing after a broker failure: nothing left to save
                log.warning("consumer close failed", error=str(exc))
            self.assigned.clear()
            self.closed.set()

    def _between_batches(self) -> None:
        """The swap point: no batch is being screened here. Registry changes are applied to the
        view; the records of a rules change go on the chains of the partitions loaded, their
        delivery awaited like a batch's (no offsets). Then partitions held for the registry go."""
        if self.registry is not None:
            self.registry.apply_pending()
        if self.rules is not None:
            delivered = self.rules.switch(sorted(self.assigned))
            if delivered is not None:
                self.offsets.add(delivered, {})
        if self._held:
            assert self.consumer is not None
            for mine, partitions in self._held:
                self.assigned.update(mine)
                self.consumer.resume(partitions)
                log.info("partitions resumed: the registry is loaded", partitions=mine)
            self._held.clear()

    def _sources(self, msgs: Sequence[Record]) -> list[Source]:
        sources = []
        for msg in msgs:
            err = msg.error()
            if err is not None:
                # Errors here are informational (librdkafka retries); fatal ones raise.
                log.warning("consumer error", error=str(err))
                continue
            if msg.partition() not in self.assigned:
                # Paused until its state is loaded, so this cannot happen; screening it without
                # its chain tip or decided store would be worse than stopping.
                raise RuntimeError(f"record from {msg.topic()}/{msg.partition()} before its state was loaded")
            sources.append(_source(msg))
        return sources

    def _settle(self, final: bool) -> None:
        """Commit the offsets of delivered batches, in order; raise if a delivery failed."""
        self.offsets.settle()
        if self.offsets.due(final):
            self._commit(asynchronous=not final)
        now = time.monotonic()
        if now - self._last_lag >= LAG_REPORT_S:
            self._last_lag = now
            self._report_lag()

    def _commit(self, asynchronous: bool, taken: list[tuple[str, int, int]] | None = None) -> None:
        assert self.consumer is not None
        offsets = [TopicPartition(t, p, o) for t, p, o in (self.offsets.take() if taken is None else taken)]
        if asynchronous:
            self.consumer.commit(offsets=offsets, asynchronous=True)
        else:
            self.consumer.commit(offsets=offsets, asynchronous=False)

    def _report_lag(self) -> None:
        consumer = self.consumer
        if consumer is None or not self.assigned:
            return
        payments = self.settings.topics.payments
        try:
            positions = consumer.position([TopicPartition(payments, p) for p in sorted(self.assigned)])
            for tp in positions:
                _low, high = consumer.get_watermark_offsets(tp, cached=True)
                if tp.offset >= 0 and high >= 0:
                    self.metrics.lag.labels(str(tp.partition)).set(max(0, high - tp.offset))
        except Exception as exc:  # noqa: BLE001 - a metric must never stop screening
            log.warning("lag not reported", error=str(exc))

    # -- partitions changing hands (called by librdkafka inside consume/close) ---------------

    def _on_assign(self, _consumer: object, partitions: list[TopicPartition]) -> None:
        """Take the partitions paused: their state is loaded off the event loop first (_load)."""
        assert self.consumer is not None
        self.consumer.assign(partitions)
        self.consumer.pause(partitions)
        mine = {tp.partition for tp in partitions}
        self._loading.append((self._generation, sorted(mine), partitions))
        log.info("partitions assigned, loading their state", partitions=sorted(mine))

    async def _load(self) -> None:
        """Load what newly assigned partitions need before their first record: each audit chain's
        tip and decided store (both from its audit chain) and the notices already sent; then resume them."""
        assert self.consumer is not None
        loop = asyncio.get_running_loop()
        while self._loading:
            generation, mine, partitions = self._loading.popleft()
            started = time.monotonic()
            loaded = await loop.run_in_executor(None, self.partitions.load_partitions, mine)
            if generation != self._generation:
                continue  # revoked while loading; the next assignment loads again
            log.info("partitions ready", partitions=mine, seconds=round(time.monotonic() - started, 2), **loaded)
            if self.state.registry_ready.is_set():
                self.assigned.update(mine)
                self.consumer.resume(partitions)
            else:
                self._held.append((mine, partitions))

    def _on_revoke(self, _consumer: object, partitions: list[TopicPartition]) -> None:
        """Hand the partitions over: everything produced on the broker, its offsets committed."""
        mine = sorted({tp.partition for tp in partitions})
        remaining = self.flusher.flush(FLUSH_TIMEOUT_S)
        failed = self.flusher.delivery_failed
        if remaining or failed:
            # Nothing more is committed (the next owner screens these batches again, deduplicated),
            # and the worker stops: records still queued here could reach a chain after its next
            # owner has read the tip, two writers on one audit chain.
            log.critical("records not delivered at revocation", pending=remaining, error=failed)
            self.offsets.clear()
            self._handover_failed = f"records not delivered at revocation ({remaining} pending, error {failed})"
        else:
            # In-flight futures complete later on the loop; their offsets are in this commit.
            taken = self.offsets.hand_over()
            if taken:
                self._commit(asynchronous=False, taken=taken)
        self._forget(mine)
        log.info("partitions revoked", partitions=mine)

    def _on_lost(self, _consumer: object, partitions: list[TopicPartition]) -> None:
        """Partitions taken away without a clean hand-over: nothing may be committed for them."""
        mine = sorted({tp.partition for tp in partitions})
        self.offsets.clear()
        self._forget(mine)
        log.warning("partitions lost", partitions=mine)

    def _forget(self, partitions: list[int]) -> None:
        self._generation += 1
        self._loading.clear()
        self._held.clear()
        self.partitions.drop_partitions(partitions)
        self.assigned.difference_update(partitions)
