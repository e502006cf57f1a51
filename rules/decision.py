"""What the engine returns: hits, notices due, and one decision per payment (SPEC 1.3)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Action = Literal["block", "review", "info"]
ACTIONS: tuple[Action, ...] = ("block", "review", "info")
Verdict = Literal["block", "review", "pass"]

_STRENGTH: dict[str, int] = {"block": 3, "review": 2, "info": 1, "pass": 0}


def strongest(actions: list[Action]) -> Verdict:
    """SPEC 2: the decision is the strongest action among the hits: block > review > pass."""
    if "block" in actions:
        return "block"
    if "review" in actions:
        return "review"
    return "pass"


def action_strength(action: str) -> int:
    return _STRENGTH[action]


@dataclass(frozen=True, slots=True)
class Hit:
    """One reason a payment is stopped, held or flagged."""

    rule: str
    citation: str
    action: Action
    field: str
    value: str
    matched: str
    score: float
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "citation": self.citation,
            "action": self.action,
            "field": self.field,
            "value": self.value,
            "matched": self.matched,
            "score": self.score,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class NoticeDue:
    """A notice the bank owes a correspondent-account holder (SPEC 2.4)."""

    account_id: str
    section: str
    citation: str
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "section": self.section,
            "citation": self.citation,
            "text": self.text,
        }


@dataclass(frozen=True, slots=True)
class Decision:
    """The screening result for one payment."""

    payment_id: str
    decision: Verdict
    hits: tuple[Hit, ...]
    citations: tuple[str, ...]
    rules_version: str
    registry_version: str
    screened_at: datetime
    notices: tuple[NoticeDue, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of the decision record (SPEC 1.3)."""
        return {
            "payment_id": self.payment_id,
            "decision": self.decision,
            "hits": [h.to_dict() for h in self.hits],
            "citations": list(self.citations),
            "rules_version": self.rules_version,
            "registry_version": self.registry_version,
            "screened_at": self.screened_at.isoformat(),
            "notices": [n.to_dict() for n in self.notices],
        }
