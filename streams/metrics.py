"""Prometheus metrics of one worker, on its own registry (served at /metrics on the web port)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.screened = Counter(
            "screener_payments_screened_total", "Payments screened, by decision", ["decision"], registry=r
        )
        self.replayed = Counter(
            "screener_payments_replayed_total", "Payments seen again and answered from the decided store", registry=r
        )
        self.dead_letters = Counter(
            "screener_dead_letters_total", "Records sent to the dead-letter topic", ["source_topic"], registry=r
        )
        self.notices = Counter("screener_notices_total", "Notices emitted to account holders", ["section"], registry=r)
        self.audit_breaks = Counter(
            "screener_audit_chain_breaks_total",
            "Audit chains that did not verify when loaded (records past the break are not trusted)",
            ["partition"],
            registry=r,
        )
        self.registry_changes = Counter(
            "screener_registry_changes_total", "Registry records applied to this worker's view", ["topic"], registry=r
        )
        self.registry_skipped = Counter(
            "screener_registry_skipped_total",
            "Registry records this worker's view could not apply (the registry agent dead-letters them)",
            ["topic"],
            registry=r,
        )
        self.batch_size = Histogram(
            "screener_batch_size",
            "Payments per batch",
            registry=r,
            buckets=(1, 5, 10, 50, 100, 250, 500, 1000, 2500, 5000),
        )
        self.latency = Histogram(
            "screener_screening_seconds",
            "Engine time per payment",
            registry=r,
            buckets=(0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5),
        )
        self.e2e = Histogram(
            "screener_produce_to_decision_seconds",
            "Payment timestamp to decision sent",
            registry=r,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.lag = Gauge("screener_consumer_lag", "Payments not yet screened, by partition", ["partition"], registry=r)
        self.ready = Gauge("screener_ready", "1 when the registry is loaded and partitions are assigned", registry=r)
        self.rules_updates = Counter(
            "screener_rules_updates_total",
            "Updates of the watched rules, lists and ownership files: applied, or refused (the old rules stay)",
            ["outcome"],
            registry=r,
        )
        self.rules_version = Gauge(
            "screener_rules_version_info", "1 for the rules_version in force", ["rules_version"], registry=r
        )
