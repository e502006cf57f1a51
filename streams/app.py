"""The Faust service: the registry table, the screen agent, the notices agent, health and metrics.

Flow (ARCHITECTURE.md): payments -> screen agent -> decisions, blocks, alerts, notice requests,
audit, dead-letter; notice requests (by account) -> notices agent -> notices (once per account
and section); registry topics -> registry agent -> registry global tables, read by every worker.
The agents move bytes; every decision is rules.engine.screen's.
"""

from __future__ import annotations

import asyncio
import base64
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import faust
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from rules import Registry, RegistryError, RuleSet
from schemas.codec import CodecError
from streams.audit import AuditChains
from streams.logs import get_logger
from streams.metrics import Metrics
from streams.processing import (
    NoticeProcessor,
    Out,
    PaymentProcessor,
    RegistryProcessor,
    Source,
    apply_registry_change,
)
from streams.serde import Serde
from streams.settings import Settings
from streams.topics import audit_partition_for_registry

log = get_logger("screener.stream")


@dataclass
class State:
    """What the worker knows about itself: readiness and the batch in hand."""

    registry_ready: asyncio.Event = field(default_factory=asyncio.Event)
    idle: asyncio.Event = field(default_factory=asyncio.Event)
    draining: bool = False
    registry_progress: dict[str, int] = field(default_factory=dict)


class Delivery:
    """The records one batch produced, and a future done once every one is on the broker.

    Delivery reports arrive on the producer's poller thread; the future is completed on the loop.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.future: asyncio.Future[None] = loop.create_future()
        self._lock = threading.Lock()
        self._produced = 0
        self._delivered = 0
        self._sealed = False
        self._error: str | None = None

    def produced(self) -> None:
        with self._lock:
            self._produced += 1

    def report(self, err: Any) -> None:
        with self._lock:
            self._delivered += 1
            if err is not None and self._error is None:
                self._error = str(err)
            self._maybe_done()

    def seal(self) -> None:
        """No more records will be added."""
        with self._lock:
            self._sealed = True
            self._maybe_done()

    def _maybe_done(self) -> None:
        if self._sealed and self._delivered >= self._produced and not self.future.done():
            self.loop.call_soon_threadsafe(self._finish, self._error)

    def _finish(self, error: str | None) -> None:
        if self.future.done():
            return
        if error is None:
            self.future.set_result(None)
        else:
            self.future.set_exception(RuntimeError(f"records not delivered: {error}"))


# A screened batch: the future of its deliveries, and its events to acknowledge after.
InFlight = tuple[asyncio.Future[None], list[Any]]


def _source(event: Any) -> Source:
    msg = event.message
    return Source(msg.topic, msg.partition, msg.offset, msg.key, msg.value, msg.timestamp)


class Screener:
    """The Faust app and everything its agents share."""

    def __init__(self, settings: Settings, rules: RuleSet, logging_config: dict[str, Any] | None = None) -> None:
        self.settings = settings
        self.rules = rules
        self.registry = Registry()
        self.serde = Serde(settings)
        self.audit = AuditChains(settings, self.serde, sink=self._produce_audit_record)
        self.metrics = Metrics()
        self.state = State()
        self.state.idle.set()
        # Every output (decisions, blocks, alerts, notices, audit, dead-letters) goes through one
        # idempotent librdkafka producer: in order and without holes per partition, so a crash can
        # only lose a chain's tail, which the next writer extends; and at a few microseconds a
        # record, where a Faust send costs tens (README, "Performance"). murmur2 partitions keys as
        # the Java client and Faust do. (aiokafka's idempotent producer cannot start on the
        # embedded broker, ARCHITECTURE.md.)
        from confluent_kafka import Producer

        self.producer = Producer(
            settings.kafka_config()
            | {"enable.idempotence": True, "linger.ms": 2, "acks": "all", "partitioner": "murmur2_random"}
        )
        self._tracker: Delivery | None = None
        self._stopping = threading.Event()
        threading.Thread(target=self._poll_deliveries, name="delivery-reports", daemon=True).start()
        # Next payments offset to screen, per partition: the check that no payment is skipped.
        self._next: dict[int, int] = {}
        self._tick_next: dict[int, int] = {}
        self._screening = asyncio.Lock()
        t = settings.topics
        self.app = faust.App(
            settings.app_id,
            broker=settings.broker_url,
            broker_credentials=settings.faust_security(),
            store=settings.table_store,
            topic_partitions=settings.partitions,
            topic_replication_factor=settings.replication_factor,
            processing_guarantee=settings.processing_guarantee,
            broker_session_timeout=settings.session_timeout_s,
            broker_heartbeat_interval=max(1.0, settings.session_timeout_s / 5),
            broker_commit_interval=settings.commit_interval_s,
            consumer_auto_offset_reset="earliest",
            producer_acks=-1,
            stream_buffer_maxsize=max(4096, settings.batch_size * 4),
            # On shutdown, do not wait for unacknowledged events: a batch not screened is left
            # unacknowledged on purpose and screened again after the restart.
            stream_wait_empty=False,
            web_port=settings.web_port,
            web_bind=settings.web_host,
            web_host=settings.web_host,
            datadir=str(settings.data_dir),
            logging_config=logging_config,
        )
        raw = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw", "value_serializer": "raw"}
        self.payments_topic = self.app.topic(t.payments, **raw)
        self.notice_requests_topic = self.app.topic(t.notice_requests, **raw)
        self.registry_topic = self.app.topic(t.registry_accounts, t.registry_institutions, **raw)
        # payment_id -> {input digest, decision}: a payment seen again gets its first decision back.
        self.decided = self.app.Table("decided", key_type=str, value_type=str, use_partitioner=True)
        # "account|section" -> notice_id: a notice goes out once (SPEC 2.4), across restarts.
        self.notices_sent = self.app.Table("notices-sent", key_type=str, value_type=str)
        # The registry, replicated to every worker; values are the records' bytes in base64.
        self.registry_tables = {
            t.registry_accounts: self.app.GlobalTable(
                "registry-accounts", key_type=str, value_type=str, partitions=1, recovery_buffer_size=1
            ),
            t.registry_institutions: self.app.GlobalTable(
                "registry-institutions", key_type=str, value_type=str, partitions=1, recovery_buffer_size=1
            ),
        }
        for topic, table in self.registry_tables.items():
            self._follow_changelog(topic, table)
        self.payments = PaymentProcessor(settings, self.serde, self.audit, rules, self.registry, self.decided)
        self.notices = NoticeProcessor(settings, self.serde, self.audit)
        self.registry_chain = audit_partition_for_registry(settings)
        self.registry_changes = RegistryProcessor(settings, self.serde, self.audit, self.registry, self.registry_chain)
        self._define_agents()
        self._define_web()
        self.app.on_partitions_revoked.connect(self._on_revoked)
        self.app.on_partitions_assigned.connect(self._on_assigned)

    # -- the registry table ---------------------------------------------------------------

    def _follow_changelog(self, topic: str, table: Any) -> None:
        """Apply every changelog record other workers write to this worker's registry view."""
        original = table.apply_changelog_batch

        def apply(batch: Any) -> None:
            events = list(batch)
            original(events)
            for event in events:
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

        table.apply_changelog_batch = apply

    # -- helpers ---------------------------------------------------------------------------

    def _send(self, out: Out) -> None:
        """Hand an output to the producer; _flush() waits until it is on the broker."""
        if out.topic == self.settings.topics.audit:
            return  # produced when appended (_produce_audit_record)
        self._produce(out.topic, out.key, out.value, out.partition)

    def _produce_audit_record(self, partition: int, key: bytes, value: bytes) -> None:
        self._produce(self.settings.topics.audit, key, value, partition)

    def _produce(self, topic: str, key: bytes, value: bytes, partition: int | None) -> None:
        tracker = self._tracker
        callback: Callable[[Any, Any], None] = self._delivered
        if tracker is not None:
            tracker.produced()

            def callback(err: Any, msg: Any) -> None:
                self._delivered(err, msg)
                tracker.report(err)

        kwargs: dict[str, Any] = {"key": key, "value": value, "on_delivery": callback}
        if partition is not None:
            kwargs["partition"] = partition
        while True:
            try:
                self.producer.produce(topic, **kwargs)
                break
            except BufferError:
                self.producer.poll(0.05)

    def _poll_deliveries(self) -> None:
        """Serve delivery reports (the poller thread), so batches are acknowledged as they land."""
        while not self._stopping.is_set():
            self.producer.poll(0.05)

    def _delivered(self, err: Any, msg: Any) -> None:
        if err is not None:
            # An output that cannot be written stops the worker: screening on without a complete
            # trail would break 1010.630(e) record keeping. The batch is not acknowledged.
            log.critical("record not delivered", error=str(err), topic=msg.topic(), partition=msg.partition())
            self._delivery_failed = str(err)

    _delivery_failed: str | None = None

    async def _flush(self) -> None:
        """Wait until every record produced so far is on the broker."""
        loop = asyncio.get_running_loop()
        remaining = await loop.run_in_executor(None, self.producer.flush, 30)
        if remaining or self._delivery_failed:
            raise RuntimeError(f"records not delivered ({remaining} pending, {self._delivery_failed})")

    async def _ensure_tips(self, partitions: set[int]) -> None:
        loop = asyncio.get_running_loop()
        for partition in sorted(partitions):
            if not self.audit.known(partition):
                await loop.run_in_executor(None, self.audit.recover, partition)

    async def _on_revoked(self, sender: Any, revoked: Any, **_: Any) -> None:
        self.audit.forget()
        self._next.clear()

    async def _on_assigned(self, sender: Any, assigned: Any, **_: Any) -> None:
        self.audit.forget()
        self._next.clear()
        self._tick_next.clear()

    def ready(self) -> bool:
        assigned = bool(self.app.consumer.assignment()) if self.app.consumer else False
        return self.state.registry_ready.is_set() and assigned

    # -- agents -----------------------------------------------------------------------------

    def _define_agents(self) -> None:
        app, settings = self.app, self.settings

        @app.agent(self.registry_topic, name="registry")
        async def registry_agent(stream: Any) -> None:
            async for event in stream.events():
                src = _source(event)
                await self._ensure_tips({self.registry_chain})
                outcome = self.registry_changes.process(src, self.rules.version)
                if not outcome.dead_letter:
                    table = self.registry_tables[src.topic]
                    key = (src.key or b"").decode("utf-8", errors="replace")
                    if src.value is None:
                        table.pop(key, None)
                    else:
                        table[key] = base64.b64encode(src.value).decode("ascii")
                    self.metrics.registry_changes.labels(src.topic).inc()
                else:
                    self.metrics.dead_letters.labels(src.topic).inc()
                    log.warning("registry record dead-lettered", position=src.position)
                for out in outcome.outputs:
                    self._send(out)
                await self._flush()
                self.state.registry_progress[src.topic] = src.offset + 1

        @app.agent(self.payments_topic, name="screen")
        async def screen_agent(stream: Any) -> None:
            # Events are taken one by one without acknowledgement and batched here, not with
            # stream.take_events / noack_take: under load those lost events between batches on
            # this stack (see README, "Delivery guarantees"). A batch is acknowledged only once
            # its records are with the producer; Faust commits only gap-free acknowledged
            # offsets, after flushing the producer.
            queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=settings.batch_size * 2)
            batches = asyncio.ensure_future(self._batch_loop(stream, queue))
            try:
                async for event in stream.noack().events():
                    await queue.put(event)
            finally:
                batches.cancel()

        @app.agent(self.notice_requests_topic, name="notices")
        async def notices_agent(stream: Any) -> None:
            async for event in stream.events():
                src = _source(event)
                await self._ensure_tips({src.partition})
                outcome = self.notices.process(src, self.notices_sent, self.registry.version)
                if outcome.dead_letter:
                    self.metrics.dead_letters.labels(src.topic).inc()
                for out in outcome.outputs:
                    self._send(out)
                # The notice is on the broker before the table remembers it was sent.
                await self._flush()
                if outcome.remember is not None:
                    key, notice_id, section = outcome.remember
                    self.notices_sent[key] = notice_id
                    self.metrics.notices.labels(section).inc()
                    log.info("notice emitted", notice_id=notice_id, section=section)

        @app.task
        async def watch_registry() -> None:
            await self._wait_for_registry()

        @app.timer(interval=5.0)
        async def report_lag() -> None:
            consumer = app.consumer
            for tp in consumer.assignment():
                if tp.topic != settings.topics.payments:
                    continue
                high = consumer.highwater(tp)
                nxt = self._next.get(tp.partition)
                if high is None or nxt is None:
                    continue
                self.metrics.lag.labels(str(tp.partition)).set(max(0, high - nxt))
                if nxt < high and self._tick_next.get(tp.partition) == nxt:
                    await self._repair_tail(tp.partition, nxt, high)
                self._tick_next[tp.partition] = self._next.get(tp.partition, nxt)
            self.metrics.ready.set(1 if self.ready() else 0)

    async def _batch_loop(self, stream: Any, queue: asyncio.Queue[Any]) -> None:
        """Take up to batch_size events, or what arrived within batch_wait_s, and screen them.

        Batches are pipelined: the next is screened while the records of the previous ones are
        still on their way to the broker; each batch is acknowledged, in order, only once all its
        records (decisions, derived events, audit) are delivered.
        """
        size, wait = self.settings.batch_size, self.settings.batch_wait_s
        loop = asyncio.get_running_loop()
        in_flight: asyncio.Queue[InFlight] = asyncio.Queue(maxsize=8)
        acker = asyncio.ensure_future(self._ack_in_order(stream, in_flight))
        try:
            while True:
                events = [await queue.get()]
                deadline = loop.time() + wait
                while len(events) < size:
                    if not queue.empty():
                        events.append(queue.get_nowait())
                        continue
                    remaining = deadline - loop.time()
                    if remaining <= 0:
                        break
                    try:
                        events.append(await asyncio.wait_for(queue.get(), remaining))
                    except TimeoutError:
                        break
                await self.state.registry_ready.wait()
                if self.state.draining:
                    # Shutting down: leave these unacknowledged; they are screened after restart.
                    await asyncio.sleep(3600)
                if acker.done():
                    acker.result()  # a delivery failed: raise it here and stop screening
                self.state.idle.clear()
                self._unacked += 1
                async with self._screening:
                    delivered = await self._screen_batch([_source(e) for e in events])
                await in_flight.put((delivered, events))
        except Exception as exc:
            log.critical("screening stopped", error=str(exc))
            await self.app.crash(exc)
            raise
        finally:
            acker.cancel()

    _unacked = 0

    async def _ack_in_order(self, stream: Any, in_flight: asyncio.Queue[InFlight]) -> None:
        while True:
            delivered, events = await in_flight.get()
            await delivered
            for event in events:
                await stream.ack(event)
            self._unacked -= 1
            if not self._unacked:
                self.state.idle.set()

    async def _screen_batch(self, sources: list[Source]) -> asyncio.Future[None]:
        """Screen a batch, first screening any payments the stream skipped before it; return a
        future done when all its records are on the broker."""
        await self._fill_gaps(sources)
        await self._ensure_tips({s.partition for s in sources})
        now = time.time()
        self.metrics.batch_size.observe(len(sources))
        # From here to seal() nothing awaits: every record produced belongs to this batch.
        tracker = self._tracker = Delivery(asyncio.get_running_loop())
        try:
            for src in sources:
                started = time.perf_counter()
                outcome = self.payments.process(src)
                self.metrics.latency.observe(time.perf_counter() - started)
                for out in outcome.outputs:
                    self._send(out)
                if outcome.dead_letter:
                    self.metrics.dead_letters.labels(src.topic).inc()
                    log.warning("payment dead-lettered", position=src.position)
                else:
                    self.metrics.screened.labels(outcome.decision or "unknown").inc()
                    if outcome.replayed:
                        self.metrics.replayed.inc()
                self._next[src.partition] = max(self._next.get(src.partition, 0), src.offset + 1)
        finally:
            self._tracker = None
            tracker.seal()
        for src in sources:
            self.metrics.e2e.observe(max(0.0, now - src.timestamp))
        return tracker.future

    async def _fill_gaps(self, sources: list[Source]) -> None:
        """Read from Kafka, and put in front of the batch, every payment between the last one
        screened and the first of this batch on its partition.

        The Faust stream on this stack has been seen to skip a run of records under load (a
        fetch's worth, with no error and no rebalance); a skipped payment is never acceptable, so
        the agent checks offsets itself. The records read here are marked as a gap in Faust's
        consumer, so that its commits can move past them.
        """
        from faust.types import TP

        from streams.kafka_io import next_offsets, read_range

        loop = asyncio.get_running_loop()
        topic = self.settings.topics.payments
        offsets: dict[int, list[int]] = {}
        for src in sources:
            offsets.setdefault(src.partition, []).append(src.offset)
        unknown = [p for p in offsets if p not in self._next]
        if unknown:
            self._next.update(
                await loop.run_in_executor(None, next_offsets, self.settings, self.settings.app_id, topic, unknown)
            )
        recovered: list[Source] = []
        for partition, seen in sorted(offsets.items()):
            expected = self._next.get(partition, min(seen))
            for offset in sorted(seen):
                if offset > expected:
                    rows = await loop.run_in_executor(
                        None, read_range, self.settings, topic, partition, expected, offset
                    )
                    recovered.extend(Source(topic, partition, o, k, v, ts) for o, k, v, ts in rows)
                    log.warning(
                        "screening payments the stream skipped",
                        partition=partition,
                        first=expected,
                        last=offset - 1,
                        recovered=len(rows),
                    )
                    await self.app.consumer._add_gap(TP(topic, partition), expected, offset - 1)
                expected = max(expected, offset + 1)
        sources[:0] = recovered

    async def _repair_tail(self, partition: int, start: int, high: int) -> None:
        """Screen payments below the high watermark that the stream has not delivered for a while."""
        from faust.types import TP

        from streams.kafka_io import read_range

        async with self._screening:
            if self._next.get(partition) != start:
                return  # the stream moved on meanwhile
            loop = asyncio.get_running_loop()
            topic = self.settings.topics.payments
            rows = await loop.run_in_executor(None, read_range, self.settings, topic, partition, start, high)
            if not rows:
                return
            log.warning(
                "screening payments the stream has not delivered",
                partition=partition,
                first=start,
                last=rows[-1][0],
                recovered=len(rows),
            )
            delivered = await self._screen_batch([Source(topic, partition, o, k, v, ts) for o, k, v, ts in rows])
            await delivered
            await self.app.consumer._add_gap(TP(topic, partition), start, rows[-1][0])

    async def _wait_for_registry(self) -> None:
        """Hold screening until the registry has caught up with what was on its topics at start."""
        from streams.kafka_io import committed_offsets, end_offsets

        loop = asyncio.get_running_loop()
        topics = [self.settings.topics.registry_accounts, self.settings.topics.registry_institutions]
        targets = await loop.run_in_executor(None, end_offsets, self.settings, topics)
        while True:
            committed = await loop.run_in_executor(None, committed_offsets, self.settings, self.settings.app_id, topics)
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
            await asyncio.sleep(0.2)

    # -- web: liveness, readiness, metrics ------------------------------------------------

    def _define_web(self) -> None:
        app = self.app

        @app.page("/healthz")
        async def healthz(web: Any, request: Any) -> Any:
            return web.json({"status": "alive"})

        @app.page("/readyz")
        async def readyz(web: Any, request: Any) -> Any:
            ready = self.ready()
            body = {
                "ready": ready,
                "registry_loaded": self.state.registry_ready.is_set(),
                "registry_version": self.registry.version,
                "rules_version": self.rules.version,
            }
            return web.json(body, status=200 if ready else 503)

        @app.page("/metrics")
        async def metrics(web: Any, request: Any) -> Any:
            return web.bytes(generate_latest(self.metrics.registry), content_type=CONTENT_TYPE_LATEST.split(";")[0])
