"""The name policy (rules/similarity.py, README "Name policy"): a name alone blocks only when it
is the listed name; near names are reviewed; the rest pass."""

from __future__ import annotations

from typing import Any

import pytest

from rules import RuleSet, load_rules, parse_payment, screen
from rules.name_forms import name_form
from rules.sanctions import SanctionsList
from rules.sanctions_files import persons_from_entries
from rules.similarity import compare_names
from tests.conftest import SCREENED_AT, payment, registry

ENTRIES: list[dict[str, Any]] = [
    {"id": "T-1", "name": "Mario RICCIO", "type": "individual", "programs": ["SDGT"]},
    {"id": "T-2", "name": "Ahmad AL-SHAMI", "type": "individual", "programs": ["SDGT"]},
    {"id": "T-3", "name": "Chol Min CHOE", "type": "individual", "programs": ["DPRK"]},
    {"id": "T-4", "name": "Ahmad Hassan Mohammed AL ASIRI", "type": "individual", "programs": ["SDGT"]},
    {"id": "T-5", "name": "AUTOTRANSPORTES JYM S.A. DE C.V.", "programs": ["SDNTK"]},
    {"id": "T-6", "name": "TATA QUARTZ PVT LTD", "programs": ["IRAN"]},
    {"id": "T-7", "name": "PT KARYA BINTANG NUSA", "programs": ["IRAN"]},
    {"id": "T-8", "name": "SEA STAR 7", "type": "vessel", "programs": ["IRAN"]},
    {"id": "T-9", "name": "ZARNEGAR TRADING", "programs": ["IRAN"], "aliases": ["GOLDEN ZARNEGAR COMPANY"]},
    {"id": "T-10", "name": "NEW DAWN (ex-OLD HORIZON)", "type": "vessel", "programs": ["IRAN"]},
    {"id": "T-11", "name": "Teng JIN", "type": "individual", "programs": ["NPWMD"]},
    {"id": "T-12", "name": "OOO STG-EKO", "programs": ["RUSSIA-EO14024"]},
    {"id": "T-13", "name": "IRAN SPACE AGENCY", "programs": ["NPWMD"]},
]


@pytest.fixture(scope="module")
def policy_rules() -> RuleSet:
    from rules.ofac import names_within

    entries = []
    for entry in ENTRIES:
        within = names_within(entry["name"])
        primary = entry["name"].split(" (")[0]
        entries.append(dict(entry, name=primary, aliases=[*entry.get("aliases", []), *within]) if within else entry)
    return load_rules().with_sanctions(
        SanctionsList("policy test list", persons_from_entries(entries), version="policy")
    )


def action(rules: RuleSet, name: str) -> str:
    d = screen(parse_payment(payment(creditor={"name": name})), registry(), rules, SCREENED_AT)
    hits = [h for h in d.hits if h.rule in ("blocked_person", "possible_match")]
    if any(h.action == "block" for h in hits):
        return "block"
    return "review" if hits else "pass"


@pytest.mark.parametrize(
    "name",
    [
        "Mario Riccio",  # case
        "RICCIO, Mario",  # order
        "Ahmad Alshami",  # hyphen removed from an Arabic name
        "Ahmad Al Shami",
        "AUTOTRANSPORTES JYM SOCIEDAD ANONIMA DE CAPITAL VARIABLE",  # legal form spelled out
        "Tata Quartz Private Limited",
        "Perseroan Terbatas Karya Bintang Nusa",
        "Golden Zarnegar Company",  # an alias
        "OLD HORIZON",  # a former name written into the listed one
        "Ch\u043el Min Choe",  # a Cyrillic o among Latin letters
        "Zar\u200bnegar Trading",  # a zero-width space
        "IRAN SPACE AGENCY",  # "agency" names the institution, not an office of it
    ],
)
def test_the_listed_name_in_any_writing_blocks(policy_rules: RuleSet, name: str) -> None:
    assert action(policy_rules, name) == "block"


@pytest.mark.parametrize(
    "name",
    [
        "Mario Ricco",  # one typo
        "Choe Chol Minn",
        "Ahmad Hassan AL ASIRI",  # the middle name dropped
        "Ahmad AL ASIRI",
        "ZARNEGR TRADING",  # a typo in the distinctive word
    ],
)
def test_near_names_are_reviewed_not_blocked(policy_rules: RuleSet, name: str) -> None:
    assert action(policy_rules, name) == "review"


@pytest.mark.parametrize(
    "name",
    [
        "Marco Ricci",  # no word of it equal or sounding the same: another person
        "Ahmed Al Shamsi",  # another surname: at most a review
        "Cho Chol Min",  # another Korean surname (Cho for Choe)
        "SEA STAR 8",  # another number: another vessel
        "Jin Teng Mining Cooperative",  # two syllables of a personal name inside a company's
        "Yuhanhoesa Eko",  # "EKO" alone identifies nothing
    ],
)
def test_another_name_never_blocks(policy_rules: RuleSet, name: str) -> None:
    assert action(policy_rules, name) != "block"


def test_another_number_is_not_the_listed_vessel() -> None:
    c = compare_names(name_form("SEA STAR 8"), name_form("SEA STAR 7"))
    assert not c.exact and c.missing == ("7",)


def test_the_comparison_explains_every_part() -> None:
    c = compare_names(name_form("Ahmad Hassan AL ASIRI"), name_form("Ahmad Hassan Mohammed AL ASIRI"), detail=True)
    assert c.rule == "one middle part dropped" and c.missing == ("mohammed",)
    assert [(p.listed, p.query, p.similarity) for p in c.parts] == [
        ("ahmad", "ahmad", 1.0),
        ("hassan", "hassan", 1.0),
        ("alasiri", "alasiri", 1.0),
    ]
    assert c.possible and not c.strong


KOREAN: list[dict[str, Any]] = [
    {"id": "K-1", "name": "Chol Min CHOE", "type": "individual", "programs": ["DPRK"]},
    {"id": "K-2", "name": "Myong Su RI", "type": "individual", "programs": ["DPRK"]},
    {"id": "K-3", "name": "Song Thaek CHONG", "type": "individual", "programs": ["DPRK"]},
]


@pytest.fixture(scope="module")
def korean_rules() -> RuleSet:
    return load_rules().with_sanctions(SanctionsList("korean names", persons_from_entries(KOREAN), version="korean"))


@pytest.mark.parametrize("name", ["최철민", "리명수", "정성택"])
def test_a_romanised_korean_listing_read_in_hangul_is_reviewed(korean_rules: RuleSet, name: str) -> None:
    assert action(korean_rules, name) == "review"


@pytest.mark.parametrize("name", ["청성택", "종성택", "초철민"])
def test_other_hangul_syllables_the_romanisation_also_writes_never_block(korean_rules: RuleSet, name: str) -> None:
    # 청/종/정 are all "Chong" or "Jong" in one romanisation or another; 초 is "Cho", not "Choe".
    assert action(korean_rules, name) != "block"


def test_a_hangul_spelling_the_list_gives_blocks() -> None:
    listed = [{"id": "K-9", "name": "Chol Min CHOE", "aliases": ["최철민"], "type": "individual", "programs": ["DPRK"]}]
    rules = load_rules().with_sanctions(SanctionsList("hangul alias", persons_from_entries(listed), version="h"))
    assert action(rules, "최철민") == "block"
    assert action(rules, "초철민") != "block"


@pytest.mark.parametrize(
    "name",
    [
        "Choe Cheol Min",  # Revised Romanization
        "Choi Chol Min",  # a South Korean spelling
        "Lee Myeong Su",  # Ri, Rhee, Lee, Yi
        "Rhee Myong-su",
        "Yi Myong Su",
        "Jeong Seong Taek",  # Chong, Jong, Jeong
        "Jong Song Thaek",
        "Чхве Чхоль Мин",  # Cyrillic (Kontsevich)
        "Ли Мён Су",
        "Чон Сон Тхэк",
    ],
)
def test_another_romanisation_of_a_korean_name_is_reviewed(korean_rules: RuleSet, name: str) -> None:
    assert action(korean_rules, name) == "review"


def test_korean_romanisation_keys() -> None:
    from rules.korean import korean_key

    assert len({korean_key(w) for w in ("ri", "rhee", "lee", "yi", "li")}) == 1
    assert len({korean_key(w) for w in ("jong", "jeong", "chong")}) == 1
    assert korean_key("cho") != korean_key("choe")  # another surname
    assert korean_key("bart") is None  # not romanised Korean: no key


@pytest.mark.parametrize(
    ("name", "listed"),
    [("محمد علی", "Mohammad ALI"), ("حسن نصرالله", "Hassan NASRALLAH"), ("علي حسن المجيد", "Ali Hassan AL-MAJID")],
)
def test_a_name_in_arabic_script_is_compared_by_its_consonants(name: str, listed: str) -> None:
    c = compare_names(name_form(name), name_form(listed))
    assert c.possible and not c.strong  # without short vowels, another name may share them: review


def test_one_word_is_not_found_by_its_consonants_alone() -> None:
    assert not compare_names(name_form("حرب"), name_form("HERBY")).possible


@pytest.mark.parametrize("name", ["崔哲民", "李明洙"])
def test_a_korean_name_in_hanja_is_read_in_korean_and_reviewed(korean_rules: RuleSet, name: str) -> None:
    assert action(korean_rules, name) == "review"


def test_hanja_readings_come_from_the_unihan_table() -> None:
    from rules.korean import hanja_readings

    assert hanja_readings("金正恩")[0] == "김정은"  # the name reading of 金 first
    assert hanja_readings("Kim") == []
