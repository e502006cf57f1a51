"""The screen loop's state, kept per partition and rebuilt from Kafka when a partition is assigned.

Two stores, both keyed so that they live in the partition of the records they protect:
- `Decided`: payment_id -> (input digest, decision), so a payment seen again (redelivery after a
  crash, an operator's replay, a producer's retry) gets its first decision back. Its source is the
  audit chain of the payment's partition, which records every decision with its input digest.
- `NoticesSent`: "account|section" -> notice_id, so a notice goes out once (SPEC 2.4). Its source
  is the notices topic itself: a notice counts as sent once it is on that topic, so no crash can
  record a notice that was never sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from schemas.codec import CodecError
from streams.logs import get_logger
from streams.serde import Serde
from streams.settings import Settings

log = get_logger("screener.stores")

# (offset, key, value) as streams.kafka_io.read_partitions returns them.
Record = tuple[int, bytes | None, bytes | None]


class Decided:
    """Decisions already taken, per payments partition: payment_id -> (input digest, decision as
    canonical JSON). Rebuilt from the partition's own audit chain, whose decision records carry
    both (SPEC 2.5), so the trail is also the store and no extra record is written per payment."""

    def __init__(self) -> None:
        self._parts: dict[int, dict[str, tuple[str, str]]] = {}

    def get(self, partition: int, payment_id: str) -> tuple[str, str] | None:
        return self._parts.get(partition, {}).get(payment_id)

    def put(self, partition: int, payment_id: str, input_digest: str, decision_json: str) -> None:
        self._parts.setdefault(partition, {})[payment_id] = (input_digest, decision_json)

    def load(self, partition: int, audit_records: Iterable[dict[str, Any]]) -> int:
        """Rebuild one partition from its audit chain's records; return the entries held."""
        held: dict[str, tuple[str, str]] = {}
        for record in audit_records:
            if record.get("kind") == "decision":
                held[str(record["subject_id"])] = (str(record["input_digest"]), str(record["body"]))
        self._parts[partition] = held
        return len(held)

    def drop(self, partition: int) -> None:
        self._parts.pop(partition, None)


class NoticesSent:
    """(account, section) pairs whose notice is on the notices topic, per partition."""

    def __init__(self) -> None:
        self._parts: dict[int, dict[str, str]] = {}

    def view(self, partition: int) -> dict[str, str]:
        """The partition's pairs as "account|section" -> notice_id (what NoticeProcessor checks)."""
        return self._parts.setdefault(partition, {})

    def load(self, settings: Settings, serde: Serde, partition: int, records: Iterable[Record]) -> int:
        """Rebuild one partition from the notices topic's records; return the pairs held.

        Notices and notice requests are both keyed by account_id with the same partitioner and
        partition count, so the notices a request partition can repeat are in the same partition.
        """
        held: dict[str, str] = {}
        for offset, _key, value in records:
            try:
                notice = serde.decode(settings.topics.notices, "Notice", value)
            except CodecError as exc:
                log.error("unreadable record on the notices topic", partition=partition, offset=offset, error=str(exc))
                continue
            held[f"{notice['account_id']}|{notice['section']}"] = str(notice["notice_id"])
        self._parts[partition] = held
        return len(held)

    def drop(self, partition: int) -> None:
        self._parts.pop(partition, None)
