"""Integration fixtures: an embedded broker per module, workers as real `screener run` processes."""

from __future__ import annotations

import json
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ops.broker import EmbeddedBroker, free_port
from ops.demo import start_worker, wait_ready, worker_env
from ops.kafka_commands import load_registry
from streams.settings import Settings
from streams.topics import ensure_topics

SAMPLES = Path(__file__).resolve().parents[2] / "ops" / "samples"

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    log = tmp_path_factory.mktemp("broker") / "broker.log"
    with EmbeddedBroker(log_path=log) as embedded:
        yield embedded


@pytest.fixture(scope="module")
def settings(broker: EmbeddedBroker) -> Settings:
    settings = Settings(bootstrap_servers=broker.bootstrap, partitions=4)
    ensure_topics(settings)
    return settings


class Worker:
    """A `screener run` process with its own web port and data directory."""

    def __init__(self, broker: EmbeddedBroker, base: Path, app_id: str) -> None:
        self.web_port = free_port()
        self.log = base / f"worker-{uuid.uuid4().hex[:6]}.log"
        self.env = worker_env(
            broker.bootstrap,
            self.web_port,
            base / "data",
            SCREENER_APP_ID=app_id,
            SCREENER_PARTITIONS="4",
            SCREENER_LOG_LEVEL="info",
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        self.proc = start_worker(self.env, self.log)
        try:
            wait_ready(self.web_port, self.proc, timeout=120)
        except RuntimeError:
            raise RuntimeError(self.log.read_text(errors="replace")[-4000:]) from None
        return self

    def readyz(self) -> dict[str, Any]:
        import urllib.request

        with urllib.request.urlopen(f"http://127.0.0.1:{self.web_port}/readyz", timeout=2) as resp:
            return dict(json.load(resp))

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self) -> tuple[int, float]:
        assert self.proc is not None
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(30)
        return code, time.monotonic() - started


@pytest.fixture(scope="module")
def worker(broker: EmbeddedBroker, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    load_registry(settings, SAMPLES / "registry.yaml")
    running = Worker(broker, tmp_path_factory.mktemp("worker"), "payment-screener").start()
    yield running
    if running.proc is not None and running.proc.poll() is None:
        running.terminate()


def sample_payments(prefix: str, count: int) -> list[str]:
    """count payments cycling through the samples (every rule), each with its own id `prefix-nnnnn`."""
    samples = [json.loads(line) for line in (SAMPLES / "payments.jsonl").read_text().splitlines()]
    return [json.dumps(dict(samples[i % len(samples)], payment_id=f"{prefix}-{i:05d}")) for i in range(count)]


def collect(
    settings: Settings, topic: str, want: int, timeout: float = 60.0, key: str = "payment_id"
) -> dict[str, list[dict[str, Any]]]:
    """Records of a topic grouped by a field, read from the beginning until `want` groups are seen."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    from ops.kafka_commands import record_name_for
    from streams.serde import Serde

    serde, name = Serde(settings), record_name_for(settings, topic)
    assert name is not None
    consumer = Consumer(settings.kafka_config() | {"group.id": "test-collect", "enable.auto.commit": False})
    grouped: dict[str, list[dict[str, Any]]] = {}
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        deadline = time.monotonic() + timeout
        while len(grouped) < want and time.monotonic() < deadline:
            for msg in consumer.consume(1000, 0.2):
                if msg.error() or msg.value() is None:
                    continue
                record = serde.decode(topic, name, msg.value())
                grouped.setdefault(str(record.get(key)), []).append(record)
    finally:
        consumer.close()
    return grouped


def record_body(record: dict[str, Any]) -> str:
    """A record's content without where it was read from."""
    return json.dumps({k: v for k, v in record.items() if k != "_position"}, sort_keys=True)


def assert_nothing_lost_or_doubled(
    settings: Settings, decided: dict[str, list[dict[str, Any]]], ids: list[str], note: str = ""
) -> None:
    """Every payment has a decision and never two different ones, no (account, section) has two
    different notices, and every audit chain verifies (issue 3's crash guarantees)."""
    from streams.audit_verify import verify
    from streams.serde import Serde

    missing = [pid for pid in ids if pid not in decided]
    assert not missing, f"{len(missing)} payments without a decision, e.g. {missing[:5]} {note}"
    different = [pid for pid, recs in decided.items() if len({record_body(r) for r in recs}) > 1]
    assert not different, f"{len(different)} payments with different decisions: {different[:3]}"
    notices = collect(settings, settings.topics.notices, 1, timeout=10, key="notice_id")
    pairs: dict[tuple[str, str], set[str]] = {}
    for recs in notices.values():
        for r in recs:
            pairs.setdefault((r["account_id"], r["section"]), set()).add(record_body(r))
    assert pairs and all(len(bodies) == 1 for bodies in pairs.values()), pairs
    report = verify(settings, Serde(settings))
    assert report.first_break is None, report.first_break
    assert report.records >= len(ids)
