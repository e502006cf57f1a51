"""The records the agents pass around: where an input came from, what to send, what happened."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass(frozen=True, slots=True)
class Source:
    """Where a record came from."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp: float

    @property
    def instant(self) -> datetime:
        """The record's timestamp: the same on every redelivery, so decisions repeat exactly."""
        return datetime.fromtimestamp(round(self.timestamp, 3), UTC)

    @property
    def position(self) -> str:
        return f"{self.topic}/{self.partition}/{self.offset}"


@dataclass(frozen=True, slots=True)
class Out:
    """A record to send."""

    topic: str
    key: bytes
    value: bytes
    partition: int | None = None


@dataclass(slots=True)
class Outcome:
    """What one input gave: the records to send, and what the metrics count."""

    outputs: list[Out] = field(default_factory=list)
    decision: str | None = None
    dead_letter: bool = False
    replayed: bool = False
    # (store key, notice_id, section) the screen loop records as soon as the notice is produced.
    remember: tuple[str, str, str] | None = None
