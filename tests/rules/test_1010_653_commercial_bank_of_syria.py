"""31 CFR 1010.653, special measures against Commercial Bank of Syria."""

from typing import Any

from tests.conftest import account, hits_of, payment, registry

CBS = {"bic": "CMSYSYDAXXX", "name": "Commercial Bank of Syria", "country": "SY"}


def _owned(pct: float) -> list[dict[str, Any]]:
    return [
        CBS,
        {
            "bic": "LVTBLBBXXXX",
            "name": "Levant Trade Bank",
            "country": "LB",
            "kind": "subsidiary",
            "parent_bic": "CMSYSYDAXXX",
            "parent_ownership_pct": pct,
        },
    ]


def test_1010_653_b1_account_for_more_than_50_percent_subsidiary_blocks(decide):
    reg = registry([account(holder={"bic": "LVTBLBBX", "name": "Levant Trade Bank"})], _owned(60))
    d = decide(payment(), reg)
    assert hits_of(d, "direct_use") == [("direct_use", "31 CFR 1010.653(b)(1)", "block")]
    assert "subsidiary" in d.hits[0].reason


def test_1010_653_a4_exactly_50_percent_is_not_a_subsidiary(decide):
    reg = registry([account(holder={"bic": "LVTBLBBX", "name": "Levant Trade Bank"})], _owned(50))
    assert decide(payment(), reg).decision == "pass"


def test_1010_653_b2_listed_bic_blocks(decide):
    d = decide(payment(creditor_agent={"bic": "CMSYSYDA"}))
    assert ("indirect_use", "31 CFR 1010.653(b)(2)", "block") in hits_of(d)


def test_1010_653_b2_other_syrian_bank_is_not_covered(decide):
    # Only Commercial Bank of Syria is covered; Syria as such is not.
    assert decide(payment(creditor_agent={"bic": "BSODSYDA", "name": "Bank of Syria and Overseas"})).decision == "pass"


def test_1010_653_b2_name_in_arabic_blocks(decide):
    d = decide(payment(intermediary_agents=[{"name": "المصرف التجاري السوري"}]))
    assert ("indirect_use", "31 CFR 1010.653(b)(2)", "block") in hits_of(d)


def test_1010_653_a1_syrian_lebanese_commercial_bank_is_covered(decide):
    d = decide(payment(creditor_agent={"name": "Syrian Lebanese Commercial Bank S.A.L.", "country": "LB"}))
    assert d.decision == "block"


def test_1010_653_look_alike_commercial_bank_of_ceylon_passes(decide):
    assert (
        decide(payment(creditor_agent={"name": "Commercial Bank of Ceylon PLC", "bic": "CCEYLKLX"})).decision == "pass"
    )


def test_1010_653_b2iA_notice_is_due_once_with_its_text(decide):
    d = decide(payment(creditor_agent={"bic": "CMSYSYDA"}))
    assert [(n.account_id, n.section, n.citation) for n in d.notices] == [
        ("ACC-1", "1010.653", "31 CFR 1010.653(b)(2)(i)(A)")
    ]
    assert "may not be used to provide Commercial Bank of Syria" in d.notices[0].text


def test_1010_653_no_notice_without_an_account(decide):
    d = decide(payment(creditor_agent={"bic": "CMSYSYDA"}, correspondent_account_id=None))
    assert d.decision == "block"
    assert d.notices == ()


# -- Identifiers and text as SWIFT writes it.


def test_1010_653_a1_commercial_bank_of_syria_bic_from_ofac_list_blocks(decide):
    d = decide(payment(intermediary_agents=[{"bic": "CMSYSYDA"}]))
    assert hits_of(d) == [("indirect_use", "31 CFR 1010.653(b)(2)", "block")]


def test_1010_653_a1_central_bank_of_syria_bic_is_not_commercial_bank_of_syria(decide):
    assert decide(payment(intermediary_agents=[{"bic": "CBSYSYDA"}])).decision == "pass"


def test_1010_653_b2_name_wrapped_mid_word_across_lines_blocks(decide):
    lines = ["PAYMENT THROUGH COMMERCIAL BANK OF SY", "RIA DAMASCUS"]
    d = decide(payment(remittance_information=lines))
    assert hits_of(d) == [("indirect_use", "31 CFR 1010.653(b)(2)", "block")]
    assert "wrapped across lines 0-1" in d.hits[0].reason


def test_1010_653_b2_name_wrapped_between_words_blocks(decide):
    d = decide(payment(instructions=["/REC/PAY VIA COMMERCIAL BANK", "OF SYRIA"]))
    assert d.decision == "block"


def test_1010_653_b2_look_alike_wrapped_across_lines_passes(decide):
    lines = ["PAYMENT THROUGH COMMERCIAL BANK OF CE", "YLON COLOMBO"]
    assert decide(payment(remittance_information=lines)).decision == "pass"


def test_1010_653_b2_abbreviation_with_its_seat_blocks(decide):
    d = decide(payment(remittance_information=["COVER VIA CBS DAMASCUS"]))
    assert hits_of(d) == [("indirect_use", "31 CFR 1010.653(b)(2)", "block")]


def test_1010_653_b2_abbreviation_without_its_seat_in_text_passes(decide):
    assert decide(payment(remittance_information=["CBS NEWS SUBSCRIPTION 2025"])).decision == "pass"


def test_1010_653_b2_abbreviation_as_agent_in_syria_blocks_elsewhere_is_review(decide):
    assert decide(payment(creditor_agent={"name": "CBS", "country": "SY"})).decision == "block"
    assert decide(payment(creditor_agent={"name": "CBS", "country": "US"})).decision == "review"
