"""31 CFR 1010.610(b)-(c): enhanced due diligence, reported as info hits (an alert, not a stop)."""

from tests.conftest import account, hits_of, payment, registry


def test_1010_610_c1_offshore_licence_is_info_and_passes(decide):
    d = decide(
        payment(),
        registry([account(holder={"bic": "CRLBBSNS", "name": "Coral Reef Bank", "license": "offshore"})]),
    )
    assert d.decision == "pass"
    assert hits_of(d) == [("enhanced_due_diligence", "31 CFR 1010.610(c)(1)", "info")]


def test_1010_610_c1_onshore_licence_has_no_hit(decide):
    assert decide(payment()).hits == ()


def test_1010_610_c2_c3_licence_from_call_for_action_and_special_measures_jurisdiction(decide):
    d = decide(payment(), registry([account(holder={"bic": "MELIIRTH", "name": "Bank Melli Iran"})]))
    assert ("enhanced_due_diligence", "31 CFR 1010.610(c)(2)", "info") in hits_of(d)
    assert ("enhanced_due_diligence", "31 CFR 1010.610(c)(3)", "info") in hits_of(d)


def test_1010_610_a1_unknown_account_is_reviewed(decide):
    d = decide(payment(correspondent_account_id="ACC-NOT-THERE"))
    assert hits_of(d) == [("unknown_account", "31 CFR 1010.610(a)(1)", "review")]
