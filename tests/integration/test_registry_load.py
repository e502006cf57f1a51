"""A worker's first registry load (issue 14, point 5): a few thousand registry records taken in
batches, the worker ready with the registry view the file describes, a bad record in the middle
dead-lettered without stopping the load, and the audit trail (one record per change) verifying."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from ops.bench.registry_load import registry_data
from ops.broker import EmbeddedBroker
from ops.kafka_commands import load_registry
from ops.screen_file import load_registry_file
from streams.audit_verify import verify
from streams.kafka_io import Sender
from streams.serde import Serde
from streams.settings import Settings
from tests.integration.conftest import Worker, collect

pytestmark = pytest.mark.integration

ACCOUNTS = 1500


def write(path: Path, content: dict[str, Any]) -> Path:
    path.write_text(json.dumps(content, default=str), encoding="utf-8")  # dates of the sample file
    return path


def test_first_load_in_batches_gives_the_files_registry_and_dead_letters_a_bad_record(
    broker: EmbeddedBroker, settings: Settings, tmp_path: Path
) -> None:
    full = registry_data(ACCOUNTS, seed=7)
    half = dict(full, accounts=full["accounts"][: ACCOUNTS // 2])
    load_registry(settings, write(tmp_path / "half.json", half), delete_missing=False)
    # A record no reader can decode, between the two halves: dead-lettered, and the load goes on.
    sender = Sender(settings)
    sender.send(settings.topics.registry_accounts, b"ACC-UNREADABLE", b"not an avro record")
    sender.flush()
    assert not sender.errors
    path = write(tmp_path / "full.json", full)
    load_registry(settings, path, delete_missing=False)
    expected = load_registry_file(path)
    records = len(half["accounts"]) + 1 + len(full["accounts"]) + 2 * len(full["institutions"])

    worker = Worker(broker, tmp_path, "registry-load").start()
    try:
        ready = worker.readyz()
        assert ready["ready"] and ready["registry_loaded"]
        # The view every worker screens with: the file's content (BIC8 keys canonicalised, the
        # later record of an account re-sent by the second load winning), nothing of the bad one.
        assert ready["registry_version"] == expected.version
        progress = ready["registry_progress"]
        assert (
            progress[settings.topics.registry_accounts]["applied"]
            == progress[settings.topics.registry_accounts]["target"]
            == len(half["accounts"]) + 1 + len(full["accounts"])
        )
        assert progress[settings.topics.registry_institutions]["target"] == 2 * len(full["institutions"])
        # Readiness does not wait for the registry agent's audit of the changes: wait for it here.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(
            worker.readyz()["registry_audited"].get(topic, 0) < p["target"] for topic, p in progress.items()
        ):
            time.sleep(0.2)
        assert worker.readyz()["registry_audited"] == {topic: p["target"] for topic, p in progress.items()}
        log = worker.log.read_text(errors="replace")
        assert '"registry loaded"' in log and '"registry loading"' in log
        assert '"registry record skipped"' in log  # the bad record, by position, in the view too
        # Info logs carry no account numbers (or names) of the registry.
        assert "ACC-BENCH-" not in log and "ACC-UNREADABLE" not in log
        assert full["accounts"][-1]["holder"]["name"] not in log
    finally:
        worker.terminate()

    dead = collect(settings, settings.topics.dead_letter, 1, timeout=20, key="source_topic")
    bad = dead[settings.topics.registry_accounts]
    assert len(bad) == 1 and bad[0]["source_offset"] == len(half["accounts"])
    assert bad[0]["error"]
    time.sleep(1)
    report = verify(settings, Serde(settings))
    assert report.first_break is None
    # One audit record per registry change, the dead-letter's included.
    assert report.chains.get(settings.partitions, 0) >= records


def test_a_second_worker_has_the_same_registry_and_a_change_reaches_both_views(
    broker: EmbeddedBroker, settings: Settings, tmp_path: Path
) -> None:
    # The topics hold the registry of the test above (the broker is the module's).
    content = registry_data(ACCOUNTS, seed=7)
    before = load_registry_file(write(tmp_path / "full.json", content)).version
    workers: list[Worker] = []
    try:
        for name in ("first", "second"):
            (tmp_path / name).mkdir()
            workers.append(Worker(broker, tmp_path / name, "registry-two").start())
        assert [w.readyz()["registry_version"] for w in workers] == [before, before]
        # A change made while both run reaches both views (each reads the topics itself).
        content["accounts"][0]["status"] = "closing"
        changed = write(tmp_path / "changed.json", content)
        after = load_registry_file(changed).version
        assert after != before
        load_registry(settings, changed)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(w.readyz()["registry_version"] != after for w in workers):
            time.sleep(0.2)
        assert [w.readyz()["registry_version"] for w in workers] == [after, after]
    finally:
        for w in workers:
            w.terminate()
