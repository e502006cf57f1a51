"""The records derived from a decision (SPEC 1.3): block, alert, notice, dead-letter.

These only reshape what the engine decided; ids are deterministic so that a record produced
twice (at-least-once delivery) is the same record, and consumers can deduplicate on its id.
"""

from __future__ import annotations

from typing import Any

from streams.audit import canonical, digest

_STRENGTH = {"block": 3, "review": 2, "info": 1}


def alert_record(decision: dict[str, Any], severity_by_action: dict[str, str]) -> dict[str, Any] | None:
    """An alert for a decision with any review or info hit, or None."""
    actions = [h["action"] for h in decision["hits"]]
    if not any(a in ("review", "info") for a in actions):
        return None
    strongest = max(actions, key=lambda a: _STRENGTH[a])
    return {
        "alert_id": digest(f"{decision['payment_id']}|{canonical(decision['hits'])}".encode())[:32],
        "payment_id": decision["payment_id"],
        "decision": decision["decision"],
        "severity": severity_by_action.get(strongest, "medium"),
        "hits": decision["hits"],
        "citations": decision["citations"],
        "rules_version": decision["rules_version"],
        "registry_version": decision["registry_version"],
        "screened_at": decision["screened_at"],
    }


def notice_id(account_id: str, section: str) -> str:
    """One notice per (account, section), whichever payment triggers it (SPEC 2.4)."""
    return digest(f"{account_id}|{section}".encode())[:32]


def notice_records(decision: dict[str, Any]) -> list[dict[str, Any]]:
    """The notices a decision makes due, as notice records."""
    return [
        {
            "notice_id": notice_id(n["account_id"], n["section"]),
            "account_id": n["account_id"],
            "section": n["section"],
            "citation": n["citation"],
            "text": n["text"],
            "payment_id": decision["payment_id"],
            "issued_at": decision["screened_at"],
            "rules_version": decision["rules_version"],
        }
        for n in decision.get("notices", [])
    ]
