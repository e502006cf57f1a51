"""The screen loop's offsets: batches in flight, and the offsets their delivery makes committable.

A batch's offsets become committable only once its delivery future is done without error, and
only in the order the batches were screened: a later batch delivered first waits for the earlier
one (committing past a record not yet on the broker would lose it in a crash). No Kafka here: the
loop turns `take()`'s (topic, partition, offset) triples into TopicPartitions when it commits.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Iterable

from streams.records import Source

TopicPartitionKey = tuple[str, int]


def next_offsets(sources: Iterable[Source]) -> dict[TopicPartitionKey, int]:
    """The offset to commit per partition once these records are done: the last one's + 1."""
    offsets: dict[TopicPartitionKey, int] = {}
    for src in sources:
        offsets[(src.topic, src.partition)] = src.offset + 1
    return offsets


class Offsets:
    """In-flight batches (delivery future, offsets) in screening order, and offsets to commit."""

    def __init__(self, commit_interval_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.commit_interval_s = commit_interval_s
        self._clock = clock
        self._in_flight: deque[tuple[asyncio.Future[None], dict[TopicPartitionKey, int]]] = deque()
        self._to_commit: dict[TopicPartitionKey, int] = {}
        self._last_commit = 0.0

    def __len__(self) -> int:
        """Batches screened and not yet settled."""
        return len(self._in_flight)

    @property
    def pending(self) -> dict[TopicPartitionKey, int]:
        """Offsets settled and not yet taken for a commit (a copy)."""
        return dict(self._to_commit)

    def add(self, delivered: asyncio.Future[None], offsets: dict[TopicPartitionKey, int]) -> None:
        """A batch handed to the producer; its offsets wait for `delivered`."""
        self._in_flight.append((delivered, offsets))

    def oldest(self) -> asyncio.Future[None] | None:
        return self._in_flight[0][0] if self._in_flight else None

    def futures(self) -> list[asyncio.Future[None]]:
        return [delivered for delivered, _ in self._in_flight]

    def settle(self) -> None:
        """Move the offsets of delivered batches, from the oldest on, to the commit set.

        Raises the delivery error of the first failed batch, which is dropped: its offsets are
        never committed (the loop stops; nothing past it is committed either)."""
        while self._in_flight and self._in_flight[0][0].done():
            delivered, offsets = self._in_flight.popleft()
            delivered.result()
            self._to_commit.update(offsets)

    def due(self, final: bool = False) -> bool:
        """Whether to commit now: something to commit, and the last commit an interval ago (or final)."""
        if not self._to_commit:
            return False
        return final or self._clock() - self._last_commit >= self.commit_interval_s

    def take(self) -> list[tuple[str, int, int]]:
        """The offsets to commit, as (topic, partition, offset) in order; the set starts afresh."""
        taken = [(topic, partition, offset) for (topic, partition), offset in sorted(self._to_commit.items())]
        self._to_commit.clear()
        self._last_commit = self._clock()
        return taken

    def hand_over(self) -> list[tuple[str, int, int]]:
        """At a revocation, after a successful flush (every record produced is on the broker):
        the offsets of every batch, delivered or in flight, to commit now. In-flight batches are
        forgotten: their futures complete later, and their offsets are in this commit."""
        for _delivered, offsets in self._in_flight:
            self._to_commit.update(offsets)
        self._in_flight.clear()
        return self.take() if self._to_commit else []

    def clear(self) -> None:
        """Partitions lost, or a hand-over whose flush failed: nothing, delivered or not, may be
        committed for them (the next owner screens them again; the decided store answers the
        payments already decided)."""
        self._in_flight.clear()
        self._to_commit.clear()
