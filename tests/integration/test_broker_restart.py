"""A broker restarted under a running worker (issue 10).

With a broker that keeps its data (Tansu over S3 storage) the worker rides through the restart:
nothing lost, nothing decided twice differently, the trail verifies. With the in-memory broker the
restart loses everything: the worker says so in one log line, stops with exit code 3, leaves a
marker, refuses to start over the empty broker, and never creates topics with other settings.
"""

from __future__ import annotations

import io
import json
import subprocess
import time
import urllib.error
from pathlib import Path
from typing import Any

import pytest

from ops.broker import EmbeddedBroker
from ops.demo import start_worker
from ops.kafka_commands import load_registry, produce_payments
from streams.broker_guard import EXIT_CODE, MARKER_NAME
from streams.settings import Settings
from streams.topics import ensure_topics, topic_specs
from tests.integration.conftest import SAMPLES, Worker, assert_nothing_lost_or_doubled, collect, sample_payments
from tests.integration.local_s3 import LocalS3

pytestmark = pytest.mark.integration


def send(settings: Settings, lines: list[str]) -> None:
    sent, failed, _ = produce_payments(settings, io.BytesIO("\n".join(lines).encode()), None, raw=False)
    assert (sent, failed) == (len(lines), 0)


def ready_status(worker: Worker) -> int:
    try:
        worker.readyz()
        return 200
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def wait_for_status(worker: Worker, status: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready_status(worker) == status:
            return
        time.sleep(0.3)
    raise AssertionError(f"/readyz did not answer {status} within {timeout} s")


def json_lines(path: Path) -> list[dict[str, Any]]:
    """Every line of a worker's log, each of which must be one JSON object."""
    records = []
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        try:
            records.append(json.loads(line))
        except ValueError:
            raise AssertionError(f"{path.name}:{number} is not JSON: {line[:200]}") from None
    return records


def test_durable_broker_restart_loses_nothing_and_doubles_nothing(tmp_path: Path) -> None:
    with LocalS3(tmp_path / "s3.log") as s3:

        def durable_broker(port: int = 0) -> EmbeddedBroker:
            return EmbeddedBroker(
                port=port, log_path=tmp_path / "broker.log", storage_engine=s3.storage_engine, env=s3.broker_env()
            ).start()

        broker = durable_broker()
        worker: Worker | None = None
        try:
            settings = Settings(bootstrap_servers=broker.bootstrap, partitions=4)
            ensure_topics(settings)
            load_registry(settings, SAMPLES / "registry.yaml")
            worker = Worker(broker, tmp_path, "durable-restart").start()
            lines = sample_payments("DURABLE", 300)
            send(settings, lines[:150])
            assert len(collect(settings, settings.topics.decisions, 150, timeout=90)) == 150

            broker.stop()
            wait_for_status(worker, 503, 30)
            broker = durable_broker(broker.port)
            wait_for_status(worker, 200, 90)
            # The second half, and 50 of the first again: those get their first decisions back.
            send(settings, lines[100:])
            decided = collect(settings, settings.topics.decisions, 300, timeout=120)

            assert worker.proc is not None and worker.proc.poll() is None, "the worker exited"
            assert_nothing_lost_or_doubled(settings, decided, [f"DURABLE-{i:05d}" for i in range(300)])
            events = [r.get("event") for r in json_lines(worker.log)]
            assert "the broker lost its data" not in events
            code, seconds = worker.terminate()
            assert code == 0 and seconds < 10
        finally:
            if worker is not None and worker.proc is not None and worker.proc.poll() is None:
                worker.kill()
            broker.stop()


def test_in_memory_broker_restart_is_reported_once_and_nothing_is_created_over_it(tmp_path: Path) -> None:
    broker = EmbeddedBroker(log_path=tmp_path / "broker.log").start()
    worker: Worker | None = None
    try:
        settings = Settings(bootstrap_servers=broker.bootstrap, partitions=4)
        ensure_topics(settings)
        load_registry(settings, SAMPLES / "registry.yaml")
        worker = Worker(broker, tmp_path, "lost-data").start()
        send(settings, sample_payments("LOST", 50))
        assert len(collect(settings, settings.topics.decisions, 50, timeout=90)) == 50

        broker.stop()
        broker = EmbeddedBroker(port=broker.port, log_path=tmp_path / "broker.log").start()
        assert worker.proc is not None
        assert worker.proc.wait(60) == EXIT_CODE

        lost = [r for r in json_lines(worker.log) if r.get("event") == "the broker lost its data"]
        assert len(lost) == 1 and lost[0]["level"] == "critical"
        assert "missing" in lost[0]["evidence"] or "ends at offset" in lost[0]["evidence"]
        marker = tmp_path / "data" / MARKER_NAME
        assert json.loads(marker.read_text())["evidence"]

        # Restarted (as a supervisor would), the worker refuses in one line and creates nothing.
        again = tmp_path / "again.log"
        proc = start_worker(worker.env, again)
        try:
            assert proc.wait(60) == EXIT_CODE
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        refused = [r for r in json_lines(again) if r.get("event") == "the broker lost its data"]
        assert len(refused) == 1 and MARKER_NAME in refused[0]["error"]
        from confluent_kafka.admin import AdminClient

        existing = AdminClient(settings.kafka_config()).list_topics(timeout=10).topics
        wrong = {
            spec.name: len(existing[spec.name].partitions)
            for spec in topic_specs(settings)
            if spec.name in existing and len(existing[spec.name].partitions) != spec.partitions
        }
        assert not wrong, f"topics created over the lost data with other settings: {wrong}"
        assert settings.topics.audit not in existing
    finally:
        if worker is not None and worker.proc is not None and worker.proc.poll() is None:
            worker.kill()
        broker.stop()


def test_the_workers_clients_never_create_a_topic_by_using_it(tmp_path: Path) -> None:
    """The race above made deterministic: a record retried to a topic the broker no longer has
    must not re-create it with the broker's default partition count (Tansu's is 4; audit has 5)."""
    from confluent_kafka import Consumer
    from confluent_kafka.admin import AdminClient

    from streams.delivery import idempotent_producer

    broker = EmbeddedBroker(log_path=tmp_path / "broker.log").start()
    try:
        settings = Settings(bootstrap_servers=broker.bootstrap, partitions=4)
        producer = idempotent_producer(settings.kafka_config() | {"message.timeout.ms": 3000})
        producer.produce(settings.topics.audit, b"record", b"key")
        assert producer.flush(10) == 0  # given up on (timed out), not delivered
        consumer = Consumer(settings.kafka_config() | {"group.id": "auto-create-check"})
        consumer.subscribe([settings.topics.registry_accounts])
        consumer.poll(2.0)
        consumer.close()
        existing = AdminClient(settings.kafka_config()).list_topics(timeout=10).topics
        assert settings.topics.audit not in existing
        assert settings.topics.registry_accounts not in existing
    finally:
        broker.stop()
