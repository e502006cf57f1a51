"""Getting records onto the broker: one idempotent producer, its poller thread, and per-batch
delivery tracking.

Every output (decisions, blocks, alerts, notices, audit, dead-letters) goes through one
idempotent librdkafka producer: in order and without holes per partition, so a crash can only
lose a chain's tail, which the next writer extends; and at a few microseconds a record, where a
Faust send costs tens (README, "Performance"). murmur2 partitions keys as the Java client and
Faust do. (aiokafka's idempotent producer cannot start on the embedded broker, ARCHITECTURE.md.)
A 5 ms linger: on the embedded broker it cut the broker's CPU per payment by a third against
2 ms, for 3 ms of latency (README).

Inside a batch (`begin_batch` .. `end_batch`) records are held, in order, and handed to the
producer together when the batch is screened: librdkafka then sends one record batch per
partition instead of one per linger interval while screening runs (fewer, larger appends; on the
embedded broker each append costs more as the partition grows). The order of records, and so of
every audit chain, is kept.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable
from typing import Protocol

from confluent_kafka import KafkaError, Message

from streams.kafka_io import DeliveryCallback, Producing, produce
from streams.logs import get_logger
from streams.records import Out

log = get_logger("screener.delivery")

Pending = tuple[str, bytes, bytes | None, int | None]
FLUSH_TIMEOUT_S = 30.0


class Producer(Producing, Protocol):
    """The confluent_kafka.Producer calls made here."""

    def flush(self, timeout: float = ...) -> int: ...


def idempotent_producer(kafka_config: dict[str, object]) -> Producer:
    """The worker's producer (see the module docstring for the settings)."""
    from confluent_kafka import Producer as KafkaProducer

    return KafkaProducer(
        kafka_config | {"enable.idempotence": True, "linger.ms": 5, "acks": "all", "partitioner": "murmur2_random"}
    )


class Delivery:
    """The records one batch produced, and a future done once every one is on the broker.

    Delivery reports arrive on the producer's poller thread; the future is completed on the loop.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.future: asyncio.Future[None] = loop.create_future()
        self._lock = threading.Lock()
        self._produced = 0
        self._delivered = 0
        self._sealed = False
        self._error: str | None = None

    def produced(self, count: int = 1) -> None:
        with self._lock:
            self._produced += count

    def report(self, err: object | None) -> None:
        with self._lock:
            self._delivered += 1
            if err is not None and self._error is None:
                self._error = str(err)
            self._maybe_done()

    def seal(self) -> None:
        """No more records will be added."""
        with self._lock:
            self._sealed = True
            self._maybe_done()

    def _maybe_done(self) -> None:
        if self._sealed and self._delivered >= self._produced and not self.future.done():
            self.loop.call_soon_threadsafe(self._finish, self._error)

    def _finish(self, error: str | None) -> None:
        if self.future.done():
            return
        if error is None:
            self.future.set_result(None)
        else:
            self.future.set_exception(RuntimeError(f"records not delivered: {error}"))


class Outbox:
    """The producer, its poller thread, the batch in hand and the first delivery failure."""

    def __init__(self, producer: Producer, audit_topic: str) -> None:
        self.producer = producer
        self.audit_topic = audit_topic
        self._tracker: Delivery | None = None
        self._pending: list[Pending] | None = None
        self._stopping = threading.Event()
        self._delivery_failed: str | None = None

    def start(self) -> None:
        """Serve delivery reports on a thread, so batches are acknowledged as they land."""
        threading.Thread(target=self._poll_deliveries, name="delivery-reports", daemon=True).start()

    def stop(self) -> None:
        self._stopping.set()

    def _poll_deliveries(self) -> None:
        while not self._stopping.is_set():
            self.producer.poll(0.05)

    @property
    def delivery_failed(self) -> str | None:
        """The first delivery error: once set, nothing more is acknowledged or committed."""
        return self._delivery_failed

    # -- producing ------------------------------------------------------------------------

    def send(self, topic: str, key: bytes, value: bytes | None, partition: int | None) -> None:
        """Produce a record (value None: a tombstone): held until `end_batch` inside a batch, at
        once outside one."""
        if self._pending is not None:
            self._pending.append((topic, key, value, partition))
            return
        self._produce_now(topic, key, value, partition)

    def send_outputs(self, outputs: Iterable[Out]) -> None:
        """A processor's outputs; audit records are skipped, produced when appended (audit_sink)."""
        for out in outputs:
            if out.topic != self.audit_topic:
                self.send(out.topic, out.key, out.value, out.partition)

    def audit_sink(self, partition: int, key: bytes, value: bytes) -> None:
        """AuditChains' sink: each record produced as it is appended, so chains stay in order."""
        self.send(self.audit_topic, key, value, partition)

    def begin_batch(self, loop: asyncio.AbstractEventLoop) -> None:
        """Records sent from now on belong to one batch and are held until `end_batch`."""
        self._tracker = Delivery(loop)
        self._pending = []

    def end_batch(self) -> asyncio.Future[None]:
        """Hand the batch's records to the producer, in order; the future is done when every one
        is on the broker (or fails with the first delivery error)."""
        tracker, pending = self._tracker, self._pending
        if tracker is None or pending is None:
            raise RuntimeError("end_batch without begin_batch")
        self._pending = None
        # One count and one callback for the whole batch, not a lock and a closure per record.
        tracker.produced(len(pending))
        delivered = self._delivered

        def callback(err: KafkaError | None, msg: Message) -> None:
            if err is not None:
                delivered(err, msg)
            tracker.report(err)

        producer = self.producer
        handed = 0
        try:
            for topic, key, value, partition in pending:
                produce(producer, topic, key, value, partition, callback)
                handed += 1
        finally:
            if handed < len(pending):  # produce raised: wait only for what the producer took
                tracker.produced(handed - len(pending))
            self._tracker = None
            tracker.seal()
        return tracker.future

    def _produce_now(self, topic: str, key: bytes, value: bytes | None, partition: int | None) -> None:
        tracker = self._tracker
        callback: DeliveryCallback = self._delivered
        if tracker is not None:
            tracker.produced()

            def callback(err: KafkaError | None, msg: Message) -> None:
                self._delivered(err, msg)
                tracker.report(err)

        produce(self.producer, topic, key, value, partition, callback)

    def _delivered(self, err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            # An output that cannot be written stops the worker: screening on without a complete
            # trail would break 1010.630(e) record keeping. The batch is not acknowledged.
            log.critical("record not delivered", error=str(err), topic=msg.topic(), partition=msg.partition())
            self._delivery_failed = str(err)

    # -- waiting ----------------------------------------------------------------------------

    def flush(self, timeout: float) -> int:
        """Wait (blocking) until every record produced is on the broker; the number still queued."""
        return self.producer.flush(timeout)

    async def flushed(self) -> None:
        """Wait, off the event loop, until every record produced so far is on the broker; raise
        if one is not (or is not within FLUSH_TIMEOUT_S)."""
        loop = asyncio.get_running_loop()
        remaining = await loop.run_in_executor(None, self.producer.flush, FLUSH_TIMEOUT_S)
        if remaining or self._delivery_failed:
            raise RuntimeError(f"records not delivered ({remaining} pending, {self._delivery_failed})")
