"""One record of the workbench's feed, read: a decision's payment id, and a review's case.

Pure functions of the decoded record (no consumer, no store), so that what opens a case, and why a
record is passed over, can be read and tested on their own. A record of the wrong shape raises
Skip, whose message names what is wrong and never the record's content.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from ops.workbench.store import NewCase
from rules.casework import four_eyes_reasons
from rules.decision import ACTIONS, Hit
from streams.decision_record import canonical_json
from streams.ports import Record

MAX_SEARCH_CHARS = 4_000
MAX_REASON_CHARS = 200
_HIT_TEXT = ("rule", "citation", "action", "field", "value", "matched", "reason")


class Skip(ValueError):  # noqa: N818 (a record passed over, not a fault of the feed)
    """A record the feed passes over; the message names no content, only what is wrong."""


def decision_payment_id(wire: dict[str, Any]) -> str:
    """The decision's payment id, or Skip when the record is not a decision."""
    payment_id, verdict = wire.get("payment_id"), wire.get("decision")
    if not isinstance(payment_id, str) or not payment_id or verdict not in ("block", "review", "pass"):
        raise Skip("not a decision: payment_id or decision missing or unknown")
    return payment_id


def case_of_review(wire: dict[str, Any], account_id: str, sections: Collection[str], source: str) -> NewCase:
    """The case a review decision opens. `account_id` is the held payment's ('' when its bytes are
    not known); the decision's notices name it otherwise."""
    payment_id = decision_payment_id(wire)
    screened_at = wire.get("screened_at")
    if not isinstance(screened_at, str):
        raise Skip("not a decision: screened_at missing")
    hits = [_hit(h) for h in _listed(wire.get("hits"), "hits")]
    account_id = account_id or _notice_account(wire)
    search = " ".join([payment_id, account_id, *(h.value for h in hits), *(h.matched for h in hits)])
    return NewCase(
        payment_id=payment_id,
        # The worker's audit body is this text (streams/decision_record.py): equal digests.
        decision_json=canonical_json(wire),
        screened_at=screened_at,
        four_eyes=four_eyes_reasons(hits, sections),
        account_id=account_id,
        search=search[:MAX_SEARCH_CHARS],
        source=source,
    )


def source_of(msg: Record) -> str:
    return f"{msg.topic()}/{msg.partition()}@{msg.offset()}"


def _listed(value: Any, name: str) -> list[Any]:
    if not isinstance(value, list):
        raise Skip(f"not a decision: {name} is not a list")
    return value


def _hit(value: Any) -> Hit:
    shaped = isinstance(value, dict) and all(isinstance(value.get(k), str) for k in _HIT_TEXT)
    if not shaped or not isinstance(value.get("score"), int | float) or value["action"] not in ACTIONS:
        raise Skip("not a decision: a hit of the wrong shape")
    return Hit(**{k: value[k] for k in _HIT_TEXT}, score=float(value["score"]))


def _notice_account(wire: dict[str, Any]) -> str:
    """The account the decision's notices are addressed to, when they name exactly one: the
    payment's account, for a decision read before its payment."""
    accounts = {n.get("account_id") for n in wire.get("notices") or [] if isinstance(n, dict)}
    return str(accounts.pop()) if len(accounts) == 1 and None not in accounts else ""
