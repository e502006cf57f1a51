"""Produce-to-decision latency on the embedded broker: payments sent at a pace (or all at once),
each timed until its decision is read back, overall and by each successive 5 s; with source and
target the same topic, the broker's own hop."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from confluent_kafka import OFFSET_END, Producer

from ops.bench.kafka_bench import Rate, consumer_at, drain_rate, percentile
from streams.settings import Settings

WINDOW_S = 5.0


@dataclass(frozen=True)
class Latency:
    """Produce-to-decision latency at an offered load."""

    offered_per_s: float
    achieved_per_s: float
    records: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    # p99 over each successive 5 s of sending: how latency grows as the broker's logs grow.
    p99_ms_by_5s: tuple[float, ...] = ()


def service_run(
    settings: Settings,
    records: list[tuple[bytes, bytes]],
    per_s: float | None,
    timeout: float = 120.0,
    source: str | None = None,
    target: str | None = None,
) -> tuple[Latency, Rate]:
    """Produce payments (keys are payment_ids) at per_s, or as fast as possible when None, and time
    each until its decision is read back; also the drain rate of the decisions. With source and
    target the same topic, the broker's own produce-to-consume latency (no service between)."""
    source = source or settings.topics.payments
    target = target or settings.topics.decisions
    sent_at: dict[bytes, float] = {}
    latencies: list[tuple[float, float]] = []  # (sent, seconds to the decision)
    stamps: list[int] = []
    lock = threading.Lock()

    def on_record(key: bytes | None, received: float, stamp: int) -> None:
        with lock:
            sent = sent_at.pop(key or b"", None)
        if sent is not None:
            latencies.append((sent, received - sent))
            stamps.append(stamp)

    stop_reader = threading.Event()
    ready = threading.Event()
    reader = threading.Thread(target=_follow, args=(settings, target, on_record, stop_reader, ready), daemon=True)
    reader.start()
    if not ready.wait(30):
        raise RuntimeError("the decision reader did not get its partitions within 30 s")
    # Its fetch positions are resolved on the first fetches after assignment. Records it reads
    # from before the run (this broker's "latest" can lag) are not in sent_at and are ignored.
    time.sleep(1.5)
    elapsed = _send(settings, source, records, per_s, sent_at, lock)
    deadline = time.monotonic() + timeout
    while len(latencies) < len(records) and time.monotonic() < deadline:
        time.sleep(0.05)
    stop_reader.set()
    reader.join(10)
    if len(latencies) < len(records):
        raise RuntimeError(f"only {len(latencies)} of {len(records)} decisions arrived within {timeout} s")
    return _latency(latencies, per_s, len(records) / elapsed), drain_rate(stamps)


def _send(
    settings: Settings,
    source: str,
    records: list[tuple[bytes, bytes]],
    per_s: float | None,
    sent_at: dict[bytes, float],
    lock: threading.Lock,
) -> float:
    """Produce the records at per_s (or at once), noting when each was sent; the seconds taken."""
    # librdkafka's default linger (5 ms), as a core-banking producer left at its defaults would
    # send; the linger is inside the measured latency. A linger of 0 sends a request per payment,
    # and this broker's cost per produce request grows with the data it holds (README).
    producer = Producer(settings.kafka_config() | {"linger.ms": 5, "enable.idempotence": True})
    # Connected, and its producer id granted, before the clock starts: otherwise the first
    # payments wait for the connection and that wait is counted as the service's latency.
    producer.list_topics(source, timeout=10)
    time.sleep(1.0)
    start = time.perf_counter()
    wall_start = time.time()
    for i, (key, value) in enumerate(records):
        if per_s:
            delay = start + i / per_s - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        with lock:
            sent_at[key] = time.time()
        while True:
            try:
                producer.produce(source, value, key)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    producer.flush(30)
    return time.time() - wall_start


def _latency(latencies: list[tuple[float, float]], per_s: float | None, achieved: float) -> Latency:
    """The latency figures, overall and by each successive WINDOW_S of sending."""
    ms = [seconds * 1000 for _, seconds in latencies]
    first = min(sent for sent, _ in latencies)
    by_window: dict[int, list[float]] = {}
    for sent, seconds in latencies:
        by_window.setdefault(int((sent - first) // WINDOW_S), []).append(seconds * 1000)
    windows = tuple(round(percentile(by_window[w], 0.99), 1) for w in sorted(by_window))
    return Latency(per_s or 0.0, achieved, len(ms), statistics.median(ms), percentile(ms, 0.99), max(ms), windows)


def _follow(
    settings: Settings,
    topic: str,
    on_record: Callable[[bytes | None, float, int], None],
    stop: threading.Event,
    ready: threading.Event,
) -> None:
    """Read topic from its current end, reporting each record, until stop is set."""
    consumer = consumer_at(settings, topic, OFFSET_END)
    ready.set()
    try:
        while not stop.is_set():
            # poll, not consume: consume(n, t) holds what it has until n records or t seconds,
            # which would add up to t to every latency measured at low rates.
            msg = consumer.poll(0.05)
            if msg is not None and msg.error() is None:
                on_record(msg.key(), time.time(), msg.timestamp()[1])
    finally:
        consumer.close()
