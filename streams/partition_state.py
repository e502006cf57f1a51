"""What a worker holds per screen-loop partition, loaded when it is assigned and dropped when it
goes: the audit chain's tip, the decided store (from the chain's trusted decision records) and
the notices already sent (from the notices topic)."""

from __future__ import annotations

from typing import Any

from schemas.codec import CodecError
from streams.audit import AuditChains
from streams.audit_verify import trusted_records
from streams.checkpoints import Checkpoint, CheckpointError
from streams.checkpoints import load as load_checkpoints
from streams.logs import get_logger
from streams.metrics import Metrics
from streams.serde import Serde
from streams.settings import Settings
from streams.stores import Decided, NoticesSent

log = get_logger("screener.stream")


class PartitionState:
    """Loads and drops the per-partition state of the screen loop (a PartitionLoader)."""

    def __init__(
        self,
        settings: Settings,
        serde: Serde,
        audit: AuditChains,
        decided: Decided,
        notices_sent: NoticesSent,
        metrics: Metrics,
    ) -> None:
        self.settings = settings
        self.serde = serde
        self.audit = audit
        self.decided = decided
        self.notices_sent = notices_sent
        self.metrics = metrics

    def load_partitions(self, partitions: list[int]) -> dict[str, int]:
        """What newly assigned partitions need before their first record (blocking)."""
        from streams.kafka_io import read_partitions

        t = self.settings.topics
        state = read_partitions(self.settings, [(topic, p) for p in partitions for topic in (t.audit, t.notices)])
        decided = notices = 0
        anchors = self._checkpoints()
        for partition in partitions:
            # The chain is read whole and verified: its decision records up to the first broken
            # link are the decided store; nothing past a break is trusted (a record someone wrote
            # without the key must not decide a payment). The chain goes on from its last record,
            # so the break stays visible to `screener audit verify`.
            records = [(offset, value) for offset, _, value in state[(t.audit, partition)]]
            chain_anchors = anchors.get(f"{t.audit}/{partition}", [])
            trusted, broken = trusted_records(self.settings, self.serde, partition, records, chain_anchors)
            if broken is not None:
                self.metrics.audit_breaks.labels(str(partition)).inc()
                log.error(
                    "audit chain does not verify: records from the break on are not trusted",
                    partition=partition,
                    offset=broken.offset,
                    audit_id=broken.audit_id,
                    problem=broken.problem,
                )
            tip = self._chain_tip(t.audit, records)
            if tip is None:
                self.audit.start_at(partition)
            else:
                self.audit.start_at(partition, int(tip["sequence"]) + 1, str(tip["hash"]))
            decided += self.decided.load(partition, trusted)
            notices += self.notices_sent.load(self.settings, self.serde, partition, state[(t.notices, partition)])
        return {"decided_loaded": decided, "notices_loaded": notices}

    def drop_partitions(self, partitions: list[int]) -> None:
        for partition in partitions:
            self.audit.forget(partition)
            self.decided.drop(partition)
            self.notices_sent.drop(partition)

    def _checkpoints(self) -> dict[str, list[Checkpoint]]:
        """The configured signed checkpoints, or none (a bad file is reported, not trusted)."""
        path = self.settings.audit_checkpoints
        if path is None or not path.exists():
            return {}
        try:
            return load_checkpoints(path, self.settings)
        except CheckpointError as exc:
            log.error("audit checkpoints not used", error=str(exc))
            return {}

    def _chain_tip(self, topic: str, records: list[tuple[int, bytes | None]]) -> dict[str, Any] | None:
        """The chain's last readable record: the one the next record links to."""
        for _, value in reversed(records):
            try:
                return self.serde.decode(topic, "AuditRecord", value)
            except CodecError:
                continue
        return None
