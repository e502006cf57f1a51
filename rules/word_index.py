"""The words of a list's names, by every key on which token_similarity (rules/word_similarity.py)
accepts two words: similar_words finds exactly the listed words near a query word without
comparing it with every word of the list. The name index (rules/name_candidates.py,
rules/name_index.py) is built on it.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict

from rapidfuzz import process
from rapidfuzz.distance import OSA, JaroWinkler, Levenshtein

from rules.korean import korean_key
from rules.name_forms import consonants
from rules.recent_memo import RecentMemo
from rules.word_similarity import (
    PHONETIC_MIN,
    SHORT_TOKEN,
    TOKEN_MIN,
    TYPO_MIN_LENGTH,
    max_edits,
    sound,
    token_similarity,
    undoubled,
    without_article,
)
from rules.word_weights import GENERIC_WORDS

# Tokens per generation of the similar-words memo (rules/recent_memo.py).
SIMILAR_CACHE_GENERATION = 100_000
# The shortest word two near words may be two edits apart in (word_similarity.max_edits).
_TWO_EDITS = next(n for n in range(1, 100) if max_edits(n) >= 2)


def bare(word: str) -> str:
    """A word without the Arabic article (word_similarity.without_article)."""
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


class WordIndex:
    """The list's words by their keys, for similar_words. The name index's constructor calls
    _index_vocabulary and sets _vocabulary and an empty _similar_cache."""

    _buckets: dict[str, tuple[str, ...]]
    _by_deletion: dict[str, tuple[str, ...]]
    _vocabulary: frozenset[str]
    _similar_cache: RecentMemo

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
            buckets[f"a:{bare(tok)}"].add(tok)
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

    def similar_words(self, token: str) -> frozenset[str]:
        """The list's words that token_similarity accepts for token (itself included if listed)."""
        cached = self._similar_cache.lookup(token)
        if isinstance(cached, frozenset):
            return cached
        found = {token} if token in self._vocabulary else set()
        found.update(self._buckets.get(f"a:{bare(token)}", ()))
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
        self._similar_cache.store(token, result)
        return result

    def _jaro_near(self, token: str, generic: bool) -> list[str]:
        """The list's words starting alike, of the lengths token_similarity can accept, and the
        words that sound alike, that pass a Jaro-Winkler floor (in C) before the full test.

        Words starting alike are near only from TOKEN_MIN (word_similarity._near; one typo apart and
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
