"""Covered institutions referenced in free text, read as SWIFT and ISO 20022 write it.

1010.658 as published (80 FR 45062) expects screening to catch a transfer that "otherwise
references" FBME, and the other sections forbid transactions that involve a covered institution
however the message names it. Free text (remittance information, instructions to agents) arrives
in fixed-length lines (35 characters in MT, 140 in ISO 20022), so:

- a name wrapped across lines is found in the lines joined, with and without a space (the break
  may fall between two words or inside one);
- a name cut at the line length is matched on the part that is there (name_evidence.py);
- a BIC is recognised anywhere: a listed or registry BIC, or one whose country code (letters 5-6)
  is a covered jurisdiction. An unlabelled word of BIC shape is a possible match only, and not
  even that when it is an ordinary word (rules/lists/bic_shaped_words.txt: "CONFIRMS",
  "MOHAMMED");
- an abbreviation written with its seat ("CBS Damascus") identifies the institution.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache
from itertools import product
from pathlib import Path

from rules.bic import try_parse_bic
from rules.catalog import RuleSet
from rules.checks.coverage import institution_evidence
from rules.checks.evidence import Evidence, jurisdiction_measures, possible, strong_name
from rules.checks.name_evidence import SWIFT_LINE_LENGTHS, abbreviation_evidence, cut_name_evidence
from rules.names import text_tokens
from rules.payment import Institution
from rules.registry import Registry
from rules.similarity import POSSIBLE_MATCH

BIC_SHAPED_WORDS = Path(__file__).parent.parent / "lists" / "bic_shaped_words.txt"
_BIC_TOKEN = re.compile(r"(?<![A-Z0-9])([A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?)(?![A-Z0-9])")
# A word of BIC shape right after one of these (or right after "/" or ":", as in "/INS/",
# "//" and ":57A:") is meant as a BIC.
_LABELS = frozenset(
    {"BIC", "BICFI", "SWIFT", "SWIFTBIC", "BEI", "ACC", "INS", "INT", "REC", "BNF", "VIA", "THRU", "THROUGH", "AGENT"}
)
_LABEL_BEFORE = re.compile(r"([A-Z]+)[\s:./-]*$")
# Lines joined to find a wrapped name: a name of up to 105 characters spans three MT lines.
_MAX_JOINED = 3
_MIN_CUT_LINE = 35


@lru_cache(maxsize=1)
def bic_shaped_words() -> tuple[frozenset[str], frozenset[str]]:
    """(country codes the list was made for, the words) from rules/lists/bic_shaped_words.txt."""
    countries: frozenset[str] = frozenset()
    words: set[str] = set()
    for line in BIC_SHAPED_WORDS.read_text(encoding="utf-8").splitlines():
        if line.startswith("# countries:"):
            countries = frozenset(line.split(":", 1)[1].split())
        elif line and not line.startswith("#"):
            words.add(line.strip())
    return countries, frozenset(words)


def _labelled(text: str, start: int) -> bool:
    before = text[max(0, start - 16) : start]
    if before.endswith(("/", ":")):
        return True
    found = _LABEL_BEFORE.search(before)
    return found is not None and found.group(1) in _LABELS


def _bic_evidence(rules: RuleSet, registry: Registry, field: str, text: str) -> list[Evidence]:
    out: list[Evidence] = []
    upper = text.upper()
    made_for, words = bic_shaped_words()
    for found in _BIC_TOKEN.finditer(upper):
        token = found.group(1)
        bic = try_parse_bic(token)
        if bic is None:
            continue
        known = bic.institution_key in rules.by_bic or registry.institution_by_bic(bic) is not None
        meant = _labelled(upper, found.start()) or any(ch.isdigit() for ch in token[6:])
        if known or meant:
            for ev in institution_evidence(rules, registry, field, Institution(bic=token)):
                out.append(replace(ev, field=field, value=text, because=f"the text carries BIC {token}: {ev.because}"))
            continue
        for m in jurisdiction_measures(rules, bic.country, "jurisdictions"):
            if bic.country in made_for and token in words:
                continue
            because = (
                f"the word {token!r} has the shape of a BIC licensed in {bic.country}, though nothing in the "
                "text marks it as one"
            )
            out.append(possible(m, "chartered", field, text, bic.country, because, POSSIBLE_MATCH))
    return out


def _names_in(rules: RuleSet, field: str, text: str) -> list[Evidence]:
    tokens = text_tokens(text)
    out = [
        strong_name(
            named.payload.measure,
            field,
            text,
            named.payload.institution.name,
            f"the text names {named.form.original!r}",
            100.0,
        )
        for named, _ in rules.covered_names.find_in_tokens(tokens)
    ]
    out.extend(ev for ev, _ in abbreviation_evidence(rules, field, text, tokens, None))
    return out


def _joined(lines: Sequence[str], i: int, j: int) -> list[str]:
    """Lines i..j joined with every choice of a space or none at each break."""
    seg = lines[i : j + 1]
    return [
        seg[0] + "".join(sep + line for sep, line in zip(joins, seg[1:], strict=True))
        for joins in product(("", " "), repeat=j - i)
    ]


def _cut_lines(lines: Sequence[str]) -> list[int]:
    """Lines that end where the message's line length cut them: as long as the longest line
    (the length found) when that is a SWIFT length or more, or exactly a SWIFT line length."""
    longest = max((len(line) for line in lines), default=0)
    return [
        i
        for i, line in enumerate(lines)
        if len(line) in SWIFT_LINE_LENGTHS or (longest >= _MIN_CUT_LINE and len(line) == longest)
    ]


def text_evidence(rules: RuleSet, registry: Registry, field: str, lines: Sequence[str]) -> list[Evidence]:
    """Covered institutions referenced in one free-text field (its lines as the message wrapped them).

    Memoised: a pure function of the rule set, the registry's content and the text.
    """
    key = ("text", registry.version, field, tuple(lines))
    found: tuple[Evidence, ...] = rules.memo(key, lambda: tuple(_text_evidence(rules, registry, field, lines)))
    return list(found)


def _text_evidence(rules: RuleSet, registry: Registry, field: str, lines: Sequence[str]) -> list[Evidence]:
    out: list[Evidence] = []
    single: list[set[str]] = []
    for i, line in enumerate(lines):
        path = f"{field}[{i}]"
        evidence = _names_in(rules, path, line) + _bic_evidence(rules, registry, path, line)
        single.append({ev.matched for ev in evidence})
        out.extend(evidence)
    for i in range(len(lines) - 1):
        for j in range(i + 1, min(i + _MAX_JOINED, len(lines))):
            already = set().union(*single[i : j + 1])
            for text in _joined(lines, i, j):
                for ev in _names_in(rules, f"{field}[{i}]", text):
                    if ev.matched not in already:
                        out.append(replace(ev, because=f"{ev.because}, wrapped across lines {i}-{j}"))
    for i in _cut_lines(lines):
        texts = [lines[i]] + (_joined(lines, i - 1, i) if i > 0 else [])
        for text in texts:
            out.extend(ev for ev, _ in cut_name_evidence(rules, f"{field}[{i}]", text, text_tokens(text)))
    return out
