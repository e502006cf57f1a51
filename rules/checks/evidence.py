"""Evidence that a field of a payment refers to an institution a special measure covers.

SPEC 2.2: "A weak name similarity alone must never block: a block needs an exact identifier
(BIC, registry link, country of licence) or a strong name match." Each Evidence says which it
is: `strong` evidence acts ((b)(1) or (b)(2)), the rest is a possible match for review.
"""

from __future__ import annotations

from dataclasses import dataclass

from rules.catalog import RuleSet
from rules.financial_institutions import InstitutionKind
from rules.measure_files import Basis, SpecialMeasure


@dataclass(frozen=True, slots=True)
class Evidence:
    """One reason to think a field of the payment refers to an institution a measure covers."""

    measure: SpecialMeasure
    basis: Basis
    identifier: bool
    strong: bool
    score: float
    field: str
    value: str
    matched: str
    because: str

    @property
    def rank(self) -> tuple[bool, bool, float]:
        return (self.strong, self.identifier, self.score)


def identified(measure: SpecialMeasure, basis: Basis, field: str, value: str, matched: str, because: str) -> Evidence:
    """Evidence from an identifier (BIC, registry link, country, address): strong, score 100."""
    return Evidence(measure, basis, True, True, 100.0, field, value, matched, because)


def strong_name(measure: SpecialMeasure, field: str, value: str, matched: str, because: str, score: float) -> Evidence:
    """A name match strong enough to act on: the listed name is there (not an identifier)."""
    return Evidence(measure, "listed", False, True, score, field, value, matched, because)


def possible(
    measure: SpecialMeasure, basis: Basis, field: str, value: str, matched: str, because: str, score: float
) -> Evidence:
    """Evidence too weak to act on alone: a possible match for review."""
    return Evidence(measure, basis, False, False, score, field, value, matched, because)


def reaches(measure: SpecialMeasure, kind: InstitutionKind | None) -> bool:
    """Whether a measure's jurisdiction rule reaches an institution of this kind.

    1010.651(a)(1) covers only a foreign bank chartered or licensed by Burma; 1010.659(a)(2) and
    1010.661(a)(1) any foreign financial institution of 1010.605(f). An institution of unknown
    kind is taken to be a bank (it sits in a field only a financial institution can fill).
    """
    return kind != "non_bank" or measure.covered.financial_institutions == "all"


def jurisdiction_measures(
    rules: RuleSet, country: str | None, attr: str, kind: InstitutionKind | None = None
) -> list[SpecialMeasure]:
    """Measures covering institutions chartered in (attr "jurisdictions") or located in
    (attr "located_in") the country, that reach an institution of this kind."""
    if not country:
        return []
    return [m for m in rules.measures if country in getattr(m.covered, attr) and reaches(m, kind)]
