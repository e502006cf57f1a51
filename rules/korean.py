"""Korean names in any romanisation: one key for McCune-Reischauer, Revised Romanization and the
common South Korean spellings of the same syllables.

North Korean names reach payments as the list writes them (McCune-Reischauer, apostrophes and
breves dropped: "Chong", "Chol"), in Revised Romanization ("Jeong", "Cheol"), in South Korean
spellings ("Lee", "Rhee", "Choi", "Park") and in Hangul, which ICU romanises close to Revised
Romanization ("최철민" -> "choecheolmin"). The systems differ in a few regular ways, which the key
removes: aspiration and voicing of initials (k/g, t/d, p/b, ch/j), eo/o and eu/u, r/l, and the
initial r, l or y that South Korean spellings drop or add before i ("Ri", "Rhee", "Lee", "Yi").
Syllable shapes and correspondences: the Revised Romanization of Korean (Ministry of Culture and
Tourism, 2000) and the McCune-Reischauer system's tables; the key is applied only to words that
parse as romanised Korean syllables, so "Bart" and "Part" are not made one.
"""

from __future__ import annotations

import re
from functools import lru_cache

# A romanised Korean syllable: initial, vowel, final (both systems, South Korean spellings).
_INITIAL = r"(?:kk|tt|pp|ss|jj|tch|ch|ts|th|kh|ph|rh|sh|k|g|n|d|t|r|l|m|b|p|s|j|h|y|w)?"
_VOWEL = r"(?:yeo|yae|wae|weo|eo|eu|ae|oe|oi|wi|ui|wa|wo|we|ya|ye|yo|yu|ee|oo|a|e|i|o|u)"
_FINAL = r"(?:ng|rk|k|n|t|l|m|p|g|b|d|s|r)?"
_SYLLABLES = re.compile(rf"^(?:{_INITIAL}{_VOWEL}{_FINAL})+$")
_HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")
# Applied in order to a lower-case word: the regular differences between the systems.
_INITIAL_I = re.compile(r"^(?:rh|r|l|y)(?=(?:i|ee)(?:$|[^aeiouy]))")  # Ri, Rhee, Lee, Yi, Li -> i
_INITIAL_RY = re.compile(r"^(?:r|l)(?=y)")  # Ryong -> Yong
_G = re.compile(r"(?<!n)g")  # g -> k, but not in "ng"
_LITERAL = (
    ("ee", "i"), ("oo", "u"), ("eo", "o"), ("eu", "u"), ("oi", "oe"), ("ui", "i"),
    ("tch", "ch"), ("jj", "ch"), ("j", "ch"), ("ts", "ch"), ("sh", "s"), ("th", "t"), ("kh", "k"),
    ("ph", "p"), ("kk", "k"), ("tt", "t"), ("pp", "p"), ("ss", "s"),
)  # fmt: skip
_VOICING = str.maketrans({"d": "t", "b": "p", "r": "l"})


def has_hangul(text: str) -> bool:
    return _HANGUL.search(text) is not None


def is_romanised_korean(word: str) -> bool:
    """Whether a lower-case word parses as romanised Korean syllables."""
    return bool(word) and word.isalpha() and word.isascii() and _SYLLABLES.match(word) is not None


@lru_cache(maxsize=200_000)
def korean_key(word: str) -> str | None:
    """One key for the romanisations of the same Korean syllables, or None for a word that is not
    romanised Korean."""
    if not is_romanised_korean(word):
        return None
    key = _INITIAL_RY.sub("", _INITIAL_I.sub("", word))
    for old, new in _LITERAL:
        key = key.replace(old, new)
    key = _G.sub("k", key).translate(_VOICING)
    # "Park" (r -> l) is Pak; a doubled l is one.
    return key.replace("lk", "k").replace("ll", "l") or None
