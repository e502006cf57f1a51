"""An inverted index over listed names, so a lookup scores a few candidates, not the whole list.

A listed name is reachable from a query through any of its tokens, the first three letters of
any token (typos rarely hit the start of every word), or its space-free form (names written
without spaces, as Hangul transliterates). Only candidates found this way are scored.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from rules.names import GENERIC_WORDS, NameForm, name_form, text_tokens
from rules.similarity import POSSIBLE_MATCH, score_names

T = TypeVar("T")

_PREFIX = 3
# A token shared by more listed names than this is no use for finding candidates on its own.
_MAX_POSTING = 2_000


def _keys(form: NameForm) -> set[str]:
    distinctive = [t for t in form.tokens if t not in GENERIC_WORDS] or list(form.tokens)
    keys = {f"c:{form.compact}"}
    for tok in distinctive:
        keys.add(f"t:{tok}")
        if len(tok) > _PREFIX:
            keys.add(f"p:{tok[:_PREFIX]}")
    return keys


@dataclass(frozen=True, slots=True)
class IndexedName(Generic[T]):
    """One listed name variant and what it stands for."""

    form: NameForm
    payload: T
    weak: bool


@dataclass(frozen=True, slots=True)
class NameHit(Generic[T]):
    """A listed name found for a query, with its score."""

    score: float
    name: IndexedName[T]


class NameIndex(Generic[T]):
    """Names (with a payload each) searchable by similarity."""

    def __init__(self, entries: Iterable[tuple[str, T, bool]]) -> None:
        self._names: list[IndexedName[T]] = []
        postings: dict[str, list[int]] = defaultdict(list)
        for text, payload, weak in entries:
            form = name_form(text)
            if not form.tokens:
                continue
            idx = len(self._names)
            self._names.append(IndexedName(form, payload, weak))
            for key in _keys(form):
                postings[key].append(idx)
        self._postings = {k: tuple(v) for k, v in postings.items()}
        # Exact token sequences, for finding listed names inside free text.
        self._phrases: dict[str, list[int]] = defaultdict(list)
        for idx, named in enumerate(self._names):
            self._phrases[named.form.tokens[0]].append(idx)

    def __len__(self) -> int:
        return len(self._names)

    def candidates(self, form: NameForm) -> set[int]:
        """Positions of the listed names sharing a key with the query."""
        found: set[int] = set()
        for key in _keys(form):
            posting = self._postings.get(key, ())
            if len(posting) <= _MAX_POSTING or key.startswith(("t:", "c:")):
                found.update(posting)
        return found

    def search(self, name: str, min_score: float) -> list[NameHit[T]]:
        """Listed names scoring at least min_score against name, best first.

        A weak name (an ambiguous alias) counts only when it equals the query exactly, and then
        only as a possible match.
        """
        form = name_form(name)
        if not form.tokens:
            return []
        hits: list[NameHit[T]] = []
        for idx in self.candidates(form):
            named = self._names[idx]
            if named.weak:
                # An ambiguous alias, even matched exactly, is never enough to act on alone.
                score = POSSIBLE_MATCH if named.form.compact == form.compact else 0.0
            else:
                score = score_names(form, named.form)
            if score >= min_score:
                hits.append(NameHit(score, named))
        hits.sort(key=lambda h: (-h.score, h.name.form.original))
        return hits

    def find_in_text(self, text: str) -> list[IndexedName[T]]:
        """Listed names whose whole token sequence appears, in order, in free text.

        Single-token names count only when they are at least four letters long and not weak, so
        "CBS" in a remittance line is not read as Commercial Bank of Syria.
        """
        tokens = text_tokens(text)
        found: list[IndexedName[T]] = []
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
                    found.append(named)
        return found
