"""What every agent writes for an input it cannot take: a dead-letter with the original bytes and
a precise, bounded error (SPEC 2.6), and its audit record (31 CFR 1010.630(e) record keeping:
nothing is dropped without a trace)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from schemas.codec import dead_letter_json
from streams.audit import AuditChains
from streams.records import Out, Source
from streams.serde import Serde
from streams.settings import Settings


class Processor:
    """Shared by the agents: settings, codec, audit chains, and the dead-letter they all write."""

    def __init__(self, settings: Settings, serde: Serde, audit: AuditChains) -> None:
        self.settings = settings
        self.serde = serde
        self.audit = audit
        self.topics = settings.topics

    def dead_letter(
        self, src: Source, error: str, chain: int, versions: tuple[str, str], extra: Mapping[str, Any] | None = None
    ) -> list[Out]:
        """The dead-letter record and its audit record; `extra` goes into the audit record's body."""
        record = dead_letter_json(
            error,
            src.value,
            src.instant.isoformat(),
            source_topic=src.topic,
            source_partition=src.partition,
            source_offset=src.offset,
        )
        value = self.serde.encode(self.topics.dead_letter, "DeadLetter", record)
        original_sha256 = record["original_sha256"]
        audit_key, audit_value = self.audit.append(
            chain,
            kind="dead_letter",
            subject_id=src.position,
            input_digest=original_sha256,
            rules_version=versions[0],
            registry_version=versions[1],
            recorded_at=src.instant.isoformat(),
            body={k: v for k, v in record.items() if k not in ("original", "original_base64")}
            | {"original_sha256": original_sha256}
            | dict(extra or {}),
        )
        return [
            Out(self.topics.dead_letter, src.position.encode(), value),
            Out(self.topics.audit, audit_key, audit_value, chain),
        ]
