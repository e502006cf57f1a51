"""Plain Kafka reads and writes with confluent-kafka: offsets, producing, tailing, state reads.

Used by the operator commands and by the worker for what Faust does not offer (the registry
agent's committed offsets, chain tips, the screen loop's state read on assignment, and producing
with back-pressure).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Protocol

from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, Consumer, KafkaError, Message, Producer, TopicPartition

from streams.settings import Settings

DeliveryCallback = Callable[[KafkaError | None, Message], None]


class Producing(Protocol):
    """The confluent_kafka.Producer calls `produce` makes (a fake in tests)."""

    def produce(
        self,
        topic: str,
        value: str | bytes | None = ...,
        key: str | bytes | None = ...,
        partition: int = ...,
        callback: DeliveryCallback | None = ...,
        on_delivery: DeliveryCallback | None = ...,
    ) -> None: ...
    def poll(self, timeout: float = ...) -> int: ...


def _partitions(consumer: Consumer, topic: str) -> list[int]:
    meta = consumer.list_topics(topic, timeout=10).topics.get(topic)
    if meta is None or meta.error is not None:
        raise RuntimeError(f"topic {topic} not found")
    return sorted(meta.partitions)


def committed_positions(settings: Settings, group: str, topics: Iterable[str]) -> dict[tuple[str, int], int]:
    """The group's committed offset on each partition of the topics (0 when none)."""
    consumer = Consumer(settings.kafka_config() | {"group.id": group, "enable.auto.commit": False})
    try:
        tps = [TopicPartition(t, p) for t in topics for p in _partitions(consumer, t)]
        return {(tp.topic, tp.partition): max(tp.offset, 0) for tp in consumer.committed(tps, timeout=10)}
    finally:
        consumer.close()


def produce(
    producer: Producing,
    topic: str,
    key: bytes | None,
    value: bytes | None,
    partition: int | None,
    on_delivery: DeliveryCallback,
    backoff: float = 0.05,
) -> None:
    """Produce one record, waiting for room when librdkafka's queue is full (never dropping it)."""
    while True:
        try:
            if partition is None:
                producer.produce(topic, key=key, value=value, on_delivery=on_delivery)
            else:
                producer.produce(topic, key=key, value=value, partition=partition, on_delivery=on_delivery)
            return
        except BufferError:
            producer.poll(backoff)


class Sender:
    """A producer that fails loudly: every delivery error is collected and reported."""

    def __init__(self, settings: Settings, **extra: Any) -> None:
        self.errors: list[str] = []
        self.sent = 0
        self._producer = Producer(settings.kafka_config() | {"enable.idempotence": True, "linger.ms": 5} | extra)

    def _on_delivery(self, err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            self.errors.append(f"{msg.topic()}: {err}")
        else:
            self.sent += 1

    def send(self, topic: str, key: bytes | None, value: bytes | None, partition: int | None = None) -> None:
        produce(self._producer, topic, key, value, partition, self._on_delivery, backoff=0.1)
        self._producer.poll(0)

    def flush(self, timeout: float = 30.0) -> None:
        remaining = self._producer.flush(timeout)
        if remaining:
            self.errors.append(f"{remaining} records not delivered within {timeout} s")


def tail(settings: Settings, topic: str, from_beginning: bool, count: int | None, timeout: float) -> Iterator[Any]:
    """Messages of a topic, from the beginning or from now, until count or timeout idle seconds."""
    consumer = Consumer(settings.kafka_config() | {"group.id": f"{settings.app_id}-tail", "enable.auto.commit": False})
    try:
        start = OFFSET_BEGINNING if from_beginning else OFFSET_END
        consumer.assign([TopicPartition(topic, p, start) for p in _partitions(consumer, topic)])
        seen = 0
        while count is None or seen < count:
            msg = consumer.poll(timeout)
            if msg is None:
                return
            err = msg.error()
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    continue
                raise RuntimeError(str(err))
            seen += 1
            yield msg
    finally:
        consumer.close()


def read_to_end(settings: Settings, topic: str, partition: int, timeout: float = 10.0) -> Message | None:
    """The last record of a partition (None when empty), read forward to the partition's end.

    The high watermark is only a starting hint: the embedded broker (Tansu 0.6) answers
    ListOffsets with an offset per record batch, not per record, so it can be too low; reading on
    to end-of-partition gives the true last record on any broker, one record on a real Kafka.
    """
    consumer = Consumer(
        settings.kafka_config()
        | {"group.id": f"{settings.app_id}-tail-reader", "enable.auto.commit": False, "enable.partition.eof": True}
    )
    try:
        tp = TopicPartition(topic, partition)
        low, high = consumer.get_watermark_offsets(tp, timeout=timeout, cached=False)
        consumer.assign([TopicPartition(topic, partition, max(low, high - 1))])
        last: Message | None = None
        while True:
            msg = consumer.poll(timeout)
            if msg is None:
                raise RuntimeError(f"{topic}/{partition}: no end of partition within {timeout} s")
            err = msg.error()
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    return last
                raise RuntimeError(str(err))
            last = msg
    finally:
        consumer.close()


def read_partitions(
    settings: Settings,
    partitions: Iterable[tuple[str, int]],
    timeout: float = 30.0,
    starts: Mapping[tuple[str, int], int] | None = None,
    last: Mapping[tuple[str, int], int] | None = None,
) -> dict[tuple[str, int], list[tuple[int, bytes | None, bytes | None]]]:
    """Every record of some partitions, from their start to their end at the time of reading, as
    (offset, key, value) per (topic, partition), with one consumer. Raises when an end is not
    reached in time: state rebuilt from a partial read would be silently wrong.

    `starts` reads a partition from an offset instead (one past the end reads what there is:
    "earliest"); `last` reads at least that many records before its end (the embedded broker's
    high watermark can be low: then more, never fewer)."""
    starts, last = starts or {}, last or {}
    wanted = sorted(set(partitions))
    out: dict[tuple[str, int], list[tuple[int, bytes | None, bytes | None]]] = {tp: [] for tp in wanted}
    if not wanted:
        return out
    consumer = Consumer(
        settings.kafka_config()
        | {
            "group.id": f"{settings.app_id}-state-reader",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            # The end of a partition is known from a fetch that finds nothing more: the broker
            # need not hold it long (500 ms by default: 1.5 s to read 8 empty partitions, 0.55 s
            # like this, on the embedded broker).
            "fetch.wait.max.ms": 10,
            "auto.offset.reset": "earliest",
        }
    )
    try:
        assigned = []
        for t, p in wanted:
            start = starts.get((t, p), OFFSET_BEGINNING)
            if (t, p) in last:
                low, high = consumer.get_watermark_offsets(TopicPartition(t, p), timeout, cached=False)
                start = max(low, high - last[(t, p)])
            assigned.append(TopicPartition(t, p, start))
        consumer.assign(assigned)
        open_ = set(wanted)
        deadline = time.monotonic() + timeout
        while open_:
            # consume() waits for a full batch or its timeout, so short waits in a loop: an
            # end-of-partition event must not sit behind a long one.
            batch = consumer.consume(10_000, 0.05)
            if not batch:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"no end of partition within {timeout} s for {sorted(open_)}")
                continue
            deadline = time.monotonic() + timeout
            for msg in batch:
                tp = (msg.topic(), msg.partition())
                err = msg.error()
                if err is not None:
                    if err.code() == KafkaError._PARTITION_EOF:
                        open_.discard(tp)
                        continue
                    raise RuntimeError(f"{tp[0]}/{tp[1]}: {err}")
                offset = msg.offset()
                if tp in open_ and offset is not None:
                    out[tp].append((offset, msg.key(), msg.value()))
        return out
    finally:
        consumer.close()
