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
- an abbreviation written with its seat ("CBS Damascus") identifies the institution;
- a registry institution's name is found too (whole or cut), and identified as in an institution
  field: with the places the text names ("SILVER CRANE BANK TEHRAN BRANCH"), else only when
  every record of that name is covered alike;
- a branch or office the text places in a covered jurisdiction ("... BANK TEHRAN BRANCH") is one
  within it (1010.659(a)(2), 1010.661(a)(1)): strong when the text names a financial institution,
  a possible match when it does not ("OUR TEHRAN BRANCH").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache
from itertools import product

from rules.bic import try_parse_bic
from rules.catalog import RuleSet
from rules.checks.coverage import institution_evidence, qualifier_places_in, registry_name_evidence
from rules.checks.evidence import Evidence, identified, jurisdiction_measures, possible, strong_name
from rules.checks.name_evidence import SWIFT_LINE_LENGTHS, abbreviation_evidence, cut_name_evidence, cut_names
from rules.data_files import LISTS_DIR
from rules.financial_institutions import kind_from_name
from rules.names import text_tokens
from rules.payment import Institution
from rules.places import PlaceMatch
from rules.registry import Registry
from rules.similarity import POSSIBLE_MATCH

BIC_SHAPED_WORDS = LISTS_DIR / "bic_shaped_words.txt"
_BIC_TOKEN = re.compile(r"(?<![A-Z0-9])([A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?)(?![A-Z0-9])")
# A BIC written in its groups ("BKMT IR TH", "SEPB IRTH XXX"): read only where marked as a BIC.
_SPACED_BIC = re.compile(r"(?<![A-Z0-9])([A-Z]{4}) ?([A-Z]{2}) ?([A-Z0-9]{2})(?: ([A-Z0-9]{3}))?(?![A-Z0-9])")
# A word of BIC shape right after one of these (or right after "/" or ":", as in "/INS/",
# "//" and ":57A:") is meant as a BIC.
_LABELS = frozenset(
    {
        "BIC",
        "BICFI",
        "SWIFT",
        "SWIFTBIC",
        "BEI",
        "ACC",
        "INS",
        "INT",
        "REC",
        "BNF",
        "VIA",
        "THRU",
        "THROUGH",
        "AGENT",
        "BANK",
        "BK",
        "CORRESPONDENT",
        "CORR",
    }
)
_LABEL_BEFORE = re.compile(r"([A-Z]+)[\s:./-]*$")
# Lines joined to find a wrapped name: a name of up to 105 characters spans three MT lines.
_MAX_JOINED = 3
# The longest name a message field holds (ISO 20022 Nm: 140) and a word's slack around it.
_NEAR_BREAK = 160
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
    tokens = [(m.group(1), m.start(), False) for m in _BIC_TOKEN.finditer(upper)]
    tokens += [
        ("".join(g for g in m.groups() if g), m.start(), True)
        for m in _SPACED_BIC.finditer(upper)
        if " " in m.group(0) and _labelled(upper, m.start())
    ]
    for token, start, spaced in tokens:
        bic = try_parse_bic(token)
        if bic is None:
            continue
        known = bic.institution_key in rules.by_bic or registry.institution_by_bic(bic) is not None
        meant = spaced or _labelled(upper, start) or any(ch.isdigit() for ch in token[6:])
        if known or meant:
            out.extend(
                replace(ev, field=field, value=text, because=f"the text carries BIC {token}: {ev.because}")
                for ev in institution_evidence(rules, registry, field, Institution(bic=token))
            )
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


def _registry_names_in(
    rules: RuleSet, registry: Registry, field: str, text: str, tokens: tuple[str, ...]
) -> list[Evidence]:
    """Registry institutions named in the text, whole or cut at its end."""
    if not len(registry.institutions()):
        return []
    index = registry.name_index()
    out: list[Evidence] = []
    places: list[PlaceMatch] | None = None
    for named, _ in index.find_in_tokens(tokens):
        if named.form.has_distinctive:
            places = places if places is not None else rules.places.locate([text]) + qualifier_places_in(rules, tokens)
            out.extend(
                replace(ev, field=field, value=text, because=f"the text names {named.payload!r}: {ev.because}")
                for ev in registry_name_evidence(rules, registry, field, named.payload, places)
            )
    for cut in cut_names(rules, index, text, tokens):
        if not cut.name.form.has_distinctive:
            continue
        places = places if places is not None else rules.places.locate([text]) + qualifier_places_in(rules, tokens)
        for ev in registry_name_evidence(rules, registry, field, cut.name.payload, places):
            found = replace(ev, field=field, value=text, because=f"{cut.because}: {ev.because}")
            out.append(found if cut.strong else replace(found, strong=False, identifier=False, score=POSSIBLE_MATCH))
    return out


def _branches_in(rules: RuleSet, field: str, text: str, tokens: tuple[str, ...]) -> list[Evidence]:
    """A branch or office the text places in a covered jurisdiction ("BANK X TEHRAN BRANCH")."""
    out: list[Evidence] = []
    for place in qualifier_places_in(rules, tokens):
        kind = kind_from_name(text)
        institution = kind is not None
        for m in jurisdiction_measures(rules, place.country, "located_in", kind):
            because = f"the text names a branch or office in {place.name} ({place.country})"
            if institution:
                out.append(identified(m, "located_in", field, text, place.country, because))
            else:
                because += ", though not whose"
                out.append(possible(m, "located_in", field, text, place.country, because, POSSIBLE_MATCH))
    return out


def _names_in(rules: RuleSet, registry: Registry, field: str, text: str) -> list[Evidence]:
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
    out.extend(_registry_names_in(rules, registry, field, text, tokens))
    out.extend(_branches_in(rules, field, text, tokens))
    return out


def _joined(lines: Sequence[str], i: int, j: int) -> list[str]:
    """Lines i..j joined with every choice of a space or none at each break.

    Only the text near the breaks is joined: a name spans a break with at most _NEAR_BREAK
    characters on each side, so long lines cost no more than short ones, and a middle line
    longer than that cannot be spanned by one name.
    """
    # A continuation line of MT field 72 starts with "//": the marker is not part of the text.
    seg = [lines[i], *(line.removeprefix("//") for line in lines[i + 1 : j + 1])]
    if any(len(line) > _NEAR_BREAK for line in seg[1:-1]):
        return []
    seg[0] = seg[0][-_NEAR_BREAK:]
    seg[-1] = seg[-1][:_NEAR_BREAK]
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
    single: list[dict[str, tuple[bool, bool, float]]] = []
    for i, line in enumerate(lines):
        path = f"{field}[{i}]"
        evidence = _names_in(rules, registry, path, line) + _bic_evidence(rules, registry, path, line)
        found: dict[str, tuple[bool, bool, float]] = {}
        for ev in evidence:
            found[ev.matched] = max(found.get(ev.matched, ev.rank), ev.rank)
        single.append(found)
        out.extend(evidence)
    # Windows from the last line back, each the shortest first: a wrapped name is reported on the
    # line it starts on, not on an earlier line whose longer window happens to hold it too (a
    # free-text list may join several fields: MT 70 and 77B are both remittance lines).
    wrapped: dict[tuple[str, str], tuple[bool, bool, float]] = {}
    for i in reversed(range(len(lines) - 1)):
        for j in range(i + 1, min(i + _MAX_JOINED, len(lines))):
            already: dict[str, tuple[bool, bool, float]] = {}
            for found in single[i : j + 1]:
                for matched, rank in found.items():
                    already[matched] = max(already.get(matched, rank), rank)
            for text in _joined(lines, i, j):
                # A name or a BIC wrapped inside itself is read from the lines joined; what the
                # lines already showed as strongly alone is not repeated.
                path = f"{field}[{i}]"
                for ev in _names_in(rules, registry, path, text) + _bic_evidence(rules, registry, path, text):
                    if ev.matched in already and ev.rank <= already[ev.matched]:
                        continue
                    key = (ev.matched, ev.measure.section)
                    if key in wrapped and ev.rank <= wrapped[key]:
                        continue
                    wrapped[key] = ev.rank
                    out.append(replace(ev, because=f"{ev.because}, wrapped across lines {i}-{j}"))
    for i in _cut_lines(lines):
        texts = [lines[i]] + (_joined(lines, i - 1, i) if i > 0 else [])
        for text in texts:
            out.extend(ev for ev, _ in cut_name_evidence(rules, f"{field}[{i}]", text, text_tokens(text)))
    return out
