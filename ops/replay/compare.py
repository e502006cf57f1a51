"""One payment's recorded decision beside its replayed one: what changed, hit by hit.

Decisions are compared in their JSON form (SPEC 1.3), the form `screener screen` writes and the
decisions topic carries. A hit is the same hit when its rule, paragraph, action, field and listed
entry are the same: its score and reason may move when the matching is tuned without the hit being
new. The decision's transition (`pass->block`) is what a lookback is about; a decision that keeps
its outcome but gains or loses hits is reported as `hits_changed`, not as a transition.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

HitKey = tuple[str, str, str, str, str]

# What a decision is when there is none: never recorded; not screenable now (dead-lettered).
NONE = "none"
DEAD = "dead-letter"


VERDICTS = ("block", "review", "pass")


def decision_problem(value: object) -> str | None:
    """Why a recorded value is not a decision that can be compared (None: it is one): a JSON
    object with a string payment_id, a decision block/review/pass and, if any, a list of hits that
    are objects. Recorded decisions are input too (a file, a topic, the audit trail)."""
    if not isinstance(value, dict):
        return "not a JSON object"
    if not isinstance(value.get("payment_id"), str) or value.get("decision") not in VERDICTS:
        return "not a decision (needs payment_id and decision block, review or pass)"
    hits = value.get("hits", [])
    if not isinstance(hits, list) or not all(isinstance(h, dict) for h in hits):
        return "hits is not a list of objects"
    return None


def hit_key(hit: Mapping[str, Any]) -> HitKey:
    return (
        str(hit.get("rule", "")),
        str(hit.get("citation", "")),
        str(hit.get("action", "")),
        str(hit.get("field", "")),
        str(hit.get("matched", "")),
    )


def _hits(decision: Mapping[str, Any] | None) -> dict[HitKey, Mapping[str, Any]]:
    if decision is None:
        return {}
    hits: Sequence[Mapping[str, Any]] = decision.get("hits") or ()
    return {hit_key(h): h for h in hits}


@dataclass(frozen=True, slots=True)
class Change:
    """A replayed payment: its decision before and after, and the hits that came and went."""

    payment_id: str
    before: str
    after: str
    hits_added: tuple[Mapping[str, Any], ...]
    hits_removed: tuple[Mapping[str, Any], ...]
    rules_version_before: str | None
    registry_version_before: str | None

    @property
    def recorded(self) -> bool:
        return self.before != NONE

    @property
    def changed(self) -> bool:
        """The outcome moved (only payments with a recorded decision can change)."""
        return self.recorded and self.before != self.after

    @property
    def hits_changed(self) -> bool:
        """The outcome held, but the reasons for it did not."""
        return self.recorded and not self.changed and bool(self.hits_added or self.hits_removed)

    @property
    def transition(self) -> str:
        return f"{self.before}->{self.after}"

    def citations(self, hits: tuple[Mapping[str, Any], ...]) -> list[str]:
        return sorted({str(h.get("citation", "")) for h in hits})

    def to_dict(self, after: Mapping[str, Any] | None) -> dict[str, Any]:
        """The diff line for this payment (JSON Lines, one per replayed payment)."""
        return {
            "payment_id": self.payment_id,
            "before": self.before,
            "after": self.after,
            "changed": self.changed,
            "hits_changed": self.hits_changed,
            "hits_added": list(self.hits_added),
            "hits_removed": list(self.hits_removed),
            "citations_added": self.citations(self.hits_added),
            "citations_removed": self.citations(self.hits_removed),
            "rules_version_before": self.rules_version_before,
            "rules_version_after": after.get("rules_version") if after else None,
            "registry_version_before": self.registry_version_before,
            "registry_version_after": after.get("registry_version") if after else None,
        }


def compare(payment_id: str, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> Change:
    """The change from the recorded decision (None: none recorded) to the replayed one (None: the
    payment could not be screened this time)."""
    old, new = _hits(before), _hits(after)
    return Change(
        payment_id=payment_id,
        before=str(before.get("decision", NONE)) if before is not None else NONE,
        after=str(after.get("decision", NONE)) if after is not None else DEAD,
        hits_added=tuple(h for k, h in new.items() if k not in old),
        hits_removed=tuple(h for k, h in old.items() if k not in new),
        rules_version_before=before.get("rules_version") if before is not None else None,
        registry_version_before=before.get("registry_version") if before is not None else None,
    )
