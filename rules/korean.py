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
from functools import cache, lru_cache

from rules.data_files import LISTS_DIR

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
    ("we", "oe"), ("tch", "ch"), ("jj", "ch"), ("j", "ch"), ("ts", "ch"), ("sh", "s"), ("th", "t"), ("kh", "k"),
    ("ph", "p"), ("kk", "k"), ("tt", "t"), ("pp", "p"), ("ss", "s"),
)  # fmt: skip
_VOICING = str.maketrans({"d": "t", "b": "p", "r": "l"})


# Korean names in Cyrillic are written in the Kontsevich system (Ким Чон Ын, Чхве Чхоль Мин,
# Ли Мён Су); read back into Latin letters of the McCune-Reischauer kind (aspiration marks
# dropped, as the list drops them), so that korean_key applies. Source: L. R. Kontsevich's
# system of Russian transcription of Korean (the table used by Russian cartography and media).
_KONTSEVICH = (
    ("чх", "ch"), ("чж", "j"), ("кх", "k"), ("тх", "t"), ("пх", "p"), ("ль", "l"), ("нъ", "ng"),
    ("а", "a"), ("б", "b"), ("в", "w"), ("г", "g"), ("д", "d"), ("е", "e"), ("ё", "yo"), ("ж", "j"),
    ("и", "i"), ("й", "y"), ("к", "k"), ("л", "l"), ("м", "m"), ("н", "n"), ("о", "o"), ("п", "p"),
    ("р", "r"), ("с", "s"), ("т", "t"), ("у", "u"), ("х", "h"), ("ц", "ts"), ("ч", "ch"), ("ш", "s"),
    ("ы", "eu"), ("ь", ""), ("ъ", ""), ("э", "ae"), ("ю", "yu"), ("я", "ya"),
)  # fmt: skip
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
# Kontsevich writes a final ng as n ("Чон" is Jong): each such word is read both ways.
MAX_KONTSEVICH_READINGS = 8


def has_cyrillic(text: str) -> bool:
    return _CYRILLIC.search(text) is not None


def kontsevich_readings(text: str) -> list[str]:
    """Latin readings of a name written in Cyrillic by the Kontsevich system, if every word of it
    is Korean syllables; final n read as n and as ng (at most MAX_KONTSEVICH_READINGS readings)."""
    latin = text.lower()
    for cyrillic, roman in _KONTSEVICH:
        latin = latin.replace(cyrillic, roman)
    words = re.findall(r"[a-z]+", latin)
    if not words or not all(is_romanised_korean(w) for w in words):
        return []
    readings = [""]
    for word in words:
        forms = [word, word + "g"] if word.endswith("n") else [word]
        readings = [f"{r} {f}".strip() for r in readings for f in forms][:MAX_KONTSEVICH_READINGS]
    return readings


_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
MAX_HANJA_READINGS = 8


@cache
def _hanja() -> dict[str, tuple[str, ...]]:
    """Chinese character -> its Korean readings, name readings first (rules/lists/hanja_readings.tsv)."""
    table: dict[str, tuple[str, ...]] = {}
    for line in (LISTS_DIR / "hanja_readings.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            char, _, readings = line.partition("\t")
            table[char] = tuple(readings.split())
    return table


def has_han(text: str) -> bool:
    return _HAN.search(text) is not None


def hanja_readings(text: str) -> list[str]:
    """Korean readings (Hangul) of a name written in Chinese characters, when every character has
    one (a Korean name in hanja, "金正恩" -> "김정은"); at most MAX_HANJA_READINGS, name readings
    first."""
    table = _hanja()
    readings = [""]
    for ch in text:
        if _HAN.match(ch):
            options = table.get(ch)
            if not options:
                return []
            readings = [r + o for r in readings for o in options][:MAX_HANJA_READINGS]
        else:
            readings = [r + ch for r in readings]
    return readings if readings != [text] else []


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
