"""Words of the scripts written without spaces between words: Chinese, Burmese, Thai, Lao, Khmer.

A name in these scripts is one run of letters ("丹东银行", "မြန်မာ့စီးပွားရေးဘဏ်"), and a character-by-
character transliteration neither finds its words nor reads them as they are romanised: ICU reads
银行 ("bank") as "yin xing", where every romanisation writes "yinhang", and runs a Burmese name
into one word. So each run is split into words first (ICU's dictionary word break iterator, the
same segmentation ICU gives every text layout), and each word is romanised as one word:

- Chinese by Hanyu Pinyin (pypinyin: readings of words, so a polyphone takes the reading of the
  word it is in; syllables joined, as pinyin writes words: 丹东 -> "dandong");
- the others by ICU's transliterators, with the Burmese tone marks (U+1037 dot below, U+1038
  visarga) dropped: romanisations of Burmese names do not write tones, and ICU's dictionary breaks
  "မြန်မာ့" ("of Myanmar") apart where it keeps "မြန်မာ" whole.

Korean is written with spaces and has its own readings (rules/korean.py).
"""

from __future__ import annotations

import re
from functools import cache

import icu
from pypinyin import lazy_pinyin

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# Myanmar, Thai, Lao, Khmer blocks, and the CJK ideographs.
_SPACELESS = re.compile(f"[\u1000-\u109f\u0e00-\u0e7f\u0e80-\u0eff\u1780-\u17ff{_HAN}]+")
_HAN_CHAR = re.compile(f"[{_HAN}]")
_UNWRITTEN_TONES = str.maketrans("", "", "\u1037\u1038")


@cache
def _transliterator() -> icu.Transliterator:
    return icu.Transliterator.createInstance("Any-Latin; Latin-ASCII")


def _words(run: str) -> list[str]:
    # A break iterator holds the text it walks, so each call takes its own (cheap to create from
    # the cached rules; the result is cached per name by the callers in rules/names.py).
    breaker = icu.BreakIterator.createWordInstance(icu.Locale.getRoot())
    breaker.setText(run)
    out: list[str] = []
    start = breaker.first()
    for end in breaker:
        if end > start:
            out.append(run[start:end])
        start = end
    return out


def _romanise(word: str) -> str:
    if _HAN_CHAR.search(word):
        return "".join(lazy_pinyin(word, errors="default"))
    return str(_transliterator().transliterate(word)).replace(" ", "")


def _spell(run: re.Match[str]) -> str:
    words = _words(run.group(0).translate(_UNWRITTEN_TONES))
    return " " + " ".join(_romanise(w) for w in words) + " "


def has_spaceless_script(text: str) -> bool:
    """Whether text has letters of a script written without spaces between words."""
    return _SPACELESS.search(text) is not None


def spell_spaceless(text: str) -> str:
    """Text with each run of a spaceless script replaced by its words, romanised and separated
    by spaces; everything else as it was."""
    if text.isascii():
        return text
    return _SPACELESS.sub(_spell, text)
