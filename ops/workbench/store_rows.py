"""The store's records: a case as read back, an outbox entry, a session, a decision to open a case."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rules.casework import Action, Case, Proposal, State, Step


def case_id_of(payment_id: str) -> str:
    """A short, URL-safe, stable id for a payment's case (payment ids may hold any character)."""
    return hashlib.sha256(payment_id.encode("utf-8", "surrogatepass")).hexdigest()[:20]


@dataclass(frozen=True, slots=True)
class CaseRow:
    case_id: str
    payment_id: str
    decision: dict[str, Any]
    decision_digest: str
    screened_at: str
    severity: str
    four_eyes: tuple[str, ...]
    state: State
    pending: Proposal | None
    account_id: str
    opened_at: str
    updated_at: str
    source: str

    def as_case(self) -> Case:
        return Case(self.payment_id, self.four_eyes, self.state, self.pending)


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    seq: int
    kind: str
    event_id: str
    payment_id: str
    record: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Session:
    user_name: str
    csrf: str
    expires_at: float


@dataclass(frozen=True, slots=True)
class NewCase:
    """A review decision read from the decisions topic, ready to open a case."""

    payment_id: str
    decision_json: str
    screened_at: str
    four_eyes: tuple[str, ...]
    account_id: str
    search: str
    source: str


# Built by the caller from the case and the accepted step: (disposition record, release record).
RecordBuilder = Callable[[CaseRow, Action, Step], tuple[dict[str, Any], dict[str, Any] | None]]


def proposal_json(p: Proposal | None) -> str | None:
    if p is None:
        return None
    return json.dumps(
        {"disposition_id": p.disposition_id, "actor": p.actor, "reason": p.reason, "returns_to": p.returns_to.value}
    )


def case_row(row: Any) -> CaseRow:
    pending = None
    if row["pending"]:
        p = json.loads(row["pending"])
        pending = Proposal(str(p["disposition_id"]), str(p["actor"]), str(p["reason"]), State(p["returns_to"]))
    return CaseRow(
        case_id=str(row["case_id"]),
        payment_id=str(row["payment_id"]),
        decision=json.loads(row["decision"]),
        decision_digest=str(row["decision_digest"]),
        screened_at=str(row["screened_at"]),
        severity=str(row["severity"]),
        four_eyes=tuple(json.loads(row["four_eyes"])),
        state=State(row["state"]),
        pending=pending,
        account_id=str(row["account_id"]),
        opened_at=str(row["opened_at"]),
        updated_at=str(row["updated_at"]),
        source=str(row["source"]),
    )
