"""Reading topic partitions to their end, as the publisher's recovery does (ops/workbench/publisher.py)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Protocol

from confluent_kafka import Consumer, KafkaError, TopicPartition

from streams.settings import Settings

Records = list[tuple[int, int, bytes | None]]  # (partition, offset, value)


class TopicReader(Protocol):
    """Reads partitions to their end (Kafka in service, a fake in tests)."""

    def read(self, topic: str, starts: Mapping[int, int]) -> Records:
        """The records of each partition in `starts`, from its start offset to its end; a negative
        start reads at least that many records before the end."""
        ...


class KafkaReader:
    """TopicReader on the broker: a short-lived consumer per read, no group offsets."""

    def __init__(self, settings: Settings, timeout: float = 30.0) -> None:
        self._settings, self._timeout = settings, timeout

    def read(self, topic: str, starts: Mapping[int, int]) -> Records:
        group = f"{self._settings.app_id}-workbench-publisher"
        # A position past the end (a broker that lost data) reads what there is: "earliest".
        conf = {"group.id": group, "enable.auto.commit": False, "enable.partition.eof": True, "fetch.wait.max.ms": 10}
        consumer = Consumer(self._settings.kafka_config() | conf | {"auto.offset.reset": "earliest"})
        try:
            parts = []
            for p, start in starts.items():
                # The embedded broker's high watermark can be low (streams/kafka_io.read_to_end):
                # then more records are read, never fewer.
                low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), self._timeout, cached=False)
                parts.append(TopicPartition(topic, p, max(low, high + start) if start < 0 else start))
            consumer.assign(parts)
            open_, out, deadline = set(starts), Records(), time.monotonic() + self._timeout
            while open_:
                batch = consumer.consume(10_000, 0.05)
                if not batch and time.monotonic() > deadline:
                    raise RuntimeError(f"{topic}: no end of partition within {self._timeout} s")
                for msg in batch:
                    deadline = time.monotonic() + self._timeout
                    err, partition, offset = msg.error(), msg.partition(), msg.offset()
                    if err is not None and err.code() == KafkaError._PARTITION_EOF:
                        open_.discard(-1 if partition is None else partition)
                    elif err is not None:
                        raise RuntimeError(f"{topic}/{partition}: {err}")
                    elif partition is not None and offset is not None:
                        out.append((partition, offset, msg.value()))
            return out
        finally:
            consumer.close()
