"""The engine as a pure function, and how the decision is composed (SPEC 2)."""

import copy
from datetime import UTC, datetime

from rules import parse_payment, screen
from rules.registry import InstitutionRecord
from tests.conftest import SCREENED_AT, account, payment, registry


def test_same_inputs_give_the_same_decision(rules):
    reg = registry()
    pay = parse_payment(payment(intermediary_agents=[{"bic": "KKBCKPPY"}], creditor={"name": "Choe Chol Min"}))
    assert screen(pay, reg, rules, SCREENED_AT) == screen(pay, reg, rules, SCREENED_AT)


def test_screening_mutates_neither_payment_nor_registry(rules):
    reg = registry([account(nested_institutions=[{"name": "FBME Bank Ltd"}])])
    pay = parse_payment(payment())
    before = (copy.deepcopy(pay.model_dump()), reg.version, [a.model_dump() for a in reg.accounts()])
    screen(pay, reg, rules, SCREENED_AT)
    assert before == (pay.model_dump(), reg.version, [a.model_dump() for a in reg.accounts()])


def test_a_registry_change_reaches_the_next_decision_through_the_evidence_memo(rules):
    """Institution evidence is memoised per rule set, keyed by the registry's content version:
    the same registry object, changed, must not be answered from the memo."""
    reg = registry()
    pay = parse_payment(payment())
    assert screen(pay, reg, rules, SCREENED_AT).decision == "pass"
    reg.put_institution(InstitutionRecord(bic="NRTHNOKK", name="Northern Fjord Bank ASA", country="KP"))
    after = screen(pay, reg, rules, SCREENED_AT)
    assert after.decision == "block" and any(c.startswith("31 CFR 1010.659") for c in after.citations)
    reg.delete_institution("NRTHNOKK")
    assert screen(pay, reg, rules, SCREENED_AT).decision == "pass"


def test_screened_at_is_the_instant_given_not_the_clock(rules):
    instant = datetime(2031, 3, 4, 5, 6, tzinfo=UTC)
    assert screen(parse_payment(payment()), registry(), rules, instant).screened_at == instant


def test_decision_is_the_strongest_action_and_citations_are_sorted_unique(decide):
    d = decide(
        payment(
            intermediary_agents=[{"bic": "KKBCKPPY"}, {"bic": "MELIIRTH"}],
            creditor={"name": "Choe Chol Min", "country": "US"},
        ),
        registry([account(holder={"bic": "CRLBBSNS", "name": "Coral Reef Bank", "license": "offshore"})]),
    )
    assert d.decision == "block"
    assert list(d.citations) == sorted(set(d.citations))
    assert {h.action for h in d.hits} == {"block", "review", "info"}


def test_every_hit_has_a_readable_reason_and_a_citation(decide):
    d = decide(payment(intermediary_agents=[{"bic": "KKBCKPPY"}], remittance_information=["via FBME"]))
    for hit in d.hits:
        assert hit.citation.startswith("31 CFR 1010.")
        assert hit.reason.endswith(".") and len(hit.reason) > 40


def test_decision_records_rules_and_registry_versions(decide, rules):
    reg = registry()
    d = decide(payment(), reg)
    assert (d.rules_version, d.registry_version) == (rules.version, reg.version)
