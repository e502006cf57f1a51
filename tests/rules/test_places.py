"""Where an address or a branch qualifier places an institution (rules/places.py)."""

import pytest

from rules.checks.coverage import qualifier_places


@pytest.mark.parametrize(
    ("text", "country"),
    [
        ("Pyongyang, DPRK", "KP"),
        ("Korea, Democratic People's Republic of", "KP"),
        ("Ferdowsi Avenue, Teheran", "IR"),
        ("Strand Road, Yangon", "MM"),
        ("Rangoon, Burma", "MM"),
    ],
)
def test_covered_places_are_found(rules, text, country):
    assert country in {m.country for m in rules.places.locate([text])}


@pytest.mark.parametrize(
    "text",
    [
        "Tehran-ro 152, Seoul, South Korea",  # a street named after Tehran, in Seoul
        "Mandalay Road, Singapore",
        "12 Pyongyang Street, Dandong, China",
    ],
)
def test_a_named_country_overrules_a_city_elsewhere(rules, text):
    assert not {"KP", "IR", "MM"} & {m.country for m in rules.places.locate([text])}


def test_the_field_country_overrules_a_city_elsewhere(rules):
    assert rules.places.locate(["Tehran Road 5"], "GB") == []


def test_south_korea_is_never_north_korea(rules):
    assert {m.country for m in rules.places.locate(["Seoul, Republic of Korea"])} == {"KR"}


def test_an_iso_subdivision_is_the_weakest_tier(rules):
    assert [m.tier for m in rules.places.locate(["Hwanghainamto"])] == ["subdivision"]


def test_short_subdivision_names_that_are_words_are_not_places(rules):
    # ISO 3166-2:MM has "Mon" and "Chin"; too short and too common to place anything.
    assert rules.places.locate(["Mon Chin Trading"]) == []


@pytest.mark.parametrize(
    ("name", "country"),
    [
        ("Bank of China, Pyongyang Branch", "KP"),
        ("Bank Melli Iran (Branch in Tehran)", "IR"),
        ("FBME Bank Moscow Representative Office", "RU"),
    ],
)
def test_branch_qualifier_places_the_branch(rules, name, country):
    assert [p.country for p in qualifier_places(rules, name)] == [country]


def test_a_place_in_a_name_without_a_branch_word_is_not_a_location(rules):
    assert qualifier_places(rules, "Iran Zamin Bank") == []


def test_each_place_is_found_once_however_often_it_is_named(rules):
    lines = ["Tehran Branch, Tehran, Tehran"] * 64
    assert [(m.country, m.name) for m in rules.places.locate(lines)] == [("IR", "Tehran")]


def test_an_address_ends_with_its_country_a_street_named_after_burma_is_not_burma(rules):
    assert {m.country for m in rules.places.locate(["JALAN BURMA", "GEORGE TOWN, PENANG, MALAYSIA"])} == {"MY"}


@pytest.mark.parametrize(("text", "country"), [("평양", "KP"), ("ТЕГЕРАН", "IR"), ("조선민주주의인민공화국", "KP")])
def test_capitals_and_country_names_in_other_scripts(rules, text, country):
    assert {m.country for m in rules.places.locate([text])} == {country}
