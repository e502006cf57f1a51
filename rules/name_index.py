"""Searching listed names: NameIndex scores the candidates a query reaches (rules/name_candidates.py)
under the name policy (rules/similarity.py), also as a Korean name read in Korean, and finds listed
names written whole, or cut off, in free text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from mypy_extensions import mypyc_attr

from rules.korean import hanja_readings, has_cyrillic, has_han, kontsevich_readings
from rules.name_candidates import INDEXED_MIN_SCORE, CandidateIndex, IndexedName
from rules.name_forms import NameForm, name_form
from rules.names import text_tokens
from rules.similarity import POSSIBLE_MATCH, Comparison, compare_names

T = TypeVar("T")


# A plain Python class when compiled (ops/native.py): mypyc's native classes cannot be generic
# frozen dataclasses.
@mypyc_attr(native_class=False)
@dataclass(frozen=True, slots=True)
class NameHit(Generic[T]):
    """A listed name found for a query, with its score and what it rests on."""

    score: float
    name: IndexedName[T]
    comparison: Comparison


def search_key(name: str) -> tuple[object, ...]:
    """What NameIndex.search reads of a name, as a memo key: names with the same key get the same
    hits, so a name written again in other case or punctuation costs no second search.

    search sees the name only through its NameForm, and of that (the query's `original` is never
    read: hits are ordered by the listed name's) only the tokens, from which weights, total and
    compact follow, and the two script flags; the raw name itself only for the readings of
    Cyrillic or Chinese characters (_with_korean_readings), so such a name is its own key.
    """
    if has_cyrillic(name) or has_han(name):
        return ("raw", name)
    form = name_form(name)
    return ("form", form.tokens, form.hangul, form.abjad)


class NameIndex(CandidateIndex[T]):
    """Names (with a payload each) searchable by similarity."""

    def search(self, name: str, min_score: float) -> list[NameHit[T]]:
        """Listed names scoring at least min_score against name, best first.

        A weak name (an ambiguous alias) counts only when it equals the query exactly, and then
        only as a possible match.
        """
        form = name_form(name)
        if not form.tokens:
            return []
        # In list order: equal scores for equal names (two listed persons of one name) rank by it,
        # not by how the candidate set happened to be built.
        indexed = min_score >= INDEXED_MIN_SCORE
        pool: Iterable[int] = sorted(self.candidates(form)) if indexed else range(len(self._names))
        hits = self._scored(form, (self._names[idx] for idx in pool), min_score)
        return self._with_korean_readings(name, hits, min_score, indexed=True)

    def scan(self, name: str, min_score: float) -> list[NameHit[T]]:
        """search without the index: every listed name scored (for tests and audits of the index)."""
        hits = self._scored(name_form(name), self._names, min_score)
        return self._with_korean_readings(name, hits, min_score, indexed=False)

    def _with_korean_readings(
        self, name: str, hits: list[NameHit[T]], min_score: float, indexed: bool
    ) -> list[NameHit[T]]:
        """A Korean name written in Cyrillic (Kontsevich) or in Chinese characters (hanja) is also
        compared as read in Korean (rules/korean.py): a reading is never the listed name itself
        (review)."""
        readings = (kontsevich_readings(name) if has_cyrillic(name) else []) + (
            hanja_readings(name) if has_han(name) else []
        )
        if not readings:
            return hits
        best = {id(h.name): h for h in hits}
        for reading in readings:
            form = name_form(reading)
            names = (self._names[idx] for idx in sorted(self.candidates(form))) if indexed else self._names
            for hit in self._scored(form, names, min_score):
                comparison = replace(hit.comparison, exact=False, rule=f"{hit.comparison.rule}; read in Korean")
                known = best.get(id(hit.name))
                # A reading adds a possible match; it never takes the place of the name itself.
                if known is None or (hit.score > known.score and not known.comparison.strong):
                    best[id(hit.name)] = NameHit(hit.score, hit.name, comparison)
        merged = list(best.values())
        merged.sort(key=lambda h: (-h.score, h.name.form.original))
        return merged

    @staticmethod
    def _scored(form: NameForm, names: Iterable[IndexedName[T]], min_score: float) -> list[NameHit[T]]:
        """The names scoring at least min_score against form, best first."""
        hits: list[NameHit[T]] = []
        for named in names:
            if named.weak:
                # An ambiguous alias, even matched exactly, is never enough to act on alone.
                equal = named.form.compact == form.compact
                comparison = Comparison(POSSIBLE_MATCH if equal else 0.0, False, equal, "weak alias")
            else:
                comparison = compare_names(form, named.form)
                if named.common and comparison.exact:
                    comparison = replace(
                        comparison, exact=False, rule=f"{comparison.rule}; every word common on the list"
                    )
            if comparison.score >= min_score:
                hits.append(NameHit(comparison.score, named, comparison))
        hits.sort(key=lambda h: (-h.score, h.name.form.original))
        return hits

    def find_in_text(self, text: str) -> list[IndexedName[T]]:
        """Listed names whose whole token sequence appears, in order, in free text.

        Single-token names count only when they are at least four letters long and not weak, so
        "CBS" in a remittance line is not read as Commercial Bank of Syria.
        """
        return [named for named, _ in self.find_in_tokens(text_tokens(text))]

    def find_in_tokens(self, tokens: tuple[str, ...]) -> list[tuple[IndexedName[T], int]]:
        """find_in_text over tokens already made, with the position each name starts at."""
        found: list[tuple[IndexedName[T], int]] = []
        seen: set[int] = set()
        for start, tok in enumerate(tokens):
            for idx in self._phrases.get(tok, ()):
                if idx in seen:
                    continue
                named = self._names[idx]
                seq = named.form.tokens
                if len(seq) == 1 and (named.weak or len(seq[0]) < 4):
                    continue
                if tokens[start : start + len(seq)] == seq:
                    seen.add(idx)
                    found.append((named, start))
        return found

    def weak_in_tokens(self, tokens: tuple[str, ...]) -> list[tuple[IndexedName[T], int]]:
        """Weak names (ambiguous abbreviations such as "CBS") found in tokens, with positions."""
        found: list[tuple[IndexedName[T], int]] = []
        for start, tok in enumerate(tokens):
            for idx in self._weak_phrases.get(tok, ()):
                seq = self._names[idx].form.tokens
                if tokens[start : start + len(seq)] == seq:
                    found.append((self._names[idx], start))
        return found

    def truncated_at_end(self, tokens: tuple[str, ...]) -> list[tuple[IndexedName[T], int, int]]:
        """Listed names cut off by the end of tokens, as text is cut at a fixed line length.

        Returns (name, start, matched letters) for each non-weak listed name whose first tokens
        equal tokens[start:], the last of them possibly cut short ("FOREIGN TRADE BANK OF THE
        DEMOCRATI"), and of which at least two tokens and something of the rest are missing or
        cut. Whether that is enough to act on is the caller's judgement.
        """
        found: list[tuple[IndexedName[T], int, int]] = []
        for start in range(len(tokens) - 1):
            tail = tokens[start:]
            for idx in self._phrases.get(tail[0], ()):
                named = self._names[idx]
                seq = named.form.tokens
                if named.weak or len(tail) > len(seq):
                    continue
                last = len(tail) - 1
                if tail[:last] != seq[:last] or not seq[last].startswith(tail[last]):
                    continue
                if tail == seq:
                    continue  # whole, not cut: find_in_tokens reports it
                found.append((named, start, sum(len(t) for t in tail)))
        return found
