"""What the screen loop needs from its collaborators, as Protocols: the loop is wired to the real
ones in streams/app.py and driven by fakes in tests/streams/test_screen_loop.py.

The consumer is the subset of confluent_kafka.Consumer the loop calls (the real class satisfies
it structurally); the others are small roles of this package's own parts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Literal, Protocol, overload

from confluent_kafka import KafkaError, TopicPartition

from streams.records import Source

# librdkafka calls these with the consumer and the partitions changing hands.
RebalanceCallback = Callable[[object, list[TopicPartition]], None]


class Record(Protocol):
    """One consumed message (confluent_kafka.Message)."""

    def topic(self) -> str | None: ...
    def partition(self) -> int | None: ...
    def offset(self) -> int | None: ...
    def key(self) -> bytes | None: ...
    def value(self) -> bytes | None: ...
    def error(self) -> KafkaError | None: ...
    def timestamp(self) -> tuple[int, int]: ...


class Consumer(Protocol):
    """The librdkafka consumer calls the screen loop makes."""

    def subscribe(
        self,
        topics: list[str],
        on_assign: RebalanceCallback | None = ...,
        on_revoke: RebalanceCallback | None = ...,
        on_lost: RebalanceCallback | None = ...,
    ) -> None: ...
    def consume(self, num_messages: int = ..., timeout: float = ...) -> Sequence[Record]: ...
    def assign(self, partitions: list[TopicPartition]) -> None: ...
    def pause(self, partitions: list[TopicPartition]) -> None: ...
    def resume(self, partitions: list[TopicPartition]) -> None: ...
    # Overloaded as confluent_kafka's is: a literal flag picks the result type.
    @overload
    def commit(self, *, offsets: list[TopicPartition], asynchronous: Literal[True] = ...) -> None: ...
    @overload
    def commit(self, *, offsets: list[TopicPartition], asynchronous: Literal[False]) -> list[TopicPartition]: ...
    def position(self, partitions: list[TopicPartition]) -> list[TopicPartition]: ...
    def get_watermark_offsets(
        self, partition: TopicPartition, timeout: float = ..., cached: bool = ...
    ) -> tuple[int, int]: ...
    def close(self) -> None: ...


# Makes the consumer from its configuration (confluent_kafka.Consumer itself, or a fake).
ConsumerFactory = Callable[[dict[str, object]], Consumer]


class BatchScreener(Protocol):
    """Screens a batch; the future is done once every record it produced is on the broker."""

    def screen_records(self, sources: list[Source]) -> asyncio.Future[None]: ...


class PartitionLoader(Protocol):
    """The per-partition state (chain tips, decided store, notices sent) of assigned partitions."""

    def load_partitions(self, partitions: list[int]) -> dict[str, int]: ...
    def drop_partitions(self, partitions: list[int]) -> None: ...


class Flusher(Protocol):
    """The producer, as the loop sees it at a hand-over."""

    def flush(self, timeout: float) -> int: ...

    @property
    def delivery_failed(self) -> str | None: ...


class LoopState(Protocol):
    """What the worker tells the loop: whether the registry is loaded (nothing is screened before);
    stop taking batches."""

    @property
    def registry_ready(self) -> asyncio.Event: ...

    @property
    def draining(self) -> bool: ...


class RegistryChanges(Protocol):
    """The registry view's changes read since the last turn (streams/registry_view.py), applied
    by the loop between batches."""

    def apply_pending(self) -> int: ...


class RulesSwitcher(Protocol):
    """The swap point of the rules (streams/rules_in_force.py): called between batches with the
    partitions whose chains the worker writes; a future when it recorded something."""

    def switch(self, chains: list[int]) -> asyncio.Future[None] | None: ...


# Stops the worker (faust.App.crash): screening cannot go on.
Crash = Callable[[BaseException], Awaitable[None]]
