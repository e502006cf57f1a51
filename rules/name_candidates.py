"""An inverted index over listed names, so a lookup scores a few candidates, not the whole list.

Blocking is exact, not heuristic, for everything the score can reach through words: a name
scores at least POSSIBLE_MATCH only if the query matches words carrying at least that share of
the listed name's weight (rules/similarity.py: the score is at most 100 x recall). So each listed
name is filed only under its *required* words: its rarest words whose weight together exceeds
the share it may miss. A query reaches a listed name only through a word similar to one of them,
and the cost of a lookup depends on how many names share the query's rare words, not on the size
of the list.

Two paths do not go through words and have their own keys:
- equal space-free forms ("Cholmin" / "Chol Min"): the compact form itself;
- nearly equal space-free forms (similarity.py's compact rule, at most one or two letters apart):
  the first four and the last four letters. A compact form two or more edits from
  the listed one at both of its ends is found only through its words.
Similar words are those token_similarity accepts, looked up among the list's words that share the
query word's first three or last three letters.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from mypy_extensions import mypyc_attr
from rapidfuzz import process
from rapidfuzz.fuzz import ratio

from rules.korean import is_romanised_korean, korean_key
from rules.name_forms import NameForm, consonants, name_form
from rules.recent_memo import RecentMemo
from rules.similarity import (
    COMMON_NAME_MAX_WORDS,
    COMMON_WORD_NAMES,
    COMPACT_MIN,
    COMPACT_MIN_LENGTH,
    MAX_DROPPED,
    POSSIBLE_MATCH,
)
from rules.word_index import SIMILAR_CACHE_GENERATION, WordIndex, bare
from rules.word_weights import TokenKind

T = TypeVar("T")

_ENDS = 4
# The lowest score the required-word filing is exact for; a search below it scans every name.
INDEXED_MIN_SCORE = POSSIBLE_MATCH
# Margin for the rounding of scores to one decimal (a raw 79.95 shows as 80.0).
_ROUNDING = 0.001


def _weights(form: NameForm) -> dict[str, float]:
    out: dict[str, float] = defaultdict(float)
    for tok, weight in zip(form.tokens, form.weights, strict=True):
        out[tok] += weight
    return out


# A plain Python class when compiled (ops/native.py): mypyc's native classes cannot be generic
# frozen dataclasses.
@mypyc_attr(native_class=False)
@dataclass(frozen=True, slots=True)
class IndexedName(Generic[T]):
    """One listed name variant and what it stands for."""

    form: NameForm
    payload: T
    weak: bool
    # Made only of words many listed names share ("Zhang Wei", "Hassan Mohamed"): found whole,
    # it is still a possible match, not the listed person (COMMON_WORD_NAMES).
    common: bool = False


def _compact_lengths(length: int) -> tuple[int, int]:
    """The lengths a compact form may have and still reach COMPACT_MIN against one of `length`:
    the Indel ratio is at most 200 * min / (sum of lengths). Rounded outwards: only a bound."""
    return (
        math.floor(length * COMPACT_MIN / (200 - COMPACT_MIN)),
        math.ceil(length * (200 - COMPACT_MIN) / COMPACT_MIN),
    )


class CandidateIndex(WordIndex, Generic[T]):
    """Names (with a payload each) filed so that a query reaches only those it can match; searched
    by NameIndex (rules/name_index.py)."""

    def __init__(self, entries: Iterable[tuple[str, T, bool]], personal: Callable[[T], bool] | None = None) -> None:
        """`personal` tells the names of people, to which COMMON_WORD_NAMES applies: their words
        are counted among people's names only (a network of listed companies sharing a word is
        not a common name)."""
        self._names: list[IndexedName[T]] = []
        for text, payload, weak in entries:
            form = name_form(text)
            if form.tokens:
                self._names.append(IndexedName(form, payload, weak))
        frequency = Counter(tok for named in self._names for tok in set(named.form.tokens))
        if personal is not None:
            people = [personal(named.payload) for named in self._names]
            among_people = Counter(
                tok
                for named, person in zip(self._names, people, strict=True)
                if person
                for tok in set(named.form.tokens)
            )
            self._names = [
                self._mark_common(named, among_people) if person else named
                for named, person in zip(self._names, people, strict=True)
            ]
        required: dict[str, list[int]] = defaultdict(list)
        dropped_pairs: dict[tuple[str, str], list[int]] = defaultdict(list)
        compact: dict[str, list[int]] = defaultdict(list)
        ends: dict[str, list[int]] = defaultdict(list)
        self._weights: list[dict[str, float]] = []
        # Words of a listed name that the query must match, each alone weighing more than the
        # name may miss: a cheap subset test before the full recall bound.
        self._essential: list[frozenset[str]] = []
        may_miss = 1 - INDEXED_MIN_SCORE / 100 + _ROUNDING
        # Names of three or more distinctive words may be found with a middle part dropped
        # (similarity.DROPPED_PART_MATCH) when at least two of their distinctive words are in the
        # query: filed under every pair of their distinctive words, so that a lookup reaches only
        # names sharing two words with the query, not every name sharing one.
        self._distinct: list[frozenset[str]] = []
        for idx, named in enumerate(self._names):
            form = named.form
            compact[form.compact].append(idx)
            weights = _weights(form)
            self._weights.append(weights)
            self._essential.append(frozenset(t for t, w in weights.items() if w > may_miss * form.total))
            distinct = frozenset(
                t for t, w in zip(form.tokens, form.weights, strict=True) if w == TokenKind.DISTINCTIVE
            )
            dropped_ok = sum(1 for w in form.weights if w == TokenKind.DISTINCTIVE) >= 3 and not named.weak
            self._distinct.append(distinct)
            if named.weak:
                continue  # a weak name counts only when equal to the query (compact key)
            if len(form.compact) >= COMPACT_MIN_LENGTH:
                ends[f"p:{form.compact[:_ENDS]}"].append(idx)
                ends[f"s:{form.compact[-_ENDS:]}"].append(idx)
            covered = 0.0
            for tok in sorted(weights, key=lambda t: (frequency[t], t)):
                required[tok].append(idx)
                covered += weights[tok]
                if covered > may_miss * form.total:
                    break
            if dropped_ok:
                ordered = sorted(distinct)
                for i, first in enumerate(ordered):
                    for second in ordered[i + 1 :]:
                        dropped_pairs[(first, second)].append(idx)
        self._required = {k: tuple(v) for k, v in required.items()}
        self._dropped_pairs = {k: tuple(v) for k, v in dropped_pairs.items()}
        self._compact = {k: tuple(v) for k, v in compact.items()}
        self._index_korean()
        # Per listed name, the weight it may miss and still reach INDEXED_MIN_SCORE.
        self._may_miss = [may_miss * named.form.total for named in self._names]
        self._index_ends(ends)
        self._index_vocabulary(frequency)
        self._vocabulary = frozenset(frequency)
        self._similar_cache = RecentMemo(SIMILAR_CACHE_GENERATION)
        self._index_phrases()

    def _index_phrases(self) -> None:
        """Exact token sequences, for finding listed names inside free text."""
        self._phrases: dict[str, list[int]] = defaultdict(list)
        self._weak_phrases: dict[str, list[int]] = defaultdict(list)
        for idx, named in enumerate(self._names):
            self._phrases[named.form.tokens[0]].append(idx)
            if named.weak:
                self._weak_phrases[named.form.tokens[0]].append(idx)

    def _index_ends(self, ends: dict[str, list[int]]) -> None:
        """Per key, ordered by length: the lengths, the positions, and the compact forms for
        rapidfuzz to filter in one call (only the lengths the compact rule can accept)."""
        self._ends: dict[str, tuple[list[int], tuple[int, ...], list[str]]] = {}
        for key, positions in ends.items():
            ordered = sorted(positions, key=lambda i: len(self._names[i].form.compact))
            forms = [self._names[i].form.compact for i in ordered]
            self._ends[key] = ([len(c) for c in forms], tuple(ordered), forms)

    def _index_korean(self) -> None:
        """Whole names by their Korean romanisation key (similarity._korean_compact), in the
        list's order and surname first."""
        korean: dict[str, list[int]] = defaultdict(list)
        for idx, named in enumerate(self._names):
            tokens = named.form.tokens
            if named.weak or not all(is_romanised_korean(t) for t in tokens):
                continue
            for order in {named.form.compact, "".join((tokens[-1], *tokens[:-1]))}:
                key = korean_key(order)
                if key is not None:
                    korean[key].append(idx)
        self._korean = {k: tuple(v) for k, v in korean.items()}

    @staticmethod
    def _mark_common(named: IndexedName[T], frequency: Counter[str]) -> IndexedName[T]:
        words = [t for t, w in zip(named.form.tokens, named.form.weights, strict=True) if w == TokenKind.DISTINCTIVE]
        common = 1 < len(words) <= COMMON_NAME_MAX_WORDS and all(frequency[t] >= COMMON_WORD_NAMES for t in words)
        return IndexedName(named.form, named.payload, named.weak, common) if common else named

    def __len__(self) -> int:
        return len(self._names)

    def _dropped_candidates(self, form: NameForm, found: set[int]) -> set[int]:
        """Names of three distinctive words or more the query may give with a middle part
        dropped: the other distinctive words equal (similarity._dropped_middle), two at least."""
        equal: set[str] = set()
        for tok in form.tokens:
            equal.add(tok)
            equal.update(self._buckets.get(f"a:{bare(tok)}", ()))
        listed = sorted(equal & self._vocabulary)
        if len(listed) < 2:
            return set()  # no listed name has two words equal to the query's
        distinct, pairs = self._distinct, self._dropped_pairs
        out: set[int] = set()
        # Two equal words at least, so the name is filed under a pair of the query's words.
        for i, first in enumerate(listed):
            for second in listed[i + 1 :]:
                for idx in pairs.get((first, second), ()):
                    if idx in found or idx in out:
                        continue
                    if len(distinct[idx]) - len(distinct[idx] & equal) <= MAX_DROPPED:
                        out.add(idx)
        return out

    def _matched_words(self, form: NameForm) -> set[str]:
        """The list's words near any word of form; for a name romanised from Arabic script, also
        the list's words with the same consonants."""
        matched: set[str] = set()
        for tok in set(form.tokens):
            matched |= self.similar_words(tok)
            if form.abjad and consonants(tok):
                matched.update(self._buckets.get(f"c:{consonants(tok)}", ()))
        return matched

    def candidates(self, form: NameForm) -> set[int]:
        """Positions of the listed names that can score at least INDEXED_MIN_SCORE against form."""
        found: set[int] = set(self._compact.get(form.compact, ()))
        key = korean_key(form.compact)
        if key is not None:
            found.update(self._korean.get(key, ()))
        matched = self._matched_words(form)
        required, essential, weights, may_miss = self._required, self._essential, self._weights, self._may_miss
        # A name filed under several matched words is tested once: the test does not depend on
        # the word it was reached by.
        tested: set[int] = set(found)
        for word in matched:
            for idx in required.get(word, ()):
                if idx in tested:
                    continue
                tested.add(idx)
                # The recall bound: the listed name's weight among the matched words.
                if essential[idx] <= matched and (
                    sum(w for t, w in weights[idx].items() if t not in matched) <= may_miss[idx]
                ):
                    found.add(idx)
        if len(form.tokens) >= 2:
            found |= self._dropped_candidates(form, found)
        if len(form.compact) >= COMPACT_MIN_LENGTH:
            lo, hi = _compact_lengths(len(form.compact))
            for key in (f"p:{form.compact[:_ENDS]}", f"s:{form.compact[-_ENDS:]}"):
                posting = self._ends.get(key)
                if posting is not None:
                    lengths, positions, forms = posting
                    first, last = bisect_left(lengths, lo), bisect_right(lengths, hi)
                    # The compact rule's own test (similarity.py), run in C over the slice.
                    for _, _, pos in process.extract(
                        form.compact, forms[first:last], scorer=ratio, score_cutoff=COMPACT_MIN, limit=None
                    ):
                        found.add(positions[first + pos])
        return found
