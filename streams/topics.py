"""The topics, created on start with explicit settings (SPEC 1.3).

Partitioning: payments, decisions, blocks, alerts, dispositions and releases are keyed by
payment_id; notices and the notice requests by account_id; registry.accounts by account_id,
registry.institutions by bic.
The stream topics share one partition count so that partition p of each goes to the same worker
(the screen loop's range assignment, streams/screen_loop.py).
The audit topic has two more partitions than that, each one hash chain with one writer (SPEC 2.5):
partitions 0..N-1 one chain per payments partition, partition N the chain of registry changes
(audit_partition_for_registry), partition N+1 the casework chain of the analyst workbench's
dispositions and releases (audit_partition_for_casework). A deployment from before the casework
chain has N+1 audit partitions; ensure_topics grows it by one (records already written keep their
partitions: every audit record is produced to its chain's partition, never by key hash).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

# Defined in the C module; confluent_kafka.admin imports them without re-exporting them.
from confluent_kafka.cimpl import NewPartitions, NewTopic

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
    kept = {"retention.ms": "-1", "retention.bytes": "-1"}
    return [
        TopicSpec(t.payments, n, key="payment_id"),
        TopicSpec(t.decisions, n, key="payment_id"),
        TopicSpec(t.blocks, n, key="payment_id"),
        TopicSpec(t.alerts, n, key="payment_id"),
        TopicSpec(t.notice_requests, n, key="account_id"),
        # Notices are also the record of which (account, section) has had its notice (SPEC 2.4):
        # kept, not aged out, so a notice is never sent twice.
        TopicSpec(t.notices, n, kept, key="account_id"),
        TopicSpec(t.dead_letter, n, key="source position"),
        # The analyst workbench's record of what was done with each held payment and what was
        # released or stopped: 1010.630(e)-style keeping (at least five years), so kept, never aged
        # out or deleted by size.
        TopicSpec(t.dispositions, n, kept, key="payment_id"),
        TopicSpec(t.releases, n, kept, key="payment_id"),
        # 1010.630(e): records kept at least five years; never deleted by size. One chain per
        # payments partition, the registry chain, the casework chain.
        TopicSpec(
            t.audit,
            audit_partitions(settings),
            {"retention.ms": str(settings.audit_retention_ms), "retention.bytes": "-1", "cleanup.policy": "delete"},
            key="chain",
        ),
        # One partition: small, and every worker reads all of it into its view (streams/registry_view.py).
        TopicSpec(t.registry_accounts, 1, compact, key="account_id"),
        TopicSpec(t.registry_institutions, 1, compact, key="bic"),
    ]


def audit_partition_for_registry(settings: Settings) -> int:
    """The registry chain's audit partition, written by the registry agent."""
    return settings.partitions


def audit_partition_for_casework(settings: Settings) -> int:
    """The casework chain's audit partition (chain `<audit topic>/<N+1>`): the analyst workbench's
    dispositions and releases, written by the workbench alone."""
    return settings.partitions + 1


def audit_partitions(settings: Settings) -> int:
    """How many partitions the audit topic has: one chain per payments partition, the registry
    chain and the casework chain."""
    return settings.partitions + 2


class TopicError(RuntimeError):
    """A topic that exists with settings the screener cannot work with."""


class BrokerDataLostError(TopicError):
    """The broker no longer holds what the screener wrote to it (streams/broker_guard.py)."""


def ensure_topics(settings: Settings, timeout: float = 15.0) -> list[str]:
    """Create missing topics; check that existing ones have the partitions the design needs.

    An audit topic with one partition too few (N+1: a deployment from before the casework chain) is
    grown to N+2 with CreatePartitions; a broker that refuses raises TopicError saying how to grow
    it by hand. Any other partition count that is not the spec's is an error, as it always was.
    """
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
    if _lacks_only_the_casework_partition(settings, existing):
        _add_casework_partition(admin, settings, timeout)
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


def _lacks_only_the_casework_partition(settings: Settings, existing: Mapping[str, Any]) -> bool:
    """The audit topic has N+1 partitions and every other topic the partitions of its spec.

    Partitions can be added, never removed: the audit topic is grown only when every other topic
    shows that SCREENER_PARTITIONS is the deployment's own. A deployment of M partitions (audit
    topic M+2) started by mistake with SCREENER_PARTITIONS=M+1 also sees an audit topic of "N+1";
    its payments topic of M partitions tells the two apart, and that stays an error.
    """
    for spec in topic_specs(settings):
        meta = existing.get(spec.name)
        have = None if meta is None else len(meta.partitions)
        want = spec.partitions - 1 if spec.name == settings.topics.audit else spec.partitions
        if have != want:
            return False
    return True


def _add_casework_partition(admin: AdminClient, settings: Settings, timeout: float) -> None:
    """Grow an audit topic of N+1 partitions (from before the casework chain) to N+2.

    The new partition is empty, so the casework chain starts at its genesis; the chains already
    written keep their partitions. Another process growing it at the same moment is no error: the
    topic is looked at again after a refusal.
    """
    topic, want = settings.topics.audit, audit_partitions(settings)
    try:
        for future in admin.create_partitions([NewPartitions(topic, want)], request_timeout=timeout).values():
            future.result()
    except KafkaException as exc:
        meta = admin.list_topics(topic, timeout=timeout).topics.get(topic)
        if meta is not None and len(meta.partitions) == want:
            return  # grown by another worker meanwhile
        raise TopicError(
            f"topic {topic} has {want - 1} partitions (a deployment from before the casework audit chain); the "
            f"screener needs {want} (SCREENER_PARTITIONS={settings.partitions}: one chain per payments partition, "
            f"the registry chain, the casework chain) and growing it failed: {exc}. Add the partition with the "
            f"broker's own tools (e.g. kafka-topics --alter --topic {topic} --partitions {want}), then start again"
        ) from None


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
