"""A decision on its way out: the engine's typed Decision in its wire form, built once.

The wire form (the JSON form of SPEC 1.3, which is also the Avro datum) and its canonical JSON
are computed once per payment, and every output reuses them: the decision record, its block
copy, the alert, the notice requests, the audit record's body and the decided store. A payment
seen again gets its first decision back from its canonical JSON (the decided store), not
re-screened.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import orjson

from rules.decision import Decision, Verdict


def canonical_json(value: Any) -> str:
    """Sorted keys, no white space, UTF-8 as is: the same text as
    json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False) for the strings,
    integers and lists of a decision (orjson, about ten times faster; floats may be spelt
    differently, e.g. 1e-05 as 0.00001, which is the same number). A value orjson refuses (a lone
    surrogate from a JSON escape) goes through the standard library instead."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode("utf-8")
    except TypeError:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """One decision's wire form and canonical JSON, computed once and shared by every output."""

    payment_id: str
    verdict: Verdict
    screened_at: str
    rules_version: str
    registry_version: str
    wire: dict[str, Any]
    canonical: str

    @classmethod
    def of(cls, decision: Decision) -> DecisionRecord:
        wire = decision.to_dict()
        return cls(
            decision.payment_id,
            decision.decision,
            wire["screened_at"],
            decision.rules_version,
            decision.registry_version,
            wire,
            canonical_json(wire),
        )

    @classmethod
    def recorded(cls, canonical: str) -> DecisionRecord:
        """A decision as the decided store (the audit chain) holds it."""
        wire = json.loads(canonical)
        return cls(
            wire["payment_id"],
            wire["decision"],
            wire["screened_at"],
            wire["rules_version"],
            wire["registry_version"],
            wire,
            canonical,
        )

    @property
    def hits(self) -> list[dict[str, Any]]:
        hits: list[dict[str, Any]] = self.wire["hits"]
        return hits

    @property
    def notices(self) -> list[dict[str, Any]]:
        notices: list[dict[str, Any]] = self.wire.get("notices", [])
        return notices
