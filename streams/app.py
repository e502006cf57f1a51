"""The Faust service, wired: the parts of a worker and what connects them.

Flow (ARCHITECTURE.md): payments -> screen loop -> decisions, blocks, alerts, notice requests,
audit, dead-letter; notice requests (by account) -> the same loop -> notices (once per account
and section); registry topics -> every worker's registry view (read directly), and -> the registry
agent (one worker) -> the registry audit chain.
The screen loop (streams/screen_loop.py) consumes with librdkafka in bulk, not through a Faust
stream, for throughput (README, "Performance"). Nothing here decides: every decision is
rules.engine.screen's.

The parts, one job each:
- streams/delivery.py: the idempotent producer, its poller thread, per-batch delivery futures;
- streams/batches.py: one batch screened, its records handed to the producer together;
- streams/offsets.py: in-flight batches and the offsets their delivery makes committable;
- streams/partition_state.py: chain tips, decided store and notices sent, per partition;
- streams/registry_view.py: this worker's registry, loaded from the topics and followed, changes
  applied between batches; readiness state;
- streams/registry_audit.py: the registry agent's audit of every registry change;
- streams/rules_in_force.py, streams/rules_watch.py: the rules in force, one holder every part
  reads, and the watcher that puts new rules and lists in force between batches;
- streams/screen_loop.py: consume, dispatch, settle, hand partitions over (on Protocols,
  streams/ports.py);
- streams/web.py: /healthz, /readyz, /metrics.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

import faust
from faust.types import StreamT

from rules import Registry, RuleSet
from schemas.messages import load_account_mapping
from streams.audit import AuditChains
from streams.batches import Batches
from streams.delivery import Outbox, idempotent_producer
from streams.metrics import Metrics
from streams.notice_processing import NoticeProcessor
from streams.partition_state import PartitionState
from streams.processing import PaymentProcessor
from streams.registry_audit import RegistryAudit
from streams.registry_processing import RegistryProcessor
from streams.registry_read import read_registry
from streams.registry_view import RegistryView, State
from streams.rules_in_force import RulesInForce, RulesSwitch
from streams.rules_watch import Look, RulesWatch
from streams.screen_loop import ScreenLoop
from streams.serde import Serde
from streams.settings import Settings
from streams.stages import StageCollector, Stages
from streams.stores import Decided, NoticesSent
from streams.topics import audit_partition_for_registry
from streams.web import serve

if TYPE_CHECKING:
    from mode.types.signals import SignalHandlerT

__all__ = ["Screener", "State"]

READY_REPORT_S = 5.0


def faust_app(settings: Settings, logging_config: dict[str, Any] | None) -> faust.App:
    return faust.App(
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
        # Faust's own pages would serve table contents and routing metadata without
        # authentication: only /healthz, /readyz and /metrics are served (streams/web.py).
        web_router_enabled=False,
        web_tables_enabled=False,
        web_stats_enabled=False,
        web_graph_enabled=False,
        web_metrics_enabled=False,
        datadir=str(settings.data_dir),
        logging_config=logging_config,
    )


class Screener:
    """One worker's parts, made and connected."""

    def __init__(
        self,
        settings: Settings,
        rules: RuleSet,
        logging_config: dict[str, Any] | None = None,
        rules_files: Look | None = None,
    ) -> None:
        self.settings = settings
        # The one holder of the rules in force: every part reads it, the screen loop swaps it.
        self.rules_in_force = RulesInForce(rules)
        self.registry = Registry()
        self.serde = Serde(settings)
        self.metrics = Metrics()
        self.stages = Stages()
        self.metrics.registry.register(StageCollector(self.stages))
        self.state = State()
        t = settings.topics
        # Every output goes through one idempotent producer (streams/delivery.py).
        self.outbox = Outbox(idempotent_producer(settings.kafka_config()), t.audit)
        self.outbox.start()
        self.audit = AuditChains(settings, self.serde, sink=self.outbox.audit_sink)
        self.app = faust_app(settings, logging_config)
        # payment_id -> {input digest, decision}: a payment seen again gets its first decision back.
        self.decided = Decided()
        # "account|section" -> notice_id: a notice goes out once (SPEC 2.4), across restarts.
        self.notices_sent = NoticesSent()
        self.payments = PaymentProcessor(
            settings,
            self.serde,
            self.audit,
            self.rules_in_force,
            self.registry,
            self.decided,
            load_account_mapping(settings.account_mapping),
            stages=self.stages,
        )
        self.notices = NoticeProcessor(settings, self.serde, self.audit)
        # Every worker's own registry view, read from the registry topics (streams/registry_view.py).
        self.registry_view = RegistryView(settings, self.serde, self.registry, self.metrics, self.state)
        self.registry_chain = audit_partition_for_registry(settings)
        # The registry agent audits with a registry of its own: the view moves on its own reads.
        self.registry_changes = RegistryProcessor(settings, self.serde, self.audit, Registry(), self.registry_chain)
        self.registry_audit = RegistryAudit(
            settings,
            self.audit,
            self.registry_changes,
            self.outbox,
            self.metrics,
            self.state,
            self.rules_in_force.current_version,
            positions=self._agent_positions,
            rebuild=lambda stops: read_registry(settings, self.serde, stops),
        )
        self.partition_state = PartitionState(
            settings, self.serde, self.audit, self.decided, self.notices_sent, self.metrics
        )
        self.batches = Batches(
            t.payments,
            self.payments,
            self.notices,
            self.notices_sent,
            self.outbox,
            self.metrics,
            self.stages,
            self.registry,
        )
        self.screen_loop = ScreenLoop(
            settings,
            self.state,
            self.batches,
            self.partition_state,
            self.outbox,
            self.app.crash,
            self.metrics,
            rules=RulesSwitch(self.rules_in_force, self.audit, self.outbox, self.registry, self.metrics),
            registry=self.registry_view,
        )
        self.rules_watch = RulesWatch(settings, self.rules_in_force, self.metrics, started_with=rules_files)
        if self.rules_watch.enabled:
            self.app.task(self.rules_watch.run)
        self._define_agents()
        serve(self.app, self.readiness, self.metrics.registry)
        # Faust assigns only the registry topics now: its chain is the one that may change hands.
        # mode's SignalHandlerT (a mypy_extensions NamedArg callable) matches no function as
        # written, not even one with its exact signature: the handler is cast to it.
        handler = cast("SignalHandlerT[Any]", self._on_rebalance)
        self.app.on_partitions_revoked.connect(handler)
        self.app.on_partitions_assigned.connect(handler)

    async def _on_rebalance(self, sender: object, *args: object, **kwargs: object) -> None:
        self.registry_audit.forget()

    def _agent_positions(self) -> dict[tuple[str, int], int]:
        """Where the registry agent's group (Faust's, the app id) stands on the registry topics."""
        from streams.kafka_io import committed_positions

        s = self.settings
        return committed_positions(s, s.app_id, [s.topics.registry_accounts, s.topics.registry_institutions])

    @property
    def rules(self) -> RuleSet:
        """The rules in force (they change between batches: streams/rules_in_force.py)."""
        return self.rules_in_force.rules

    def ready(self) -> bool:
        loop = self.screen_loop
        return self.state.registry_ready.is_set() and bool(loop.assigned) and loop.broker_up

    def readiness(self) -> tuple[bool, Mapping[str, object]]:
        ready = self.ready()
        return ready, {
            "ready": ready,
            "registry_loaded": self.state.registry_ready.is_set(),
            "broker_reachable": self.screen_loop.broker_up,
            "registry_version": self.registry.version,
            **self.rules_in_force.readiness(),
            "registry_progress": self.state.registry_report(),
            # Only on the worker whose registry agent holds the registry topics.
            "registry_audited": dict(self.registry_audit.audited),
        }

    # -- agents -----------------------------------------------------------------------------

    def _define_agents(self) -> None:
        app, t = self.app, self.settings.topics
        registry_topic = app.topic(
            t.registry_accounts,
            t.registry_institutions,
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
        )

        async def registry(stream: StreamT[bytes]) -> None:
            # In batches: one wait for delivery per batch, not per record (streams/registry_audit.py).
            await self.registry_audit.consume(stream)

        async def registry_view() -> None:
            await self.registry_view.run(self.app.crash)

        async def screen() -> None:
            await self.screen_loop.run()

        async def report_ready() -> None:
            self.metrics.ready.set(1 if self.ready() else 0)

        app.agent(registry_topic, name="registry")(registry)
        app.task(registry_view)
        app.task(screen)
        app.timer(interval=READY_REPORT_S)(report_ready)
