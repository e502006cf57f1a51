"""31 CFR 1010.661, special measures against Iran."""

from tests.conftest import account, hits_of, payment, registry

AUTH = {"type": "OFAC general license", "reference": "GL D-2"}


def test_1010_661_b1_account_for_iranian_bank_blocks(decide):
    d = decide(payment(), registry([account(holder={"bic": "MELIIRTH", "name": "Bank Melli Iran", "country": "IR"})]))
    assert ("direct_use", "31 CFR 1010.661(b)(1)", "block") in hits_of(d)


def test_1010_661_b2_institution_located_in_iran_blocks(decide):
    d = decide(payment(intermediary_agents=[{"name": "Parsian Trade Finance", "country": "IR"}]))
    assert hits_of(d) == [("indirect_use", "31 CFR 1010.661(b)(2)", "block")]


def test_1010_661_b2_iraqi_bank_passes(decide):
    assert decide(payment(intermediary_agents=[{"bic": "TRIQIQBA", "name": "Trade Bank of Iraq"}])).decision == "pass"


def test_1010_661_b2_authorised_transaction_is_reviewed_with_b2_citation(decide):
    d = decide(payment(intermediary_agents=[{"bic": "BMJIIRTH"}], authorization=AUTH))
    assert hits_of(d) == [("authorised_exception", "31 CFR 1010.661(b)(2)", "review")]
    assert "GL D-2" in d.hits[0].reason
    assert d.notices == ()  # an authorised transaction is not a prohibited one ((b)(3)(i)(A))


def test_1010_661_b2_persian_script_blocks(decide):
    assert decide(payment(intermediary_agents=[{"name": "بانک ملی ایران"}])).decision == "block"


def test_1010_661_a1_hamburg_branch_of_iranian_bank_blocks(decide):
    d = decide(payment(intermediary_agents=[{"name": "Bank Melli Iran, Hamburg Branch", "country": "DE"}]))
    assert d.decision == "block"


def test_1010_661_look_alike_mellon_bank_passes(decide):
    assert decide(payment(creditor_agent={"name": "Mellon Bank", "country": "US"})).decision == "pass"


# -- Non-bank financial institutions (1010.605(f)(1)(iv)) and banks as parties.


def test_1010_661_a1_iranian_exchange_house_as_originator_blocks(decide):
    d = decide(payment(debtor={"name": "Kish Sarrafi Co", "country": "IR"}))
    assert hits_of(d) == [("indirect_use", "31 CFR 1010.661(b)(2)", "block")]
    assert d.hits[0].field == "debtor.country"


def test_1010_661_a1_iranian_carpet_trader_as_originator_is_not_an_institution(decide):
    assert decide(payment(debtor={"name": "Kish Carpet Trading Co", "country": "IR"})).decision == "pass"


def test_1010_661_a1_creditor_account_iban_of_iran_blocks(decide):
    d = decide(payment(creditor={"name": "Hossein Rezaei", "account": "IR050170000000123456789012"}))
    assert hits_of(d) == [("indirect_use", "31 CFR 1010.661(b)(2)", "block")]
    assert d.hits[0].field == "creditor.account"


def test_1010_661_a1_creditor_account_iban_of_germany_passes(decide):
    assert decide(payment(creditor={"name": "Hossein Rezaei", "account": "DE89370400440532013000"})).decision == "pass"


def test_1010_661_a5_mt202_creditor_subsidiary_of_iranian_bank_by_bic_blocks(decide):
    reg = registry(
        institutions=[
            {"bic": "BMJIIRTHXXX", "name": "Bank Melli Iran", "country": "IR"},
            {
                "bic": "CSPNAEADXXX",
                "name": "Caspian Gulf Finance",
                "country": "AE",
                "kind": "subsidiary",
                "parent_bic": "BMJIIRTHXXX",
                "parent_ownership_pct": 100,
            },
        ]
    )
    d = decide(payment(message_type="MT202", creditor={"name": "Caspian Gulf Finance", "bic": "CSPNAEAD"}), reg)
    assert hits_of(d) == [("indirect_use", "31 CFR 1010.661(b)(2)", "block")]


# -- Branches: the branch located in Iran is noticed under 1010.661, never as North Korean.

BOC = [
    {"bic": "BKCHCNBJXXX", "name": "Bank of China", "country": "CN", "kind": "bank"},
    {"bic": "BKCHKPPYXXX", "name": "Bank of China", "country": "KP", "kind": "branch", "parent_bic": "BKCHCNBJXXX"},
    {"bic": "BKCHIRTHXXX", "name": "Bank of China", "country": "IR", "kind": "branch", "parent_bic": "BKCHCNBJXXX"},
]


def test_1010_661_a1_branch_in_iran_named_with_its_country_is_noticed_under_661_only(decide):
    d = decide(payment(intermediary_agents=[{"name": "Bank of China", "country": "IR"}]), registry(institutions=BOC))
    assert hits_of(d) == [("indirect_use", "31 CFR 1010.661(b)(2)", "block")]
    assert [n.section for n in d.notices] == ["1010.661"]


def test_1010_661_a1_tehran_branch_qualifier_is_noticed_under_661_only(decide):
    d = decide(payment(intermediary_agents=[{"name": "Bank of China, Tehran Branch"}]), registry(institutions=BOC))
    assert [n.section for n in d.notices] == ["1010.661"]
    assert {h.citation for h in d.hits} == {"31 CFR 1010.661(b)(2)"}


# -- BICs in free text.


def test_1010_661_b2_bic_of_iran_in_text_after_a_label_blocks(decide):
    d = decide(payment(remittance_information=["PLEASE CREDIT VIA ABCDIRTH"]))
    assert hits_of(d) == [("indirect_use", "31 CFR 1010.661(b)(2)", "block")]


def test_1010_661_b2_unlabelled_word_of_iranian_bic_shape_is_a_possible_match(decide):
    d = decide(payment(remittance_information=["INV 2231 ABCDIRTH"]))
    assert hits_of(d) == [("possible_match", "31 CFR 1010.661(b)(2)", "review")]


def test_1010_661_b2_ordinary_words_of_bic_shape_pass(decide):
    d = decide(payment(remittance_information=["SELLER CONFIRMS RECEIPT", "REF MOHAMMED ALI"]))
    assert d.decision == "pass"


def test_1010_661_b2_listed_name_with_another_banks_bic_is_review_bic_first(decide):
    # The BIC identifies the institution first; a listed name it contradicts is held for review.
    d = decide(payment(intermediary_agents=[{"bic": "MPLPCATT", "name": "Bank Mellat"}]))
    assert hits_of(d) == [("possible_match", "31 CFR 1010.661(b)(2)", "review")]
    assert "identifiers disagree" in d.hits[0].reason


def test_1010_661_b2_listed_name_with_its_own_banks_bic_in_another_country_blocks(decide):
    # Bank Mellat's bank code BKMT, here for its Armenian subsidiary: the identifiers agree.
    assert decide(payment(intermediary_agents=[{"bic": "BKMTAM22", "name": "Bank Mellat"}])).decision == "block"


def test_1010_661_a1_bic_with_an_iranian_banks_code_in_another_country_is_a_possible_match(decide):
    d = decide(payment(intermediary_agents=[{"bic": "SEPBDEFF"}]))
    assert hits_of(d) == [("possible_match", "31 CFR 1010.661(b)(2)", "review")]


def test_1010_661_a1_that_bic_with_the_banks_name_blocks(decide):
    d = decide(payment(intermediary_agents=[{"bic": "SEPBDEFF", "name": "Bank Sepah"}]))
    assert hits_of(d) == [("indirect_use", "31 CFR 1010.661(b)(2)", "block")]


def test_1010_661_a1_address_evidence_names_the_address_field(decide):
    d = decide(payment(intermediary_agents=[{"name": "Royal Orchid Bank", "address": ["ТЕГЕРАН"]}]))
    assert [h.field for h in d.hits] == ["intermediary_agents[0].address"]
