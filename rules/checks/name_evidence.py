"""Covered institutions a name refers to: listed names, abbreviations with their seat, cut names.

SPEC 2.1: identify an institution by name, "including aliases, former names, abbreviations,
punctuation and case variants, and other scripts". An ambiguous abbreviation ("CBS") is a
possible match alone, but identifies the institution when written with its seat or country
("CBS Damascus"). A name cut at a SWIFT line length ("FOREIGN TRADE BANK OF THE DEMOCRATI") is
matched on the part that is there.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from mypy_extensions import mypyc_attr

from rules.catalog import ListedRef, RuleSet
from rules.checks.evidence import Evidence, possible, strong_name
from rules.name_candidates import IndexedName
from rules.name_index import NameIndex, search_key
from rules.names import ends_open, text_tokens
from rules.similarity import POSSIBLE_MATCH, STRONG_MATCH
from rules.word_weights import TokenKind

T = TypeVar("T")

# SWIFT MT free-format lines are 35 characters; ISO 20022 names and unstructured remittance 140.
SWIFT_LINE_LENGTHS = frozenset({35, 70, 140})
# A cut name acts when the part that is there is this share of the listed name's letters, or at
# least _CUT_STRONG_LETTERS letters over three words; at least two words make it a possible match.
_CUT_STRONG_SHARE = 0.6
_CUT_STRONG_LETTERS = 20
_CUT_POSSIBLE_LETTERS = 10
_CUT_MIN_PARTIAL = 2
# How near an abbreviation its seat must be written, in words.
_SEAT_WINDOW = 3
# The field label name_evidence's memoised evidence carries until given the caller's.
_ANY_FIELD = ""


def suppressed_by_look_alike(rules: RuleSet, name: str, score: float) -> str | None:
    """A known look-alike that matches the name at least as well as the covered name does."""
    hits = rules.look_alike_names.search(name, POSSIBLE_MATCH)
    if hits and hits[0].score >= score:
        return hits[0].name.payload.name
    return None


def _covered_matches(rules: RuleSet, name: str) -> tuple[tuple[ListedRef, float, str], ...]:
    """Covered names a name matches, look-alikes suppressed: (listed ref, score, listed variant).

    Memoised by the name alone: the same name recurs in other fields and with other countries.
    Keyed by search_key(name) too: both searches (covered names, look-alikes) are
    NameIndex.search, and the result carries listed names only, never the query's spelling.
    """
    found: tuple[tuple[ListedRef, float, str], ...] = rules.memo(
        ("covered name", name),
        lambda: rules.memo(("covered name form", search_key(name)), lambda: _covered_search(rules, name)),
    )
    return found


def _covered_search(rules: RuleSet, name: str) -> tuple[tuple[ListedRef, float, str], ...]:
    return tuple(
        (hit.name.payload, hit.score, hit.name.form.original)
        for hit in rules.covered_names.search(name, POSSIBLE_MATCH)
        if suppressed_by_look_alike(rules, name, hit.score) is None
    )


def name_evidence(rules: RuleSet, field: str, name: str, country: str | None = None) -> list[Evidence]:
    """Covered institutions a name refers to, strong or possible, after look-alike suppression.

    The payment's country is not weighed against the listed bank's: the measures reach covered
    banks' branches and offices "in any jurisdiction" (1010.658(a)(1), 1010.661(a)(1)), and known
    look-alikes are suppressed by name instead. It does confirm an abbreviation (below).
    """
    # Memoised by name and country only: the field enters the evidence as its label and nothing
    # else, so the same name in another field (debtor, then creditor) costs no second search.
    found: tuple[Evidence, ...] = rules.memo(
        ("name", name, country), lambda: tuple(_name_evidence(rules, _ANY_FIELD, name, country))
    )
    return [replace(ev, field=field) for ev in found]


def _name_evidence(rules: RuleSet, field: str, name: str, country: str | None) -> list[Evidence]:
    best: dict[tuple[str, str], Evidence] = {}

    def keep(ev: Evidence, ref: ListedRef) -> None:
        key = (ref.measure.section, ref.institution.name)
        if key not in best or ev.rank > best[key].rank:
            best[key] = ev

    for ref, score, listed in _covered_matches(rules, name):
        because = f"{name!r} matches {ref.institution.name} as {listed!r} (score {score:g})"
        if score >= STRONG_MATCH:
            keep(strong_name(ref.measure, field, name, ref.institution.name, because, score), ref)
        else:
            keep(possible(ref.measure, "listed", field, name, ref.institution.name, because, score), ref)
    tokens = text_tokens(name)
    for ev, ref in abbreviation_evidence(rules, field, name, tokens, country):
        keep(ev, ref)
    if len(name) in SWIFT_LINE_LENGTHS:
        for ev, ref in cut_name_evidence(rules, field, name, tokens):
            keep(ev, ref)
    return list(best.values())


def _seat_forms(rules: RuleSet, ref: ListedRef) -> set[tuple[str, ...]]:
    """Token forms of the places that confirm an abbreviation of ref: its seats and countries."""
    inst = ref.institution
    forms = {text_tokens(seat) for seat in inst.seats}
    forms |= rules.places.names_of(inst.operating_countries())
    return {f for f in forms if f}


def abbreviation_evidence(
    rules: RuleSet, field: str, text: str, tokens: tuple[str, ...], country: str | None
) -> list[tuple[Evidence, ListedRef]]:
    """An ambiguous abbreviation of a covered institution, confirmed by its seat.

    Written within a few words of one of its seats or its country ("CBS Damascus", "DCB
    Pyongyang"), or in an institution field whose country is the institution's own, the
    abbreviation identifies it (strong). Alone it is left to the name index, which makes an
    abbreviation equal to the whole name a possible match and ignores it in free text.
    """
    out: list[tuple[Evidence, ListedRef]] = []
    for named, start in rules.covered_names.weak_in_tokens(tokens):
        ref = named.payload
        end = start + len(named.form.tokens)
        window = tokens[max(0, start - _SEAT_WINDOW) : end + _SEAT_WINDOW]
        seat = next(
            (
                " ".join(f)
                for f in _seat_forms(rules, ref)
                if any(window[i : i + len(f)] == f for i in range(len(window)))
            ),
            None,
        )
        abbr = named.form.original
        if seat is None and country and country in ref.institution.operating_countries():
            seat = f"country {country}"
        if seat is not None:
            because = f"{abbr!r}, an abbreviation of {ref.institution.name}, is written with its seat ({seat})"
            out.append((strong_name(ref.measure, field, text, ref.institution.name, because, STRONG_MATCH), ref))
    return out


def _cut_is_prefix_of_look_alike(rules: RuleSet, tail: tuple[str, ...]) -> str | None:
    """A look-alike whose name the whole tail begins (or is): the cut cannot tell them apart."""
    for named, start, _ in rules.look_alike_names.truncated_at_end(tail):
        if start == 0:
            return named.form.original
    for named, start in rules.look_alike_names.find_in_tokens(tail):
        if start == 0:
            return named.form.original
    return None


# A plain Python class when compiled (ops/native.py): mypyc's native classes cannot be generic
# frozen dataclasses.
@mypyc_attr(native_class=False)
@dataclass(frozen=True, slots=True)
class CutName(Generic[T]):
    """A listed name cut off where a text ends, and whether the part there is enough to act on."""

    name: IndexedName[T]
    tail: tuple[str, ...]
    strong: bool
    because: str


def cut_names(rules: RuleSet, index: NameIndex[T], text: str, tokens: tuple[str, ...]) -> list[CutName[T]]:
    """Names of index cut off where the text ends (text ending at a fixed line length).

    Only where the text ends open: inside a word (its last word a strict beginning of the
    listed word, at least _CUT_MIN_PARTIAL letters) or on a joining word ("OF", "THE"); a text
    that ends on a whole word may simply end there. Never when a distinctive word of the listed
    name is cut off whole (that word is what identifies it), nor when a look-alike starts the
    same way. Strong when the part that is there is most of the listed name (_CUT_STRONG_SHARE of
    its letters, or _CUT_STRONG_LETTERS letters over three words or more); a possible match when
    at least two words and _CUT_POSSIBLE_LETTERS letters are there.
    """
    out: list[CutName[T]] = []
    open_end = ends_open(text)
    for named, start, letters in index.truncated_at_end(tokens):
        tail = tokens[start:]
        form = named.form
        mid_word = tail[-1] != form.tokens[len(tail) - 1]
        if not (mid_word or open_end) or len(tail[-1]) < _CUT_MIN_PARTIAL or letters < _CUT_POSSIBLE_LETTERS:
            continue
        if any(w == TokenKind.DISTINCTIVE for w in form.weights[len(tail) :]):
            continue
        if _cut_is_prefix_of_look_alike(rules, tail) is not None:
            continue
        share = letters / len(form.compact)
        because = (
            f"the text ends, cut at its line length, with {' '.join(tail)!r}: "
            f"the first {share:.0%} of {form.original!r}"
        )
        strong = share >= _CUT_STRONG_SHARE or (letters >= _CUT_STRONG_LETTERS and len(tail) >= 3)
        out.append(CutName(named, tail, strong, because))
    return out


def cut_name_evidence(
    rules: RuleSet, field: str, text: str, tokens: tuple[str, ...]
) -> list[tuple[Evidence, ListedRef]]:
    """Covered names cut off where the text ends (cut_names over the measure files' names)."""
    out: list[tuple[Evidence, ListedRef]] = []
    for cut in cut_names(rules, rules.covered_names, text, tokens):
        ref = cut.name.payload
        if cut.strong:
            ev = strong_name(ref.measure, field, text, ref.institution.name, cut.because, STRONG_MATCH)
        else:
            ev = possible(ref.measure, "listed", field, text, ref.institution.name, cut.because, POSSIBLE_MATCH)
        out.append((ev, ref))
    return out
