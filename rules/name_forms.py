"""The scoring form of a name (NameForm): its canonical tokens (rules/names.py) with their
weights (rules/word_weights.py), the space-free compact form, and the script it was written in;
and the consonant skeleton of a word, for names romanised from Arabic script.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rules.korean import has_hangul
from rules.names import name_tokens
from rules.word_weights import TokenKind, token_weight


@dataclass(frozen=True, slots=True)
class NameForm:
    """A name ready to score: tokens with weights, and the space-free compact form."""

    original: str
    tokens: tuple[str, ...]
    weights: tuple[float, ...]
    total: float
    has_distinctive: bool
    compact: str
    hangul: bool = False  # written in Hangul (rules/korean.py)
    abjad: bool = False  # written in Arabic script, whose romanisation has no short vowels


@lru_cache(maxsize=200_000)
def name_form(name: str) -> NameForm:
    """Build (and cache) the scoring form of a name."""
    tokens = name_tokens(name)
    weights = tuple(token_weight(t) for t in tokens)
    return NameForm(
        original=name,
        tokens=tokens,
        weights=weights,
        total=sum(weights),
        has_distinctive=any(w == TokenKind.DISTINCTIVE for w in weights),
        compact="".join(tokens),
        hangul=has_hangul(name),
        abjad=_ARABIC_SCRIPT.search(name) is not None,
    )


_ARABIC_SCRIPT = re.compile(r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")
_VOWELS = str.maketrans("", "", "aeiouyw")


def consonants(word: str) -> str:
    """A word's consonants, each doubled one once: what a name written in Arabic script keeps when
    romanised ("محمد" -> "mhmd" is "Mohammad"; "علی" -> "ly" is "Ali"). Y and w go too: in
    Arabic script they also write long vowels."""
    out = word.translate(_VOWELS)
    return "".join(ch for i, ch in enumerate(out) if i == 0 or out[i - 1] != ch)
