"""A broker lost under a running worker: readiness drops, and SIGTERM still ends the worker."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from ops.broker import EmbeddedBroker
from ops.kafka_commands import load_registry
from streams.settings import Settings
from streams.topics import ensure_topics
from streams.worker import SHUTDOWN_DEADLINE_S
from tests.integration.conftest import SAMPLES, Worker


def _ready(worker: Worker) -> tuple[int, dict[str, Any]]:
    try:
        return 200, worker.readyz()
    except urllib.error.HTTPError as exc:
        import json

        return exc.code, json.load(exc)


def test_broker_lost_readiness_drops_and_sigterm_ends_the_worker(tmp_path: Path):
    broker = EmbeddedBroker(log_path=tmp_path / "broker.log").start()
    worker = None
    try:
        settings = Settings(bootstrap_servers=broker.bootstrap, partitions=4)
        ensure_topics(settings)
        load_registry(settings, SAMPLES / "registry.yaml")
        worker = Worker(broker, tmp_path, "broker-loss").start()
        assert _ready(worker)[0] == 200
        broker.stop()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _ready(worker)[0] == 200:
            time.sleep(0.5)
        code, body = _ready(worker)
        assert code == 503 and body["broker_reachable"] is False
        exit_code, seconds = worker.terminate()
        assert seconds < SHUTDOWN_DEADLINE_S + 3, f"SIGTERM took {seconds:.1f} s without a broker"
        assert exit_code == 0
    finally:
        if worker is not None and worker.proc is not None and worker.proc.poll() is None:
            worker.kill()
        broker.stop()


pytestmark = pytest.mark.integration
