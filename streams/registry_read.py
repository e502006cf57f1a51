"""Reading the registry topics with librdkafka, group-less: the consumer and its configuration,
a record prepared as the worker applies it, and the registry as the records up to some offsets
make it (for the registry agent, streams/registry_audit.py). The view that follows the topics is
streams/registry_view.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from confluent_kafka import OFFSET_BEGINNING, KafkaError, TopicPartition

from rules import Registry
from schemas.codec import CodecError
from streams.logs import get_logger
from streams.ports import Record
from streams.registry_processing import RegistryChange, registry_record_change
from streams.serde import Serde
from streams.settings import Settings

log = get_logger("screener.registry")

# Records taken from librdkafka at once, and how long one take waits: short, so that an
# end-of-partition event does not sit behind a long wait.
TAKE_MAX = 10_000
TAKE_S = 0.05
# A read for the registry agent that gets no record for this long has failed.
READ_TIMEOUT_S = 30.0

Part = tuple[str, int]


class RegistryConsumer(Protocol):
    """The confluent_kafka.Consumer calls the registry reader makes (a fake in tests)."""

    def list_topics(self, topic: str | None = ..., timeout: float = ...) -> Any: ...
    def assign(self, partitions: list[TopicPartition]) -> None: ...
    def get_watermark_offsets(
        self, partition: TopicPartition, timeout: float = ..., cached: bool = ...
    ) -> tuple[int, int]: ...
    def consume(self, num_messages: int = ..., timeout: float = ...) -> Sequence[Record]: ...
    def close(self) -> None: ...


RegistryConsumerFactory = Callable[[dict[str, object]], RegistryConsumer]


def kafka_consumer(config: dict[str, object]) -> RegistryConsumer:
    from confluent_kafka import Consumer

    return Consumer(config)


def reader_config(settings: Settings, purpose: str) -> dict[str, object]:
    # librdkafka wants a group id even for assign(); it is never joined or committed to.
    return settings.kafka_config() | {
        "group.id": f"{settings.app_id}.registry-{purpose}",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "enable.partition.eof": True,
        "auto.offset.reset": "earliest",
        # How long a fetch that finds nothing waits at the broker: the end of the load is known
        # this much later, and once loaded, an idle worker asks this often.
        "fetch.wait.max.ms": 50,
        "max.partition.fetch.bytes": 8 * 1024 * 1024,
        "queued.min.messages": 4 * TAKE_MAX,
    }


def is_eof(msg: Record) -> bool:
    err = msg.error()
    return err is not None and err.code() == KafkaError._PARTITION_EOF


def prepared(serde: Serde, settings: Settings, msg: Record) -> RegistryChange | None:
    """The record's change, or None when it cannot be applied (logged by position and reason
    only: the error text can quote a key, and info logs carry no account numbers or names)."""
    topic = msg.topic() or ""
    try:
        return registry_record_change(serde, settings, topic, msg.key(), msg.value())
    except (CodecError, ValueError) as exc:  # RegistryError is a ValueError
        log.info(
            "registry record skipped",
            topic=topic,
            partition=msg.partition(),
            offset=msg.offset(),
            reason=type(exc).__name__,
        )
        return None


def read_registry(
    settings: Settings,
    serde: Serde,
    stops: Mapping[Part, int],
    make_consumer: RegistryConsumerFactory = kafka_consumer,
    timeout: float = READ_TIMEOUT_S,
) -> Registry:
    """The registry that the records before `stops` (per partition) make, as the view applies
    them (blocking). For the registry agent, whose audit records name the version after each
    change it takes: it starts from its group's position, not the topics' start."""
    registry = Registry()
    wanted = {part: stop for part, stop in stops.items() if stop > 0}
    if not wanted:
        return registry
    consumer = make_consumer(reader_config(settings, "audit"))
    try:
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for topic, p in wanted])
        open_ = set(wanted)
        deadline = time.monotonic() + timeout
        while open_:
            msgs = consumer.consume(TAKE_MAX, TAKE_S)
            if not msgs and time.monotonic() > deadline:
                raise RuntimeError(f"registry read: no record within {timeout} s for {sorted(open_)}")
            for msg in msgs:
                topic, partition, offset = msg.topic(), msg.partition(), msg.offset()
                part = (topic or "", partition if partition is not None else -1)
                if part not in open_ or offset is None:
                    continue
                deadline = time.monotonic() + timeout
                if is_eof(msg) or offset >= wanted[part]:
                    open_.discard(part)  # fewer records than the stop: the rest were compacted away
                    continue
                if msg.error() is not None:
                    log.warning("registry read error", topic=topic, error=str(msg.error()))
                    continue
                change = prepared(serde, settings, msg)
                if change is not None:
                    change.apply(registry)
                if offset + 1 >= wanted[part]:
                    open_.discard(part)
        return registry
    finally:
        consumer.close()
