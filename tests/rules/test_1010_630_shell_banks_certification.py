"""31 CFR 1010.630: foreign shell banks, certification and verification."""

import pytest

from tests.conftest import account, hits_of, payment, registry

SHELL = {"bic": "NWHRKYKY", "name": "Nowhere Trust Bank", "country": "KY", "shell_bank": True}


def test_1010_630_a1i_shell_bank_holder_blocks(decide):
    d = decide(payment(), registry([account(holder=SHELL)]))
    assert hits_of(d) == [("shell_bank", "31 CFR 1010.630(a)(1)(i)", "block")]


def test_1010_630_a1iii_regulated_affiliate_passes(decide):
    d = decide(payment(), registry([account(holder={**SHELL, "regulated_affiliate": True})]))
    assert d.decision == "pass"


def test_1010_630_a1ii_nested_shell_bank_is_reviewed(decide):
    d = decide(
        payment(),
        registry([account(nested_institutions=[{"name": "Phantom Island Bank", "shell_bank": True}])]),
    )
    assert hits_of(d) == [("nested_shell_bank", "31 CFR 1010.630(a)(1)(ii)", "review")]


def test_1010_630_a1ii_nested_regulated_affiliate_passes(decide):
    nested = [{"name": "Phantom Island Bank", "shell_bank": True, "regulated_affiliate": True}]
    assert decide(payment(), registry([account(nested_institutions=nested)])).decision == "pass"


@pytest.mark.parametrize(
    ("created", "decision"),
    [
        ("2025-06-09T15:00:00Z", "pass"),  # day 30 after opening: still inside the window
        ("2025-06-10T15:00:00Z", "block"),  # day 31
    ],
)
def test_1010_630_d2_certification_due_within_30_calendar_days(decide, created, decision):
    reg = registry([account(opened_on="2025-05-10", certified_on=None)])
    d = decide(payment(created_at=created), reg)
    assert d.decision == decision
    if decision == "block":
        assert hits_of(d) == [("no_certification", "31 CFR 1010.630(d)(2)", "block")]


@pytest.mark.parametrize(
    ("created", "decision"),
    [
        ("2025-06-01T15:00:00Z", "pass"),  # exactly three years after 2022-06-01
        ("2025-06-02T15:00:00Z", "block"),  # more than three years old
    ],
)
def test_1010_630_d2_recertification_every_three_years(decide, created, decision):
    d = decide(payment(created_at=created), registry([account(certified_on="2022-06-01")]))
    assert d.decision == decision


def test_1010_630_d2_transaction_to_close_the_account_is_permitted(decide):
    d = decide(payment(purpose="ACCOUNT_CLOSURE"), registry([account(certified_on="2020-01-01")]))
    assert d.decision == "pass"
    assert hits_of(d) == [("no_certification", "31 CFR 1010.630(d)(2)", "info")]


def test_1010_630_d1_account_existing_on_28_october_2002_had_until_31_march_2003(decide):
    reg = registry([account(opened_on="2001-05-01", certified_on=None)])
    assert decide(payment(created_at="2003-03-31T15:00:00Z"), reg).decision == "pass"
    d = decide(payment(created_at="2003-04-01T15:00:00Z"), reg)
    assert hits_of(d) == [("no_certification", "31 CFR 1010.630(d)(1)", "block")]


@pytest.mark.parametrize(
    ("requested", "decision"),
    [
        ("2025-03-12", "pass"),  # 90 days before 2025-06-10
        ("2025-03-11", "block"),  # 91 days before
    ],
)
def test_1010_630_d3_verification_within_90_calendar_days(decide, requested, decision):
    d = decide(payment(), registry([account(verification_requested_on=requested)]))
    assert d.decision == decision
    if decision == "block":
        assert hits_of(d) == [("verification_lapse", "31 CFR 1010.630(d)(3)", "block")]


def test_1010_630_d3_closing_transaction_is_permitted(decide):
    d = decide(payment(purpose="ACCOUNT_CLOSURE"), registry([account(verification_requested_on="2025-01-02")]))
    assert d.decision == "pass"
