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
