"""The name pools of the benchmark's synthetic data and the builders of names from them.

The pools (given and family names by culture, with their Cyrillic, Hangul or Han form where the
culture writes its own script; syllables for generated company words; legal-form suffixes;
countries; programs) live in name_pools.json beside this module, with their source. They are
loaded once, at import. The order of every list is part of the data: a seed draws by position,
so the same seed gives the same names only while the pools keep their order.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

POOLS_FILE = Path(__file__).resolve().parent / "name_pools.json"

# A name of a pool: its Latin form, or (Latin form, form in the culture's own script).
Name = str | tuple[str, str]
NamePool = dict[str, list[Name]]


def _name(item: str | list[str]) -> Name:
    """A pool entry as loaded from JSON: a string, or a two-item list made a (Latin, native) tuple."""
    return item if isinstance(item, str) else (item[0], item[1])


def _pairs(items: list[list[str]]) -> list[tuple[str, str]]:
    return [(a, b) for a, b in items]


# The pools (names by culture, syllables, suffixes, countries, programs) live in name_pools.json
# with their source; the order of every list is part of the data, since a seed draws by position.
_POOLS: dict[str, Any] = json.loads(POOLS_FILE.read_text(encoding="utf-8"))
# Names from several cultures, shared by the list and the traffic, so that clean payments carry
# names that resemble listed ones. The key order is the order cultures are drawn in.
GIVEN: NamePool = {k: [_name(x) for x in v] for k, v in _POOLS["given"].items()}
FAMILY: NamePool = {k: [_name(x) for x in v] for k, v in _POOLS["family"].items()}
KOREAN_SYLLABLES = _pairs(_POOLS["korean_syllables"])
CHINESE_CHARS = _pairs(_POOLS["chinese_chars"])
PATRONYMICS = _pairs(_POOLS["patronymics"])
CULTURE_COUNTRIES: dict[str, list[str]] = _POOLS["culture_countries"]
SYLLABLES: list[str] = _POOLS["company_syllables"]
CLEAN_SYLLABLES: list[str] = _POOLS["clean_company_syllables"]
ENTITY_SUFFIXES: list[str] = _POOLS["entity_suffixes"]
CLEAN_SUFFIXES: list[str] = _POOLS["clean_suffixes"]
BANK_SUFFIXES: list[str] = _POOLS["bank_suffixes"]
CLEAN_COUNTRIES: list[str] = _POOLS["clean_countries"]
PROGRAMS: list[str] = _POOLS["programs"]


def word(rng: random.Random, syllables: int) -> str:
    """A generated company word of `syllables` syllables, capitalised."""
    return "".join(rng.choice(SYLLABLES) for _ in range(syllables)).capitalize()


def person_parts(rng: random.Random, culture: str, common: float) -> list[tuple[str, str | None]]:
    """A person's name as (Latin, native script or None) parts, in the culture's usual order;
    the family name is one of the common ones of the pool with probability `common`."""

    def pair(item: Name) -> tuple[str, str | None]:
        return (item[0], item[1]) if isinstance(item, tuple) else (item, None)

    if culture == "korean":
        a, b = rng.sample(KOREAN_SYLLABLES, 2)
        return [pair(rng.choice(FAMILY[culture])), (f"{a[0]} {b[0]}", a[1] + b[1])]
    if culture == "chinese":
        chars = rng.sample(CHINESE_CHARS, rng.choice((1, 2, 2)))
        han: tuple[str, str | None] = ("".join(c[0] for c in chars).capitalize(), "".join(c[1] for c in chars))
        return [pair(rng.choice(FAMILY[culture])), han]
    if culture == "russian":
        generated: tuple[str, str | None] = (word(rng, 2) + rng.choice(("ov", "in", "enko")), None)
        family = pair(rng.choice(FAMILY[culture])) if rng.random() < common else generated
        parts = [pair(rng.choice(GIVEN[culture]))]
        if rng.random() < 0.6:
            parts.append(pair(rng.choice(PATRONYMICS)))
        return [*parts, family]
    given = [pair(rng.choice(GIVEN[culture]))]
    if culture in ("arabic", "persian") and rng.random() < 0.6:
        given.append(pair(rng.choice(GIVEN[culture])))
    if rng.random() < common:
        family = pair(rng.choice(FAMILY[culture]))
    else:
        stem = word(rng, rng.randint(2, 3))
        family = (f"Al-{stem}" if culture == "arabic" and rng.random() < 0.4 else stem, None)
    return [*given, family]


def person_name(rng: random.Random, culture: str) -> str:
    """A customer's name: mostly common family names."""
    return " ".join(latin for latin, _ in person_parts(rng, culture, common=0.7))


def typo(rng: random.Random, name: str) -> str:
    """One keyboard-style slip in a word of at least six letters (a doubled or dropped letter)."""
    words = name.split(" ")
    long = [i for i, w in enumerate(words) if len(w) >= 6 and w.isascii() and w.isalpha()]
    if not long:
        return name
    i = rng.choice(long)
    w = words[i]
    pos = rng.randrange(2, len(w) - 1)
    words[i] = w[:pos] + w[pos + 1 :] if rng.random() < 0.5 else w[:pos] + w[pos] + w[pos:]
    return " ".join(words)


def spelling_variants(rng: random.Random, parts: list[tuple[str, str | None]]) -> set[str]:
    """Spelling variants a list gives for one person: family name first, a middle name dropped, a slip."""
    latin = [p for p, _ in parts]
    out: set[str] = set()
    if rng.random() < 0.35:
        out.add(" ".join([latin[-1], *latin[:-1]]))
    if len(latin) > 2 and rng.random() < 0.35:
        out.add(f"{latin[0]} {latin[-1]}")
    if rng.random() < 0.3:
        out.add(typo(rng, " ".join(latin)))
    return out
