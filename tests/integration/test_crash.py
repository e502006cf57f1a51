"""Crash safety (issue 3): SIGKILL the worker in the middle of a run, restart it, and prove that
nothing was lost or doubled. The kill point is CRASH_KILL_AFTER decisions (default 1500)."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest

from ops.kafka_commands import load_registry, produce_payments
from tests.integration.conftest import SAMPLES, Worker, assert_nothing_lost_or_doubled, collect, sample_payments

TOTAL = int(os.environ.get("CRASH_PAYMENTS", "6000"))
KILL_AFTER = int(os.environ.get("CRASH_KILL_AFTER", "1500"))


def payments() -> list[str]:
    """TOTAL payments cycling through the samples (every rule), each with its own id."""
    return sample_payments("CRASH", TOTAL)


def count_decisions(settings) -> int:
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    consumer = Consumer(settings.kafka_config() | {"group.id": "crash-progress", "enable.auto.commit": False})
    seen = 0
    try:
        consumer.assign(
            [TopicPartition(settings.topics.decisions, p, OFFSET_BEGINNING) for p in range(settings.partitions)]
        )
        while True:
            batch = consumer.consume(5000, 0.3)
            if not batch:
                return seen
            seen += len(batch)
    finally:
        consumer.close()


@pytest.mark.integration
def test_sigkill_mid_run_loses_nothing_and_doubles_nothing(broker, settings, tmp_path: Path):
    load_registry(settings, SAMPLES / "registry.yaml")
    first = Worker(broker, tmp_path, "crash-screener").start()
    lines = payments()
    half = len(lines) // 2
    produce_payments(settings, io.BytesIO("\n".join(lines[:half]).encode()), None, raw=False)
    deadline = time.monotonic() + 60
    while count_decisions(settings) < KILL_AFTER and time.monotonic() < deadline:
        time.sleep(0.05)
    first.kill()  # SIGKILL: no flush, no commit
    killed_at = count_decisions(settings)
    assert killed_at < TOTAL, "the worker finished before it could be killed; raise CRASH_PAYMENTS"
    produce_payments(settings, io.BytesIO("\n".join(lines[half:]).encode()), None, raw=False)
    second = Worker(broker, tmp_path, "crash-screener").start()
    try:
        decided = collect(settings, settings.topics.decisions, TOTAL, timeout=180)
    finally:
        code, _ = second.terminate()
    assert_nothing_lost_or_doubled(
        settings, decided, [f"CRASH-{i:05d}" for i in range(TOTAL)], f"(killed at {killed_at})"
    )
    assert code == 0
