"""Free text read as SWIFT writes it (rules/checks/free_text.py), across every section."""

from rules.checks.free_text import text_evidence
from tests.conftest import payment, registry


def _sections(rules, lines):
    """(section, strong) for each section the text refers to, on its strongest evidence."""
    best: dict[str, bool] = {}
    for ev in text_evidence(rules, registry(), "remittance_information", lines):
        best[ev.measure.section] = best.get(ev.measure.section, False) or ev.strong
    return sorted(best.items())


def test_wrapped_name_found_with_and_without_a_space_at_the_break(rules):
    assert _sections(rules, ["VIA FBME BANK", "LTD"]) == [("1010.658", True)]
    assert _sections(rules, ["VIA BANK OF DAN", "DONG CO LTD"]) == [("1010.660", True)]


def test_name_spanning_three_lines_is_found(rules):
    assert _sections(rules, ["PAY VIA FOREIGN TRADE BANK OF THE DE", "MOCRATIC PEOPLES REPUBLIC OF KOR", "EA"]) == [
        ("1010.659", True)
    ]


def test_a_short_line_is_not_read_as_cut(rules):
    # "FOREIGN TRADE BANK" at the end of a short line is a whole text, not a cut name.
    assert _sections(rules, ["REF 22 FOREIGN TRADE BANK"]) == []


def test_cut_name_of_few_letters_is_a_possible_match_only(rules):
    line = "PAYMENT REFERENCE 2231 FOREIGN TRAD"
    assert len(line) == 35
    assert _sections(rules, [line]) == [("1010.659", False)]


def test_look_alike_cut_at_the_line_length_is_not_a_covered_bank(rules):
    line = "PAYMENT 231 TO COMMERCIAL BANK OF C"
    assert len(line) == 35
    assert _sections(rules, [line]) == []


def test_bic_with_digit_in_its_location_code_is_meant_as_a_bic(rules):
    assert _sections(rules, ["REF 2231 ABCDKPP1"]) == [("1010.659", True)]


def test_registry_bic_in_text_brings_its_parent_chain(decide):
    reg = registry(
        institutions=[
            {"bic": "DDGBCNBDXXX", "name": "Bank of Dandong Co., Ltd.", "country": "CN"},
            {
                "bic": "DDGHHKHHXXX",
                "name": "Harbour Finance",
                "country": "HK",
                "kind": "subsidiary",
                "parent_bic": "DDGBCNBDXXX",
                "parent_ownership_pct": 80,
            },
        ]
    )
    d = decide(payment(remittance_information=["COVER DDGHHKHH"]), reg)
    assert d.decision == "block"
    assert d.hits[0].citation == "31 CFR 1010.660(b)(2)"


SILVER = [
    {"bic": "SLCRCNSHXXX", "name": "Silver Crane Bank", "country": "CN", "kind": "bank"},
    {"bic": "SLCRIRTHXXX", "name": "Silver Crane Bank", "country": "IR", "kind": "branch", "parent_bic": "SLCRCNSHXXX"},
    {"bic": "SLCRSGSGXXX", "name": "Silver Crane Bank", "country": "SG", "kind": "branch", "parent_bic": "SLCRCNSHXXX"},
]


def test_registry_name_in_text_with_a_covered_branch_location_blocks(decide):
    d = decide(payment(remittance_information=["VIA SILVER CRANE BANK TEHRAN BRANCH"]), registry(institutions=SILVER))
    assert [(h.rule, h.citation, h.action) for h in d.hits] == [("indirect_use", "31 CFR 1010.661(b)(2)", "block")]


def test_registry_name_in_text_without_location_is_a_review_listing_candidates(decide):
    d = decide(payment(remittance_information=["VIA SILVER CRANE BANK"]), registry(institutions=SILVER))
    assert d.decision == "review"
    assert "SLCRIRTHXXX" in d.hits[0].reason
    assert d.notices == ()


def test_registry_name_in_text_with_a_third_country_passes(decide):
    d = decide(
        payment(remittance_information=["VIA SILVER CRANE BANK SINGAPORE BRANCH"]), registry(institutions=SILVER)
    )
    assert d.decision == "pass"


def test_unknown_banks_branch_in_tehran_named_in_text_blocks(decide):
    d = decide(payment(remittance_information=["CORRESPONDENT ROYAL ORCHID BANK", "TEHRAN BRANCH"]))
    assert [(h.citation, h.action) for h in d.hits] == [("31 CFR 1010.661(b)(2)", "block")]


def test_a_branch_in_tehran_of_no_named_institution_is_a_possible_match(decide):
    d = decide(payment(remittance_information=["SERVICES OF OUR TEHRAN BRANCH OFFICE"]))
    assert [(h.rule, h.action) for h in d.hits] == [("possible_match", "review")]


def test_bic_wrapped_inside_itself_across_lines_is_read_joined(rules):
    assert _sections(rules, ["PAY VIA ABCD", "IRTH INVOICE 44"]) == [("1010.661", True)]


def test_comm_bk_abbreviations_of_commercial_bank(decide):
    assert decide(payment(remittance_information=["COVER VIA COMM BK OF SYRIA DAMASCUS"])).decision == "block"


def test_mt_field_72_continuation_lines_are_joined_without_their_marker(rules):
    assert _sections(rules, ["//UNT HELD AT COMMERCIAL BANK OF SY", "//RIA DAMASCUS BRANCH"]) == [("1010.653", True)]


def test_a_cut_inside_the_last_generic_word_still_names_the_bank(rules):
    line = "/INS/SYRIAN LEBANESE COMMERCIAL BAN"
    assert len(line) == 35
    assert _sections(rules, [line]) == [("1010.653", True)]


def test_bic_written_in_its_groups_after_a_label_is_read(rules):
    assert _sections(rules, ["PLS PAY VIA BKMT IR TH"]) == [("1010.661", True)]


def test_words_in_groups_without_a_label_are_not_a_bic(rules):
    assert _sections(rules, ["GIFT FROM ABCD IR TH"]) == []
