"""Is an institution covered by a special measure, and on what evidence?

SPEC 2.1: identify an institution by BIC (letters 5-6 give the country of licence), by registry
data (parent chains with the more-than-50-percent rule) and by name (aliases, former names,
abbreviations, other scripts). Identifier evidence (BIC, registry link, country) can block; a
name can block only when the match is strong; a weaker name is a possible match for review.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rules.bic import Bic, try_parse_bic
from rules.catalog import Basis, ListedRef, RuleSet, SpecialMeasure
from rules.names import text_tokens
from rules.payment import Institution
from rules.registry import InstitutionRecord, Registry
from rules.similarity import POSSIBLE_MATCH, STRONG_MATCH

_BIC_IN_TEXT = re.compile(r"\b[A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?\b")


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
    """Evidence from an identifier (BIC, registry link, country): strong, score 100."""
    return Evidence(measure, basis, True, True, 100.0, field, value, matched, because)


def _jurisdiction_measures(rules: RuleSet, country: str | None, attr: str) -> list[SpecialMeasure]:
    if not country:
        return []
    return [m for m in rules.measures if country in getattr(m.covered, attr)]


def _identity_evidence(
    rules: RuleSet, bic: Bic | None, country: str | None, names: Iterable[str]
) -> list[tuple[SpecialMeasure, Basis, str, str]]:
    """What makes an institution itself covered, from its own identifiers and names.

    Returns (measure, basis, matched, because) for identifiers and strong listed-name matches.
    """
    found: list[tuple[SpecialMeasure, Basis, str, str]] = []
    if bic is not None:
        for m in _jurisdiction_measures(rules, bic.country, "jurisdictions"):
            found.append((m, "chartered", bic.country, f"BIC {bic.value} is licensed in {bic.country}"))
        for ref in rules.by_bic.get(bic.institution_key, []):
            found.append((ref.measure, "listed", ref.institution.name, f"BIC {bic.value} is {ref.institution.name}'s"))
    for m in _jurisdiction_measures(rules, country, "jurisdictions"):
        found.append((m, "chartered", country or "", f"it is licensed in {country}"))
    for name in names:
        for ev in name_evidence(rules, "", name):
            if ev.strong:
                found.append((ev.measure, "listed", ev.matched, f"its name {ev.because}"))
    return found


def _registry_records(registry: Registry, inst: Institution, bic: Bic | None) -> list[InstitutionRecord]:
    record = registry.institution_by_bic(bic) if bic else None
    if record is not None:
        return [record]
    return registry.institutions_by_name(inst.name)


def suppressed_by_look_alike(rules: RuleSet, name: str, score: float) -> str | None:
    """A known look-alike that matches the name at least as well as the covered name does."""
    hits = rules.look_alike_names.search(name, POSSIBLE_MATCH)
    if hits and hits[0].score >= score:
        return hits[0].name.payload.name
    return None


def _covered_matches(rules: RuleSet, name: str) -> tuple[tuple[ListedRef, float, str], ...]:
    """Covered names a name matches, look-alikes suppressed: (listed ref, score, listed variant)."""
    return tuple(
        (hit.name.payload, hit.score, hit.name.form.original)
        for hit in rules.covered_names.search(name, POSSIBLE_MATCH)
        if suppressed_by_look_alike(rules, name, hit.score) is None
    )


def name_evidence(rules: RuleSet, field: str, name: str) -> list[Evidence]:
    """Covered institutions a name refers to, strong or possible, after look-alike suppression.

    The payment's country is not weighed against the listed bank's: the measures reach covered
    banks' branches and offices "in any jurisdiction" (1010.658(a)(1), 1010.661(a)(1)), and known
    look-alikes are suppressed by name instead.
    """
    best: dict[tuple[str, str], Evidence] = {}
    for ref, score, listed in rules.memo(("covered", name), lambda: _covered_matches(rules, name)):
        because = f"{name!r} matches {ref.institution.name} as {listed!r} (score {score:g})"
        ev = Evidence(
            ref.measure,
            "listed",
            False,
            score >= STRONG_MATCH,
            score,
            field,
            name,
            ref.institution.name,
            because,
        )
        key = (ref.measure.section, ref.institution.name)
        if key not in best or ev.rank > best[key].rank:
            best[key] = ev
    return list(best.values())


def _jurisdiction_words(rules: RuleSet, field: str, text: str, located: bool) -> list[Evidence]:
    """A name or address naming a jurisdiction under special measures: a possible match only."""
    tokens = " " + " ".join(text_tokens(text)) + " "
    out: list[Evidence] = []
    for m in rules.measures:
        for word in m.covered.jurisdiction_names:
            if f" {word} " in tokens:
                where = "address" if located else "name"
                out.append(
                    Evidence(
                        m,
                        "located_in" if located else "chartered",
                        False,
                        False,
                        POSSIBLE_MATCH,
                        field,
                        text,
                        word,
                        f"its {where} mentions {word!r}, a jurisdiction under {m.citation}",
                    )
                )
                break
    return out


def institution_evidence(rules: RuleSet, registry: Registry, field: str, inst: Institution) -> list[Evidence]:
    """Everything that ties one institution in the payment or registry to a covered institution.

    Memoised: a pure function of the rule set, the registry's content (its version is a digest of
    it) and the institution's identifying fields, and the same banks recur in payment after payment.
    """
    key = ("institution", registry.version, field, inst.bic, inst.name, inst.country, tuple(inst.address))
    found: tuple[Evidence, ...] = rules.memo(key, lambda: tuple(_institution_evidence(rules, registry, field, inst)))
    return list(found)


def _institution_evidence(rules: RuleSet, registry: Registry, field: str, inst: Institution) -> list[Evidence]:
    out: list[Evidence] = []
    bic = try_parse_bic(inst.bic)
    if bic is not None:
        for m, basis, matched, because in _identity_evidence(rules, bic, None, ()):
            out.append(identified(m, basis, f"{field}.bic", bic.value, matched, because))
    if inst.country:
        for m in _jurisdiction_measures(rules, inst.country, "located_in"):
            out.append(
                identified(
                    m,
                    "located_in",
                    f"{field}.country",
                    inst.country,
                    inst.country,
                    f"it is located in {inst.country}",
                )
            )
    for record in _registry_records(registry, inst, bic):
        out.extend(_registry_evidence(rules, registry, field, inst, record))
    sections_found = {ev.measure.section for ev in out}
    if inst.name:
        for ev in name_evidence(rules, f"{field}.name", inst.name):
            if ev.measure.section not in sections_found:
                out.append(ev)
        if not out:
            out.extend(_jurisdiction_words(rules, f"{field}.name", inst.name, located=False))
    if not out and inst.address:
        out.extend(_jurisdiction_words(rules, f"{field}.address", " ".join(inst.address), located=True))
    return out


def _registry_evidence(
    rules: RuleSet, registry: Registry, field: str, inst: Institution, record: InstitutionRecord
) -> list[Evidence]:
    """Coverage found through the registry: the record itself, then its parent chain."""
    out: list[Evidence] = []
    where = f"{field}.bic" if inst.bic else f"{field}.name"
    value = inst.bic or inst.name or record.bic
    own_bic = try_parse_bic(record.bic)
    for m, basis, matched, because in _identity_evidence(rules, own_bic, record.country, record.names()):
        out.append(
            identified(
                m,
                basis,
                where,
                value,
                matched,
                f"the registry's record {record.bic}: {because}",
            )
        )
    for anc in registry.ancestors(record):
        anc_bic = try_parse_bic(anc.record.bic)
        for m, _basis, matched, because in _identity_evidence(rules, anc_bic, anc.record.country, anc.record.names()):
            if anc.relation not in m.covered.includes:
                continue
            chain = " -> ".join(anc.path)
            out.append(
                identified(
                    m,
                    anc.relation,
                    where,
                    value,
                    matched,
                    f"the registry makes it a {anc.relation} of {anc.record.name or anc.record.bic} "
                    f"({chain}), and {because}",
                )
            )
    return out


def text_evidence(rules: RuleSet, field: str, text: str) -> list[Evidence]:
    """A covered institution referenced in free text: its listed name or listed BIC (memoised, as
    institution_evidence)."""
    found: tuple[Evidence, ...] = rules.memo(("text", field, text), lambda: tuple(_text_evidence(rules, field, text)))
    return list(found)


def _text_evidence(rules: RuleSet, field: str, text: str) -> list[Evidence]:
    out: list[Evidence] = []
    for named in rules.covered_names.find_in_text(text):
        ref = named.payload
        out.append(
            Evidence(
                ref.measure,
                "listed",
                False,
                True,
                100.0,
                field,
                text,
                ref.institution.name,
                f"the text names {named.form.original!r}",
            )
        )
    for token in _BIC_IN_TEXT.findall(text.upper()):
        bic = try_parse_bic(token)
        if bic is None:
            continue
        for ref in rules.by_bic.get(bic.institution_key, []):
            out.append(
                identified(
                    ref.measure,
                    "listed",
                    field,
                    text,
                    ref.institution.name,
                    f"the text carries {ref.institution.name}'s BIC {bic.value}",
                )
            )
    return out
