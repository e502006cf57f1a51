"""Word similarity: when two words of a name count as the same word (rules/similarity.py scores
whole names from it).

Two words count as the same word only when they are equal (also without the Arabic article),
one typo apart (words of five letters or more), or near (Jaro-Winkler at least TOKEN_MIN, at
most a few edits, by their length) and start alike (two letters) or sound alike (metaphone);
words with digits only when equal: a vessel or company whose number differs is another one
(SPEC 2.2: "A weak name similarity alone must never block").
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import groupby

from rapidfuzz.distance import OSA, JaroWinkler, Levenshtein
from rigour.text import metaphone

from rules.korean import korean_key
from rules.names import ARTICLES
from rules.word_weights import GENERIC_WORDS

# The same Korean syllables romanised another way, word by word (a word pair's similarity).
KOREAN_SIM = 0.92

# Near words: Jaro-Winkler at least TOKEN_MIN, or PHONETIC_MIN when they sound alike, and at most
# max_edits(length) edits apart. Short words must be equal.
TOKEN_MIN = 0.88
PHONETIC_MIN = 0.80
SHORT_TOKEN = 4
TYPO_MIN_LENGTH = 5
# One typo in a word of TYPO_MIN_LENGTH letters or more keeps Jaro-Winkler above this (a first
# letter wrong in five: 0.87): a floor below which nothing is compared further.
TYPO_JW_FLOOR = 0.75
GENERIC_TOKEN_MIN = 0.90


def max_edits(length: int) -> int:
    """Edits two near words of this (shorter) length may be apart."""
    if length <= 5:
        return 1
    if length <= 9:
        return 2
    return 3


@lru_cache(maxsize=200_000)
def sound(token: str) -> str:
    """The metaphone key of a word (rigour), for words that sound alike: Qasim/Kasim."""
    return str(metaphone(token))


def without_article(word: str) -> str:
    """A word without the Arabic article joined to it (names.ARTICLES): "alrawi" -> "rawi"."""
    if len(word) >= 6 and word[:2] in ARTICLES:
        return word[2:]
    return word


@lru_cache(maxsize=200_000)
def token_similarity(a: str, b: str) -> float:
    """Similarity of two words in [0, 1]: 1 when equal, 0 unless near (see the module docstring).
    Cached: the same pairs recur across the names of a list and of the traffic."""
    same = _same_word(a, b)
    if same is not None:
        return same
    shorter = min(len(a), len(b))
    if shorter < SHORT_TOKEN:
        # Short words only when equal but for a doubled letter ("Min"/"Minn").
        return TOKEN_MIN if a.isalpha() and undoubled(a) == undoubled(b) else 0.0
    sim = float(JaroWinkler.similarity(a, b))
    if a in GENERIC_WORDS and b in GENERIC_WORDS:
        # Forms of the same generic word ("bank", "banking"): they weigh little either way.
        return sim if sim >= GENERIC_TOKEN_MIN else 0.0
    # Words with digits only when equal; more letters apart than any rule allows is no match.
    if sim < TYPO_JW_FLOOR or abs(len(a) - len(b)) > max_edits(shorter) + 1 or not (a.isalpha() and b.isalpha()):
        return 0.0
    if shorter >= TYPO_MIN_LENGTH and OSA.distance(a, b, score_cutoff=1) <= 1:
        # One typo (a letter wrong, missing, added, or two swapped) in a word long enough that
        # one letter is not most of it.
        return max(sim, TOKEN_MIN)
    return sim if _near(a, b, sim, shorter) else 0.0


_DOUBLED = re.compile(r"(.)\1")


def undoubled(word: str) -> str:
    """A word with each doubled letter written once."""
    if _DOUBLED.search(word) is None:
        return word
    return "".join(letter for letter, _ in groupby(word))


def _same_word(a: str, b: str) -> float | None:
    """1 for the same word (also without the Arabic article); KOREAN_SIM for the same Korean
    syllables in another romanisation ("Jong"/"Jeong"/"Chong"): near, not equal, so never
    enough alone to block."""
    if a == b or _equal_without_article(a, b):
        return 1.0
    key = korean_key(a)
    if key is not None and key == korean_key(b):
        return KOREAN_SIM
    return None


def _equal_without_article(a: str, b: str) -> bool:
    articled = (len(a) >= 6 and a[:2] in ARTICLES) or (len(b) >= 6 and b[:2] in ARTICLES)
    return articled and without_article(a) == without_article(b)


def _near(a: str, b: str, sim: float, shorter: int) -> bool:
    """At most a few edits apart, and starting alike (two letters) or sounding alike."""
    if sim < PHONETIC_MIN:
        return False
    alike = sound(a) == sound(b)
    edits = max_edits(shorter) + (1 if alike else 0)
    if Levenshtein.distance(a, b, score_cutoff=edits) > edits:
        return False
    return alike or (sim >= TOKEN_MIN and a[:2] == b[:2])
