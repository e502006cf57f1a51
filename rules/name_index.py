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
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from rapidfuzz import process
from rapidfuzz.distance import OSA, JaroWinkler, Levenshtein
from rapidfuzz.fuzz import ratio

from rules.korean import (
    hanja_readings,
    has_cyrillic,
    has_han,
    is_romanised_korean,
    kontsevich_readings,
    korean_key,
)
from rules.names import GENERIC_WORDS, NameForm, TokenKind, consonants, name_form, text_tokens
from rules.similarity import (
    COMMON_NAME_MAX_WORDS,
    COMMON_WORD_NAMES,
    COMPACT_MIN,
    COMPACT_MIN_LENGTH,
    MAX_DROPPED,
    PHONETIC_MIN,
    POSSIBLE_MATCH,
    SHORT_TOKEN,
    TOKEN_MIN,
    TYPO_MIN_LENGTH,
    Comparison,
    compare_names,
    max_edits,
    sound,
    token_similarity,
    undoubled,
    without_article,
)

T = TypeVar("T")

_ENDS = 4
# The lowest score the required-word filing is exact for; a search below it scans every name.
INDEXED_MIN_SCORE = POSSIBLE_MATCH
# Margin for the rounding of scores to one decimal (a raw 79.95 shows as 80.0).
_ROUNDING = 0.001
_SIMILAR_CACHE_MAX = 100_000
# The shortest word two near words may be two edits apart in (similarity.max_edits).
_TWO_EDITS = next(n for n in range(1, 100) if max_edits(n) >= 2)


def _bare(word: str) -> str:
    """A word without the Arabic article (similarity.without_article)."""
    return without_article(word)


def _deletions(word: str) -> set[str]:
    """The word and its forms with one letter deleted."""
    return {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}


def _within_edits(token: str, word: str, generic: bool) -> bool:
    """Whether token_similarity may accept the two words, by their edit distance: two words (but
    two forms of a generic word) are near only one typo apart, or at most max_edits apart (one
    more when they sound alike). Counted in C, it spares most of the full tests."""
    if generic and word in GENERIC_WORDS:
        return True
    edits = max_edits(min(len(token), len(word)))
    apart = Levenshtein.distance(token, word, score_cutoff=edits + 1)
    if apart <= edits:
        return True
    return apart == edits + 1 and (sound(token) == sound(word) or OSA.distance(token, word, score_cutoff=1) <= 1)


def _weights(form: NameForm) -> dict[str, float]:
    out: dict[str, float] = defaultdict(float)
    for tok, weight in zip(form.tokens, form.weights, strict=True):
        out[tok] += weight
    return out


@dataclass(frozen=True, slots=True)
class IndexedName(Generic[T]):
    """One listed name variant and what it stands for."""

    form: NameForm
    payload: T
    weak: bool
    # Made only of words many listed names share ("Zhang Wei", "Hassan Mohamed"): found whole,
    # it is still a possible match, not the listed person (COMMON_WORD_NAMES).
    common: bool = False


@dataclass(frozen=True, slots=True)
class NameHit(Generic[T]):
    """A listed name found for a query, with its score and what it rests on."""

    score: float
    name: IndexedName[T]
    comparison: Comparison


def _compact_lengths(length: int) -> tuple[int, int]:
    """The lengths a compact form may have and still reach COMPACT_MIN against one of `length`:
    the Indel ratio is at most 200 * min / (sum of lengths). Rounded outwards: only a bound."""
    return (
        math.floor(length * COMPACT_MIN / (200 - COMPACT_MIN)),
        math.ceil(length * (200 - COMPACT_MIN) / COMPACT_MIN),
    )


class NameIndex(Generic[T]):
    """Names (with a payload each) searchable by similarity."""

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
        self._similar_cache: dict[str, frozenset[str]] = {}
        self._index_phrases()

    def _index_phrases(self) -> None:
        """Exact token sequences, for finding listed names inside free text."""
        self._phrases: dict[str, list[int]] = defaultdict(list)
        self._weak_phrases: dict[str, list[int]] = defaultdict(list)
        for idx, named in enumerate(self._names):
            self._phrases[named.form.tokens[0]].append(idx)
            if named.weak:
                self._weak_phrases[named.form.tokens[0]].append(idx)

    def _index_vocabulary(self, frequency: Counter[str]) -> None:
        # Every way token_similarity accepts two words has its own key, so similar_words finds
        # exactly what it accepts: near words start alike (first letter), sound alike (metaphone),
        # or are one typo apart (forms with one letter deleted: a letter wrong, missing, added or
        # two swapped all meet there); or are equal without the Arabic article.
        buckets: dict[str, set[str]] = defaultdict(set)
        by_deletion: dict[str, set[str]] = defaultdict(set)
        by_start: dict[str, list[str]] = defaultdict(list)
        for tok in frequency:
            if len(tok) >= SHORT_TOKEN:
                by_start[tok[:2]].append(tok)
                buckets[f"m:{sound(tok)}"].add(tok)
            buckets[f"a:{_bare(tok)}"].add(tok)
            buckets[f"d:{undoubled(tok)}"].add(tok)
            key = korean_key(tok)
            if key is not None:
                buckets[f"k:{key}"].add(tok)
            buckets[f"c:{consonants(tok)}"].add(tok)
            if len(tok) >= TYPO_MIN_LENGTH - 1:
                for key in _deletions(tok):
                    by_deletion[key].add(tok)
        self._buckets = {k: tuple(v) for k, v in buckets.items()}
        self._by_deletion = {k: tuple(v) for k, v in by_deletion.items()}
        # Words by their first two letters, ordered by length: the lengths token_similarity can
        # accept are one run, so one slice holds every candidate, filtered in one call.
        self._by_start: dict[str, tuple[list[int], list[str]]] = {}
        for start, words in by_start.items():
            words.sort(key=lambda w: (len(w), w))
            self._by_start[start] = ([len(w) for w in words], words)

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

    def similar_words(self, token: str) -> frozenset[str]:
        """The list's words that token_similarity accepts for token (itself included if listed)."""
        cached = self._similar_cache.get(token)
        if cached is not None:
            return cached
        found = {token} if token in self._vocabulary else set()
        found.update(self._buckets.get(f"a:{_bare(token)}", ()))
        found.update(w for w in self._buckets.get(f"d:{undoubled(token)}", ()) if token_similarity(token, w))
        key = korean_key(token)
        if key is not None:
            found.update(self._buckets.get(f"k:{key}", ()))
        generic = token in GENERIC_WORDS
        if len(token) >= TYPO_MIN_LENGTH - 1:
            for key in _deletions(token):
                for w in self._by_deletion.get(key, ()):
                    # Words meeting at a deletion are one edit apart or two. Two apart, they are
                    # near only if they sound alike or start alike (found below), or are both
                    # generic: the cheap edit count spares the full test.
                    if w in found or not (
                        OSA.distance(token, w, score_cutoff=1) <= 1 or (generic and w in GENERIC_WORDS)
                    ):
                        continue
                    if token_similarity(token, w):
                        found.add(w)
        for word in self._jaro_near(token, generic):
            if word not in found and _within_edits(token, word, generic) and token_similarity(token, word):
                found.add(word)
        result = frozenset(found)
        if len(self._similar_cache) >= _SIMILAR_CACHE_MAX:
            self._similar_cache.clear()
        self._similar_cache[token] = result
        return result

    def _jaro_near(self, token: str, generic: bool) -> list[str]:
        """The list's words starting alike, of the lengths token_similarity can accept, and the
        words that sound alike, that pass a Jaro-Winkler floor (in C) before the full test.

        Words starting alike are near only from TOKEN_MIN (similarity._near; one typo apart and
        generic forms are found by similar_words' other keys or reach it); sounding alike, from
        PHONETIC_MIN.
        """
        size = len(token)
        if size < SHORT_TOKEN:
            return []
        near: list[str] = []
        # The accepted lengths are one run: the bound grows with the shorter length and the gap
        # shrinks as n nears size from below; above size, the gap grows against a fixed bound.
        sizes = [n for n in range(max(SHORT_TOKEN, size - 4), size + 5) if abs(size - n) <= max_edits(min(size, n)) + 1]
        if not generic:
            # What only starting alike finds: words one edit apart meet at a deletion, words that
            # sound alike under their metaphone key (below); the rest are two edits apart or more,
            # which _near allows only when both words have _TWO_EDITS letters (two forms of a
            # generic word are the exception: near by Jaro-Winkler alone).
            sizes = [n for n in sizes if n >= _TWO_EDITS] if size >= _TWO_EDITS else []
        posting = self._by_start.get(token[:2])
        if posting is not None and sizes:
            lengths, words = posting
            first, last = bisect_left(lengths, sizes[0]), bisect_right(lengths, sizes[-1])
            if first < last:
                hits = process.extract(
                    token, words[first:last], scorer=JaroWinkler.similarity, score_cutoff=TOKEN_MIN, limit=None
                )
                near.extend(word for word, _, _ in hits)
        bucket = self._buckets.get(f"m:{sound(token)}")
        if bucket:
            hits = process.extract(token, bucket, scorer=JaroWinkler.similarity, score_cutoff=PHONETIC_MIN, limit=None)
            near.extend(word for word, _, _ in hits)
        return near

    def _dropped_candidates(self, form: NameForm, found: set[int]) -> set[int]:
        """Names of three distinctive words or more the query may give with a middle part
        dropped: the other distinctive words equal (similarity._dropped_middle), two at least."""
        equal: set[str] = set()
        for tok in form.tokens:
            equal.add(tok)
            equal.update(self._buckets.get(f"a:{_bare(tok)}", ()))
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
