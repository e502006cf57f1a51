"""An audit topic from before the casework chain (N+1 partitions) on the embedded broker.

ensure_topics grows it to N+2 with CreatePartitions (KIP-195). The embedded Tansu broker (0.6.0)
does not offer CreatePartitions: librdkafka refuses the request (_UNSUPPORTED_FEATURE), and the
screener must then stop with one clear TopicError, leaving the audit topic and its chains as they
were, having created only the topics that were missing. A broker that does offer it is checked
for the growth itself: the chains already written keep their records, and the casework chain
starts empty.
"""

from __future__ import annotations

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient

# Defined in the C module; confluent_kafka.admin imports it without re-exporting it.
from confluent_kafka.cimpl import NewTopic

from ops.broker import EmbeddedBroker
from streams.audit import AuditChains
from streams.audit_verify import verify
from streams.serde import Serde
from streams.settings import Settings
from streams.topics import (
    TopicError,
    audit_partition_for_casework,
    audit_partition_for_registry,
    ensure_topics,
    topic_specs,
)

pytestmark = pytest.mark.integration


def partition_counts(settings: Settings) -> dict[str, int]:
    topics = AdminClient(settings.kafka_config()).list_topics(timeout=10).topics
    return {name: len(meta.partitions) for name, meta in topics.items()}


def deploy_before_the_workbench(settings: Settings) -> None:
    """The topics as the screener created them before this change: no workbench topics, and an
    audit topic of N+1 partitions whose registry chain (partition N) holds two records."""
    t = settings.topics
    old = [
        NewTopic(s.name, s.partitions - 1 if s.name == t.audit else s.partitions, 1, config=s.config)
        for s in topic_specs(settings)
        if s.name not in (t.dispositions, t.releases)
    ]
    admin = AdminClient(settings.kafka_config())
    for future in admin.create_topics(old, request_timeout=15).values():
        future.result()
    chains = AuditChains(settings, Serde(settings))
    registry = audit_partition_for_registry(settings)
    chains.start_at(registry)
    producer = Producer(settings.kafka_config())
    for i in range(2):
        key, value = chains.append(
            registry,
            kind="registry",
            subject_id=f"ACC-{i}",
            input_digest="d",
            rules_version="r",
            registry_version="g",
            recorded_at="2026-01-05T12:00:00+00:00",
            body={"i": i},
        )
        producer.produce(t.audit, value, key, partition=registry)
    assert producer.flush(15) == 0


def test_an_audit_topic_from_before_the_casework_chain(broker: EmbeddedBroker) -> None:
    settings = Settings(bootstrap_servers=broker.bootstrap, partitions=4)
    t, n = settings.topics, settings.partitions
    deploy_before_the_workbench(settings)
    assert partition_counts(settings)[t.audit] == n + 1

    try:
        ensure_topics(settings)
    except TopicError as exc:
        # The embedded broker: CreatePartitions is not supported, and the screener says so.
        message = str(exc)
        assert f"topic {t.audit} has {n + 1} partitions (a deployment from before the casework audit chain)" in message
        assert f"the screener needs {n + 2}" in message
        assert "CreatePartitions" in message or "KIP-195" in message, message
        assert f"kafka-topics --alter --topic {t.audit} --partitions {n + 2}" in message
        counts = partition_counts(settings)
        assert counts[t.audit] == n + 1  # nothing changed
        assert counts[t.dispositions] == n and counts[t.releases] == n  # the missing topics were created
        report = verify(settings, Serde(settings))
        assert report.first_break is None and report.chains[audit_partition_for_registry(settings)] == 2
        assert audit_partition_for_casework(settings) not in report.chains
        # Started again, the screener refuses again, in the same words: nothing is half done.
        with pytest.raises(TopicError, match="a deployment from before the casework audit chain"):
            ensure_topics(settings)
        return

    # A broker with CreatePartitions: grown by one, the chains already written untouched.
    counts = partition_counts(settings)
    assert counts[t.audit] == n + 2
    assert counts[t.dispositions] == n and counts[t.releases] == n
    report = verify(settings, Serde(settings))
    assert report.first_break is None
    assert report.chains[audit_partition_for_registry(settings)] == 2
    assert report.chains[audit_partition_for_casework(settings)] == 0
    assert ensure_topics(settings) == []  # nothing more to do
