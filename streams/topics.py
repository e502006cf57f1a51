"""The topics, created on start with explicit settings (SPEC 1.3).

Partitioning: payments, decisions, blocks and alerts are keyed by payment_id; notices and the
notice requests by account_id; registry.accounts by account_id, registry.institutions by bic.
The stream topics share one partition count so that partition p of each goes to the same worker
(the screen loop's range assignment, streams/screen_loop.py).
The audit topic has one more partition than that: partitions 0..N-1 hold one hash chain per
payments partition, partition N the chain of registry changes written by `screener registry load`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

# Defined in the C module; confluent_kafka.admin imports it without re-exporting it.
from confluent_kafka.cimpl import NewTopic

from streams.settings import Settings


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    config: dict[str, str] = field(default_factory=dict)
    key: str = ""


def topic_specs(settings: Settings) -> list[TopicSpec]:
    t, n = settings.topics, settings.partitions
    compact = {"cleanup.policy": "compact"}
    return [
        TopicSpec(t.payments, n, key="payment_id"),
        TopicSpec(t.decisions, n, key="payment_id"),
        TopicSpec(t.blocks, n, key="payment_id"),
        TopicSpec(t.alerts, n, key="payment_id"),
        TopicSpec(t.notice_requests, n, key="account_id"),
        # Notices are also the record of which (account, section) has had its notice (SPEC 2.4):
        # kept, not aged out, so a notice is never sent twice.
        TopicSpec(t.notices, n, {"retention.ms": "-1", "retention.bytes": "-1"}, key="account_id"),
        TopicSpec(t.dead_letter, n, key="source position"),
        # 1010.630(e): records kept at least five years; never deleted by size.
        TopicSpec(
            t.audit,
            n + 1,
            {"retention.ms": str(settings.audit_retention_ms), "retention.bytes": "-1", "cleanup.policy": "delete"},
            key="chain",
        ),
        # One partition: small, and every worker reads all of it into its view (streams/registry_view.py).
        TopicSpec(t.registry_accounts, 1, compact, key="account_id"),
        TopicSpec(t.registry_institutions, 1, compact, key="bic"),
    ]


def audit_partition_for_registry(settings: Settings) -> int:
    return settings.partitions


class TopicError(RuntimeError):
    """A topic that exists with settings the screener cannot work with."""


class BrokerDataLostError(TopicError):
    """The broker no longer holds what the screener wrote to it (streams/broker_guard.py)."""


def ensure_topics(settings: Settings, timeout: float = 15.0) -> list[str]:
    """Create missing topics; check that existing ones have the partitions the design needs."""
    admin = AdminClient(settings.kafka_config())
    existing = admin.list_topics(timeout=timeout).topics
    if settings.topics.audit not in existing:
        _refuse_if_data_lost(settings)
    created: list[str] = []
    new = [
        NewTopic(s.name, s.partitions, settings.replication_factor, config=s.config)
        for s in topic_specs(settings)
        if s.name not in existing
    ]
    if new:
        for name, future in admin.create_topics(new, request_timeout=timeout).items():
            try:
                future.result()
                created.append(name)
            except KafkaException as exc:
                if "already exists" not in str(exc).lower() and "TOPIC_ALREADY_EXISTS" not in str(exc):
                    raise TopicError(f"cannot create topic {name}: {exc}") from None
    existing = admin.list_topics(timeout=timeout).topics
    for spec in topic_specs(settings):
        meta = existing.get(spec.name)
        if meta is None:
            raise TopicError(f"topic {spec.name} does not exist after creation")
        if len(meta.partitions) != spec.partitions:
            raise TopicError(
                f"topic {spec.name} has {len(meta.partitions)} partitions, the screener needs {spec.partitions} "
                f"(SCREENER_PARTITIONS={settings.partitions}); a topic the screener did not create, e.g. one a "
                "broker that lost its data re-created on a first write with its own defaults"
            )
    return created


def _refuse_if_data_lost(settings: Settings) -> None:
    """The audit topic is missing: a new deployment, or a broker that lost its data. Signed
    checkpoints of chains that held records tell the second apart; then nothing is created over it."""
    from streams.checkpoints import CheckpointError, load

    path = settings.audit_checkpoints
    if path is None or not path.exists():
        return
    try:
        anchors = load(path, settings)
    except CheckpointError:
        return  # reported where the checkpoints are used
    held = {chain: cps[-1].sequence + 1 for chain, cps in anchors.items() if cps}
    if held:
        chains = ", ".join(f"{chain} ({n} records)" for chain, n in sorted(held.items()))
        raise BrokerDataLostError(
            f"the broker lost its data: {settings.topics.audit} is missing, but the checkpoints in {path} record "
            f"chains {chains}; restore the broker's data (nothing is created over it)"
        )
