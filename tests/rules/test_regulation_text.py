"""The regulation text of cited paragraphs (rules/regulation_text.py): 31 CFR 1010.600-1010.670 as
packaged in rules/regulation/cfr_31_1010.json, and how ops/tools/cfr_paragraphs.py reads paragraph
levels from plain text."""

from __future__ import annotations

import fnmatch
import itertools
import tomllib
from importlib import resources
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ops.tools.cfr_paragraphs import SeedError, parse_seed
from rules import regulation_text
from rules.regulation_text import CitedText, cited_text, parse_citation

ROOT = Path(__file__).resolve().parents[2]

# The paragraphs hits cite, each with words of its own text that only that paragraph has, and its
# ancestors' designations in order.
CITED = [
    (
        "31 CFR 1010.659(b)(1)",
        ("(b)", "(b)(1)"),
        (
            "shall not open or maintain in the United States a correspondent account for, or on behalf of, "
            "a North Korean banking institution"
        ),
    ),
    (
        "31 CFR 1010.658(b)(2)(iii)",
        ("(b)", "(b)(2)", "(b)(2)(iii)"),
        "may be being used to process transactions involving FBME Bank, Ltd.",
    ),
    (
        "31 CFR 1010.630(a)(1)(ii)",
        ("(a)", "(a)(1)", "(a)(1)(ii)"),
        "not being used by that foreign bank to indirectly provide banking services to a foreign shell bank",
    ),
    ("31 CFR 1010.670(d)", ("(d)",), "not later than 10 business days after receipt of written notice"),
    (
        "31 CFR 1010.610(c)(2)",
        ("(c)", "(c)(2)"),
        "designated as non-cooperative with international anti-money laundering principles",
    ),
    ("31 CFR 1010.651(b)(3)", ("(b)", "(b)(3)"), "not prohibited by Executive Order 13310"),
    (
        "31 CFR 1010.630(d)(2)",
        ("(d)", "(d)(2)"),
        "within 30 calendar days after the date the account is established, and at least once every three years",
    ),
]


def _cited(citation: str) -> CitedText:
    found = cited_text(citation)
    assert found is not None, citation
    return found


@pytest.mark.parametrize(("citation", "designations", "words"), CITED)
def test_cited_paragraph_resolves_with_its_real_text(citation, designations, words):
    cited = _cited(citation)
    assert cited.found
    assert cited.citation == citation
    assert cited.section == citation.split()[2][:8]
    assert tuple(label for label, _ in cited.path) == designations
    assert words in cited.path[-1][1]
    assert cited.text == cited.path[-1][1]


def test_1010_659_b1_heading_and_lead_in():
    cited = _cited("31 CFR 1010.659(b)(1)")
    assert cited.heading == "Special measures against North Korea."
    assert cited.path[0] == (
        "(b)",
        "Prohibition on accounts and due diligence requirements for covered financial institutions—",
    )
    assert cited.path[1][1].startswith("Opening or maintenance of correspondent accounts for a North Korean")


def test_1010_658_b2_iii_ancestors_come_outermost_first():
    path = _cited("31 CFR 1010.658(b)(2)(iii)").path
    assert path[0][1].startswith("Prohibition on accounts and due diligence requirements")
    assert path[1][1] == "Special due diligence of correspondent accounts to prohibit use—"
    assert path[2][1].startswith("A covered financial institution that obtains knowledge")


def test_1010_630_a1_ii_ancestors_are_the_run_in_headings():
    path = _cited("31 CFR 1010.630(a)(1)(ii)").path
    assert path[0] == ("(a)", "Requirements for covered financial institutions—")
    assert path[1] == ("(a)(1)", "Prohibition on correspondent accounts for foreign shell banks.")


def test_1010_670_d_lead_in_ends_where_its_children_start():
    cited = _cited("31 CFR 1010.670(d)")
    assert cited.text.endswith("that the foreign bank has failed:")
    assert _cited("31 CFR 1010.670(d)(2)").text == (
        "To initiate proceedings in a United States court contesting such summons or subpoena."
    )


def test_1010_670_d_carries_its_conditions_d1_and_d2():
    cited = _cited("31 CFR 1010.670(d)")
    assert cited.children == (
        ("(d)(1)", "To comply with a summons or subpoena issued under paragraph (b) of this section; or"),
        ("(d)(2)", "To initiate proceedings in a United States court contesting such summons or subpoena."),
    )
    assert cited.more_children == 0


def test_children_are_every_descendant_in_document_order():
    # § 1010.630(a) has (a)(1) with (a)(1)(i)-(iii), then (a)(2) ...: each below its parent.
    labels = [label for label, _ in _cited("31 CFR 1010.630(a)").children]
    assert labels[:5] == ["(a)(1)", "(a)(1)(i)", "(a)(1)(ii)", "(a)(1)(iii)", "(a)(2)"]
    assert all(label.startswith("(a)(") for label in labels)


@pytest.mark.parametrize(
    "citation",
    ["31 CFR 1010.670(d)(1)", "31 CFR 1010.670(d)(2)", "31 CFR 1010.659(b)(1)", "31 CFR 1010.630(a)(1)(ii)"],
)
def test_a_leaf_paragraph_has_no_children(citation):
    cited = _cited(citation)
    assert cited.children == ()
    assert cited.more_children == 0


def test_no_children_for_a_missing_paragraph_or_a_whole_section():
    assert _cited("31 CFR 1010.605(e)(1)(viii)").children == ()
    assert _cited("31 CFR 1010.670(z)(9)").children == ()
    assert _cited("31 CFR 1010.661").children == ()


def test_children_are_bounded(monkeypatch):
    monkeypatch.setattr(regulation_text, "MAX_CHILDREN", 1)
    cited = _cited("31 CFR 1010.670(d)")
    assert [label for label, _ in cited.children] == ["(d)(1)"]
    assert cited.more_children == 1


def test_1010_610_c2_lead_in_names_the_enhanced_due_diligence():
    cited = _cited("31 CFR 1010.610(c)(2)")
    assert cited.path[0][1].startswith("Foreign banks to be accorded enhanced due diligence.")
    assert cited.path[0][1].endswith("a foreign bank that operates under:")


def test_1010_651_b3_exception_is_not_a_child_of_b2():
    cited = _cited("31 CFR 1010.651(b)(3)")
    assert cited.path[1][1].startswith("Exception. The provisions of paragraphs (b)(1) and (2)")
    assert cited.heading == "Special measures against Burma."


def test_1010_630_d2_under_closure_of_correspondent_accounts():
    cited = _cited("31 CFR 1010.630(d)(2)")
    assert cited.path[0] == ("(d)", "Closure of correspondent accounts—")
    assert cited.path[1][1].startswith("Accounts established after October 28, 2002.")


def test_section_alone_gives_the_whole_section():
    cited = _cited("31 CFR 1010.661")
    assert cited.found
    assert cited.path == ()
    assert cited.heading == "Special measures against Iran."
    assert cited.text == cited.section_text
    assert cited.text.startswith("(a) Definitions. For purposes of this section:")
    assert "Iranian financial institution means any foreign financial institution" in cited.text
    assert "Note 1 to paragraph (b)(1):" in cited.text


def test_1010_661_b1_carries_its_note():
    text = _cited("31 CFR 1010.661(b)(1)").text
    assert text.startswith("Opening or maintaining correspondent accounts for Iranian financial institutions.")
    assert "Note 1 to paragraph (b)(1):\n\nNote that covered financial institutions should block" in text
    assert "Note 1" not in _cited("31 CFR 1010.661(b)(2)").text


def test_italic_level_under_an_uppercase_paragraph():
    # 1010.610(b)(3)(ii)(A)(1): the fifth level (italic arabic) in the CFR; (b)(3) and (b)(3)(ii)
    # start their children on the same line or have a lead-in of their own.
    cited = _cited("31 CFR 1010.610(b)(3)(ii)(A)(1)")
    assert [label for label, _ in cited.path] == [
        "(b)",
        "(b)(3)",
        "(b)(3)(ii)",
        "(b)(3)(ii)(A)",
        "(b)(3)(ii)(A)(1)",
    ]
    assert cited.path[1][1] == ""
    assert cited.text == "Members of the same family shall be considered to be one person; and"
    assert _cited("31 CFR 1010.610(b)(3)(ii)(B)").text.startswith("Publicly traded means shares")


def test_letter_i_after_h_is_a_paragraph_of_the_first_level():
    assert _cited("31 CFR 1010.605(i)").text.startswith("Offshore banking license means")
    assert _cited("31 CFR 1010.605(c)(1)(i)").text.startswith("For purposes of § 1010.610(a), (d) and (e)")


@pytest.mark.parametrize(
    "citation",
    [
        "31 CFR 1010.659(b)(1)",
        "31 CFR 1010.659 (b)(1)",
        "31 CFR 1010.659 (b) (1)",
        "31 CFR 1010.659( b )( 1 )",
        "31 CFR § 1010.659(b)(1)",
        "31 C.F.R. § 1010.659(b)(1)",
        "31 c.f.r. 1010.659(b)(1).",
        "§ 1010.659(b)(1)",
        "§1010.659(b)(1)",
        "Sec. 1010.659(b)(1)",
        "section 1010.659(b)(1)",
        "1010.659(b)(1)",
        "  31\u00a0CFR\u00a01010.659(b)(1)\n",
        "31CFR1010.659(b)(1)",
    ],
)
def test_tolerated_forms_of_one_citation(citation):
    cited = _cited(citation)
    assert cited.citation == "31 CFR 1010.659(b)(1)"
    assert cited.found


def test_parse_citation_keeps_the_case_of_labels():
    assert parse_citation("31 CFR 1010.610(b)(3)(ii)(A)(1)") == ("1010.610", ("b", "3", "ii", "A", "1"))
    assert parse_citation("31 CFR 1010.661") == ("1010.661", ())


def test_missing_paragraph_gives_its_deepest_ancestor():
    # § 1010.605(e)(1) has (i)-(iv) only, though (c)(2)(ii) of the same section refers to (e)(1)(viii).
    cited = _cited("31 CFR 1010.605(e)(1)(viii)")
    assert not cited.found
    assert cited.citation == "31 CFR 1010.605(e)(1)(viii)"
    assert [label for label, _ in cited.path] == ["(e)", "(e)(1)"]
    assert cited.text == "For purposes of § 1010.610 and 1010.620:"


def test_wrong_case_label_is_not_found_but_its_ancestor_is():
    cited = _cited("31 CFR 1010.658(b)(2)(III)")
    assert not cited.found
    assert [label for label, _ in cited.path] == ["(b)", "(b)(2)"]


def test_missing_first_level_paragraph_gives_the_section():
    cited = _cited("31 CFR 1010.670(z)(9)")
    assert not cited.found
    assert cited.path == ()
    assert cited.heading.startswith("Summons or subpoena of foreign bank records")


def test_reserved_section_resolves_without_paragraphs():
    cited = _cited("31 CFR 1010.640")
    assert cited.heading == "[Reserved]"
    assert cited.path == ()


@pytest.mark.parametrize(
    "citation",
    [
        "OFAC SDN List, entry 12345; E.O. 13382",
        "OFAC SDN List, entry 36070; E.O. 13382",
        "OFAC 50 Percent Rule; E.O. 13722",
        "OFAC Non-SDN Menu-Based Sanctions List, entry 99; E.O. 13846",
        "E.O. 13382",
        "31 CFR 501.603",
        "31 CFR 1010.520(b)(3)",
        "31 CFR 1020.220",
        "31 U.S.C. 5318A",
        "31 CFR 1010.659(b)(1); 31 CFR 1010.661",
        "31 CFR 1010.659(b)(1) and (2)",
        "see 31 CFR 1010.659(b)(1)",
        "311010.659",
        "1010.659x",
        "",
        " ",
        "()",
        "31 CFR",
        "§",
    ],
)
def test_outside_the_data_is_none(citation):
    assert cited_text(citation) is None


HOSTILE = [
    "31 CFR 1010.659(b)(1)" + "(a)" * 100_000,
    "x" * 1_000_000,
    "(" * 100_000,
    ")" * 100_000,
    "31 CFR 1010.659" + " (b" * 50_000,
    "31 CFR 1010.659(b(1)",
    "31 CFR 1010.659((b)",
    "31 CFR 1010.659(b))",
    "31 CFR 1010.659(b)(1",
    "31 CFR 1010.659)b(",
    "31 CFR 1010.659()",
    "31 CFR 1010.659(b)(toolonglabel)",
    "31 CFR 1010.659(b)\x00(1)",
    "31 CFR 1010.659(b)(1)\x00",
    "\x1b[31m31 CFR 1010.659(b)(1)\x1b[0m",
    "31 CFR 1010.659(b)(1)\u202e",
    "31 CFR 1010.\u200b659(b)(1)",
    "31 CFR 1010.659(b)(1)\ud800",
    "\ufeff31 CFR 1010.659(b)(1)",
    "31 CFR 1010.659(b)\x7f",
    "31 CFR ١٠١٠.٦٥٩(b)(1)",
    "31 CFR 1010.659(b)(١)",
    "31 CFR 1010.659(ß)",
]


@pytest.mark.parametrize("citation", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_strings_are_none(citation):
    assert cited_text(citation) is None


def test_not_a_string_is_none():
    assert cited_text(None) is None  # type: ignore[arg-type]
    assert cited_text(b"31 CFR 1010.659(b)(1)") is None  # type: ignore[arg-type]


def _check(result: CitedText | None) -> None:
    if result is None:
        return
    assert result.section in regulation_text.sections()
    labels = [label for label, _ in result.path]
    assert all(later.startswith(earlier) for earlier, later in itertools.pairwise(labels))
    assert result.citation.startswith(f"31 CFR {result.section}")
    assert not result.found or result.citation.endswith(labels[-1] if labels else result.section)


_LABELS = st.sampled_from(["a", "b", "c", "d", "1", "2", "3", "i", "ii", "iii", "iv", "A", "B", "(", ")", " ", ""])
_CITATION_LIKE = st.builds(
    lambda prefix, section, labels, tail: prefix + section + "".join(labels) + tail,
    st.sampled_from(["", "31 CFR ", "§ ", "Sec. ", "31 C.F.R. §", "OFAC ", "(", "31"]),
    st.sampled_from(["1010.605", "1010.610", "1010.630", "1010.651", "1010.658", "1010.659", "1010.661", "1010.9"]),
    st.lists(st.builds(lambda label, close: f"({label}{close}", _LABELS, st.sampled_from([")", "", "))"])), max_size=7),
    st.text(max_size=4),
)
PROPERTY = settings(
    derandomize=True,
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@PROPERTY
@given(st.text(max_size=300))
def test_no_string_raises(citation):
    _check(cited_text(citation))


@PROPERTY
@given(_CITATION_LIKE)
def test_no_citation_like_string_raises(citation):
    _check(cited_text(citation))


def _measure_citations() -> list[str]:
    citations: list[str] = []
    for path in sorted((ROOT / "rules" / "measures").glob("1010_*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for group in ("checks", "paragraphs"):
            # A measure without a paragraph of the kind (Burma's notice) has null there.
            for entry in (data.get(group) or {}).values():
                citations.extend(
                    f"{data['citation']}{value}"
                    for key, value in (entry or {}).items()
                    if key.endswith("paragraph") and isinstance(value, str)
                )
    return citations


def test_every_paragraph_the_measure_files_cite_is_in_the_text():
    citations = _measure_citations()
    assert len(citations) > 20
    missing = [c for c in citations if not _cited(c).found]
    assert missing == []


def test_data_file_names_its_source_and_covers_the_sections():
    assert regulation_text.source().startswith("eCFR")
    assert "public domain" in regulation_text.source()
    assert regulation_text.sections() == (
        "1010.600",
        "1010.605",
        "1010.610",
        "1010.620",
        "1010.630",
        "1010.640",
        "1010.651",
        "1010.653",
        "1010.658",
        "1010.659",
        "1010.660",
        "1010.661",
        "1010.670",
    )


def test_data_is_package_data_read_once():
    resource = resources.files("rules").joinpath(regulation_text.DATA_FILE)
    assert resource.is_file()
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"][
        "package-data"
    ]["rules"]
    assert any(fnmatch.fnmatch(regulation_text.DATA_FILE, pattern) for pattern in patterns)
    cited_text("31 CFR 1010.659(b)(1)")
    cited_text("31 CFR 1010.661")
    assert regulation_text._load.cache_info().currsize == 1


# How the data file's tool reads levels from plain text, where the CFR's italics are lost.


def _paragraphs(text: str) -> dict[str, str]:
    warnings: list[str] = []
    _, sections = parse_seed(text, warnings)
    return {key: " ".join(parts) for key, parts in sections["1.1"].paragraphs.items()}


def test_tool_reads_letter_i_after_h_and_roman_i_under_a_number():
    first = [f"({letter}) Letter {letter}." for letter in "abcdefg"]
    rest = ["(h) Aitch.", "(1) One.", "(i) Roman one.", "(ii) Roman two.", "(2) Two.", "(i) Letter i.", "(j) Jay."]
    text = "\n\n".join(["§ 1.1 - Test.", *first, *rest])
    assert list(_paragraphs(text))[7:] == ["(h)", "(h)(1)", "(h)(1)(i)", "(h)(1)(ii)", "(h)(2)", "(i)", "(j)"]


def test_tool_reads_run_in_headings_and_several_labels_on_a_line():
    text = (
        "§ 1.1 - Test.\n\n(a) Rules—(1) General. (i) Text one.\n\n(ii) Text two.\n\n"
        "(2)(i) Inner one.\n\n(ii) Inner two; see paragraph (a)(1) of this section.\n"
    )
    assert _paragraphs(text) == {
        "(a)": "Rules—",
        "(a)(1)": "General.",
        "(a)(1)(i)": "Text one.",
        "(a)(1)(ii)": "Text two.",
        "(a)(2)": "",
        "(a)(2)(i)": "Inner one.",
        "(a)(2)(ii)": "Inner two; see paragraph (a)(1) of this section.",
    }


def test_tool_refuses_a_label_out_of_sequence():
    with pytest.raises(SeedError, match=r"\(c\) cannot follow \(a\)"):
        _paragraphs("§ 1.1 - Test.\n\n(a) One.\n\n(c) Three.\n")
