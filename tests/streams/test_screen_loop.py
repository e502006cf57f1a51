"""The screen loop without a broker: a scripted consumer, a screener whose futures the test
completes, a partition loader and a producer flush that do what the test says.

Over 300 lines on purpose: the fakes (about 200 lines) are this file's alone, and each scenario
reads best next to the fake consumer whose script and callbacks it drives."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Literal, overload

import pytest
from confluent_kafka import KafkaError, TopicPartition

from streams.metrics import Metrics
from streams.ports import RebalanceCallback
from streams.records import Source
from streams.screen_loop import MAX_IN_FLIGHT, ScreenLoop
from streams.settings import Settings

SETTINGS = Settings(partitions=4, poll_interval_s=0.001, batch_size=100)
PAYMENTS = SETTINGS.topics.payments
NOTICES = SETTINGS.topics.notice_requests


@dataclass
class Msg:
    """A consumed record, as confluent_kafka.Message answers."""

    _topic: str
    _partition: int
    _offset: int
    _error: KafkaError | None = None

    def topic(self) -> str:
        return self._topic

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset

    def key(self) -> bytes:
        return b"k"

    def value(self) -> bytes:
        return b"{}"

    def error(self) -> KafkaError | None:
        return self._error

    def timestamp(self) -> tuple[int, int]:
        return (1, 1_750_000_000_000)


def msgs(topic: str, partition: int, first: int, count: int = 1) -> list[Msg]:
    return [Msg(topic, partition, o) for o in range(first, first + count)]


def tps(*partitions: int) -> list[TopicPartition]:
    return [TopicPartition(t, p) for p in partitions for t in (PAYMENTS, NOTICES)]


class FakeConsumer:
    """Answers consume() from a script the test appends to; records what the loop asks of it, and
    calls the rebalance callbacks as librdkafka does (inside consume and close)."""

    def __init__(self) -> None:
        self.script: list[list[Msg] | Callable[[], object]] = []
        self.calls: list[tuple[str, object]] = []
        self.commits: list[tuple[list[tuple[str, int, int]], bool]] = []
        self.assignment: list[TopicPartition] = []
        self.closed = False
        self.on_assign: RebalanceCallback | None = None
        self.on_revoke: RebalanceCallback | None = None
        self.on_lost: RebalanceCallback | None = None

    # -- the Consumer protocol --
    def subscribe(
        self,
        topics: list[str],
        on_assign: RebalanceCallback | None = None,
        on_revoke: RebalanceCallback | None = None,
        on_lost: RebalanceCallback | None = None,
    ) -> None:
        self.calls.append(("subscribe", list(topics)))
        self.on_assign, self.on_revoke, self.on_lost = on_assign, on_revoke, on_lost

    def consume(self, num_messages: int = 1, timeout: float = -1) -> list[Msg]:
        while self.script:
            step = self.script.pop(0)
            if callable(step):
                step()
                continue
            return step
        return []

    def assign(self, partitions: list[TopicPartition]) -> None:
        self.calls.append(("assign", partitions))
        self.assignment = list(partitions)

    def pause(self, partitions: list[TopicPartition]) -> None:
        self.calls.append(("pause", sorted((tp.topic, tp.partition) for tp in partitions)))

    def resume(self, partitions: list[TopicPartition]) -> None:
        self.calls.append(("resume", sorted((tp.topic, tp.partition) for tp in partitions)))

    # Overloaded as the Consumer protocol's is; a synchronous commit answers the offsets committed.
    @overload
    def commit(self, *, offsets: list[TopicPartition], asynchronous: Literal[True] = ...) -> None: ...
    @overload
    def commit(self, *, offsets: list[TopicPartition], asynchronous: Literal[False]) -> list[TopicPartition]: ...
    def commit(self, *, offsets: list[TopicPartition], asynchronous: bool = True) -> list[TopicPartition] | None:
        self.commits.append(([(tp.topic, tp.partition, tp.offset) for tp in offsets], asynchronous))
        return None if asynchronous else offsets

    def position(self, partitions: list[TopicPartition]) -> list[TopicPartition]:
        return [TopicPartition(tp.topic, tp.partition, 0) for tp in partitions]

    def get_watermark_offsets(
        self, partition: TopicPartition, timeout: float = -1, cached: bool = False
    ) -> tuple[int, int]:
        return (0, 10)

    def close(self) -> None:
        self.closed = True
        if self.assignment and self.on_revoke is not None:
            self.revoke()

    # -- what the group coordinator does --
    def assign_partitions(self, *partitions: int) -> None:
        assert self.on_assign is not None
        self.on_assign(self, tps(*partitions))

    def revoke(self) -> None:
        assert self.on_revoke is not None
        revoked, self.assignment = self.assignment, []
        self.on_revoke(self, revoked)

    def lose(self) -> None:
        assert self.on_lost is not None
        lost, self.assignment = self.assignment, []
        self.on_lost(self, lost)

    def committed_offsets(self) -> list[tuple[str, int, int]]:
        return [o for offsets, _ in self.commits for o in offsets]


class FakeScreener:
    """screen_records hands back a future the test completes."""

    def __init__(self) -> None:
        self.batches: list[list[Source]] = []
        self.futures: list[asyncio.Future[None]] = []

    def screen_records(self, sources: list[Source]) -> asyncio.Future[None]:
        self.batches.append(sources)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.futures.append(future)
        return future


class FakeLoader:
    def __init__(self) -> None:
        self.loaded: list[list[int]] = []
        self.dropped: list[list[int]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.loading = threading.Event()

    def load_partitions(self, partitions: list[int]) -> dict[str, int]:
        self.loading.set()
        assert self.gate.wait(5), "the test never let the load finish"
        self.loaded.append(partitions)
        return {"decided_loaded": 0}

    def drop_partitions(self, partitions: list[int]) -> None:
        self.dropped.append(partitions)


@dataclass
class FakeFlusher:
    remaining: int = 0
    delivery_failed: str | None = None
    flushes: int = 0

    def flush(self, timeout: float) -> int:
        self.flushes += 1
        return self.remaining


@dataclass
class LoopState:
    registry_ready: asyncio.Event = field(default_factory=asyncio.Event)
    draining: bool = False


@dataclass
class Harness:
    loop: ScreenLoop
    consumer: FakeConsumer
    screener: FakeScreener
    loader: FakeLoader
    flusher: FakeFlusher
    state: LoopState
    crashes: list[BaseException]
    task: asyncio.Task[None] | None = None

    async def start(self, *partitions: int) -> None:
        """Run the loop with these partitions assigned and loaded."""
        self.consumer.script.append(lambda: self.consumer.assign_partitions(*partitions))
        self.state.registry_ready.set()
        self.task = asyncio.create_task(self.loop.run())
        await until(lambda: self.loop.assigned == set(partitions))

    def feed(self, *batches: list[Msg]) -> None:
        self.consumer.script.extend(batches)

    async def drain(self) -> None:
        self.state.draining = True
        assert self.task is not None
        await asyncio.wait_for(self.task, 5)


async def until(condition: Callable[[], object], seconds: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.001)


async def spin(times: int = 50) -> None:
    """Let the loop go round a few times."""
    for _ in range(times):
        await asyncio.sleep(0.001)


def harness(commit_interval_s: float = 0.001, remaining: int = 0, delivery_failed: str | None = None) -> Harness:
    settings = SETTINGS.model_copy(update={"commit_interval_s": commit_interval_s})
    consumer, screener, loader = FakeConsumer(), FakeScreener(), FakeLoader()
    fl = FakeFlusher(remaining=remaining, delivery_failed=delivery_failed)
    state = LoopState()
    crashes: list[BaseException] = []

    async def crash(exc: BaseException) -> None:
        crashes.append(exc)

    # The real metrics, on a registry of their own (the loop only sets the lag gauge).
    loop = ScreenLoop(settings, state, screener, loader, fl, crash, Metrics(), make_consumer=lambda _: consumer)
    return Harness(loop, consumer, screener, loader, fl, state, crashes)


def run(test: Callable[[], Coroutine[object, object, None]]) -> None:
    asyncio.run(asyncio.wait_for(test(), 20))


def commits_for(h: Harness, topic: str, partition: int) -> list[int]:
    return [o for t, p, o in h.consumer.committed_offsets() if (t, p) == (topic, partition)]


# -- commits follow delivery ---------------------------------------------------------------


def test_offsets_are_committed_only_after_the_batch_is_delivered() -> None:
    async def scenario() -> None:
        h = harness()
        await h.start(0)
        h.feed(msgs(PAYMENTS, 0, 0, 3))
        await until(lambda: len(h.screener.futures) == 1)
        assert [s.offset for s in h.screener.batches[0]] == [0, 1, 2]
        await spin()
        assert h.consumer.commits == []
        h.screener.futures[0].set_result(None)
        await until(lambda: h.consumer.commits)
        assert h.consumer.commits == [([(PAYMENTS, 0, 3)], True)]
        await h.drain()

    run(scenario)


def test_a_later_batch_delivered_first_does_not_commit_past_an_earlier_one() -> None:
    async def scenario() -> None:
        h = harness()
        await h.start(0, 1)
        h.feed(msgs(PAYMENTS, 0, 0, 2), msgs(PAYMENTS, 1, 0, 2) + msgs(NOTICES, 0, 5), msgs(PAYMENTS, 0, 2, 2))
        await until(lambda: len(h.screener.futures) == 3)
        first, second, third = h.screener.futures
        third.set_result(None)
        second.set_result(None)
        await spin()
        assert h.consumer.commits == [], "committed past a batch not yet on the broker"
        first.set_result(None)
        await until(lambda: h.consumer.commits)
        assert h.consumer.committed_offsets() == sorted([(NOTICES, 0, 6), (PAYMENTS, 0, 4), (PAYMENTS, 1, 2)])
        await h.drain()

    run(scenario)


def test_commits_wait_for_the_commit_interval() -> None:
    async def scenario() -> None:
        h = harness(commit_interval_s=3600)
        await h.start(0)
        h.loop.offsets.take()  # a commit "just now": the next waits an interval
        h.feed(msgs(PAYMENTS, 0, 0))
        await until(lambda: h.screener.futures)
        h.screener.futures[0].set_result(None)
        await spin()
        assert h.consumer.commits == []
        await h.drain()
        # Draining commits what was delivered, synchronously.
        assert h.consumer.commits == [([(PAYMENTS, 0, 1)], False)]

    run(scenario)


def test_a_delivery_failure_stops_the_loop_and_crashes_the_worker() -> None:
    async def scenario() -> None:
        h = harness(delivery_failed="broker said no")
        await h.start(0)
        h.feed(msgs(PAYMENTS, 0, 0, 2), msgs(PAYMENTS, 0, 2))
        await until(lambda: len(h.screener.futures) == 2)
        h.screener.futures[1].set_result(None)
        h.screener.futures[0].set_exception(RuntimeError("records not delivered: broker said no"))
        assert h.task is not None
        with pytest.raises(RuntimeError, match="not delivered"):
            await asyncio.wait_for(h.task, 5)
        assert [str(e) for e in h.crashes] == ["records not delivered: broker said no"]
        assert h.consumer.closed and h.loop.closed.is_set()
        assert h.consumer.commits == []

    run(scenario)


# -- partitions changing hands ---------------------------------------------------------------


def test_assigned_partitions_stay_paused_until_their_state_is_loaded() -> None:
    async def scenario() -> None:
        h = harness()
        h.loader.gate.clear()
        h.consumer.script.append(lambda: h.consumer.assign_partitions(2))
        h.state.registry_ready.set()
        h.task = asyncio.create_task(h.loop.run())
        await until(h.loader.loading.is_set)
        kinds = [kind for kind, _ in h.consumer.calls]
        assert kinds == ["subscribe", "assign", "pause"]
        assert h.loop.assigned == set()
        h.loader.gate.set()
        await until(lambda: h.loop.assigned == {2})
        assert h.consumer.calls[-1] == ("resume", sorted([(NOTICES, 2), (PAYMENTS, 2)]))
        assert h.loader.loaded == [[2]]
        await h.drain()

    run(scenario)


def test_a_partition_revoked_while_loading_is_not_resumed_and_its_records_raise() -> None:
    async def scenario() -> None:
        h = harness()
        h.loader.gate.clear()
        h.consumer.script.append(lambda: h.consumer.assign_partitions(0))
        h.state.registry_ready.set()
        h.task = asyncio.create_task(h.loop.run())
        await until(h.loader.loading.is_set)
        h.consumer.revoke()  # the generation moves on while the load runs
        h.loader.gate.set()
        await until(lambda: h.loader.loaded)
        await spin()
        assert "resume" not in [kind for kind, _ in h.consumer.calls]
        assert h.loop.assigned == set()
        assert h.loader.dropped == [[0]]
        # A record of it now would be screened without its chain tip or decided store.
        h.feed(msgs(PAYMENTS, 0, 0))
        with pytest.raises(RuntimeError, match="before its state was loaded"):
            await asyncio.wait_for(h.task, 5)
        assert len(h.crashes) == 1
        assert h.screener.batches == []

    run(scenario)


def test_revocation_flushes_and_commits_delivered_and_in_flight_offsets_synchronously() -> None:
    async def scenario() -> None:
        h = harness(commit_interval_s=3600)
        await h.start(0, 1)
        h.loop.offsets.take()
        h.feed(msgs(PAYMENTS, 0, 0, 2), msgs(PAYMENTS, 1, 0, 3))
        await until(lambda: len(h.screener.futures) == 2)
        h.screener.futures[0].set_result(None)  # delivered, its commit not yet due
        await spin()
        assert h.consumer.commits == []
        h.consumer.script.append(h.consumer.revoke)
        await until(lambda: h.loader.dropped)
        assert h.flusher.flushes == 1
        assert h.consumer.commits == [([(PAYMENTS, 0, 2), (PAYMENTS, 1, 3)], False)]
        assert h.loader.dropped == [[0, 1]]
        assert h.loop.assigned == set()
        assert len(h.loop.offsets) == 0
        # The in-flight batch's future completes later: nothing is committed twice.
        h.screener.futures[1].set_result(None)
        await h.drain()
        assert len(h.consumer.commits) == 1

    run(scenario)


@pytest.mark.parametrize(("remaining", "failed"), [(3, None), (0, "broker said no")])
def test_a_failed_flush_at_revocation_commits_nothing_and_stops_the_worker(remaining: int, failed: str | None) -> None:
    async def scenario() -> None:
        h = harness(commit_interval_s=3600, remaining=remaining, delivery_failed=failed)
        await h.start(0)
        h.loop.offsets.take()
        # A delivered batch whose offsets wait for the commit interval, then one in flight.
        h.feed(msgs(PAYMENTS, 0, 0, 2))
        await until(lambda: h.screener.futures)
        h.screener.futures[0].set_result(None)
        await until(lambda: bool(h.loop.offsets.pending))
        h.feed(msgs(PAYMENTS, 0, 2, 2))
        await until(lambda: len(h.screener.futures) == 2)
        h.consumer.script.append(h.consumer.revoke)
        assert h.task is not None
        # Records still queued could land on the chain after its next owner read the tip: the
        # worker stops instead of screening on, and nothing is committed, then or later.
        with pytest.raises(RuntimeError, match="not delivered at revocation"):
            await asyncio.wait_for(h.task, 5)
        assert h.flusher.flushes >= 1
        assert h.loader.dropped[0] == [0]
        assert len(h.crashes) == 1
        assert h.consumer.commits == []

    run(scenario)


def test_lost_partitions_commit_nothing() -> None:
    async def scenario() -> None:
        h = harness(commit_interval_s=3600)
        await h.start(0, 1)
        h.loop.offsets.take()
        h.feed(msgs(PAYMENTS, 0, 0, 2), msgs(PAYMENTS, 1, 0, 2))
        await until(lambda: len(h.screener.futures) == 2)
        h.screener.futures[0].set_result(None)  # delivered, not yet committed
        await spin()
        h.consumer.script.append(h.consumer.lose)
        await until(lambda: h.loader.dropped)
        assert h.loader.dropped == [[0, 1]]
        assert h.loop.assigned == set()
        h.screener.futures[1].set_result(None)
        await h.drain()
        assert h.consumer.commits == []
        assert h.flusher.flushes == 0

    run(scenario)


# -- stopping and back-pressure ---------------------------------------------------------------


def test_draining_waits_for_in_flight_batches_and_commits_them_finally() -> None:
    async def scenario() -> None:
        h = harness(commit_interval_s=3600)
        await h.start(0)
        h.loop.offsets.take()
        h.feed(msgs(PAYMENTS, 0, 0, 2), msgs(NOTICES, 0, 0))
        await until(lambda: len(h.screener.futures) == 2)
        h.state.draining = True
        await spin()
        assert not h.loop.closed.is_set(), "stopped before its batches were on the broker"
        assert h.consumer.commits == []
        for future in h.screener.futures:
            future.set_result(None)
        await until(h.loop.closed.is_set)
        assert h.consumer.commits == [(sorted([(NOTICES, 0, 1), (PAYMENTS, 0, 2)]), False)]
        assert h.consumer.closed
        assert h.crashes == []

    run(scenario)


def test_back_pressure_waits_for_the_oldest_batch_beyond_max_in_flight() -> None:
    async def scenario() -> None:
        h = harness()
        await h.start(0)
        h.feed(*(msgs(PAYMENTS, 0, i) for i in range(MAX_IN_FLIGHT + 3)))
        await until(lambda: len(h.screener.futures) == MAX_IN_FLIGHT + 1)
        await spin()
        assert len(h.screener.futures) == MAX_IN_FLIGHT + 1, "screened on past the in-flight limit"
        h.screener.futures[0].set_result(None)
        await until(lambda: len(h.screener.futures) == MAX_IN_FLIGHT + 2)
        await spin()
        assert len(h.screener.futures) == MAX_IN_FLIGHT + 2
        assert commits_for(h, PAYMENTS, 0) == [1]
        for future in h.screener.futures[1:]:
            future.set_result(None)
        await until(lambda: len(h.screener.futures) == MAX_IN_FLIGHT + 3)
        h.screener.futures[-1].set_result(None)
        await h.drain()
        assert commits_for(h, PAYMENTS, 0)[-1] == MAX_IN_FLIGHT + 3

    run(scenario)


def test_consumer_errors_are_skipped_and_nothing_is_screened_before_the_registry_is_loaded() -> None:
    async def scenario() -> None:
        h = harness()
        h.consumer.script.append(lambda: h.consumer.assign_partitions(0))
        h.task = asyncio.create_task(h.loop.run())
        # The group is joined and the partition's state loaded while the registry loads ...
        await until(lambda: h.loader.loaded == [[0]])
        await spin(10)
        # ... but it stays paused, and not assigned: a record of it now would raise.
        assert [kind for kind, _ in h.consumer.calls] == ["subscribe", "assign", "pause"]
        assert h.loop.assigned == set()
        h.state.registry_ready.set()
        await until(lambda: h.loop.assigned == {0})
        assert h.consumer.calls[-1] == ("resume", sorted([(NOTICES, 0), (PAYMENTS, 0)]))
        h.feed([Msg(PAYMENTS, 0, -1, _error=KafkaError(KafkaError._TRANSPORT, "transient")), *msgs(PAYMENTS, 0, 7)])
        await until(lambda: h.screener.batches)
        assert [(s.topic, s.partition, s.offset) for s in h.screener.batches[0]] == [(PAYMENTS, 0, 7)]
        assert h.screener.batches[0][0].timestamp == 1_750_000_000.0
        h.screener.futures[0].set_result(None)
        await h.drain()
        assert commits_for(h, PAYMENTS, 0)[-1] == 8

    run(scenario)
