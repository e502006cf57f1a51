"""A replay's records on a topic of its own (`--to-topic`), never on a live screening topic.

Each record is keyed by payment id; its value is the JSON the replay's files hold, with its kind
(`decisions`, `diff`, `dead-letter`) added as `replay_kind`. The topic is created when missing.
"""

from __future__ import annotations

import orjson

from streams.kafka_io import Sender
from streams.settings import Settings


class TopicSinkError(Exception):
    """The topic cannot take a replay's records."""


def live_topics(settings: Settings) -> set[str]:
    """Every topic the screener or core banking reads: a replay must never write there."""
    return set(settings.topics.model_dump().values())


class TopicSink:
    """Refuses a live topic at once; creates the topic and its producer at the first record, so
    that no Kafka client exists when the replay forks its screening processes (librdkafka's
    handles and threads do not survive a fork)."""

    def __init__(self, settings: Settings, topic: str) -> None:
        if topic in live_topics(settings):
            raise TopicSinkError(
                f"--to-topic {topic} is a live screening topic: a replay writes only to a topic of its own "
                "(e.g. screening.replay.<date>)"
            )
        self.settings = settings
        self.topic = topic
        self.sender: Sender | None = None

    def send(self, kind: str, key: str | None, line: bytes) -> None:
        if self.sender is None:
            _create(self.settings, self.topic)
            self.sender = Sender(self.settings)
        # The line is one JSON object: its kind goes in as its first member.
        body = b'{"replay_kind":' + orjson.dumps(kind) + (b"," if len(line.strip()) > 2 else b"") + line.strip()[1:]
        self.sender.send(self.topic, key.encode() if key is not None else None, body)

    def close(self) -> None:
        if self.sender is None:
            return
        self.sender.flush()
        if self.sender.errors:
            raise TopicSinkError(f"{len(self.sender.errors)} records not delivered: {self.sender.errors[0]}")


def _create(settings: Settings, topic: str) -> None:
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient
    from confluent_kafka.cimpl import NewTopic

    admin = AdminClient(settings.kafka_config())
    try:
        if topic in admin.list_topics(timeout=10).topics:
            return
        future = admin.create_topics([NewTopic(topic, settings.partitions, settings.replication_factor)])[topic]
        future.result()
    except KafkaException as exc:
        if "already exists" not in str(exc).lower():
            raise TopicSinkError(f"cannot create topic {topic}: {exc}") from None
