"""The Kafka side of the workbench's feed: the consumer calls it makes, and their configuration."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from confluent_kafka import TopicPartition

from streams.ports import Record
from streams.settings import Settings


class FeedConsumer(Protocol):
    """The confluent_kafka.Consumer calls the feed makes (a fake in tests)."""

    def list_topics(self, topic: str | None = ..., timeout: float = ...) -> Any: ...
    def assign(self, partitions: list[TopicPartition]) -> None: ...
    def incremental_assign(self, partitions: list[TopicPartition]) -> None: ...
    def consume(self, num_messages: int = ..., timeout: float = ...) -> Sequence[Record]: ...
    def get_watermark_offsets(
        self, partition: TopicPartition, timeout: float = ..., cached: bool = ...
    ) -> tuple[int, int]: ...
    def close(self) -> None: ...


ConsumerFactory = Callable[[dict[str, object]], FeedConsumer]


def kafka_consumer(config: dict[str, object]) -> FeedConsumer:
    from confluent_kafka import Consumer

    return Consumer(config)


def feed_config(settings: Settings) -> dict[str, object]:
    # librdkafka wants a group id even for assign(); it is never joined or committed to.
    return settings.kafka_config() | {
        "group.id": f"{settings.app_id}.workbench-feed",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "enable.partition.eof": True,
        "auto.offset.reset": "earliest",
        "fetch.wait.max.ms": 100,
    }
