"""31 CFR 1010.670(d): terminate within 10 business days of a notice (US federal holidays excluded)."""

import pytest

from rules.business_days import add_business_days, us_federal_holidays
from tests.conftest import account, hits_of, payment, registry


def test_1010_670_d_deadline_skips_weekends_and_independence_day():
    # Notice on Friday 27 June 2025; 4 July is a federal holiday.
    assert (
        add_business_days(__import__("datetime").date(2025, 6, 27), 10, us_federal_holidays()).isoformat()
        == "2025-07-14"
    )


@pytest.mark.parametrize(
    ("created", "decision"),
    [
        ("2025-06-26T15:00:00Z", "pass"),  # before the notice was received
        ("2025-06-27T15:00:00Z", "review"),  # the day it was received
        ("2025-07-14T15:00:00Z", "review"),  # the tenth business day
        ("2025-07-15T15:00:00Z", "block"),  # after it
    ],
)
def test_1010_670_d_review_within_ten_business_days_block_after(decide, created, decision):
    d = decide(payment(created_at=created), registry([account(termination_notice_received_on="2025-06-27")]))
    assert d.decision == decision
    if decision != "pass":
        assert hits_of(d) == [("termination_notice", "31 CFR 1010.670(d)", decision)]
