"""The events an accepted action sends: a Disposition, and a Release when the case closes.

Their wire forms are the Avro records schemas/screener.Disposition.avsc and
screener.Release.avsc. A release's id is derived from the payment id alone: there is one release
per held payment, so a consumer that sees the same id twice (a resend after a crash) knows it is
the same event.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ops.workbench.store import CaseRow
from rules.casework import Action, Step


def release_id_of(payment_id: str) -> str:
    return "rel-" + hashlib.sha256(b"release\0" + payment_id.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def build_records(case: CaseRow, action: Action, step: Step, at: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(the Disposition, the Release or None) for an accepted action on a case."""
    disposition: dict[str, Any] = {
        "disposition_id": action.disposition_id,
        "payment_id": case.payment_id,
        "decision_digest": case.decision_digest,
        "decision_screened_at": case.screened_at,
        "kind": action.kind.value,
        "actor": action.actor,
        "role": action.role.value,
        "at": at,
        "reason": action.reason,
        "stop_action": action.stop_action if action.kind.value == "confirm" else None,
        "answers": (case.pending.disposition_id if case.pending else action.answers)
        if action.kind.value in ("approve", "return")
        else None,
        "state": step.case.state.value,
    }
    if step.release is None:
        return disposition, None
    release: dict[str, Any] = {
        "release_id": release_id_of(case.payment_id),
        "payment_id": case.payment_id,
        "outcome": step.release.outcome,
        "stop_action": step.release.stop_action,
        "reason": step.release.reason,
        "decided_by": list(step.release.decided_by),
        "disposition_id": action.disposition_id,
        "decision_digest": case.decision_digest,
        "decided_at": at,
    }
    return disposition, release
