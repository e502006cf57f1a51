"""Two workers share the payments (issue 4, scaling): partitions change hands twice while
payments flow (a second worker joins, then the first stops), and still every payment has one
decision, every (account, section) one notice, and every audit chain verifies: each chain had
one writer at a time, and each new owner extended it from the tip the old one left."""

from __future__ import annotations

import io
import json
import re
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from ops.kafka_commands import load_registry, produce_payments
from tests.integration.conftest import SAMPLES, Worker, assert_nothing_lost_or_doubled, collect

TOTAL = 6000


def lines(start: int, stop: int) -> bytes:
    samples = [json.loads(line) for line in (SAMPLES / "payments.jsonl").read_text().splitlines()]
    out = []
    for i in range(start, stop):
        record = dict(samples[i % len(samples)])
        record["payment_id"] = f"PAIR-{i:05d}"
        out.append(json.dumps(record))
    return "\n".join(out).encode()


def screened(worker: Worker) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{worker.web_port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    return sum(float(v) for v in re.findall(r"^screener_payments_screened_total\{[^}]*\} (\S+)$", text, re.MULTILINE))


@pytest.mark.integration
def test_partitions_change_hands_without_loss_doubling_or_forked_chains(broker, settings, tmp_path: Path):
    load_registry(settings, SAMPLES / "registry.yaml")
    first = Worker(broker, tmp_path, "pair-screener").start()

    def feed() -> None:
        # Paced (about 400/s) so that payments are flowing through both hand-overs.
        for start in range(0, TOTAL, 200):
            produce_payments(settings, io.BytesIO(lines(start, start + 200)), None, raw=False)
            time.sleep(0.5)

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    # The second joins while the first is screening: the first hands half the partitions over.
    second = Worker(broker, tmp_path, "pair-screener").start()
    deadline = time.monotonic() + 60
    while screened(second) == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert screened(second) > 0, "the second worker never screened a payment"
    # The first leaves mid-run: the second takes every partition from where the first stopped.
    assert feeder.is_alive(), "the payments ran out before the first worker left; slow the feed"
    first_code, _ = first.terminate()
    feeder.join(60)
    try:
        decided = collect(settings, settings.topics.decisions, TOTAL, timeout=180)
    finally:
        second_code, _ = second.terminate()
    first_log = first.log.read_text(errors="replace")
    assert "partitions revoked" in first_log and "partitions ready" in second.log.read_text(errors="replace")
    assert (first_code, second_code) == (0, 0)
    assert_nothing_lost_or_doubled(settings, decided, [f"PAIR-{i:05d}" for i in range(TOTAL)])
