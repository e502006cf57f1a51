"""31 CFR 1010.660, special measures against Bank of Dandong."""

from tests.conftest import account, hits_of, payment, registry

DANDONG = [
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


def test_1010_660_payment_before_publication_is_not_screened_under_it(decide):
    d = decide(payment(intermediary_agents=[{"name": "Bank of Dandong"}], created_at="2017-06-01T12:00:00Z"))
    assert d.decision == "pass"
