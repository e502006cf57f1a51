"""The Faust service: the registry agent and tables, the screen loop, health and metrics.

Flow (ARCHITECTURE.md): payments -> screen loop -> decisions, blocks, alerts, notice requests,
audit, dead-letter; notice requests (by account) -> the same loop -> notices (once per account
and section); registry topics -> registry agent -> registry global tables, read by every worker.
The screen loop (streams/screen_loop.py) consumes with librdkafka in bulk, not through a Faust
stream, for throughput (README, "Performance"). Nothing here decides: every decision is
rules.engine.screen's.
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
from schemas.messages import load_account_mapping
from streams.audit import AuditChains, trusted_records
from streams.checkpoints import Checkpoint, CheckpointError
from streams.checkpoints import load as load_checkpoints
from streams.kafka_io import produce
from streams.logs import get_logger
from streams.metrics import Metrics
from streams.processing import (
    NoticeProcessor,
    Out,
    PaymentProcessor,
    RegistryProcessor,
    Source,
    apply_registry_change,
    registry_key,
)
from streams.screen_loop import ScreenLoop
from streams.serde import Serde
from streams.settings import Settings
from streams.stores import Decided, NoticesSent
from streams.topics import audit_partition_for_registry

log = get_logger("screener.stream")


@dataclass
class State:
    """What the worker knows about itself: readiness and the batch in hand."""

    registry_ready: asyncio.Event = field(default_factory=asyncio.Event)
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
        # Every output (decisions, blocks, alerts, notices, audit, dead-letters) goes through one
        # idempotent librdkafka producer: in order and without holes per partition, so a crash can
        # only lose a chain's tail, which the next writer extends; and at a few microseconds a
        # record, where a Faust send costs tens (README, "Performance"). murmur2 partitions keys as
        # the Java client and Faust do. (aiokafka's idempotent producer cannot start on the
        # embedded broker, ARCHITECTURE.md.) A 5 ms linger: on the embedded broker it cut the
        # broker's CPU per payment by a third against 2 ms, for 3 ms of latency (README).
        from confluent_kafka import Producer

        self.producer = Producer(
            settings.kafka_config()
            | {"enable.idempotence": True, "linger.ms": 5, "acks": "all", "partitioner": "murmur2_random"}
        )
        self._tracker: Delivery | None = None
        self._pending: list[tuple[str, bytes, bytes, int | None]] | None = None
        self._stopping = threading.Event()
        threading.Thread(target=self._poll_deliveries, name="delivery-reports", daemon=True).start()
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
            # On shutdown, do not wait for unacknowledged events: a batch not screened is left
            # unacknowledged on purpose and screened again after the restart.
            stream_wait_empty=False,
            web_port=settings.web_port,
            web_bind=settings.web_host,
            web_host=settings.web_host,
            # Faust's own pages would serve table contents (/table/...: registry records) and
            # routing metadata without authentication: only /healthz, /readyz and /metrics are served.
            web_router_enabled=False,
            web_tables_enabled=False,
            web_stats_enabled=False,
            web_graph_enabled=False,
            web_metrics_enabled=False,
            datadir=str(settings.data_dir),
            logging_config=logging_config,
        )
        raw = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw", "value_serializer": "raw"}
        self.registry_topic = self.app.topic(t.registry_accounts, t.registry_institutions, **raw)
        # payment_id -> {input digest, decision}: a payment seen again gets its first decision back.
        self.decided = Decided()
        # "account|section" -> notice_id: a notice goes out once (SPEC 2.4), across restarts.
        self.notices_sent = NoticesSent()
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
        self.payments = PaymentProcessor(
            settings,
            self.serde,
            self.audit,
            rules,
            self.registry,
            self.decided,
            load_account_mapping(settings.account_mapping),
        )
        self.notices = NoticeProcessor(settings, self.serde, self.audit)
        self.registry_chain = audit_partition_for_registry(settings)
        self.registry_changes = RegistryProcessor(settings, self.serde, self.audit, self.registry, self.registry_chain)
        self.screen_loop = ScreenLoop(self)
        self._define_agents()
        self._define_web()
        self._serve_only_our_pages()
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
        if self._pending is not None:
            # Inside a batch: held, in order, and produced together when the batch is screened.
            self._pending.append((topic, key, value, partition))
            return
        self._produce_now(topic, key, value, partition)

    def _produce_now(self, topic: str, key: bytes, value: bytes, partition: int | None) -> None:
        tracker = self._tracker
        callback: Callable[[Any, Any], None] = self._delivered
        if tracker is not None:
            tracker.produced()

            def callback(err: Any, msg: Any) -> None:
                self._delivered(err, msg)
                tracker.report(err)

        produce(self.producer, topic, key, value, partition, callback)

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

    @property
    def delivery_failed(self) -> str | None:
        return self._delivery_failed

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
        # Faust assigns only the registry topics now: its chain is the one that may change hands.
        self.audit.forget(self.registry_chain)

    async def _on_assigned(self, sender: Any, assigned: Any, **_: Any) -> None:
        self.audit.forget(self.registry_chain)

    def ready(self) -> bool:
        loop = self.screen_loop
        return self.state.registry_ready.is_set() and bool(loop.assigned) and loop.broker_up

    # -- agents -----------------------------------------------------------------------------

    def _define_agents(self) -> None:
        app = self.app

        @app.agent(self.registry_topic, name="registry")
        async def registry_agent(stream: Any) -> None:
            async for event in stream.events():
                src = _source(event)
                await self._ensure_tips({self.registry_chain})
                outcome = self.registry_changes.process(src, self.rules.version)
                if not outcome.dead_letter:
                    table = self.registry_tables[src.topic]
                    key = registry_key(self.settings, src.topic, src.key)
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

        @app.task
        async def watch_registry() -> None:
            await self._wait_for_registry()

        @app.task
        async def screen() -> None:
            await self.screen_loop.run()

        @app.timer(interval=5.0)
        async def report_ready() -> None:
            self.metrics.ready.set(1 if self.ready() else 0)

    # -- screening (called by the screen loop) ----------------------------------------------

    def load_partitions(self, partitions: list[int]) -> dict[str, int]:
        """What newly assigned partitions need before their first record (blocking)."""
        from streams.kafka_io import read_partitions

        t = self.settings.topics
        state = read_partitions(self.settings, [(topic, p) for p in partitions for topic in (t.audit, t.notices)])
        decided = notices = 0
        anchors = self._checkpoints()
        for partition in partitions:
            # The chain is read whole and verified: its decision records up to the first broken
            # link are the decided store; nothing past a break is trusted (a record someone wrote
            # without the key must not decide a payment). The chain goes on from its last record,
            # so the break stays visible to `screener audit verify`.
            records = [(offset, value) for offset, _, value in state[(t.audit, partition)]]
            chain_anchors = anchors.get(f"{t.audit}/{partition}", [])
            trusted, broken = trusted_records(self.settings, self.serde, partition, records, chain_anchors)
            if broken is not None:
                self.metrics.audit_breaks.labels(str(partition)).inc()
                log.error(
                    "audit chain does not verify: records from the break on are not trusted",
                    partition=partition,
                    offset=broken.offset,
                    audit_id=broken.audit_id,
                    problem=broken.problem,
                )
            tip = self._chain_tip(t.audit, records)
            if tip is None:
                self.audit.start_at(partition)
            else:
                self.audit.start_at(partition, int(tip["sequence"]) + 1, str(tip["hash"]))
            decided += self.decided.load(partition, trusted)
            notices += self.notices_sent.load(self.settings, self.serde, partition, state[(t.notices, partition)])
        return {"decided_loaded": decided, "notices_loaded": notices}

    def _checkpoints(self) -> dict[str, list[Checkpoint]]:
        """The configured signed checkpoints, or none (a bad file is reported, not trusted)."""
        path = self.settings.audit_checkpoints
        if path is None or not path.exists():
            return {}
        try:
            return load_checkpoints(path, self.settings)
        except CheckpointError as exc:
            log.error("audit checkpoints not used", error=str(exc))
            return {}

    def _chain_tip(self, topic: str, records: list[tuple[int, bytes | None]]) -> dict[str, Any] | None:
        """The chain's last readable record: the one the next record links to."""
        for _, value in reversed(records):
            try:
                return self.serde.decode(topic, "AuditRecord", value)
            except CodecError:
                continue
        return None

    def drop_partitions(self, partitions: list[int]) -> None:
        for partition in partitions:
            self.audit.forget(partition)
            self.decided.drop(partition)
            self.notices_sent.drop(partition)

    def screen_records(self, sources: list[Source]) -> asyncio.Future[None]:
        """Screen a batch of payments and notice requests; return a future done when all its
        records are on the broker. Nothing here awaits: every record produced belongs to it."""
        now = time.time()
        self.metrics.batch_size.observe(len(sources))
        tracker = self._tracker = Delivery(asyncio.get_running_loop())
        payments = self.settings.topics.payments
        # A batch's records go to the producer together, after it is screened: librdkafka then
        # sends one record batch per partition instead of one per linger interval while screening
        # runs (fewer, larger appends; on the embedded broker each append costs more as the
        # partition grows). The order of records, and so of every audit chain, is kept.
        pending = self._pending = []
        try:
            for src in sources:
                if src.topic == payments:
                    self._screen_payment(src)
                    self.metrics.e2e.observe(max(0.0, now - src.timestamp))
                else:
                    self._request_notice(src)
        finally:
            self._pending = None
            for topic, key, value, partition in pending:
                self._produce_now(topic, key, value, partition)
            self._tracker = None
            tracker.seal()
        return tracker.future

    def _screen_payment(self, src: Source) -> None:
        started = time.perf_counter()
        outcomes = self.payments.process(src)
        self.metrics.latency.observe(time.perf_counter() - started)
        for outcome in outcomes:
            for out in outcome.outputs:
                self._send(out)
            if outcome.dead_letter:
                self.metrics.dead_letters.labels(src.topic).inc()
                log.warning("payment dead-lettered", position=src.position)
            else:
                self.metrics.screened.labels(outcome.decision or "unknown").inc()
                if outcome.replayed:
                    self.metrics.replayed.inc()

    def _request_notice(self, src: Source) -> None:
        sent = self.notices_sent.view(src.partition)
        outcome = self.notices.process(src, sent, self.registry.version)
        if outcome.dead_letter:
            self.metrics.dead_letters.labels(src.topic).inc()
        for out in outcome.outputs:
            self._send(out)
        if outcome.remember is not None:
            # Remembered at once, so this worker never sends it twice; after a restart the notices
            # topic itself says what was sent (streams/stores.py).
            key, notice_id, section = outcome.remember
            sent[key] = notice_id
            self.metrics.notices.labels(section).inc()
            log.info("notice emitted", notice_id=notice_id, section=section)

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

    def _serve_only_our_pages(self) -> None:
        """Drop Faust's built-in pages: with its settings off, it still mounts a status index at "/".
        The blueprint manager has no public remover, so its list is filtered before the server
        starts; our pages are views, not blueprints, and stay."""
        blueprints = self.app.web.blueprints
        blueprints._enabled = [(prefix, bp) for prefix, bp in blueprints._enabled if not str(bp).startswith("faust.")]

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
                "broker_reachable": self.screen_loop.broker_up,
                "registry_version": self.registry.version,
                "rules_version": self.rules.version,
            }
            return web.json(body, status=200 if ready else 503)

        @app.page("/metrics")
        async def metrics(web: Any, request: Any) -> Any:
            return web.bytes(generate_latest(self.metrics.registry), content_type=CONTENT_TYPE_LATEST.split(";")[0])
