"""31 CFR 1010.651, special measures against Burma."""

from tests.conftest import account, hits_of, payment, registry

BURMESE_HOLDER = {"bic": "MFTBMMMY", "name": "Myanma Foreign Trade Bank", "country": "MM"}
THAI_HOLDER = {"bic": "SIAMTHBK", "name": "Siam Riverside Bank", "country": "TH"}
AUTH = {"type": "OFAC specific license", "reference": "MUL-1"}


def test_1010_651_b1_account_for_burmese_bank_blocks(decide):
    d = decide(payment(), registry([account(holder=BURMESE_HOLDER)]))
    assert d.decision == "block"
    assert ("direct_use", "31 CFR 1010.651(b)(1)", "block") in hits_of(d)


def test_1010_651_b1_account_for_thai_bank_passes(decide):
    assert decide(payment(), registry([account(holder=THAI_HOLDER)])).decision == "pass"


def test_1010_651_b2_intermediary_licensed_in_burma_blocks(decide):
    d = decide(payment(intermediary_agents=[{"bic": "KBZBMMMY"}]))
    assert hits_of(d, "indirect_use") == [("indirect_use", "31 CFR 1010.651(b)(2)", "block")]


def test_1010_651_b2_intermediary_licensed_in_thailand_passes(decide):
    assert decide(payment(intermediary_agents=[{"bic": "SIAMTHBK"}])).decision == "pass"


def test_1010_651_b3_authorised_transaction_is_reviewed_not_blocked(decide):
    d = decide(payment(authorization=AUTH), registry([account(holder=BURMESE_HOLDER)]))
    assert d.decision == "review"
    assert ("authorised_exception", "31 CFR 1010.651(b)(3)", "review") in hits_of(d)


def test_1010_651_b3_without_authorization_still_blocks(decide):
    d = decide(payment(intermediary_agents=[{"bic": "KBZBMMMY"}]))
    assert d.decision == "block"
    assert not hits_of(d, "authorised_exception")


def test_1010_651_a1_branch_outside_burma_is_covered(decide):
    reg = registry(
        institutions=[
            {"bic": "MFTBMMMYXXX", "name": "Myanma Foreign Trade Bank", "country": "MM"},
            {
                "bic": "MFTBSGSGXXX",
                "name": "MFTB Singapore",
                "country": "SG",
                "kind": "branch",
                "parent_bic": "MFTBMMMYXXX",
            },
        ]
    )
    d = decide(payment(intermediary_agents=[{"bic": "MFTBSGSG"}]), reg)
    assert ("indirect_use", "31 CFR 1010.651(b)(2)", "block") in hits_of(d)


def test_1010_651_a1_subsidiary_chartered_elsewhere_is_not_covered(decide):
    # (a)(1) reaches branches and offices, not subsidiaries chartered outside Burma.
    reg = registry(
        institutions=[
            {"bic": "MFTBMMMYXXX", "name": "Myanma Foreign Trade Bank", "country": "MM"},
            {
                "bic": "GLDNSGSGXXX",
                "name": "Golden Lotus Bank",
                "country": "SG",
                "kind": "subsidiary",
                "parent_bic": "MFTBMMMYXXX",
                "parent_ownership_pct": 100,
            },
        ]
    )
    assert decide(payment(intermediary_agents=[{"bic": "GLDNSGSG"}]), reg).decision == "pass"


def test_1010_651_b4_no_notice_is_due(decide):
    d = decide(payment(intermediary_agents=[{"bic": "KBZBMMMY"}]))
    assert d.decision == "block"
    assert d.notices == ()


# -- Banks as parties, and the banks-only reach of (a)(1).


def test_1010_651_a1_mt202_creditor_burmese_bank_by_registry_name_blocks(decide):
    reg = registry(institutions=[{"bic": "GVBKMMMYXXX", "name": "Golden Valley Bank", "country": "MM"}])
    d = decide(payment(message_type="MT202", creditor={"name": "Golden Valley Bank"}), reg)
    assert hits_of(d) == [("indirect_use", "31 CFR 1010.651(b)(2)", "block")]


def test_1010_651_a1_mt202_creditor_thai_bank_by_registry_name_passes(decide):
    reg = registry(institutions=[{"bic": "GVBKTHBKXXX", "name": "Golden Valley Bank", "country": "TH"}])
    assert decide(payment(message_type="MT202", creditor={"name": "Golden Valley Bank"}), reg).decision == "pass"


def test_1010_651_a1_pacs009_debtor_licensed_in_burma_blocks(decide):
    d = decide(payment(message_type="pacs.009", debtor={"name": "Ayeyar Commercial Bank", "country": "MM"}))
    assert hits_of(d) == [("indirect_use", "31 CFR 1010.651(b)(2)", "block")]


def test_1010_651_a1_burmese_money_transmitter_is_not_a_bank_and_passes(decide):
    # 1010.651(a)(1) reaches foreign *banks* chartered or licensed by Burma only.
    assert decide(payment(debtor={"name": "Yangon Money Transfer Co", "country": "MM"})).decision == "pass"


def test_1010_651_a1_branch_in_yangon_by_address_blocks(decide):
    d = decide(payment(intermediary_agents=[{"name": "Straits Merchant Bank", "address": ["Strand Road", "Yangon"]}]))
    assert hits_of(d) == [("indirect_use", "31 CFR 1010.651(b)(2)", "block")]


def test_1010_651_a1_name_running_into_the_address_line_is_read_whole(decide):
    d = decide(
        payment(message_type="pacs.009", creditor={"name": "MYANMA INVESTMENT AND", "address": ["COMMERCIAL BANK"]})
    )
    assert hits_of(d) == [("indirect_use", "31 CFR 1010.651(b)(2)", "block")]


def test_1010_651_a1_malaysian_bank_on_jalan_burma_passes(decide):
    agent = {"name": "Public Bank Berhad", "address": ["JALAN BURMA", "GEORGE TOWN, PENANG, MALAYSIA"]}
    assert decide(payment(creditor_agent=agent)).decision == "pass"
