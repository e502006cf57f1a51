"""Blocked persons (OFAC, seed 002): designations, aliases, the 50 percent rule, the SDN files."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from rules import load_rules, parse_payment, screen
from rules.sanctions import BlockedPerson, Ownership, derive_owned_entities
from rules.sanctions_files import SanctionsError, load_ofac_csv
from tests.conftest import hits_of, payment, registry


@pytest.mark.parametrize("name", ["Choe Chol Min", "CHOE, Chol Min", "Ch'oe Ch'ol-min", "최철민", "Chol Min Choe"])
def test_designated_individual_blocks_in_any_spelling(decide, name):
    d = decide(payment(creditor={"name": name}))
    assert hits_of(d) == [("blocked_person", "OFAC SDN List, entry seed002-1; E.O. 13382", "block")]


def test_different_person_passes(decide):
    assert decide(payment(creditor={"name": "Choe Yong Ho", "country": "KP"})).decision == "pass"


def test_designated_entity_as_ultimate_creditor_blocks(decide):
    d = decide(payment(ultimate_creditor={"name": "2nd Academy of Natural Sciences"}))
    assert d.decision == "block"


def test_look_alike_academy_passes(decide):
    assert decide(payment(creditor={"name": "Academy of Natural Sciences of Drexel University"})).decision == "pass"


def test_weak_alias_alone_is_only_reviewed(decide):
    d = decide(payment(creditor={"name": "SANS"}))
    assert hits_of(d) == [("possible_match", "OFAC SDN List, entry seed002-3; E.O. 13382", "review")]


def test_authorization_turns_block_into_review(decide):
    d = decide(
        payment(
            creditor={"name": "Choe Chol Min"},
            authorization={"type": "OFAC specific license", "reference": "X-1"},
        )
    )
    assert hits_of(d) == [("blocked_person", "OFAC SDN List, entry seed002-1; E.O. 13382", "review")]


def test_country_where_the_person_is_not_known_turns_block_into_review(decide):
    d = decide(payment(creditor={"name": "Choe Chol Min", "country": "US"}))
    assert d.decision == "review"


def test_name_in_remittance_text_is_reviewed(decide):
    d = decide(payment(remittance_information=["Consulting for Choe Chol Min"]))
    assert hits_of(d) == [("possible_match", "OFAC SDN List, entry seed002-1; E.O. 13382", "review")]


def _person(pid: str, name: str) -> BlockedPerson:
    return BlockedPerson(id=pid, name=name, type="individual", authority="E.O. 13382")


def test_50_percent_rule_aggregates_blocked_owners():
    persons = [_person("A", "Choe Chol Min"), _person("B", "Choe Un Jong")]
    owned = derive_owned_entities(persons, [Ownership("A", "Jade Front Co", 30), Ownership("B", "Jade Front Co", 20)])
    assert [p.name for p in owned] == ["Jade Front Co"]
    assert "50 percent" in owned[0].remarks


def test_50_percent_rule_below_half_is_not_blocked():
    owned = derive_owned_entities(
        [_person("A", "Choe Chol Min")],
        [Ownership("A", "Jade Front Co", 49.9), Ownership("someone else", "Jade Front Co", 50.1)],
    )
    assert owned == []


def test_50_percent_rule_follows_blocked_entities_down_the_chain():
    owned = derive_owned_entities(
        [_person("A", "Choe Chol Min")],
        [Ownership("Jade Front Co", "Jade Shipping", 50), Ownership("A", "Jade Front Co", 100)],
    )
    assert sorted(p.name for p in owned) == ["Jade Front Co", "Jade Shipping"]


def test_owned_entity_blocks_a_payment(tmp_path: Path):
    own = tmp_path / "ownership.csv"
    own.write_text("owner,owned,percent,owned_country\nseed002-1,Jade Front Trading Co,60,CN\n")
    rules = load_rules(ownership=own)
    d = screen(
        parse_payment(payment(creditor={"name": "Jade Front Trading Co Ltd"})),
        registry(),
        rules,
        datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert d.decision == "block"
    assert d.hits[0].citation.startswith("OFAC 50 Percent Rule")


def test_ofac_csv_files_load_with_aliases_addresses_and_programs(tmp_path: Path):
    (tmp_path / "sdn.csv").write_bytes(
        b'36,"AEROCARIBBEAN AIRLINES",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n'
        b'12345,"CHOE, Chol Min","individual","[NPWMD]",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,"DOB 1976."\r\n\x1a'
    )
    (tmp_path / "alt.csv").write_bytes(b'12345,901,"aka","CH\'OE, Ch\'ol-min",-0- \r\n12345,902,"aka","CHOE",-0- \r\n')
    (tmp_path / "add.csv").write_bytes(b'12345,501,-0- ,"Beijing","China",-0- \r\n')
    sanctions = load_ofac_csv(tmp_path)
    choe = next(p for p in sanctions.persons if p.id == "SDN-12345")
    assert choe.name == "Chol Min CHOE"
    assert choe.aliases == ("Ch'ol-min CH'OE",)
    assert choe.weak_aliases == ("CHOE",)  # a single word is too ambiguous to block
    assert choe.countries == ("CN",)
    assert choe.authority == "E.O. 13382"


def test_ofac_csv_without_sdn_file_is_a_clear_error(tmp_path: Path):
    with pytest.raises(SanctionsError, match=r"no sdn\.csv"):
        load_ofac_csv(tmp_path)


def test_sanctions_list_changes_the_rules_version(tmp_path: Path):
    (tmp_path / "sdn.csv").write_text('1,"SOME BANK",-0- ,"IRAN",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \n')
    assert load_rules(sanctions=tmp_path).version != load_rules().version
