"""OFAC's files read whole: both lists, identifiers in remarks, every country, a load report."""

from __future__ import annotations

from pathlib import Path

import pytest

from rules import load_rules, parse_payment, screen
from rules.ofac import country_codes, names_within
from rules.sanctions_files import load_ofac_csv
from tests.conftest import SCREENED_AT, hits_of, payment, registry


def _write(folder: Path) -> Path:
    (folder / "sdn.csv").write_bytes(
        b'7001,"FICTIONAL TRADE BANK OF EXAMPLIA",-0- ,"NPWMD] [DPRK3",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,'
        b'"SWIFT/BIC FTBEKPPY; Website www.example.kp; alt. SWIFT/BIC FTBEKPP2"\r\n'
        b'7002,"OCEAN STAR (ex-BLUE HORIZON)","vessel","IRAN",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,"IMO 9000001"\r\n'
        b'7003,"QUARTZ HOLDINGS LTD",-0- ,"SDGT",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,"Registration ID 1 (Gambia); '
        b'remarks cut here"\r\n'
    )
    (folder / "sdn_comments.csv").write_bytes(b'7003,"; SWIFT/BIC QRTZGMGM."\r\n9999,"orphan remarks"\r\n')
    (folder / "alt.csv").write_bytes(b'7001,1,"aka","FTB EXAMPLIA",-0- \r\n8888,2,"aka","NOBODY KNOWN",-0- \r\n')
    (folder / "add.csv").write_bytes(
        b'7001,1,-0- ,"Pyongyang","Korea, North",-0- \r\n'
        b'7003,2,-0- ,"Banjul","The Gambia",-0- \r\n'
        b'7003,3,-0- ,-0- ,"Gambia, The",-0- \r\n'
        b'7003,4,-0- ,-0- ,"undetermined",-0- \r\n'
        b'7003,5,-0- ,-0- ,"Atlantis",-0- \r\n'
    )
    (folder / "cons_prim.csv").write_bytes(
        b'7101,"NORTHERN ENERGY PJSC",-0- ,"UKRAINE-EO13662] [RUSSIA-EO14024",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,'
        b'"SWIFT/BIC NENGRUMM"\r\n'
    )
    (folder / "cons_alt.csv").write_bytes(b"")
    return folder


@pytest.fixture(scope="module")
def ofac(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write(tmp_path_factory.mktemp("ofac"))


def test_both_lists_load_and_each_entry_cites_its_own_list(ofac: Path) -> None:
    listed = load_ofac_csv(ofac)
    by_id = {p.id: p for p in listed.persons}
    assert by_id["SDN-7001"].list_name == "SDN List" and by_id["SDN-7001"].blocks
    assert by_id["SDN-7001"].programs == ("NPWMD", "DPRK3")
    assert by_id["CONS-7101"].list_name == "Consolidated (non-SDN) List" and not by_id["CONS-7101"].blocks
    assert by_id["CONS-7101"].citation.startswith("OFAC Consolidated (non-SDN) List, entry CONS-7101; E.O. 13662")


def test_bics_in_remarks_and_their_continuation_are_read(ofac: Path) -> None:
    listed = load_ofac_csv(ofac)
    by_id = {p.id: p for p in listed.persons}
    assert by_id["SDN-7001"].bics == ("FTBEKPP2", "FTBEKPPY")
    assert by_id["SDN-7003"].bics == ("QRTZGMGM",)  # only in sdn_comments.csv
    assert [p.id for p in listed.with_bic("FTBEKPPYXXX")] == ["SDN-7001"]


def test_every_country_is_mapped_and_what_is_not_used_is_counted(ofac: Path) -> None:
    listed = load_ofac_csv(ofac)
    by_id = {p.id: p for p in listed.persons}
    assert by_id["SDN-7001"].countries == ("KP",)
    assert by_id["SDN-7003"].countries == ("GM",)
    report = listed.load_report
    assert report["entries"] == {"SDN List": 3, "Consolidated (non-SDN) List": 1}
    assert report["unmapped_countries"] == {"Atlantis": 1}
    assert report["unused"] == {
        "sdn_comments.csv: remarks of an unknown entry": 1,
        "alt.csv: alias of an unknown entry": 1,
    }
    assert report["bics"] == 4


@pytest.mark.parametrize(
    ("name", "codes"),
    [
        ("Gambia, The", ("GM",)),
        ("The Gambia", ("GM",)),
        ("Bahamas, The", ("BS",)),
        ("West Bank", ("PS",)),
        ("Brunei", ("BN",)),
        ("Netherlands Antilles", ("CW", "SX", "BQ")),
        ("Region: Northern Mali", ("ML",)),
        ("Iran", ("IR",)),
        ("undetermined", ()),
        ("Atlantis", None),
    ],
)
def test_ofac_country_names(name: str, codes: tuple[str, ...] | None) -> None:
    assert country_codes(name) == codes


def test_a_former_name_written_into_the_listed_name_identifies_it(ofac: Path) -> None:
    assert names_within("OCEAN STAR (ex-BLUE HORIZON)") == ["BLUE HORIZON"]
    vessel = next(p for p in load_ofac_csv(ofac).persons if p.id == "SDN-7002")
    assert vessel.name == "OCEAN STAR" and vessel.aliases == ("BLUE HORIZON",)


def test_a_listed_bank_given_only_by_bic_blocks(ofac: Path) -> None:
    rules = load_rules(sanctions=ofac)
    pay = payment(intermediary_agents=[{"bic": "FTBEKPPYXXX"}])
    d = screen(parse_payment(pay), registry(), rules, SCREENED_AT)
    assert (
        "blocked_person",
        "OFAC SDN List, entry SDN-7001; E.O. 13382; E.O. 13722 / E.O. 13810 (31 CFR part 510)",
        "block",
    ) in hits_of(d)


def test_a_listed_bank_as_party_by_bic_blocks(ofac: Path) -> None:
    rules = load_rules(sanctions=ofac)
    pay = payment(message_type="pacs.009", creditor={"name": "Correspondent", "bic": "FTBEKPP2"})
    d = screen(parse_payment(pay), registry(), rules, SCREENED_AT)
    assert d.decision == "block"
    assert any(h.field == "creditor.bic" and h.rule == "blocked_person" for h in d.hits)


def test_a_non_sdn_entry_is_reviewed_not_blocked(ofac: Path) -> None:
    rules = load_rules(sanctions=ofac)
    by_name = screen(parse_payment(payment(creditor={"name": "Northern Energy PJSC"})), registry(), rules, SCREENED_AT)
    by_bic = screen(parse_payment(payment(creditor_agent={"bic": "NENGRUMM"})), registry(), rules, SCREENED_AT)
    for d in (by_name, by_bic):
        hits = [h for h in d.hits if h.matched == "NORTHERN ENERGY PJSC"]
        assert hits and all(h.action == "review" for h in hits), d.hits
        assert "Consolidated (non-SDN)" in hits[0].reason
