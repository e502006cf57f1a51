"""31 CFR 1010.610(a)(3): the account's status is a control (closed: nothing but its closure)."""

from tests.conftest import account, hits_of, payment, registry

CLOSURE = "ACCOUNT_CLOSURE"


def test_1010_610_a3_payment_through_closed_account_blocks(decide):
    d = decide(payment(), registry([account(status="closed")]))
    assert hits_of(d) == [("account_closed", "31 CFR 1010.610(a)(3)", "block")]
    assert d.hits[0].field == "account.status"


def test_1010_610_a3_closing_transaction_on_closed_account_is_not_blocked(decide):
    d = decide(payment(purpose=CLOSURE), registry([account(status="closed")]))
    assert d.decision == "pass"
    assert hits_of(d) == [("account_closed", "31 CFR 1010.610(a)(3)", "info")]


def test_1010_610_a3_payment_through_closing_account_is_reviewed(decide):
    d = decide(payment(), registry([account(status="closing")]))
    assert hits_of(d) == [("account_closing", "31 CFR 1010.610(a)(3)", "review")]


def test_1010_610_a3_closing_transaction_on_closing_account_passes_with_info(decide):
    d = decide(payment(purpose=CLOSURE), registry([account(status="closing")]))
    assert d.decision == "pass"


def test_1010_610_a3_open_account_has_no_status_hit(decide):
    assert hits_of(decide(payment(), registry([account(status="open")]))) == []


def test_1010_610_a3_status_actions_come_from_the_measure_file(rules):
    checks = rules.account_rules["1010.610"].checks
    assert (checks["account_closed"].action, checks["account_closing"].action) == ("block", "review")
