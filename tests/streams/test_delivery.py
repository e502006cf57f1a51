"""Delivery tracking and the outbox without a broker: a fake producer whose delivery reports the
test sends."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import cast

import pytest
from confluent_kafka import KafkaError, Message

from rules import Registry
from streams.audit import AuditChains
from streams.batches import Batches
from streams.delivery import Delivery, Outbox
from streams.kafka_io import DeliveryCallback
from streams.metrics import Metrics
from streams.notice_processing import NoticeProcessor
from streams.processing import PaymentProcessor
from streams.records import Out, Outcome, Source
from streams.serde import Serde
from streams.settings import Settings
from streams.stages import Stages
from streams.stores import NoticesSent

AUDIT = "audit"


class FakeProducer:
    """Keeps what was produced and its delivery callbacks; `deliver` reports them."""

    def __init__(self, full_once: bool = False, produce_seconds: float = 0.0) -> None:
        self.produced: list[tuple[str, str | bytes | None, str | bytes | None, int | None]] = []
        self.callbacks: list[DeliveryCallback] = []
        self.polls = 0
        self.full_once = full_once
        self.produce_seconds = produce_seconds

    def produce(
        self,
        topic: str,
        value: str | bytes | None = None,
        key: str | bytes | None = None,
        partition: int | None = None,
        callback: DeliveryCallback | None = None,
        on_delivery: DeliveryCallback | None = None,
    ) -> None:
        if self.full_once:
            self.full_once = False
            raise BufferError("queue full")
        # CPU, not a sleep: the stage clock counts the thread's CPU time.
        until = time.thread_time() + self.produce_seconds
        while time.thread_time() < until:
            pass
        self.produced.append((topic, key, value, partition))
        assert on_delivery is not None, "produced without a delivery report"
        self.callbacks.append(on_delivery)

    def poll(self, timeout: float = -1) -> int:
        self.polls += 1
        return 0

    def flush(self, timeout: float = -1) -> int:
        return 0

    def deliver(self, index: int, err: str | None = None) -> None:
        class Msg:
            def topic(self) -> str:
                return "t"

            def partition(self) -> int:
                return 0

        # Stand-ins for confluent_kafka's KafkaError and Message: the outbox only takes str() of
        # the error and the message's topic and partition.
        self.callbacks[index](cast("KafkaError | None", err), cast("Message", Msg()))


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


# -- Delivery ------------------------------------------------------------------------------


def test_delivery_completes_when_every_produced_record_is_reported() -> None:
    async def scenario() -> None:
        d = Delivery(asyncio.get_running_loop())
        for _ in range(3):
            d.produced()
        d.report(None)
        d.seal()
        d.report(None)
        await settle()
        assert not d.future.done()
        d.report(None)
        await settle()
        assert d.future.done() and d.future.result() is None

    asyncio.run(scenario())


def test_delivery_is_not_done_before_it_is_sealed() -> None:
    async def scenario() -> None:
        d = Delivery(asyncio.get_running_loop())
        d.produced()
        d.report(None)
        await settle()
        assert not d.future.done(), "done while records could still be added"
        d.seal()
        await settle()
        assert d.future.done()

    asyncio.run(scenario())


def test_an_empty_batch_is_delivered_when_sealed() -> None:
    async def scenario() -> None:
        d = Delivery(asyncio.get_running_loop())
        d.seal()
        await settle()
        assert d.future.done()

    asyncio.run(scenario())


def test_a_delivery_error_fails_the_future_with_the_first_error() -> None:
    async def scenario() -> None:
        d = Delivery(asyncio.get_running_loop())
        for _ in range(3):
            d.produced()
        d.seal()
        d.report(None)
        d.report("first")
        d.report("second")
        await settle()
        with pytest.raises(RuntimeError, match="records not delivered: first"):
            d.future.result()

    asyncio.run(scenario())


def test_reports_from_the_poller_thread_complete_the_future_on_the_loop() -> None:
    async def scenario() -> None:
        d = Delivery(asyncio.get_running_loop())
        for _ in range(100):
            d.produced()
        d.seal()

        def poller() -> None:
            for _ in range(100):
                d.report(None)

        thread = threading.Thread(target=poller)
        thread.start()
        await asyncio.wait_for(asyncio.shield(d.future), 5)
        thread.join()

    asyncio.run(scenario())


# -- Outbox --------------------------------------------------------------------------------


def test_a_batch_is_held_and_produced_in_order_at_its_end() -> None:
    async def scenario() -> None:
        producer = FakeProducer()
        outbox = Outbox(producer, AUDIT)
        outbox.begin_batch(asyncio.get_running_loop())
        outbox.send("decisions", b"k1", b"v1", None)
        outbox.audit_sink(3, b"chain", b"a1")
        outbox.send_outputs([Out("alerts", b"k2", b"v2"), Out(AUDIT, b"chain", b"skipped", 3)])
        assert producer.produced == [], "produced before the batch was screened"
        future = outbox.end_batch()
        assert producer.produced == [
            ("decisions", b"k1", b"v1", None),
            (AUDIT, b"chain", b"a1", 3),
            ("alerts", b"k2", b"v2", None),
        ]
        producer.deliver(0)
        producer.deliver(1)
        await settle()
        assert not future.done()
        producer.deliver(2)
        await settle()
        assert future.done() and future.result() is None
        # Outside a batch a record goes straight to the producer.
        outbox.send("registry-audit", b"k", b"v", 0)
        assert producer.produced[-1] == ("registry-audit", b"k", b"v", 0)

    asyncio.run(scenario())


def test_a_delivery_error_fails_the_batch_and_is_remembered() -> None:
    async def scenario() -> None:
        producer = FakeProducer()
        outbox = Outbox(producer, AUDIT)
        outbox.begin_batch(asyncio.get_running_loop())
        outbox.send("decisions", b"k", b"v", 1)
        future = outbox.end_batch()
        assert outbox.delivery_failed is None
        producer.deliver(0, err="MSG_TIMED_OUT")
        await settle()
        assert outbox.delivery_failed == "MSG_TIMED_OUT"
        with pytest.raises(RuntimeError, match="MSG_TIMED_OUT"):
            future.result()
        with pytest.raises(RuntimeError, match="MSG_TIMED_OUT"):
            await outbox.flushed()

    asyncio.run(scenario())


def test_a_full_producer_queue_is_waited_out_not_dropped() -> None:
    producer = FakeProducer(full_once=True)
    Outbox(producer, AUDIT).send("decisions", b"k", b"v", None)
    assert producer.produced == [("decisions", b"k", b"v", None)]
    assert producer.polls == 1


# -- a batch, timed ------------------------------------------------------------------------


class FakePayments(PaymentProcessor):
    """Allows every payment. A batch only calls `process`, so the real processor's engine, registry
    and stores are not built."""

    def __init__(self) -> None:
        pass

    def process(self, src: Source) -> list[Outcome]:
        return [Outcome([Out("decisions", src.key or b"", b"d"), Out(AUDIT, b"c", b"a", 0)], decision="allow")]


def test_a_batch_hands_its_records_over_together_and_times_the_produce_stage() -> None:
    async def scenario() -> None:
        producer = FakeProducer(produce_seconds=0.002)
        outbox = Outbox(producer, AUDIT)
        stages = Stages()
        settings = Settings()
        # Notice requests are not in this batch: the notice processor and store go unused.
        notices = NoticeProcessor(settings, Serde(settings), AuditChains(settings, Serde(settings)))
        batches = Batches("payments", FakePayments(), notices, NoticesSent(), outbox, Metrics(), stages, Registry())
        sources = [Source("payments", 0, i, f"p{i}".encode(), b"{}", time.time()) for i in range(3)]
        future = batches.screen_records(sources)
        assert [p[:2] for p in producer.produced] == [("decisions", b"p0"), ("decisions", b"p1"), ("decisions", b"p2")]
        assert stages.seconds["produce"] >= 0.006
        for i in range(3):
            producer.deliver(i)
        await asyncio.wait_for(future, 5)

    asyncio.run(scenario())
