"""What a case shows of its hits' evidence: the sanctions list entry a blocked-person hit cites, a
cited paragraph's sub-paragraphs, and the registry records of the institutions a hit names."""

from __future__ import annotations

import dataclasses
import html
import json
import re
import time
from collections.abc import Mapping
from typing import Any

import pytest

from ops.workbench import case_view
from ops.workbench.context import WorkbenchContext
from ops.workbench.listed_entries import MAX_LISTED_ITEMS, ListedEntries
from ops.workbench.store import Store, case_id_of
from rules.bic import try_parse_bic
from rules.regulation_text import cited_text
from rules.sanctions import BlockedPerson, Ownership, SanctionsList
from rules.sanctions_files import load_sanctions
from tests.ops.workbench.web_support import XSS, Browser, bearer, browsers, make_ctx, new_case, run, serving

SEED_CITATION = "OFAC SDN List, entry seed002-1; E.O. 13382"
AT = "2026-11-23T09:00:00+00:00"


def _hit(rule: str, citation: str, value: str, matched: str = "", reason: str = "") -> dict[str, Any]:
    return {
        "rule": rule,
        "citation": citation,
        "action": "review",
        "field": "creditor.name",
        "value": value,
        "matched": matched,
        "score": 97.5,
        "reason": reason or f"The list names {matched or value}",
    }


def _sanctions() -> SanctionsList:
    persons = [
        BlockedPerson(
            "SDN-36",
            "Aero Continente " + XSS,
            "entity",
            aliases=("Aero Continente SA", "AC " + XSS),
            programs=("SDNTK",),
        ),
        BlockedPerson(
            "CONS-7",
            "Sectoral Bank",
            "entity",
            aliases=tuple(f"Alias {i}" for i in range(MAX_LISTED_ITEMS + 5)),
            countries=("RU",),
            programs=("UKRAINE-EO13662",),
            authority="E.O. 13662",
            remarks="Directive 1",
            list_name="Consolidated List",
        ),
        BlockedPerson("SDN-40", "Ivan Petrov", "individual", programs=("RUSSIA-EO14024",), authority="E.O. 14024"),
    ]
    ownership = [
        Ownership("SDN-36", "Holding Co", 30.0, "PE"),
        Ownership("Ivan Petrov", "Holding Co", 25.0, "PE"),
    ]
    return SanctionsList("test list", persons, ownership)


def _ctx(store: Store, hits: list[dict[str, Any]], **changes: Any) -> tuple[WorkbenchContext, str]:
    store.ingest([new_case("P-100", hits, (), AT)])
    return dataclasses.replace(make_ctx(store), **changes), case_id_of("P-100")


async def _page_and_api(ctx: WorkbenchContext, case_id: str) -> tuple[str, dict[str, Any]]:
    async with serving(ctx) as server, browsers(server, "ana") as (ana,):
        response = await ana.http.get(f"/cases/{case_id}")
        assert response.status == 200
        page = await response.text()
        api = Browser(server)
        try:
            detail: dict[str, Any] = await (
                await api.http.get(f"/api/v1/cases/{case_id}", headers=bearer("aud"))
            ).json()
        finally:
            await api.close()
    return page, detail


def _words(page: str) -> str:
    """The page's text as read: tags dropped, entities unescaped, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]*>", " ", page)).split()).replace(" ,", ",").replace(" )", ")")


# 1. The listed entry a blocked-person hit cites.


def test_a_citation_names_its_entry_by_list_and_id() -> None:
    entries = ListedEntries(_sanctions())
    entry = entries.lookup("OFAC SDN List, entry SDN-40; E.O. 14024")
    assert entry is not None
    assert (entry["id"], entry["list"], entry["name"], entry["type"]) == (
        "SDN-40",
        "SDN List",
        "Ivan Petrov",
        "individual",
    )
    assert (entry["programs"], entry["authority"]) == (["RUSSIA-EO14024"], "E.O. 14024")
    assert "owners" not in entry
    consolidated = entries.lookup("OFAC Consolidated List, entry CONS-7; E.O. 13662")
    assert consolidated is not None
    assert consolidated["remarks"] == "Directive 1"
    assert consolidated["countries"] == ["RU"]
    # Bounded: at most MAX_LISTED_ITEMS aliases, and how many more there are.
    assert len(consolidated["aliases"]) == MAX_LISTED_ITEMS
    assert consolidated["more"] == {"aliases": 5}


def test_the_packaged_seed_entry_by_its_citation() -> None:
    entry = ListedEntries(load_sanctions(None)).lookup(SEED_CITATION)
    assert entry is not None
    assert entry["name"] == "Choe Chol Min"
    assert "Choe Cheol Min" in entry["aliases"]
    assert (entry["programs"], entry["authority"], entry["countries"]) == (["NPWMD"], "E.O. 13382", ["KP", "CN"])


def test_an_entity_blocked_under_the_fifty_percent_rule_shows_its_owners() -> None:
    sanctions = _sanctions()
    (owned,) = [p for p in sanctions.persons if p.owned_by]
    assert owned.citation.startswith("OFAC 50 Percent Rule")
    entries = ListedEntries(sanctions)
    assert entries.lookup(owned.citation) is None  # the citation names no entry ...
    entry = entries.lookup("HOLDING CO")  # ... its name does
    assert entry is not None
    assert entry["name"] == "Holding Co"
    assert entry["countries"] == ["PE"]
    assert {(o["id"], o["name"]) for o in entry["owners"]} == {
        ("SDN-36", "Aero Continente " + XSS),
        ("SDN-40", "Ivan Petrov"),
    }
    assert entries.lookup("Ivan Petrov") is None  # a designated person is found by its citation only


@pytest.mark.parametrize(
    "key",
    [
        "",
        "   ",
        "31 CFR 1010.670(d)",
        "OFAC SDN List, entry 99999; E.O. 13382",  # no such entry
        "OFAC Consolidated List, entry SDN-40; E.O. 14024",  # not that entry's list
        "OFAC SDN List, entry ; E.O. 13382",
        "OFAC SDN List entry SDN-40",
        "OFAC " + "x" * 5_000 + ", entry SDN-40;",
        "OFAC SDN List, entry SDN-40\x00; E.O.",
        "\ud800",
        "OFAC " * 100,
        "\x1b[31m",
    ],
)
def test_anything_else_names_no_entry_and_nothing_raises(key: str) -> None:
    assert ListedEntries(_sanctions()).lookup(key) is None


def test_not_a_string_names_no_entry() -> None:
    entries = ListedEntries(_sanctions())
    for key in (None, 12345, b"OFAC SDN List, entry SDN-40;", ["x"]):
        assert entries.lookup(key) is None  # type: ignore[arg-type]


def test_the_case_page_and_the_api_show_the_listed_entry() -> None:
    store = Store(":memory:")
    entries = ListedEntries(_sanctions())
    hits = [
        _hit("blocked_person", "OFAC SDN List, entry SDN-36; E.O. 12978", "Aero Continente", "Aero Continente " + XSS),
        _hit("blocked_person", "OFAC 50 Percent Rule; OFAC SDN List", "Holding Co", "Holding Co"),
        _hit("possible_match", "OFAC SDN List, entry nope; E.O. 1", "Somebody", "Somebody"),
    ]
    ctx, case_id = _ctx(store, hits, listed_entry=entries.lookup)

    async def scenario() -> None:
        page, detail = await _page_and_api(ctx, case_id)
        assert XSS not in page
        shown = _words(page)
        assert "Listed entry: Aero Continente " + XSS in shown
        assert "SDN List, entry SDN-36" in shown
        assert "Aero Continente SA; AC " + XSS in shown
        assert "SDNTK" in shown
        assert "Owned 50 percent or more by" in shown
        assert "Ivan Petrov (SDN List entry SDN-40)" in shown
        first, second, third = detail["hits"]
        assert first["listed_entry"]["id"] == "SDN-36"
        assert first["listed_entry"]["aliases"] == ["Aero Continente SA", "AC " + XSS]
        assert first["listed_entry"]["programs"] == ["SDNTK"]
        assert {o["id"] for o in second["listed_entry"]["owners"]} == {"SDN-36", "SDN-40"}
        assert third["listed_entry"] is None

    run(scenario())


def test_the_seed_entry_on_the_case_page() -> None:
    store = Store(":memory:")
    hits = [_hit("blocked_person", SEED_CITATION, "Choe Chol Min", "Choe Chol Min")]
    ctx, case_id = _ctx(store, hits, listed_entry=ListedEntries(load_sanctions(None)).lookup)

    async def scenario() -> None:
        page, detail = await _page_and_api(ctx, case_id)
        shown = _words(page)
        assert "Ch'oe Ch'ol-min; Choe Cheol Min" in shown
        assert "<dt>Programs</dt><dd>NPWMD</dd>" in page
        assert "<dt>Authority</dt><dd>E.O. 13382</dd>" in page
        assert "Beijing-based representative of the Second Academy of Natural Sciences." in shown
        assert detail["hits"][0]["listed_entry"]["authority"] == "E.O. 13382"

    run(scenario())


def test_a_lookup_with_odd_fields_is_shown_bounded_and_complete() -> None:
    entry = case_view._entry_view(
        {"name": "X" * 5_000, "aliases": "not a list", "owners": [1, {"id": 2}], "more": {"a": True}}
    )
    assert entry["name"].endswith("…(cut)")
    assert entry["aliases"] == []
    assert entry["owners"] == [{"id": "2", "name": "", "list": ""}]
    assert entry["more"] == {}
    assert set(entry) >= {"id", "list", "type", "countries", "programs", "authority", "remarks", "bics", "source"}


# 2. A cited paragraph's sub-paragraphs.


def test_1010_670_d_shows_its_conditions_d1_and_d2() -> None:
    store = Store(":memory:")
    hits = [_hit("termination_notice", "31 CFR 1010.670(d)", "BANKXXYY")]
    ctx, case_id = _ctx(store, hits, cited_text=cited_text)

    async def scenario() -> None:
        page, detail = await _page_and_api(ctx, case_id)
        shown = _words(page)
        assert "that the foreign bank has failed:" in shown
        d1 = "(d)(1) To comply with a summons or subpoena issued under paragraph (b) of this section; or"
        d2 = "(d)(2) To initiate proceedings in a United States court contesting such summons or subpoena."
        assert d1 in shown
        assert d2 in shown
        assert shown.index("that the foreign bank has failed:") < shown.index(d1) < shown.index(d2)
        regulation = detail["hits"][0]["regulation"]
        assert [c["label"] for c in regulation["children"]] == ["(d)(1)", "(d)(2)"]
        assert regulation["children"][0]["text"].startswith("To comply with a summons or subpoena")
        assert regulation["more_children"] == 0

    run(scenario())


# 3. Registry records of the institutions a hit names.


def test_a_reason_naming_two_registry_bics_shows_both_records() -> None:
    store = Store(":memory:")
    banks: Mapping[str, Mapping[str, Any]] = {
        # Keyed as the registry keys institutions: the 11-character form.
        "PLBKCNSHXXX": {"bic": "PLBKCNSHXXX", "name": "Pearl Bank " + XSS},
        "BKCHCNBJ300": {"bic": "BKCHCNBJ300", "name": "Bank of China Shanghai"},
    }
    reason = (
        "The account's nested institution is the registry's record PLBKCNSH (8 characters), "
        "correspondent of BKCHCNBJ300; NOTAWORD and ABCDEFGH are not in the registry."
    )
    hits = [_hit("nested_covered_bank", "31 CFR 1010.659(b)(1)", "Pearl Bank", reason=reason)]
    ctx, case_id = _ctx(store, hits, institution_record=banks.get)

    async def scenario() -> None:
        page, detail = await _page_and_api(ctx, case_id)
        assert XSS not in page
        shown = _words(page)
        assert "Institution PLBKCNSH" in shown
        assert "Pearl Bank " + XSS in shown
        assert "Institution BKCHCNBJ300" in shown
        assert "Bank of China Shanghai" in shown
        institutions = detail["registry"]["institutions"]
        assert [(i["bic"], i["record"]["name"]) for i in institutions] == [
            ("PLBKCNSH", "Pearl Bank " + XSS),
            ("BKCHCNBJ300", "Bank of China Shanghai"),
        ]

    run(scenario())


def test_named_bics_from_value_matched_and_reason_once_each() -> None:
    hits: list[Mapping[str, Any]] = [
        {"value": "phntkyky", "matched": "PHNTKYKYXXX", "reason": "see PHNTKYKY and PLBKCNSHXXX"},
        {"value": "Bank PLBKCNSH", "reason": "BKCHCNBJ300's branch; BKCHCNBJ300"},
    ]
    assert [b.value for b in case_view.named_bics(hits)] == ["PHNTKYKY", "PLBKCNSHXXX", "BKCHCNBJ300"]


def test_a_bic_is_looked_up_in_its_11_and_8_character_forms() -> None:
    keyed11 = {"PLBKCNSHXXX": {"name": "eleven"}}
    keyed8 = {"PLBKCNSH": {"name": "eight"}}
    for written in ("PLBKCNSH", "PLBKCNSHXXX"):
        bic = try_parse_bic(written)
        assert bic is not None
        assert case_view.institution_records(keyed11.get, [bic]) == [{"bic": written, "record": {"name": "eleven"}}]
        assert case_view.institution_records(keyed8.get, [bic]) == [{"bic": written, "record": {"name": "eight"}}]


def test_a_long_reason_full_of_bic_shaped_words_costs_little() -> None:
    words = [f"AB{chr(65 + i % 26)}{chr(65 + i // 26 % 26)}CN{i % 10}{i // 10 % 10}" for i in range(500)]
    reason = " ".join(words)[:4_000]
    assert len(reason) == 4_000
    hits: list[Mapping[str, Any]] = [{"value": w, "matched": w, "reason": reason} for w in words[:200]]
    calls: list[str] = []

    def lookup(key: str) -> Mapping[str, Any] | None:
        calls.append(key)
        return None

    started = time.perf_counter()
    bics = case_view.named_bics(hits)
    records = case_view.institution_records(lookup, bics)
    assert time.perf_counter() - started < 1.0
    assert len(bics) == case_view.MAX_INSTITUTIONS
    assert records == []
    assert len(calls) <= 4 * case_view.MAX_INSTITUTIONS


def test_the_case_detail_is_json() -> None:
    store = Store(":memory:")
    hits = [_hit("blocked_person", SEED_CITATION, "Choe Chol Min", "Choe Chol Min", reason="PLBKCNSHXXX")]
    ctx, case_id = _ctx(store, hits, listed_entry=ListedEntries(load_sanctions(None)).lookup, cited_text=cited_text)
    row = store.case(case_id)
    assert row is not None
    json.dumps(case_view.case_detail(ctx, row))
