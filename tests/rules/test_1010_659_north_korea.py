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


def test_1010_659_a2_address_in_pyongyang_is_an_office_within_north_korea_and_blocks(decide):
    d = decide(payment(intermediary_agents=[{"name": "Golden Star Trading Bank", "address": ["Pyongyang", "DPRK"]}]))
    assert hits_of(d) == [("indirect_use", "31 CFR 1010.659(b)(2)", "block")]
    assert d.hits[0].field == "intermediary_agents[0].address"


def test_1010_659_a2_address_in_a_north_korean_province_alone_is_a_possible_match(decide):
    # An ISO 3166-2 province name alone is weaker than the country or its capital.
    d = decide(payment(intermediary_agents=[{"name": "Golden Star Trading Bank", "address": ["Hwanghainamto"]}]))
    assert hits_of(d) == [("possible_match", "31 CFR 1010.659(b)(2)", "review")]


def test_1010_659_payment_the_day_before_the_effective_date_is_not_screened_under_it(decide):
    # 81 FR 78715 was published on 9 November 2016 and took effect on 9 December 2016.
    d = decide(payment(intermediary_agents=[{"bic": "KKBCKPPY"}], created_at="2016-12-08T12:00:00Z"))
    assert d.decision == "pass"


def test_1010_659_payment_on_the_effective_date_blocks(decide):
    d = decide(payment(intermediary_agents=[{"bic": "KKBCKPPY"}], created_at="2016-12-09T15:00:00Z"))
    assert hits_of(d) == [("indirect_use", "31 CFR 1010.659(b)(2)", "block")]


def test_1010_659_b3iA_notice_is_due(decide):
    d = decide(payment(intermediary_agents=[{"bic": "KKBCKPPY"}]))
    assert [(n.section, n.citation) for n in d.notices] == [("1010.659", "31 CFR 1010.659(b)(3)(i)(A)")]


# -- Banks as parties: every institution check applies to a party that is a financial institution.

KP_HEAD = {"bic": "GSBKKPPYXXX", "name": "Golden Star Bank", "country": "KP", "kind": "bank"}


def test_1010_659_b2_pacs009_debtor_bic_licensed_in_north_korea_blocks(decide):
    d = decide(payment(message_type="pacs.009", debtor={"name": "Golden Star Bank", "bic": "GSBKKPPY"}))
    assert hits_of(d) == [("indirect_use", "31 CFR 1010.659(b)(2)", "block")]
    assert d.hits[0].field == "debtor.bic"


def test_1010_659_b2_pacs009_debtor_bic_licensed_in_china_passes(decide):
    d = decide(payment(message_type="pacs.009", debtor={"name": "Golden Star Bank", "bic": "GSBKCNSH"}))
    assert d.decision == "pass"


def _jade_river(pct: float):
    """A Chinese finance company owned pct percent by a North Korean bank, named as an MT202 creditor."""
    sub = {
        "bic": "JADECNSHXXX",
        "name": "Jade River Finance",
        "country": "CN",
        "kind": "subsidiary",
        "parent_bic": "GSBKKPPYXXX",
        "parent_ownership_pct": pct,
    }
    return payment(message_type="MT202", creditor={"name": "Jade River Finance"}), registry(institutions=[KP_HEAD, sub])


def test_1010_659_a6_mt202_creditor_70_percent_subsidiary_of_north_korean_bank_blocks(decide):
    d = decide(*_jade_river(70))
    assert hits_of(d) == [("indirect_use", "31 CFR 1010.659(b)(2)", "block")]
    assert "subsidiary" in d.hits[0].reason


def test_1010_659_a6_mt202_creditor_50_percent_owned_is_not_a_subsidiary_and_passes(decide):
    assert decide(*_jade_river(50)).decision == "pass"


def test_1010_659_b2_customer_party_living_in_north_korea_is_not_an_institution(decide):
    # A person or trading company is not a financial institution: its country is not a licence.
    d = decide(payment(creditor={"name": "Ri Chol Trading Co", "country": "KP", "address": ["Pyongyang"]}))
    assert d.decision == "pass"


# -- Branches: a name identifies a branch only with its country or address.

BOC_HEAD = {"bic": "BKCHCNBJXXX", "name": "Bank of China", "country": "CN", "kind": "bank"}
BOC_PY = {"bic": "BKCHKPPYXXX", "name": "Bank of China", "country": "KP", "kind": "branch", "parent_bic": "BKCHCNBJXXX"}
BOC_TH = {"bic": "BKCHIRTHXXX", "name": "Bank of China", "country": "IR", "kind": "branch", "parent_bic": "BKCHCNBJXXX"}


def test_1010_659_a2_head_office_named_without_location_is_review_listing_candidates(decide):
    d = decide(payment(intermediary_agents=[{"name": "Bank of China"}]), registry(institutions=[BOC_HEAD, BOC_PY]))
    assert d.decision == "review"
    assert hits_of(d) == [("possible_match", "31 CFR 1010.659(b)(2)", "review")]
    assert "BKCHKPPYXXX" in d.hits[0].reason and "BKCHCNBJXXX" in d.hits[0].reason
    assert d.notices == ()


def test_1010_659_a2_head_office_named_with_its_country_passes(decide):
    d = decide(
        payment(intermediary_agents=[{"name": "Bank of China", "country": "CN"}]),
        registry(institutions=[BOC_HEAD, BOC_PY]),
    )
    assert d.decision == "pass"


def test_1010_659_a2_branch_in_a_third_country_passes(decide):
    d = decide(
        payment(intermediary_agents=[{"name": "Bank of China", "address": ["1 Raffles Place", "Singapore"]}]),
        registry(institutions=[BOC_HEAD, BOC_PY]),
    )
    assert d.decision == "pass"


def test_1010_659_a2_branch_named_with_pyongyang_address_blocks_and_notices_659(decide):
    d = decide(
        payment(intermediary_agents=[{"name": "Bank of China", "address": ["Pyongyang", "DPRK"]}]),
        registry(institutions=[BOC_HEAD, BOC_PY, BOC_TH]),
    )
    assert hits_of(d) == [("indirect_use", "31 CFR 1010.659(b)(2)", "block")]
    assert [n.section for n in d.notices] == ["1010.659"]


def test_1010_659_a2_branch_qualifier_in_the_name_locates_it(decide):
    d = decide(payment(intermediary_agents=[{"name": "Bank of China Pyongyang Branch"}]))
    assert hits_of(d) == [("indirect_use", "31 CFR 1010.659(b)(2)", "block")]


def test_1010_659_a2_address_in_seoul_on_tehran_street_is_not_north_korea_or_iran(decide):
    d = decide(
        payment(intermediary_agents=[{"name": "Hanbit Bank", "address": ["Tehran-ro 152", "Seoul, South Korea"]}])
    )
    assert d.decision == "pass"


# -- Free text as SWIFT writes it.


def test_1010_659_b2_name_cut_at_35_characters_blocks(decide):
    line = "/BNF/FOREIGN TRADE BANK OF THE DEMO"
    assert len(line) == 35
    d = decide(payment(remittance_information=[line]))
    assert hits_of(d) == [("indirect_use", "31 CFR 1010.659(b)(2)", "block")]


def test_1010_659_b2_other_foreign_trade_bank_cut_at_35_characters_passes(decide):
    line = "/BNF/FOREIGN TRADE BANK OF CAMBODIA"
    assert len(line) == 35
    assert decide(payment(remittance_information=[line])).decision == "pass"


def test_1010_659_b2_labelled_bic_in_text_with_north_korean_country_code_blocks(decide):
    d = decide(payment(instructions=["/INS/GSBKKPPY"]))
    assert hits_of(d) == [("indirect_use", "31 CFR 1010.659(b)(2)", "block")]
    assert d.hits[0].field == "instructions[0]"


def test_1010_659_b2_abbreviation_with_its_seat_in_text_blocks(decide):
    d = decide(payment(remittance_information=["FUNDS VIA DCB PYONGYANG"]))
    assert hits_of(d) == [("indirect_use", "31 CFR 1010.659(b)(2)", "block")]


def test_1010_659_b2_abbreviation_alone_in_text_passes(decide):
    assert decide(payment(remittance_information=["DCB INVOICE 2231"])).decision == "pass"
