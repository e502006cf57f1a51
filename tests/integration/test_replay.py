"""`screener replay` over the broker: payments read back from the `payments` topic, compared with the
worker's recorded decisions (topic or audit trail), against the registry each decision names
(rebuilt from the audit trail), writing only to a topic of its own."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from ops.kafka_commands import produce_payments
from streams.settings import Settings
from tests.integration.conftest import SAMPLES, Worker, collect
from tests.ops.test_replay import AS_OF, PAYMENTS, new_list, run

pytestmark = pytest.mark.integration


def summary_of(stdout: str) -> dict[str, Any]:
    summary: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    return summary


def topic_count(settings: Settings, topic: str) -> int:
    """Records of a topic, read to its end (the embedded broker's watermarks count record batches)."""
    from ops.replay.kafka_read import open_consumer, read_all

    consumer = open_consumer(settings, "replay-count")
    try:
        return sum(1 for _ in read_all(consumer, settings, topic))
    finally:
        consumer.close()


def test_a_topic_replay_finds_what_a_file_replay_finds_and_touches_no_live_topic(
    worker: Worker, settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [json.dumps(p) for p in PAYMENTS]
    sent, failed, _ = produce_payments(settings, io.BytesIO("\n".join(lines).encode()), None, raw=False)
    assert (sent, failed) == (len(lines), 0)
    decided = collect(settings, settings.topics.decisions, len(lines), timeout=90)
    assert {pid: d[0]["decision"] for pid, d in decided.items()} == {
        "R-ADDED": "pass",
        "R-REMOVED": "block",
        "R-CLEAN": "pass",
        "R-MEASURE": "block",
    }
    listed = new_list(tmp_path / "new.yaml")
    live = {t: topic_count(settings, t) for t in (settings.topics.decisions, settings.topics.audit)}
    common = ["--sanctions", str(listed), "-b", settings.bootstrap_servers, "--as-of", AS_OF]

    # From the topic, against the decisions topic, the registry rebuilt from the audit trail.
    code, out, err = run(
        [
            "replay",
            "--from-topic",
            "--against-topic",
            "--out",
            str(tmp_path / "t"),
            "--to-topic",
            "replay.test",
            *common,
        ],
        capsys,
    )
    assert code == 0, err
    from_topic = summary_of(out)
    assert from_topic["transitions"] == {"block->pass": 1, "pass->block": 1}
    assert from_topic["dead_lettered"] == 0
    assert from_topic["registry_version"] == decided["R-ADDED"][0]["registry_version"]

    # The same against the audit trail.
    code, out, err = run(["replay", "--from-topic", "--against-audit", "--out", str(tmp_path / "a"), *common], capsys)
    assert code == 0, err
    assert summary_of(out)["transitions"] == from_topic["transitions"]

    # And from the file the payments came from, against the decisions exported to a file.
    payments = tmp_path / "payments.jsonl"
    payments.write_text("\n".join(lines) + "\n", encoding="utf-8")
    recorded = tmp_path / "decisions.jsonl"
    recorded.write_text("".join(json.dumps(d[0]) + "\n" for d in decided.values()), encoding="utf-8")
    args = ["replay", str(payments), "--against", str(recorded), "--registry", str(SAMPLES / "registry.yaml")]
    code, out, err = run([*args, "--out", str(tmp_path / "f"), *common], capsys)
    assert code == 0, err
    from_file = summary_of(out)
    assert from_file["transitions"] == from_topic["transitions"]
    # The topic is read partition by partition: the same decisions, in another order.
    decisions = [sorted((tmp_path / d / "decisions.jsonl").read_text().splitlines()) for d in ("f", "t")]
    assert decisions[0] == decisions[1]

    # Nothing went to the live topics; the replay's own topic holds a decision and a diff each.
    assert {t: topic_count(settings, t) for t in live} == live
    assert topic_count(settings, "replay.test") == 2 * len(lines)
    code, _, err = run(["replay", "--from-topic", "--to-topic", settings.topics.decisions, *common], capsys)
    assert code == 2
    assert "live screening topic" in err
