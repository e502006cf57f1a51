"""31 CFR 1010.658, special measures against FBME Bank, Ltd. (effective 28 August 2015)."""

from tests.conftest import account, hits_of, payment, registry


def test_1010_658_b2_name_with_punctuation_blocks(decide):
    d = decide(payment(creditor_agent={"name": "F.B.M.E. Bank Limited"}))
    assert hits_of(d) == [("indirect_use", "31 CFR 1010.658(b)(2)", "block")]


def test_1010_658_b2_former_name_blocks_after_effective_date(decide):
    d = decide(
        payment(creditor_agent={"name": "Federal Bank of the Middle East Ltd"}, created_at="2015-08-28T12:00:00Z")
    )
    assert d.decision == "block"


def test_1010_658_payment_before_effective_date_is_not_screened_under_it(decide):
    d = decide(
        payment(creditor_agent={"name": "Federal Bank of the Middle East Ltd"}, created_at="2015-08-27T12:00:00Z")
    )
    assert d.decision == "pass"


def test_1010_658_effective_date_is_the_banks_local_date(decide):
    # 28 Aug 2015 02:00 UTC is still 27 Aug in New York.
    d = decide(payment(creditor_agent={"name": "FBME Bank Ltd"}, created_at="2015-08-28T02:00:00Z"))
    assert d.decision == "pass"


def test_1010_658_a1_cyprus_branch_through_registry_blocks(decide):
    reg = registry(
        institutions=[
            {"bic": "FBMETZTZXXX", "name": "FBME Bank Ltd.", "country": "TZ"},
            {
                "bic": "FBMECY2NXXX",
                "name": "Cyprus Branch",
                "country": "CY",
                "kind": "branch",
                "parent_bic": "FBMETZTZXXX",
            },
        ]
    )
    d = decide(payment(debtor_agent={"bic": "FBMECY2N"}), reg)
    assert ("indirect_use", "31 CFR 1010.658(b)(2)", "block") in hits_of(d)


def test_1010_658_a1_moscow_representative_office_by_name_blocks(decide):
    d = decide(payment(intermediary_agents=[{"name": "FBME Bank Moscow Representative Office", "country": "RU"}]))
    assert d.decision == "block"


def test_1010_658_b2_remittance_reference_blocks(decide):
    d = decide(payment(remittance_information=["Return of funds, FBME account 12345"]))
    assert ("indirect_use", "31 CFR 1010.658(b)(2)", "block") in hits_of(d)


def test_1010_658_look_alike_federal_bank_of_india_passes(decide):
    assert decide(payment(creditor_agent={"name": "The Federal Bank Limited", "country": "IN"})).decision == "pass"


def test_1010_658_b1_account_for_fbme_blocks(decide):
    d = decide(payment(), registry([account(holder={"bic": "FBMETZTZ", "name": "FBME Bank Ltd"})]))
    assert ("direct_use", "31 CFR 1010.658(b)(1)", "block") in hits_of(d)


def test_1010_658_b2iA_nested_fbme_is_reviewed_and_noticed(decide):
    reg = registry([account(nested_institutions=[{"name": "FBME Bank Ltd", "country": "CY"}])])
    d = decide(payment(), reg)
    assert hits_of(d) == [("indirect_use", "31 CFR 1010.658(b)(2)(iii)", "review")]
    assert [n.section for n in d.notices] == ["1010.658"]
    assert "Section 311 of the USA PATRIOT Act, see 31 CFR 1010.658" in d.notices[0].text


def test_1010_658_b2_nested_fbme_acting_in_the_payment_blocks(decide):
    reg = registry([account(nested_institutions=[{"bic": "FBMETZTZ", "name": "FBME Bank Ltd"}])])
    d = decide(payment(intermediary_agents=[{"bic": "FBMETZTZ"}]), reg)
    assert d.decision == "block"
    assert [n.section for n in d.notices] == ["1010.658"]


def test_1010_658_b2_fbme_wrapped_mid_word_in_remittance_blocks(decide):
    d = decide(payment(remittance_information=["INV 7781 BENEFICIARY BANK FBME B", "ANK LTD LIMASSOL"]))
    assert hits_of(d) == [("indirect_use", "31 CFR 1010.658(b)(2)", "block")]


def test_1010_658_b2_other_bank_wrapped_mid_word_passes(decide):
    assert (
        decide(payment(remittance_information=["INV 7781 BENEFICIARY BANK FEDERAL B", "ANK LTD KOCHI"])).decision
        == "pass"
    )


def test_1010_658_b2_fbme_in_instructions_to_the_next_agent_blocks(decide):
    d = decide(payment(instructions=["/INT/PLEASE ADVISE FBME BANK LTD"]))
    assert d.decision == "block"
    assert d.hits[0].field == "instructions[0]"


def test_1010_658_b2_pacs009_creditor_named_fbme_blocks(decide):
    d = decide(payment(message_type="pacs.009", creditor={"name": "FBME Bank Ltd", "country": "CY"}))
    assert hits_of(d) == [("indirect_use", "31 CFR 1010.658(b)(2)", "block")]
