"""The records derived from a decision (SPEC 1.3): alert and notice requests.

These only reshape what the engine decided; ids are deterministic so that a record produced
twice (at-least-once delivery) is the same record, and consumers can deduplicate on its id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rules.decision import action_strength
from streams.audit import digest
from streams.decision_record import DecisionRecord, canonical_json


def alert_record(record: DecisionRecord, severity_by_action: Mapping[str, str]) -> dict[str, Any] | None:
    """An alert for a decision with any review or info hit, or None."""
    actions = [h["action"] for h in record.hits]
    if not any(a in ("review", "info") for a in actions):
        return None
    strongest = max(actions, key=action_strength)
    return {
        # The hits' canonical JSON: the same alert id for the same findings on the same payment.
        "alert_id": digest(f"{record.payment_id}|{canonical_json(record.hits)}".encode())[:32],
        "payment_id": record.payment_id,
        "decision": record.verdict,
        "severity": severity_by_action.get(strongest, "medium"),
        "hits": record.hits,
        "citations": record.wire["citations"],
        "rules_version": record.rules_version,
        "registry_version": record.registry_version,
        "screened_at": record.screened_at,
    }


def notice_id(account_id: str, section: str) -> str:
    """One notice per (account, section), whichever payment triggers it (SPEC 2.4)."""
    return digest(f"{account_id}|{section}".encode())[:32]


def notice_records(record: DecisionRecord) -> list[dict[str, Any]]:
    """The notices a decision makes due, as notice records."""
    return [
        {
            "notice_id": notice_id(n["account_id"], n["section"]),
            "account_id": n["account_id"],
            "section": n["section"],
            "citation": n["citation"],
            "text": n["text"],
            "payment_id": record.payment_id,
            "issued_at": record.screened_at,
            "rules_version": record.rules_version,
        }
        for n in record.notices
    ]
