"""Kafka measurements on the embedded broker: the two baselines and the service, end to end.

Rates are drain rates of a backlog: records are produced first (or as fast as the producer can),
and the rate is read from the broker timestamps of the outputs (CreateTime, set by the writer
when it produced each record), over the records after the first 5 percent (warm-up).
Latency is from the moment the bench produced a payment to the moment its decision was read
back from `screening.decisions`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from ops.bench.cpu import CpuMeter
from streams.kafka_io import Sender
from streams.settings import Settings

WARM_UP = 0.05


@dataclass(frozen=True)
class Rate:
    """How many records a stage moved per second."""

    records: int
    per_s: float
    # The drain window (epoch seconds) and the records counted in it, for CPU per record.
    window: tuple[float, float] = (0.0, 0.0)
    counted: int = 0


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of values, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def create_topics(settings: Settings, topics: dict[str, int]) -> None:
    admin = AdminClient(settings.kafka_config())
    futures = admin.create_topics([NewTopic(t, n, 1) for t, n in topics.items()], request_timeout=15)
    for future in futures.values():
        try:
            future.result()
        except KafkaException as exc:  # an existing topic is fine; anything else is reported
            if "exist" not in str(exc).lower():
                raise


def produce_all(settings: Settings, topic: str, records: Iterable[tuple[bytes | None, bytes]]) -> int:
    """Produce records as fast as librdkafka takes them; return how many were delivered."""
    sender = Sender(settings)
    for key, value in records:
        sender.send(topic, key, value)
    sender.flush(60)
    if sender.errors:
        raise RuntimeError(f"{len(sender.errors)} records not delivered to {topic}: {sender.errors[0]}")
    return sender.sent


def consumer_at(settings: Settings, topic: str, offset: int = OFFSET_BEGINNING) -> Consumer:
    """A consumer assigned every partition of topic (no group join: joins are slow on this broker)."""
    consumer = Consumer(
        settings.kafka_config()
        | {"group.id": f"bench-{time.monotonic_ns()}", "enable.auto.commit": False, "fetch.wait.max.ms": 5}
    )
    meta = consumer.list_topics(topic, timeout=10).topics[topic]
    consumer.assign([TopicPartition(topic, p, offset) for p in sorted(meta.partitions)])
    return consumer


def read_timestamps(
    settings: Settings,
    topic: str,
    expected: int,
    timeout: float,
    on_record: Callable[[bytes | None, float], None] | None = None,
    alive: Callable[[], bool] = lambda: True,
) -> list[int]:
    """Read topic from the start until `expected` records (or timeout idle seconds); return their
    CreateTime timestamps in ms. on_record(key, receive time) is called for each record."""
    consumer = consumer_at(settings, topic)
    stamps: list[int] = []
    idle_since = time.monotonic()
    try:
        while len(stamps) < expected and time.monotonic() - idle_since < timeout and alive():
            batch = consumer.consume(5000, 0.2)
            now = time.time()
            for msg in batch:
                if msg.error() is not None:
                    continue
                stamps.append(msg.timestamp()[1])
                if on_record is not None:
                    on_record(msg.key(), now)
            if batch:
                idle_since = time.monotonic()
    finally:
        consumer.close()
    return stamps


def drain_rate(stamps: list[int]) -> Rate:
    """Records per second between the end of the warm-up and the last record."""
    if len(stamps) < 20:
        raise RuntimeError(f"too few records to measure a rate ({len(stamps)})")
    ordered = sorted(stamps)
    start = int(len(ordered) * WARM_UP)
    span_ms = max(1, ordered[-1] - ordered[start])
    counted = len(ordered) - 1 - start
    return Rate(len(stamps), counted * 1000.0 / span_ms, (ordered[start] / 1000.0, ordered[-1] / 1000.0), counted)


# -- baseline 1: a plain confluent-kafka consume-produce loop ---------------------------------


def kafka_raw_loop(settings: Settings, source: str, target: str, count: int, timeout: float = 120.0) -> Rate:
    """Forward `count` records from source to target with librdkafka, in batches; the drain rate."""
    consumer = consumer_at(settings, source)
    producer = Producer(settings.kafka_config() | {"linger.ms": 5})
    moved = 0
    deadline = time.monotonic() + timeout
    try:
        while moved < count and time.monotonic() < deadline:
            for msg in consumer.consume(10_000, 0.2):
                if msg.error() is not None:
                    continue
                while True:
                    try:
                        producer.produce(target, msg.value(), msg.key())
                        break
                    except BufferError:
                        producer.poll(0.05)
                moved += 1
            producer.poll(0)
        producer.flush(60)
    finally:
        consumer.close()
    return drain_rate(read_timestamps(settings, target, count, 15.0))


# -- baseline 2: a naive Faust agent, one event at a time ----------------------------------------


def faust_naive(
    settings: Settings, source: str, target: str, count: int, workdir: Path, timeout: float, broker_pid: int | None
) -> tuple[Rate, dict[str, float]]:
    """Run ops.bench.faust_naive as a worker process until it has forwarded `count` records; return
    its rate and the CPU microseconds per record of the agent's process and of the broker."""
    env = dict(os.environ) | {
        "BENCH_BROKER": settings.bootstrap_servers,
        "BENCH_SOURCE": source,
        "BENCH_TARGET": target,
        "BENCH_DATADIR": str(workdir / "faust-naive"),
    }
    log = (workdir / "faust-naive.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "ops.bench.faust_naive"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        with CpuMeter({"process": proc.pid, "broker": broker_pid}) as meter:
            stamps = read_timestamps(settings, target, count, timeout, alive=lambda: proc.poll() is None)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()
    if len(stamps) < count:
        raise RuntimeError(f"the naive Faust agent forwarded {len(stamps)} of {count} records; see {log.name}")
    rate = drain_rate(stamps)
    return rate, cpu_per_record(meter, rate)


def cpu_per_record(meter: CpuMeter, rate: Rate) -> dict[str, float]:
    """CPU microseconds per record of each metered process, inside the rate's drain window."""
    used = meter.used(*rate.window)
    return {name: seconds / max(1, rate.counted) * 1e6 for name, seconds in used.items()}
