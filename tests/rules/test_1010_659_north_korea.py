"""31 CFR 1010.659, special measures against North Korea."""

from tests.conftest import account, hits_of, payment, registry

NK_BANK = {"bic": "KKBCKPPYXXX", "name": "Korea Kwangson Banking Corporation", "country": "KP"}


def test_1010_659_b1_account_for_north_korean_bank_blocks(decide):
    d = decide(payment(), registry([account(holder={"bic": "KKBCKPPY", "name": "Korea Kwangson Banking Corp"})]))
    assert ("direct_use", "31 CFR 1010.659(b)(1)", "block") in hits_of(d)
    assert "North Korean banking institution" in next(h.reason for h in d.hits if h.rule == "direct_use")


def test_1010_659_b1_account_for_south_korean_bank_passes(decide):
    d = decide(
        payment(),
        registry([account(holder={"bic": "KODBKRSE", "name": "Korea Development Bank", "country": "KR"})]),
    )
    assert d.decision == "pass"


def test_1010_659_b2_subsidiary_holder_falls_under_b2_not_b1(decide):
    # A subsidiary is a North Korean *financial* institution ((a)(2)), not a *banking* one ((a)(1)).
    reg = registry(
        [account(holder={"bic": "JADECNSH", "name": "Jade River Finance"})],
        [
            NK_BANK,
            {
                "bic": "JADECNSHXXX",
                "name": "Jade River Finance",
                "country": "CN",
                "kind": "subsidiary",
                "parent_bic": "KKBCKPPYXXX",
                "parent_ownership_pct": 75,
            },
        ],
    )
    d = decide(payment(), reg)
    assert hits_of(d) == [("indirect_use", "31 CFR 1010.659(b)(2)", "block")]


def test_1010_659_b2_intermediary_bic_blocks(decide):
    d = decide(payment(intermediary_agents=[{"bic": "KKBCKPPY"}]))
    assert hits_of(d) == [("indirect_use", "31 CFR 1010.659(b)(2)", "block")]


def test_1010_659_a2_branch_within_north_korea_of_foreign_bank_blocks(decide):
    d = decide(payment(intermediary_agents=[{"name": "Golden Triangle Bank Pyongyang Branch", "country": "KP"}]))
    assert ("indirect_use", "31 CFR 1010.659(b)(2)", "block") in hits_of(d)


def test_1010_659_b2_bank_named_without_bic_blocks(decide):
    d = decide(payment(creditor_agent={"name": "Korea Kwangson Bank"}))
    assert d.decision == "block"


def test_1010_659_b2_korean_script_name_blocks(decide):
    assert decide(payment(creditor_agent={"name": "조선무역은행"})).decision == "block"


def test_1010_659_look_alikes_korea_development_and_hana_bank_pass(decide):
    assert decide(payment(creditor_agent={"name": "Korea Development Bank", "bic": "KODBKRSE"})).decision == "pass"
    assert decide(payment(creditor_agent={"name": "Hana Bank", "bic": "KOEXKRSE"})).decision == "pass"
    assert decide(payment(creditor_agent={"name": "KEB Hana Bank"})).decision == "pass"


def test_1010_659_address_in_pyongyang_is_a_possible_match_for_review(decide):
    d = decide(payment(intermediary_agents=[{"name": "Golden Star Trading Bank", "address": ["Pyongyang", "DPRK"]}]))
    assert hits_of(d) == [("possible_match", "31 CFR 1010.659(b)(2)", "review")]


def test_1010_659_payment_before_publication_is_not_screened_under_it(decide):
    d = decide(payment(intermediary_agents=[{"bic": "KKBCKPPY"}], created_at="2016-11-08T12:00:00Z"))
    assert d.decision == "pass"


def test_1010_659_b3iA_notice_is_due(decide):
    d = decide(payment(intermediary_agents=[{"bic": "KKBCKPPY"}]))
    assert [(n.section, n.citation) for n in d.notices] == [("1010.659", "31 CFR 1010.659(b)(3)(i)(A)")]
