"""Precision and recall of name matching on a golden corpus of name pairs.

The corpus (tests/golden/name_pairs.csv) lists names as a payment might carry them, whether
screening must act on them (`match`: a strong match to the named listed entity, which blocks) or
must not (`no_match`: look-alikes and unrelated names), and, for institutions, the country the
payment gives, if any. Matching here is exactly the engine's (rules.checks), so the figures are
the engine's.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Literal, cast

from rules.catalog import RuleSet
from rules.checks.blocked_persons import person_matches
from rules.checks.name_evidence import name_evidence
from rules.names import normalize_name

Kind = Literal["institution", "person"]
Expected = Literal["match", "no_match"]


@dataclass(frozen=True, slots=True)
class Pair:
    query: str
    kind: Kind
    expected: Expected
    listed: str
    country: str | None
    note: str


@dataclass
class Outcome:
    """Counts over the corpus and the rows that went wrong."""

    true_pos: int = 0
    false_pos: int = 0
    false_neg: int = 0
    true_neg: int = 0
    reviews_on_no_match: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        acted = self.true_pos + self.false_pos
        return self.true_pos / acted if acted else 1.0

    @property
    def recall(self) -> float:
        wanted = self.true_pos + self.false_neg
        return self.true_pos / wanted if wanted else 1.0

    @property
    def total(self) -> int:
        return self.true_pos + self.false_pos + self.false_neg + self.true_neg


def read_pairs(text: str) -> list[Pair]:
    """Parse the corpus CSV: query,kind,expected,listed,country,note."""
    rows = list(csv.DictReader(io.StringIO(text)))
    pairs: list[Pair] = []
    for line, row in enumerate(rows, start=2):
        kind, expected = row.get("kind", ""), row.get("expected", "")
        if kind not in ("institution", "person") or expected not in ("match", "no_match"):
            raise ValueError(f"line {line}: kind must be institution|person and expected match|no_match")
        pairs.append(
            Pair(
                query=row["query"],
                kind=cast("Kind", kind),
                expected=cast("Expected", expected),
                listed=row.get("listed", "") or "",
                country=(row.get("country") or "").strip() or None,
                note=row.get("note", "") or "",
            )
        )
    return pairs


def _strong_and_possible(rules: RuleSet, pair: Pair) -> tuple[set[str], bool]:
    """Names of the listed entities matched strongly, and whether any possible match remains."""
    if pair.kind == "institution":
        evidence = name_evidence(rules, "name", pair.query)
        return {normalize_name(e.matched) for e in evidence if e.strong}, any(not e.strong for e in evidence)
    matches = person_matches(rules, pair.query, pair.country)
    return {normalize_name(m.person.name) for m in matches if m.strong}, any(not m.strong for m in matches)


def evaluate(rules: RuleSet, pairs: list[Pair]) -> Outcome:
    """Score every pair as the engine would."""
    out = Outcome()
    for pair in pairs:
        strong, possible = _strong_and_possible(rules, pair)
        if pair.expected == "match":
            if normalize_name(pair.listed) in strong:
                out.true_pos += 1
            else:
                out.false_neg += 1
                out.errors.append(f"missed: {pair.query!r} should match {pair.listed!r}")
        elif strong:
            out.false_pos += 1
            out.errors.append(f"false block: {pair.query!r} matched {sorted(strong)}")
        else:
            out.true_neg += 1
            if possible:
                out.reviews_on_no_match += 1
    return out
