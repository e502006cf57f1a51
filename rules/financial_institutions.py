"""Is a party a financial institution, and which kind? (SPEC 2.2, 31 CFR 1010.605(f))

The sections reach different institutions: 1010.651(a)(1) only foreign banks chartered or
licensed by Burma; 1010.659(a)(2) and 1010.661(a)(1) any foreign financial institution of
1010.605(f), dealers in foreign exchange and money transmitters included. A party is read as an
institution when its name says so (rules/lists/financial_institution_words.yaml).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

import yaml

from rules.data_files import LISTS_DIR
from rules.names import text_tokens

WORDS_FILE = LISTS_DIR / "financial_institution_words.yaml"
InstitutionKind = Literal["bank", "non_bank"]
_Kind = Literal["bank", "non_bank", "not_financial"]


@lru_cache(maxsize=1)
def _phrases() -> dict[str, list[tuple[tuple[str, ...], _Kind]]]:
    """The phrases by their first token, longest first."""
    data = yaml.safe_load(WORDS_FILE.read_text(encoding="utf-8"))
    out: dict[str, list[tuple[tuple[str, ...], _Kind]]] = {}
    for kind in ("bank", "non_bank", "not_financial"):
        for phrase in data[kind]:
            tokens = text_tokens(phrase)
            out.setdefault(tokens[0], []).append((tokens, kind))
    for options in out.values():
        options.sort(key=lambda o: -len(o[0]))
    return out


@lru_cache(maxsize=100_000)
def kind_from_name(name: str) -> InstitutionKind | None:
    """The kind of institution a name's words say it is ("bank" wins over "non_bank"), or None."""
    tokens = text_tokens(name)
    phrases = _phrases()
    found: set[_Kind] = set()
    # A word inside a not-financial phrase ("Food Bank", "Bank Street") counts for nothing.
    spent = [False] * len(tokens)
    for i, tok in enumerate(tokens):
        for phrase, kind in phrases.get(tok, ()):
            if kind == "not_financial" and tokens[i : i + len(phrase)] == phrase:
                spent[i : i + len(phrase)] = [True] * len(phrase)
    for i, tok in enumerate(tokens):
        for phrase, kind in phrases.get(tok, ()):
            if (
                kind != "not_financial"
                and not any(spent[i : i + len(phrase)])
                and tokens[i : i + len(phrase)] == phrase
            ):
                found.add(kind)
    if "bank" in found:
        return "bank"
    return "non_bank" if found else None
