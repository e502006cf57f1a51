"""The regulation text of a cited paragraph of 31 CFR part 1010, subpart F (§§ 1010.600-1010.670).

A hit cites the paragraph it enforces, e.g. `31 CFR 1010.659(b)(1)` or `31 CFR 1010.658(b)(2)(iii)`;
the analyst's view shows that paragraph's text under its ancestors' lead-ins ((b)'s heading before
(b)(2)'s before (b)(2)(iii)'s), since a CFR paragraph often reads only as the end of its parent's
sentence ("... shall: (1) ..."). Blocked-person hits cite an OFAC list entry, not a CFR paragraph,
and get None.

The text is the eCFR's, split into paragraphs by ops/tools/cfr_paragraphs.py and shipped as package
data (rules/regulation/cfr_31_1010.json), so nothing is fetched or read from outside the package.
Pure: no Kafka, no I/O after the first load.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

DATA_PACKAGE = "rules"
DATA_FILE = "regulation/cfr_31_1010.json"

# Citations come from topics: anything longer than any real citation is junk, and the cap keeps the
# work on hostile input bounded before a regular expression sees it.
MAX_CITATION_CHARS = 200
# The cited paragraph's sub-paragraphs shown with it: a paragraph's conditions ("... has failed:
# (1) ...; or (2) ...") are part of what it says; the cap keeps a long list's view bounded.
MAX_CHILDREN = 40

_CITATION = re.compile(
    r"""
    (?:31(?=[\sCc§])\s*)?                       # the title, often left out
    (?:C\.?\s*F\.?\s*R\.?\s*)?                  # CFR, C.F.R.
    (?:§{1,2}\s*|sec(?:tion|s)?\.?\s*)?         # §, Sec., Section
    (?P<section>[0-9]{3,4}\.[0-9]{1,4})
    (?P<paragraphs>(?:\s*\(\s*[0-9A-Za-z]{1,6}\s*\))*)
    \s*\.?
    """,
    re.IGNORECASE | re.VERBOSE,
)
_LABEL = re.compile(r"\(\s*([0-9A-Za-z]{1,6})\s*\)")
# Spaces a copied citation may carry: tabs and line breaks (control characters, so named here) and
# any Unicode space (no-break, thin: not control characters). Any other control or format character
# (NUL, escape sequences, bidi overrides, zero-width spaces) makes the string junk rather than a
# citation someone could have meant.
_SPACES = frozenset(" \t\r\n")


@dataclass(frozen=True)
class CitedText:
    """What a citation points at in 31 CFR 1010.600-1010.670.

    citation: the citation as understood, normalized (`31 CFR 1010.658(b)(2)(iii)`).
    section, heading: the section number (`1010.658`) and its heading as the CFR prints it.
    path: (designation, text) of each paragraph from the outermost to the cited one, e.g.
        (("(b)", "Prohibition on accounts ...—"), ("(b)(2)", "Special due diligence ...—"),
         ("(b)(2)(iii)", "A covered financial institution that obtains knowledge ...")).
        A paragraph without words of its own, whose first child follows its label directly, has
        empty text ("(b)(3)" of § 1010.610: "(3)(i) Determine, ..."). The path is empty for a
        citation of a whole section.
    found: whether the cited paragraph itself is in the text; False when the path stops at its
        deepest ancestor that is (or at the section, when none is).
    section_text: the section's whole text, for a citation of a whole section (and for a reader who
        wants the context, e.g. § 1010.605's lead-in "the following definitions apply ...").
    children: (designation, text) of the cited paragraph's sub-paragraphs, at every depth, in
        document order (31 CFR 1010.670(d)'s "(d)(1)" and "(d)(2)"), at most MAX_CHILDREN; empty for
        a paragraph that has none, for a paragraph the text does not have (found False) and for a
        citation of a whole section (whose text is section_text).
    more_children: how many further sub-paragraphs there are beyond those in `children`.
    """

    citation: str
    section: str
    heading: str
    path: tuple[tuple[str, str], ...]
    found: bool
    section_text: str = field(default="", repr=False)
    children: tuple[tuple[str, str], ...] = ()
    more_children: int = 0

    @property
    def text(self) -> str:
        """The cited paragraph's own text (or the deepest ancestor's); the section's for a section."""
        return self.path[-1][1] if self.path else self.section_text


@dataclass(frozen=True)
class _Section:
    heading: str
    text: str
    paragraphs: dict[str, str]


@functools.cache
def _load() -> tuple[str, dict[str, _Section]]:
    """The packaged text's source and its sections by number, read once. A broken data file is a
    packaging defect and raises here, whatever the citation."""
    raw = resources.files(DATA_PACKAGE).joinpath(DATA_FILE).read_text(encoding="utf-8")
    data: Any = json.loads(raw)
    sections: dict[str, _Section] = {}
    for number, section in data["sections"].items():
        paragraphs = section["paragraphs"]
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in paragraphs.items()):
            raise TypeError(f"{DATA_FILE}: § {number} has a paragraph that is not text")
        sections[str(number)] = _Section(str(section["heading"]), str(section["text"]), dict(paragraphs))
    return str(data["source"]), sections


def source() -> str:
    """Where the packaged text comes from (the data file's `source`), for a footnote in the view."""
    return _load()[0]


def sections() -> tuple[str, ...]:
    """The section numbers the packaged text has, in order (`1010.600` ... `1010.670`)."""
    return tuple(_load()[1])


def _clean(citation: str) -> str | None:
    if len(citation) > MAX_CITATION_CHARS:
        return None
    if any(unicodedata.category(ch).startswith("C") and ch not in _SPACES for ch in citation):
        return None
    return " ".join(citation.split())


def parse_citation(citation: str) -> tuple[str, tuple[str, ...]] | None:
    """(section, paragraph labels) of a CFR citation, e.g. `31 CFR 1010.630(a)(1)(ii)` ->
    ("1010.630", ("a", "1", "ii")); None if the string is not one citation of a CFR section.
    Tolerates `§`, `Sec.`, `C.F.R.`, spaces inside and between the parentheses and a missing
    `31 CFR`; a label's case is kept, as (a) and (A) are different paragraphs."""
    # Citations are read from decoded JSON, where a field may hold anything.
    if not isinstance(citation, str):
        return None
    cleaned = _clean(citation)
    if cleaned is None:
        return None
    found = _CITATION.fullmatch(cleaned)
    if found is None:
        return None
    return found.group("section"), tuple(_LABEL.findall(found.group("paragraphs")))


def cited_text(citation: str) -> CitedText | None:
    """The text a citation points at in 31 CFR 1010.600-1010.670, with its ancestors' lead-ins.

    None for what the data does not cover: OFAC citations (`OFAC SDN List, entry 12345; E.O. 13382`),
    other sections or parts, and any string that is not a citation. A paragraph the text does not
    have (a typo, or one the text's own cross-references name, such as § 1010.605(e)(1)(viii))
    gets its deepest ancestor that the text has, with `found` False. Never raises on input: hits
    come from topics.
    """
    parsed = parse_citation(citation)
    if parsed is None:
        return None
    number, labels = parsed
    section = _load()[1].get(number)
    if section is None:
        return None
    path: list[tuple[str, str]] = []
    designation = ""
    for label in labels:
        designation += f"({label})"
        text = section.paragraphs.get(designation)
        if text is None:
            break
        path.append((designation, text))
    found = len(path) == len(labels)
    children: list[tuple[str, str]] = []
    more = 0
    if labels and found:
        prefix = designation + "("
        for key, body in section.paragraphs.items():  # the data file's order is the document's
            if key.startswith(prefix):
                if len(children) < MAX_CHILDREN:
                    children.append((key, body))
                else:
                    more += 1
    return CitedText(
        citation=f"31 CFR {number}" + "".join(f"({label})" for label in labels),
        section=number,
        heading=section.heading,
        path=tuple(path),
        found=found,
        section_text=section.text,
        children=tuple(children),
        more_children=more,
    )
