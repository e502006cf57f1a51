"""Reading topic partitions to their end, as the publisher's recovery does (ops/workbench/publisher.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from streams.kafka_io import read_partitions
from streams.settings import Settings

Records = list[tuple[int, int, bytes | None]]  # (partition, offset, value)


class TopicReader(Protocol):
    """Reads partitions to their end (Kafka in service, a fake in tests)."""

    def read(self, topic: str, starts: Mapping[int, int]) -> Records:
        """The records of each partition in `starts`, from its start offset to its end; a negative
        start reads at least that many records before the end."""
        ...


class KafkaReader:
    """TopicReader on the broker: streams/kafka_io.read_partitions, one short-lived consumer a read."""

    def __init__(self, settings: Settings, timeout: float = 30.0) -> None:
        self._settings, self._timeout = settings, timeout

    def read(self, topic: str, starts: Mapping[int, int]) -> Records:
        parts = [(topic, p) for p in starts]
        read = read_partitions(
            self._settings,
            parts,
            self._timeout,
            starts={(topic, p): s for p, s in starts.items() if s >= 0},
            last={(topic, p): -s for p, s in starts.items() if s < 0},
        )
        return [(p, offset, value) for (_, p), records in sorted(read.items()) for offset, _, value in records]
