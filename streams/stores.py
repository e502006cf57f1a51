"""The screen loop's state, kept per partition and rebuilt from Kafka when a partition is assigned.

Two stores, both keyed so that they live in the partition of the records they protect:
- `Decided`: payment_id -> {input digest, decision}, so a payment seen again (redelivery after a
  crash, an operator's replay, a producer's retry) gets its first decision back. Its changelog is
  the compacted topic `screening.decided`, written to the payment's own partition.
- `NoticesSent`: "account|section" -> notice_id, so a notice goes out once (SPEC 2.4). Its source
  is the notices topic itself: a notice counts as sent once it is on that topic, so no crash can
  record a notice that was never sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from schemas.codec import CodecError
from streams.logs import get_logger
from streams.serde import Serde
from streams.settings import Settings

log = get_logger("screener.stores")

# (partition, key, value) to the changelog topic.
Sink = Callable[[int, bytes, bytes], None]
# (offset, key, value) as streams.kafka_io.read_partitions returns them.
Record = tuple[int, bytes | None, bytes | None]


class Decided:
    """Decisions already taken, per payments partition."""

    def __init__(self, sink: Sink | None = None) -> None:
        self._parts: dict[int, dict[str, str]] = {}
        self._sink = sink

    def get(self, partition: int, payment_id: str) -> str | None:
        return self._parts.get(partition, {}).get(payment_id)

    def put(self, partition: int, payment_id: str, value: str) -> None:
        self._parts.setdefault(partition, {})[payment_id] = value
        if self._sink is not None:
            self._sink(partition, payment_id.encode(), value.encode())

    def load(self, partition: int, records: Iterable[Record]) -> int:
        """Rebuild one partition from its changelog records; return the entries held."""
        held: dict[str, str] = {}
        for _offset, key, value in records:
            if key is None:
                continue
            if value is None:
                held.pop(key.decode(), None)
            else:
                held[key.decode()] = value.decode()
        self._parts[partition] = held
        return len(held)

    def drop(self, partition: int) -> None:
        self._parts.pop(partition, None)


class NoticesSent:
    """(account, section) pairs whose notice is on the notices topic, per partition."""

    def __init__(self) -> None:
        self._parts: dict[int, dict[str, str]] = {}

    def view(self, partition: int) -> dict[str, str]:
        """The partition's pairs as "account|section" -> notice_id (the notices agent's table)."""
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
