"""The screen loop's offsets, without Kafka."""

from __future__ import annotations

import asyncio

import pytest

from streams.offsets import Offsets, next_offsets
from streams.records import Source


@pytest.fixture
def loop():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def src(topic: str, partition: int, offset: int) -> Source:
    return Source(topic, partition, offset, None, None, 0.0)


def test_next_offsets_are_one_past_the_last_record_per_partition() -> None:
    sources = [src("p", 0, 4), src("p", 1, 9), src("p", 0, 5), src("n", 0, 2)]
    assert next_offsets(sources) == {("p", 0): 6, ("p", 1): 10, ("n", 0): 3}


def test_only_delivered_batches_settle_and_in_order(loop) -> None:
    offsets = Offsets(1.0, Clock())
    first, second = loop.create_future(), loop.create_future()
    offsets.add(first, {("p", 0): 3})
    offsets.add(second, {("p", 0): 5, ("p", 1): 2})
    second.set_result(None)
    offsets.settle()
    assert offsets.pending == {} and len(offsets) == 2
    first.set_result(None)
    offsets.settle()
    assert offsets.pending == {("p", 0): 5, ("p", 1): 2}
    assert len(offsets) == 0


def test_a_failed_batch_raises_and_is_never_committed(loop) -> None:
    offsets = Offsets(1.0, Clock())
    failed, later = loop.create_future(), loop.create_future()
    offsets.add(failed, {("p", 0): 3})
    offsets.add(later, {("p", 0): 5})
    failed.set_exception(RuntimeError("records not delivered: x"))
    later.set_result(None)
    with pytest.raises(RuntimeError, match="not delivered"):
        offsets.settle()
    assert offsets.pending == {}


def test_commits_are_due_an_interval_apart_or_when_final(loop) -> None:
    clock = Clock()
    offsets = Offsets(2.0, clock)
    assert not offsets.due(final=True), "nothing to commit"
    done = loop.create_future()
    done.set_result(None)
    offsets.add(done, {("p", 1): 7, ("p", 0): 4})
    offsets.settle()
    assert offsets.due()
    assert offsets.take() == [("p", 0, 4), ("p", 1, 7)]
    assert offsets.pending == {}
    again = loop.create_future()
    again.set_result(None)
    offsets.add(again, {("p", 0): 8})
    offsets.settle()
    clock.now += 1.0
    assert not offsets.due()
    assert offsets.due(final=True)
    clock.now += 1.0
    assert offsets.due()


def test_hand_over_takes_delivered_and_in_flight_offsets(loop) -> None:
    offsets = Offsets(60.0, Clock())
    done, in_flight = loop.create_future(), loop.create_future()
    done.set_result(None)
    offsets.add(done, {("p", 0): 3})
    offsets.add(in_flight, {("p", 0): 6, ("p", 2): 1})
    offsets.settle()
    assert offsets.hand_over() == [("p", 0, 6), ("p", 2, 1)]
    assert len(offsets) == 0 and offsets.pending == {}
    assert offsets.hand_over() == []


def test_lost_partitions_clear_everything(loop) -> None:
    offsets = Offsets(60.0, Clock())
    done, in_flight = loop.create_future(), loop.create_future()
    done.set_result(None)
    offsets.add(done, {("p", 0): 3})
    offsets.add(in_flight, {("p", 0): 6})
    offsets.settle()
    offsets.clear()
    assert len(offsets) == 0 and offsets.pending == {}
    assert not offsets.due(final=True)
