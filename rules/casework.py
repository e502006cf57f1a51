"""Casework: how a held payment reaches a decision by a person (the analyst workbench's rules).

A `review` decision holds a payment (SPEC 2) until a person releases or stops it. This module is
the whole of what a person may do to such a case, as a pure function: a case and an action in,
the case's next state (and, when it closes, the release or stop to send back) out, or a refusal
that says why. No clock, no storage, no Kafka: the workbench (ops/workbench/) records what this
returns.

Four eyes. Clearing (releasing) a payment held because of a Section 311 special measure (31 CFR
1010.651-661: the measure forbids the account's use, and the hold is there because an exception,
a nested user or a name match needs a person's judgement) or a blocked-person match (OFAC: the
payment may be property of a blocked person) is proposed by one person and takes effect only
when a second, different person with the approver role approves it. Stopping needs no second
person: it keeps the payment where the rules put it. The bank's policy may ask for more; this is
the floor the workbench enforces.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

from rules.decision import Hit

# Blocked-person hits (rules/checks/blocked_persons.py: RULE and POSSIBLE); not imported from there
# so that the workbench can load this module without the matching engine's indexes.
BLOCKED_PERSON_RULES = frozenset({"blocked_person", "possible_match"})

# Bounds on what a person types: a reason is kept for years in the trail and on two topics.
MAX_REASON_CHARS = 4_000
MAX_ACTOR_CHARS = 200

_SECTION = re.compile(r"\b(\d{3,4}\.\d{1,4})\b")


class State(StrEnum):
    OPEN = "open"
    ESCALATED = "escalated"
    PENDING_APPROVAL = "pending_approval"
    RELEASED = "released"
    STOPPED = "stopped"

    @property
    def closed(self) -> bool:
        return self in (State.RELEASED, State.STOPPED)


class Kind(StrEnum):
    CLEAR = "clear"  # release the payment (proposed, when four eyes apply)
    CONFIRM = "confirm"  # stop it: block or reject, with the reason
    ESCALATE = "escalate"  # to an approver
    COMMENT = "comment"
    APPROVE = "approve"  # the second person's approval of a proposed clear
    RETURN = "return"  # a proposed clear sent back, not approved


class Role(StrEnum):
    ANALYST = "analyst"
    APPROVER = "approver"
    AUDITOR = "auditor"  # reads everything, changes nothing


STOP_ACTIONS = ("block", "reject")


class Refused(ValueError):  # noqa: N818 (a refusal is an outcome people see, not a fault)
    """An action the rules do not allow; `code` is stable for APIs, the message is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Proposal:
    """A clear waiting for a second person."""

    disposition_id: str
    actor: str
    reason: str
    returns_to: State  # the state a return puts the case back in


@dataclass(frozen=True, slots=True)
class Case:
    """What the rules need to know about one held payment."""

    payment_id: str
    four_eyes: tuple[str, ...]  # why a clear needs a second person (empty: it does not)
    state: State = State.OPEN
    pending: Proposal | None = None


@dataclass(frozen=True, slots=True)
class Action:
    """A person's request: who, in which role, what, and why."""

    disposition_id: str
    kind: Kind
    actor: str
    role: Role
    reason: str
    stop_action: str | None = None
    answers: str | None = None  # approve/return: the proposal's disposition_id


@dataclass(frozen=True, slots=True)
class Release:
    """The outcome sent back to core banking, once per held payment."""

    outcome: str  # release or stop
    stop_action: str | None
    reason: str
    decided_by: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Step:
    """What an accepted action does: the case after it, and the release when it closes the case."""

    case: Case
    release: Release | None = None


def section_of(citation: str) -> str | None:
    """`31 CFR 1010.659(b)(2)` -> `1010.659`; None for a citation without a CFR section."""
    found = _SECTION.search(citation[:200])
    return found.group(1) if found else None


def four_eyes_reasons(hits: Iterable[Hit], special_measure_sections: Collection[str]) -> tuple[str, ...]:
    """The hits that make a clear need a second person, as `rule citation` lines (sorted, unique).

    Only the hits that hold the payment count (`review`; a `block` hit never reaches a case and an
    `info` hit holds nothing): a special-measure paragraph (31 CFR 1010.651-661, the sections
    whose measure files are of kind special_measure) or a blocked-person match."""
    reasons: set[str] = set()
    for hit in hits:
        if hit.action == "info":
            continue
        if hit.rule in BLOCKED_PERSON_RULES or section_of(hit.citation) in special_measure_sections:
            reasons.add(f"{hit.rule} {hit.citation}")
    return tuple(sorted(reasons))


def decide(case: Case, action: Action) -> Step:
    """The case after the action, or Refused. Pure: the caller records the step atomically."""
    _check_person(action)
    if case.state.closed:
        raise Refused("closed", f"the case is closed ({case.state}): nothing more can be done to it")
    if action.role is Role.AUDITOR:
        raise Refused("read_only", "an auditor reads cases and changes nothing")
    if action.kind is Kind.COMMENT:
        return Step(case)
    if case.state is State.PENDING_APPROVAL:
        return _answer_proposal(case, action)
    if action.kind in (Kind.APPROVE, Kind.RETURN):
        raise Refused("nothing_to_approve", "no clear is waiting for approval on this case")
    if case.state is State.ESCALATED and action.role is not Role.APPROVER:
        raise Refused("escalated", "the case is escalated: an approver decides it")
    if action.kind is Kind.ESCALATE:
        if case.state is State.ESCALATED:
            raise Refused("escalated", "the case is already escalated")
        return Step(replace(case, state=State.ESCALATED))
    if action.kind is Kind.CONFIRM:
        if action.stop_action not in STOP_ACTIONS:
            raise Refused("stop_action", f"a confirm says how the payment is stopped: one of {', '.join(STOP_ACTIONS)}")
        closed = replace(case, state=State.STOPPED, pending=None)
        return Step(closed, Release("stop", action.stop_action, action.reason, (action.actor,)))
    # Kind.CLEAR
    if case.four_eyes:
        proposal = Proposal(action.disposition_id, action.actor, action.reason, case.state)
        return Step(replace(case, state=State.PENDING_APPROVAL, pending=proposal))
    closed = replace(case, state=State.RELEASED, pending=None)
    return Step(closed, Release("release", None, action.reason, (action.actor,)))


def _answer_proposal(case: Case, action: Action) -> Step:
    proposal = case.pending
    if proposal is None:  # a case loaded in this state without its proposal: refuse, never guess
        raise Refused("inconsistent", "the case waits for approval but its proposal is unknown")
    if action.kind not in (Kind.APPROVE, Kind.RETURN):
        raise Refused("pending_approval", "a clear is waiting for approval: approve it or return it first")
    if action.role is not Role.APPROVER:
        raise Refused("not_approver", "only an approver can approve or return a proposed clear")
    if action.answers is not None and action.answers != proposal.disposition_id:
        raise Refused("stale", "the proposal answered is no longer the one waiting: reload the case")
    if action.kind is Kind.RETURN:
        return Step(replace(case, state=proposal.returns_to, pending=None))
    if action.actor.casefold() == proposal.actor.casefold():
        raise Refused("four_eyes", "four eyes: a person cannot approve their own disposition")
    closed = replace(case, state=State.RELEASED, pending=None)
    reason = f"{proposal.reason}\n\nApproved: {action.reason}" if action.reason else proposal.reason
    return Step(closed, Release("release", None, reason, (proposal.actor, action.actor)))


def _check_person(action: Action) -> None:
    if not action.actor.strip() or len(action.actor) > MAX_ACTOR_CHARS:
        raise Refused("actor", "an action names the person who takes it")
    if len(action.reason) > MAX_REASON_CHARS:
        raise Refused("reason_too_long", f"a reason is at most {MAX_REASON_CHARS} characters")
    if not _is_text(action.reason):
        # A lone surrogate (a JSON escape, a form in an odd charset) cannot be encoded: recorded,
        # it would stop the publisher (its Avro encoding fails) and the trail would never have it.
        raise Refused(
            "reason_text", "a reason is text, and holds a lone surrogate (half of a UTF-16 pair), which is not"
        )
    needs_reason = action.kind in (Kind.CLEAR, Kind.CONFIRM, Kind.ESCALATE, Kind.COMMENT, Kind.RETURN)
    if needs_reason and not action.reason.strip():
        raise Refused("reason", f"a {action.kind} says why")


def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
