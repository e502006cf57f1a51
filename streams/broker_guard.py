"""A broker that lost its data, told apart from one that was only away.

On a broker that keeps its data a partition's end offset never goes back (retention and compaction
remove records from the start, not the end), and the topics the screener created neither vanish
nor change their partition count. The guard remembers the end offsets it has seen and looks again
every few seconds while the broker answers: an end that went back, or a topic gone or re-created
with other settings, means the broker lost what it held (an in-memory broker restarted, a volume
replaced). Screening on would start audit chains with no link to the recorded ones and send
one-time notices again (SPEC 2.4, 31 CFR 1010.630(e)), so the worker stops with one log line
saying what was lost and leaves a marker in its data directory that keeps it from starting until
an operator has restored the broker's data or deliberately starts afresh (README, "Broker states").
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from streams.logs import get_logger
from streams.settings import Settings
from streams.topics import BrokerDataLostError, topic_specs

log = get_logger("screener.broker_guard")

MARKER_NAME = "broker-data-lost.json"
EXIT_CODE = 3
CHECK_INTERVAL_S = 2.0
MAX_EVIDENCE = 10


@dataclass(frozen=True)
class Observation:
    """What the broker showed at one look: each topic's partition count and each partition's end."""

    partitions: Mapping[str, int]
    ends: Mapping[tuple[str, int], int]


def compare(expected: Mapping[str, int], seen: Mapping[tuple[str, int], int], now: Observation) -> list[str]:
    """Evidence of lost data: topics missing or with other partition counts, ends gone back."""
    evidence: list[str] = []
    for topic, count in expected.items():
        have = now.partitions.get(topic)
        if have is None:
            evidence.append(f"topic {topic} is missing")
        elif have != count:
            evidence.append(f"topic {topic} has {have} partitions, was created with {count}")
    for (topic, partition), end in sorted(seen.items()):
        current = now.ends.get((topic, partition))
        if current is not None and current < end:
            evidence.append(f"{topic}/{partition} ends at offset {current}, had {end}")
    return evidence


def observe(consumer: Any, topics: Mapping[str, int], timeout: float = 5.0) -> Observation:
    """Look at the broker (raises KafkaException when it does not answer)."""
    from confluent_kafka import TopicPartition

    metadata = consumer.list_topics(timeout=timeout).topics
    partitions: dict[str, int] = {}
    ends: dict[tuple[str, int], int] = {}
    for topic in topics:
        meta = metadata.get(topic)
        if meta is None or meta.error is not None:
            continue
        partitions[topic] = len(meta.partitions)
        for partition in sorted(meta.partitions):
            _low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=timeout, cached=False)
            ends[(topic, partition)] = high
    return Observation(partitions, ends)


class DataLossGuard:
    """Looks at the broker every CHECK_INTERVAL_S on its own thread; calls `on_loss` once."""

    def __init__(self, settings: Settings, on_loss: Callable[[list[str]], None]) -> None:
        self.settings = settings
        self.expected = {spec.name: spec.partitions for spec in topic_specs(settings)}
        self.seen: dict[tuple[str, int], int] = {}
        self.on_loss = on_loss
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def check(self, now: Observation) -> list[str]:
        """Compare one look with what was seen before, then remember the larger ends."""
        evidence = compare(self.expected, self.seen, now)
        if not evidence:
            for key, end in now.ends.items():
                self.seen[key] = max(end, self.seen.get(key, end))
        return evidence

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="broker-data-guard", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        from confluent_kafka import Consumer, KafkaException

        # Looks only: no group joined, nothing committed, no topic created by asking about it.
        own = {"group.id": f"{self.settings.app_id}.guard", "enable.auto.commit": False}
        consumer = Consumer(self.settings.kafka_config() | own)
        try:
            while not self._stop.wait(CHECK_INTERVAL_S):
                try:
                    now = observe(consumer, self.expected)
                except KafkaException:
                    continue  # broker away: readiness reports that; nothing to compare
                evidence = self.check(now)
                if evidence:
                    self.on_loss(evidence)
                    return
        finally:
            consumer.close()


def marker_path(settings: Settings) -> Path:
    return settings.data_dir / MARKER_NAME


def write_marker(settings: Settings, evidence: list[str]) -> Path:
    path = marker_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {
        "detected_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "bootstrap_servers": settings.masked().get("bootstrap_servers"),
        "evidence": evidence[:MAX_EVIDENCE],
    }
    path.write_text(json.dumps(body, indent=2) + "\n")
    return path


def refuse_if_marked(settings: Settings) -> None:
    """Raise BrokerDataLostError while a marker left by an earlier detection is in the data directory."""
    path = marker_path(settings)
    if not path.exists():
        return
    try:
        evidence = json.loads(path.read_text()).get("evidence", [])
    except (OSError, ValueError, AttributeError):
        evidence = ["(marker unreadable)"]
    raise BrokerDataLostError(
        f"the broker lost its data ({'; '.join(str(e) for e in evidence[:3])}); not starting over it. Restore the "
        f"broker's data, or to start afresh deliberately, remove {path}"
    )


def summary(evidence: list[str]) -> str:
    shown = "; ".join(evidence[:3])
    more = len(evidence) - 3
    return shown + (f" (and {more} more)" if more > 0 else "")
