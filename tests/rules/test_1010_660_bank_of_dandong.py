"""31 CFR 1010.660, special measures against Bank of Dandong."""

from typing import Any

from tests.conftest import account, hits_of, payment, registry

DANDONG: list[dict[str, Any]] = [
    {"bic": "DDGBCNBDXXX", "name": "Bank of Dandong Co., Ltd.", "country": "CN"},
    {
        "bic": "DDGHHKHHXXX",
        "name": "Liaoning Harbour Finance",
        "country": "HK",
        "kind": "subsidiary",
        "parent_bic": "DDGBCNBDXXX",
        "parent_ownership_pct": 80,
    },
]


def test_1010_660_b1_account_for_subsidiary_blocks(decide):
    d = decide(
        payment(),
        registry([account(holder={"bic": "DDGHHKHH", "name": "Liaoning Harbour Finance"})], DANDONG),
    )
    assert hits_of(d) == [("direct_use", "31 CFR 1010.660(b)(1)", "block")]


def test_1010_660_b1_account_for_unrelated_hong_kong_bank_passes(decide):
    d = decide(payment(), registry([account(holder={"bic": "HKHBHKHH", "name": "Harbour City Bank"})], DANDONG))
    assert d.decision == "pass"


def test_1010_660_b2_remittance_text_blocks(decide):
    d = decide(payment(remittance_information=["Settlement 889 via Bank of Dandong"]))
    assert hits_of(d) == [("indirect_use", "31 CFR 1010.660(b)(2)", "block")]


def test_1010_660_b2_chinese_script_blocks(decide):
    assert decide(payment(intermediary_agents=[{"name": "丹东银行"}])).decision == "block"


def test_1010_660_company_sharing_the_citys_name_passes(decide):
    d = decide(
        payment(
            creditor={"name": "Dandong Seafood Trading Co., Ltd.", "country": "CN"},
            remittance_information=["Frozen fish, port of Dandong"],
        )
    )
    assert d.decision == "pass"


def test_1010_660_payment_the_day_before_the_effective_date_is_not_screened_under_it(decide):
    # 82 FR 51758 was published on 8 November 2017 and took effect 30 days later, 8 December 2017.
    d = decide(payment(intermediary_agents=[{"name": "Bank of Dandong"}], created_at="2017-12-07T12:00:00Z"))
    assert d.decision == "pass"


def test_1010_660_payment_on_the_effective_date_blocks(decide):
    d = decide(payment(intermediary_agents=[{"name": "Bank of Dandong"}], created_at="2017-12-08T15:00:00Z"))
    assert hits_of(d) == [("indirect_use", "31 CFR 1010.660(b)(2)", "block")]


# -- Banks as parties, by registry.

DANDONG_HEAD = {"bic": "DDGBCNBDXXX", "name": "Bank of Dandong Co., Ltd.", "country": "CN", "kind": "bank"}
HK_SUB = {
    "bic": "DDGHHKHHXXX",
    "name": "Liaoning Harbour Finance Ltd",
    "country": "HK",
    "kind": "subsidiary",
    "parent_bic": "DDGBCNBDXXX",
    "parent_ownership_pct": 80,
}


def test_1010_660_a5_pacs009_debtor_subsidiary_named_with_its_country_blocks(decide):
    d = decide(
        payment(message_type="pacs.009", debtor={"name": "Liaoning Harbour Finance Ltd", "country": "HK"}),
        registry(institutions=[DANDONG_HEAD, HK_SUB]),
    )
    assert hits_of(d) == [("indirect_use", "31 CFR 1010.660(b)(2)", "block")]


def test_1010_660_a5_pacs009_debtor_same_name_in_another_country_passes(decide):
    d = decide(
        payment(message_type="pacs.009", debtor={"name": "Liaoning Harbour Finance Ltd", "country": "SG"}),
        registry(institutions=[DANDONG_HEAD, HK_SUB]),
    )
    assert d.decision == "pass"
