"""Casework rules (rules/casework.py): who may do what to a held payment, and four eyes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.casework import (
    MAX_REASON_CHARS,
    Action,
    Case,
    Kind,
    Refused,
    Role,
    State,
    decide,
    four_eyes_reasons,
    section_of,
)
from rules.decision import Action as HitAction
from rules.decision import Hit

SPECIAL = {"1010.651", "1010.653", "1010.658", "1010.659", "1010.660", "1010.661"}


def hit(rule: str, citation: str, action: HitAction = "review") -> Hit:
    return Hit(rule, citation, action, "f", "v", "m", 100.0, "r")


def act(kind: Kind, actor: str = "ann", role: Role = Role.ANALYST, reason: str = "checked", **kw: str) -> Action:
    return Action(f"d-{kind}-{actor}", kind, actor, role, reason, **kw)


FOUR_EYES = Case("P-1", ("authorised_exception 31 CFR 1010.661(b)(1)",))
PLAIN = Case("P-2", ())


@pytest.mark.parametrize(
    ("hits", "expected"),
    [
        ([hit("authorised_exception", "31 CFR 1010.661(b)(1)")], ("authorised_exception 31 CFR 1010.661(b)(1)",)),
        ([hit("indirect_use", "31 CFR 1010.658(b)(2)(iii)")], ("indirect_use 31 CFR 1010.658(b)(2)(iii)",)),
        (
            [hit("blocked_person", "OFAC SDN List, entry 1; E.O. 13382")],
            ("blocked_person OFAC SDN List, entry 1; E.O. 13382",),
        ),
        (
            [hit("possible_match", "OFAC Consolidated List, entry 9")],
            ("possible_match OFAC Consolidated List, entry 9",),
        ),
        # Account rules and termination notices are not special measures: one person may clear them.
        ([hit("termination_notice", "31 CFR 1010.670(d)")], ()),
        ([hit("nested_shell_bank", "31 CFR 1010.630(a)(1)(ii)")], ()),
        # An info hit holds nothing, even when it cites a special-measure section.
        ([hit("enhanced_due_diligence", "31 CFR 1010.661(b)(1)", "info")], ()),
    ],
)
def test_four_eyes_reasons(hits: list[Hit], expected: tuple[str, ...]) -> None:
    assert four_eyes_reasons(hits, SPECIAL) == expected


def test_four_eyes_reasons_are_sorted_and_unique() -> None:
    hits = [hit("indirect_use", "31 CFR 1010.659(b)(2)")] * 2 + [hit("blocked_person", "OFAC SDN List, entry 2")]
    assert four_eyes_reasons(hits, SPECIAL) == (
        "blocked_person OFAC SDN List, entry 2",
        "indirect_use 31 CFR 1010.659(b)(2)",
    )


def test_section_of() -> None:
    assert section_of("31 CFR 1010.659(b)(2)") == "1010.659"
    assert section_of("OFAC SDN List, entry 15603; E.O. 13382") is None


def test_clear_without_four_eyes_releases_at_once() -> None:
    step = decide(PLAIN, act(Kind.CLEAR))
    assert step.case.state is State.RELEASED
    assert step.release is not None
    assert (step.release.outcome, step.release.decided_by) == ("release", ("ann",))


def test_four_eyes_clear_waits_for_a_second_approver() -> None:
    proposed = decide(FOUR_EYES, act(Kind.CLEAR, "ann"))
    assert proposed.case.state is State.PENDING_APPROVAL
    assert proposed.release is None
    assert proposed.case.pending is not None
    assert proposed.case.pending.actor == "ann"
    answer = proposed.case.pending.disposition_id
    # The proposer cannot approve it, even as an approver and whatever the case of the name.
    with pytest.raises(Refused) as own:
        decide(proposed.case, act(Kind.APPROVE, "ANN", Role.APPROVER, answers=answer))
    assert own.value.code == "four_eyes"
    # An analyst cannot approve.
    with pytest.raises(Refused) as analyst:
        decide(proposed.case, act(Kind.APPROVE, "bob", Role.ANALYST, answers=answer))
    assert analyst.value.code == "not_approver"
    approved = decide(proposed.case, act(Kind.APPROVE, "bob", Role.APPROVER, answers=answer))
    assert approved.case.state is State.RELEASED
    assert approved.release is not None
    assert approved.release.decided_by == ("ann", "bob")


def test_an_approver_clearing_a_four_eyes_case_still_needs_another_approver() -> None:
    proposed = decide(FOUR_EYES, act(Kind.CLEAR, "carol", Role.APPROVER))
    assert proposed.case.state is State.PENDING_APPROVAL
    with pytest.raises(Refused):
        decide(proposed.case, act(Kind.APPROVE, "carol", Role.APPROVER))


def test_stale_approval_and_other_actions_while_pending_are_refused() -> None:
    proposed = decide(FOUR_EYES, act(Kind.CLEAR)).case
    with pytest.raises(Refused) as stale:
        decide(proposed, act(Kind.APPROVE, "bob", Role.APPROVER, answers="d-other"))
    assert stale.value.code == "stale"
    for kind in (Kind.CLEAR, Kind.CONFIRM, Kind.ESCALATE):
        with pytest.raises(Refused) as busy:
            decide(proposed, act(kind, "bob", Role.APPROVER, stop_action="block"))
        assert busy.value.code == "pending_approval"
    # A comment is always welcome on an open case.
    assert decide(proposed, act(Kind.COMMENT, "bob")).case == proposed


def test_return_puts_the_case_back_where_it_was() -> None:
    escalated = decide(FOUR_EYES, act(Kind.ESCALATE)).case
    proposed = decide(escalated, act(Kind.CLEAR, "carol", Role.APPROVER)).case
    returned = decide(proposed, act(Kind.RETURN, "dave", Role.APPROVER, reason="licence expired")).case
    assert returned.state is State.ESCALATED
    assert returned.pending is None


def test_confirm_stops_with_block_or_reject_and_needs_no_second_person() -> None:
    for stop in ("block", "reject"):
        step = decide(FOUR_EYES, act(Kind.CONFIRM, stop_action=stop))
        assert step.case.state is State.STOPPED
        assert step.release is not None
        assert (step.release.outcome, step.release.stop_action) == ("stop", stop)
    with pytest.raises(Refused) as bad:
        decide(FOUR_EYES, act(Kind.CONFIRM, stop_action="hold"))
    assert bad.value.code == "stop_action"
    with pytest.raises(Refused):
        decide(FOUR_EYES, act(Kind.CONFIRM))


def test_escalated_case_is_decided_by_an_approver() -> None:
    escalated = decide(PLAIN, act(Kind.ESCALATE)).case
    assert escalated.state is State.ESCALATED
    with pytest.raises(Refused) as analyst:
        decide(escalated, act(Kind.CLEAR))
    assert analyst.value.code == "escalated"
    with pytest.raises(Refused):
        decide(escalated, act(Kind.ESCALATE, "bob", Role.APPROVER))
    assert decide(escalated, act(Kind.CLEAR, "bob", Role.APPROVER)).case.state is State.RELEASED


def test_closed_cases_and_auditors_change_nothing() -> None:
    released = decide(PLAIN, act(Kind.CLEAR)).case
    stopped = decide(PLAIN, act(Kind.CONFIRM, stop_action="reject")).case
    for closed in (released, stopped):
        for kind in Kind:
            with pytest.raises(Refused) as refused:
                decide(closed, act(kind, "bob", Role.APPROVER, stop_action="block"))
            assert refused.value.code == "closed"
    for kind in Kind:
        with pytest.raises(Refused) as auditor:
            decide(PLAIN, act(kind, "eve", Role.AUDITOR, stop_action="block"))
        assert auditor.value.code == "read_only"


def test_approve_with_nothing_pending_is_refused() -> None:
    with pytest.raises(Refused) as refused:
        decide(FOUR_EYES, act(Kind.APPROVE, "bob", Role.APPROVER))
    assert refused.value.code == "nothing_to_approve"


@pytest.mark.parametrize("kind", [Kind.CLEAR, Kind.CONFIRM, Kind.ESCALATE, Kind.COMMENT, Kind.RETURN])
def test_a_reason_is_required(kind: Kind) -> None:
    with pytest.raises(Refused) as refused:
        decide(PLAIN, act(kind, reason="  ", stop_action="block"))
    assert refused.value.code == "reason"


def test_bounds_on_what_a_person_types() -> None:
    with pytest.raises(Refused):
        decide(PLAIN, act(Kind.COMMENT, reason="x" * (MAX_REASON_CHARS + 1)))
    with pytest.raises(Refused):
        decide(PLAIN, act(Kind.COMMENT, actor=" "))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(list(Kind)),
            st.sampled_from(["ann", "bob", "carol"]),
            st.sampled_from(list(Role)),
            st.sampled_from(["", "why", None]),
        ),
        max_size=12,
    ),
    st.booleans(),
)
def test_no_sequence_releases_a_four_eyes_case_on_one_persons_word(
    steps: list[tuple[Kind, str, Role, str | None]], four_eyes: bool
) -> None:
    """Whatever is tried, a case closes at most once, and a four-eyes release names two people."""
    case = FOUR_EYES if four_eyes else PLAIN
    releases = 0
    for n, (kind, actor, role, reason) in enumerate(steps):
        pending = case.pending.disposition_id if case.pending else None
        action = Action(f"d{n}", kind, actor, role, reason or "", stop_action="block", answers=pending)
        try:
            step = decide(case, action)
        except Refused:
            continue
        case = step.case
        if step.release is not None:
            releases += 1
            if four_eyes and step.release.outcome == "release":
                assert len({p.casefold() for p in step.release.decided_by}) == 2
    assert releases <= 1
    assert (releases == 1) == case.state.closed


def test_a_reason_that_is_not_unicode_text_is_refused() -> None:
    """A lone surrogate (from a JSON escape) cannot be encoded: recorded, it would stop the
    publisher, whose Avro encoding of the disposition fails."""
    for kind in (Kind.COMMENT, Kind.CLEAR, Kind.APPROVE):
        case = PLAIN
        if kind is Kind.APPROVE:
            case = decide(FOUR_EYES, act(Kind.CLEAR)).case
        with pytest.raises(Refused) as refused:
            decide(case, act(kind, actor="bob", role=Role.APPROVER, reason="a namesake \ud800"))
        assert refused.value.code == "reason_text"
    assert decide(PLAIN, act(Kind.COMMENT, reason="Ünïcode, 名前, 🙂")).case == PLAIN
