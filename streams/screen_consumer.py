"""The screen loop's librdkafka consumer: its configuration, and whether it reaches a broker.

Apart from streams/screen_loop.py so that the loop's module stays about its turn and its
partitions changing hands.
"""

from __future__ import annotations

import json

from confluent_kafka import KafkaError

from streams.logs import get_logger
from streams.settings import Settings

log = get_logger("screener.loop")


class BrokerReach:
    """Whether librdkafka reaches a broker, from its statistics every second and its errors:
    readiness drops as soon as the broker is lost."""

    def __init__(self) -> None:
        self.up = True

    def on_stats(self, stats_json: str) -> None:
        """librdkafka's statistics: the loop has a broker if any of the cluster's is UP."""
        try:
            brokers = json.loads(stats_json).get("brokers", {}).values()
        except (ValueError, AttributeError):
            return
        up = any(b.get("state") == "UP" for b in brokers if b.get("nodeid", -1) >= 0)
        if up != self.up:
            log.warning("broker reachable again" if up else "broker lost")
        self.up = up

    def on_error(self, err: KafkaError) -> None:
        if err.code() == KafkaError._ALL_BROKERS_DOWN:
            if self.up:
                log.warning("broker lost", error=str(err))
            self.up = False


def consumer_config(settings: Settings, reach: BrokerReach) -> dict[str, object]:
    s = settings
    session_ms = int(s.session_timeout_s * 1000)
    return s.kafka_config() | {
        "group.id": f"{s.app_id}.screen",
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        # Range gives partition p of both topics to the same member (one writer per chain).
        "partition.assignment.strategy": "range",
        "session.timeout.ms": session_ms,
        "heartbeat.interval.ms": max(1000, session_ms // 5),
        # Records are fetched in the background while a batch is screened.
        "fetch.wait.max.ms": 5,
        "queued.min.messages": max(10_000, s.batch_size * 4),
        "statistics.interval.ms": 1000,
        "stats_cb": reach.on_stats,
        "error_cb": reach.on_error,
    }
