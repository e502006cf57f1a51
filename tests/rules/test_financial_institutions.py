"""Which parties are financial institutions, and of which kind (1010.605(f))."""

import pytest

from rules.checks.free_text import bic_shaped_words
from rules.financial_institutions import kind_from_name
from tests.conftest import payment


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("Golden Valley Bank", "bank"),
        ("Banque de Commerce SA", "bank"),
        ("بانک ملی ایران", "bank"),
        ("Kish Sarrafi Co", "non_bank"),
        ("صرافی ملی", "non_bank"),
        ("Al Ansari Exchange", "non_bank"),
        ("Yangon Money Transfer Co", "non_bank"),
        ("Acme Export LLC", None),
        ("Hossein Rezaei", None),
    ],
)
def test_kind_from_name(name, kind):
    assert kind_from_name(name) == kind


def test_bic_shaped_word_list_covers_every_covered_jurisdiction(rules):
    made_for, words = bic_shaped_words()
    jurisdictions = {c for m in rules.measures for c in m.covered.jurisdictions}
    assert jurisdictions <= made_for, "regenerate rules/lists/bic_shaped_words.txt (ops/tools/bic_shaped_words.py)"
    assert {"CONFIRMS", "MOHAMMED", "DILEMMAS"} <= words


@pytest.mark.parametrize(
    "name", ["Bank Street Bakery", "Tehran Food Bank Charity", "West Bank Olive Co", "Tehran Stock Exchange"]
)
def test_bank_and_exchange_words_in_non_financial_phrases_do_not_make_an_institution(name):
    assert kind_from_name(name) is None


def test_a_food_bank_in_iran_as_creditor_passes(decide):
    assert decide(payment(creditor={"name": "Tehran Food Bank Charity", "country": "IR"})).decision == "pass"
