"""Is an institution covered by a special measure, and on what evidence?

Why one file: registry records are judged by the same identity test as an institution's own fields.

SPEC 2.1: identify an institution by BIC first (letters 5-6 give the country of licence), by
registry data (parent chains with the more-than-50-percent rule), by where it is (an address or
a "Tehran Branch" qualifier: 1010.659(a)(2) and 1010.661(a)(1) cover "any branch or office within"
North Korea or Iran) and by name. A name identifies a registry record only together with its
country or address: "naming a bank's head office does not name its branch in a covered
jurisdiction". A name that fits several registry records that the measures treat differently is
ambiguous: a possible match for review that lists the candidates, never a block or a notice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rules.bic import Bic, parse_bic, try_parse_bic
from rules.catalog import RuleSet
from rules.checks.evidence import Evidence, identified, jurisdiction_measures, possible
from rules.checks.name_evidence import SWIFT_LINE_LENGTHS, name_evidence
from rules.financial_institutions import InstitutionKind
from rules.measure_files import Basis, SpecialMeasure
from rules.names import BRANCH_WORDS, OFFICE_WORDS, ends_open, text_tokens
from rules.payment import Institution
from rules.places import PlaceMatch
from rules.registry import InstitutionRecord, Registry
from rules.scripts import has_spaceless_script
from rules.similarity import POSSIBLE_MATCH

# A place qualifier is at most this many words beside a branch word ("Bandar Abbas Branch").
_QUALIFIER_WORDS = 3


def _identity_evidence(
    rules: RuleSet, bic: Bic | None, country: str | None, names: Iterable[str], kind: InstitutionKind | None
) -> list[tuple[SpecialMeasure, Basis, str, str]]:
    """What makes an institution itself covered, from its own identifiers and names.

    Returns (measure, basis, matched, because) for identifiers and strong listed-name matches.
    """
    found: list[tuple[SpecialMeasure, Basis, str, str]] = []
    if bic is not None:
        found.extend(
            (m, "chartered", bic.country, f"BIC {bic.value} is licensed in {bic.country}")
            for m in jurisdiction_measures(rules, bic.country, "jurisdictions", kind)
        )
        found.extend(
            (ref.measure, "listed", ref.institution.name, f"BIC {bic.value} is {ref.institution.name}'s")
            for ref in rules.by_bic.get(bic.institution_key, [])
        )
    found.extend(
        (m, "chartered", country or "", f"it is licensed in {country}")
        for m in jurisdiction_measures(rules, country, "jurisdictions", kind)
    )
    found.extend(
        (ev.measure, "listed", ev.matched, f"its name {ev.because}")
        for name in names
        for ev in name_evidence(rules, "", name)
        if ev.strong
    )
    return found


# A place named beside one of these is where that office of the institution is.
_QUALIFIER_MARKS = BRANCH_WORDS | OFFICE_WORDS


def qualifier_places(rules: RuleSet, name: str | None) -> list[PlaceMatch]:
    """Places a name's branch qualifier names: "Bank of China, Pyongyang Branch", "Branch in Tehran"."""
    return qualifier_places_in(rules, text_tokens(name)) if name else []


def qualifier_places_in(rules: RuleSet, tokens: tuple[str, ...]) -> list[PlaceMatch]:
    """qualifier_places over tokens already made."""
    if _QUALIFIER_MARKS.isdisjoint(tokens):
        return []
    out: list[PlaceMatch] = []
    for i, tok in enumerate(tokens):
        if tok not in _QUALIFIER_MARKS:
            continue
        for k in range(_QUALIFIER_WORDS, 0, -1):
            for seq in (tokens[max(0, i - k) : i], tokens[i + 1 : i + 1 + k]):
                place = rules.places.exact(seq) if len(seq) == k else None
                if place is not None and all(p.country != place.country for p in out):
                    out.append(place)
    return out


def where(rules: RuleSet, inst: Institution) -> tuple[list[PlaceMatch], list[PlaceMatch]]:
    """Where the payment places an institution: (by its address, by its name's branch qualifier)."""
    by_address = rules.places.locate(inst.address, inst.country) if inst.address else []
    return by_address, qualifier_places(rules, inst.name)


def _names_to_match(inst: Institution) -> list[str]:
    """The institution's name, and the name run on into the first address line when the name
    ends open ("MYANMA INVESTMENT AND" / "COMMERCIAL BANK") or fills a SWIFT line: a long name
    wraps into the lines below it."""
    if not inst.name:
        return []
    names = [inst.name]
    if inst.address and (ends_open(inst.name) or len(inst.name) in SWIFT_LINE_LENGTHS):
        names.append(f"{inst.name} {inst.address[0]}")
    return names


def institution_evidence(
    rules: RuleSet, registry: Registry, field: str, inst: Institution, kind: InstitutionKind | None = None
) -> list[Evidence]:
    """Everything that ties one institution in the payment or registry to a covered institution.

    Memoised: a pure function of the rule set, the registry's content (its version is a digest of
    it) and the institution's identifying fields, and the same banks recur in payment after payment.
    """
    key = ("institution", registry.version, field, inst.bic, inst.name, inst.country, tuple(inst.address), kind)
    found: tuple[Evidence, ...] = rules.memo(
        key, lambda: tuple(_institution_evidence(rules, registry, field, inst, kind))
    )
    return list(found)


def _institution_evidence(
    rules: RuleSet, registry: Registry, field: str, inst: Institution, kind: InstitutionKind | None
) -> list[Evidence]:
    out: list[Evidence] = []
    bic = try_parse_bic(inst.bic)
    if bic is not None:
        for m, basis, matched, because in _identity_evidence(rules, bic, None, (), kind):
            out.append(identified(m, basis, f"{field}.bic", bic.value, matched, because))
        out.extend(_bank_code_evidence(rules, f"{field}.bic", bic))
    for m in jurisdiction_measures(rules, inst.country, "located_in", kind):
        country = inst.country or ""
        out.append(identified(m, "located_in", f"{field}.country", country, country, f"it is located in {country}"))
    by_address, by_name = where(rules, inst)
    out.extend(_place_evidence(rules, f"{field}.address", "; ".join(inst.address), "address is", by_address, kind))
    out.extend(_place_evidence(rules, f"{field}.name", inst.name or "", "name places it", by_name, kind))
    out.extend(_registry_evidence(rules, registry, field, inst, bic, by_address + by_name, kind))
    sections_found = {ev.measure.section for ev in out if ev.strong}
    out.extend(
        _unless_bic_disagrees(rules, bic, ev)
        for name in _names_to_match(inst)
        for ev in name_evidence(rules, f"{field}.name", name, inst.country)
        if ev.measure.section not in sections_found
    )
    if inst.name and not out:
        out.extend(_jurisdiction_words(rules, f"{field}.name", inst.name))
    return out


def _bank_code_evidence(rules: RuleSet, field: str, bic: Bic) -> list[Evidence]:
    """A BIC whose bank code (letters 1-4) is a listed institution's, in another country: likely
    its branch there ("SEPBDEFF" beside Bank Sepah's SEPBIRTH), but a bank code is unique only
    within a country, so it is a possible match for review."""
    if bic.institution_key in rules.by_bic:
        return []
    out: list[Evidence] = []
    for ref in rules.by_bank_code.get(bic.bank_code, ()):
        because = (
            f"BIC {bic.value} shares the bank code {bic.bank_code} of {ref.institution.name}'s BIC "
            f"({', '.join(b.bic for b in ref.institution.bics)}), in another country"
        )
        out.append(possible(ref.measure, "listed", field, bic.value, ref.institution.name, because, POSSIBLE_MATCH))
    return out


def _unless_bic_disagrees(rules: RuleSet, bic: Bic | None, ev: Evidence) -> Evidence:
    """BIC first: a strong name match to a listed institution whose known BICs all have another
    bank code than the institution's own BIC is a possible match (the identifiers disagree)."""
    if bic is None or not ev.strong:
        return ev
    listed = rules.listed.get((ev.measure.section, ev.matched))
    if listed is None or not listed.bics or any(parse_bic(b.bic).bank_code == bic.bank_code for b in listed.bics):
        return ev
    known = ", ".join(b.bic for b in listed.bics)
    because = f"{ev.because}, but its BIC {bic.value} is not {ev.matched}'s ({known}): the identifiers disagree"
    return possible(ev.measure, ev.basis, ev.field, ev.value, ev.matched, because, ev.score)


def _place_evidence(
    rules: RuleSet, path: str, value: str, how: str, places: list[PlaceMatch], kind: InstitutionKind | None
) -> list[Evidence]:
    """An address or branch qualifier inside a covered jurisdiction: a branch or office located there."""
    out: list[Evidence] = []
    for place in places:
        for m in jurisdiction_measures(rules, place.country, "located_in", kind):
            because = f"its {how} in {place.name} ({place.country})"
            if place.tier == "subdivision":
                out.append(possible(m, "located_in", path, value, place.country, because, POSSIBLE_MATCH))
            else:
                out.append(identified(m, "located_in", path, value, place.country, because))
    return out


def _jurisdiction_words(rules: RuleSet, field: str, name: str) -> list[Evidence]:
    """A name mentioning a jurisdiction under special measures: a possible match only."""
    words = text_tokens(name)
    tokens = " " + " ".join(words) + " "
    # In a script without spaces the word segmentation may keep a jurisdiction's name joined to
    # the next word ("မြန်မာနိုင်ငံ", "Myanmar country"): there a word that starts with it counts.
    spaceless = has_spaceless_script(name)
    out: list[Evidence] = []
    for m in rules.measures:
        for word in m.covered.jurisdiction_names:
            if f" {word} " in tokens or (spaceless and any(w.startswith(word) for w in words)):
                because = f"its name mentions {word!r}, a jurisdiction under {m.citation}"
                out.append(possible(m, "chartered", field, name, word, because, POSSIBLE_MATCH))
                break
    return out


@dataclass(frozen=True, slots=True)
class _Candidate:
    """A registry record a payment's institution may be, with what the measures make of it."""

    record: InstitutionRecord
    wide: list[tuple[SpecialMeasure, Basis, str, str]]
    local: list[tuple[SpecialMeasure, Basis, str, str]]


def _record_location(record: InstitutionRecord) -> str | None:
    bic = try_parse_bic(record.bic)
    return record.country or (bic.country if bic else None)


def _candidate(
    rules: RuleSet, registry: Registry, record: InstitutionRecord, kind: InstitutionKind | None
) -> _Candidate:
    """The record's coverage, split into what holds wherever it is named (its charter, its listing,
    a covered parent) and what holds only at its location (a branch or office inside a covered
    jurisdiction, covered because it is there)."""
    wide: list[tuple[SpecialMeasure, Basis, str, str]] = []
    local: list[tuple[SpecialMeasure, Basis, str, str]] = []
    own_bic = try_parse_bic(record.bic)
    record_kind: InstitutionKind | None = kind if kind is not None else ("non_bank" if record.kind == "other" else None)
    for m, basis, matched, because in _identity_evidence(rules, own_bic, record.country, record.names(), record_kind):
        entry = (m, basis, matched, f"the registry's record {record.bic}: {because}")
        is_local = basis == "chartered" and record.kind in ("branch", "office")
        (local if is_local else wide).append(entry)
    for anc in registry.ancestors(record):
        anc_bic = try_parse_bic(anc.record.bic)
        for m, _basis, matched, because in _identity_evidence(
            rules, anc_bic, anc.record.country, anc.record.names(), record_kind
        ):
            if anc.relation not in m.covered.includes:
                continue
            chain = " -> ".join(anc.path)
            wide.append(
                (
                    m,
                    anc.relation,
                    matched,
                    (
                        f"the registry makes {record.bic} a {anc.relation} of {anc.record.name or anc.record.bic} "
                        f"({chain}), and {because}"
                    ),
                )
            )
    return _Candidate(record, wide, local)


def _registry_evidence(
    rules: RuleSet,
    registry: Registry,
    field: str,
    inst: Institution,
    bic: Bic | None,
    places: list[PlaceMatch],
    kind: InstitutionKind | None,
) -> list[Evidence]:
    """Coverage found through the registry: by BIC, or by name with the location the payment gives."""
    value = inst.bic or inst.name or ""
    if bic is not None:
        record = registry.institution_by_bic(bic)
        found = [] if record is None else [_candidate(rules, registry, record, kind)]
        return [identified(m, b, f"{field}.bic", value, mt, bc) for c in found for m, b, mt, bc in c.wide + c.local]
    records = registry.institutions_by_name(inst.name)
    located = {p.country for p in places} | ({inst.country} if inst.country else set())
    if located:
        records = [r for r in records if _record_location(r) in located]
    if not records:
        return []
    candidates = [_candidate(rules, registry, r, kind) for r in records]
    # Named with its location, a record's local coverage applies (the location's own evidence
    # already stands); named by name alone, only what holds wherever it is named, and only if
    # no candidate is covered at its location alone.
    evidence = [c.wide + c.local if located else c.wide for c in candidates]
    outcomes = {frozenset(m.section for m, *_ in found) for found in evidence}
    if len(outcomes) == 1 and (located or not any(c.local for c in candidates)):
        return [identified(m, b, f"{field}.name", value, mt, bc) for m, b, mt, bc in evidence[0]]
    return _ambiguous(field, inst, candidates)


def registry_name_evidence(
    rules: RuleSet, registry: Registry, field: str, name: str, places: list[PlaceMatch]
) -> list[Evidence]:
    """Coverage of the registry institutions a name found in free text refers to, located by the
    places the text names (the same rule as for a name in an institution field)."""
    inst = Institution.model_construct(bic=None, name=name, country=None, address=[])
    return _registry_evidence(rules, registry, field, inst, None, places, None)


def _ambiguous(field: str, inst: Institution, candidates: list[_Candidate]) -> list[Evidence]:
    """A name several registry records answer to, differently: review, listing the candidates."""
    listing = "; ".join(
        f"{c.record.bic} {c.record.name or ''} ({_record_location(c.record) or 'no country'}, {c.record.kind}"
        + (
            f", covered under {', '.join(sorted({m.section for m, *_ in c.wide + c.local}))}"
            if c.wide or c.local
            else ""
        )
        + ")"
        for c in candidates
    )
    out: list[Evidence] = []
    seen: set[str] = set()
    for c in candidates:
        for m, basis, matched, _ in c.wide + c.local:
            if m.section in seen:
                continue
            seen.add(m.section)
            because = (
                f"the name {inst.name!r}, without a BIC, fits {len(candidates)} registry records the "
                f"measures treat differently: {listing}"
            )
            out.append(possible(m, basis, f"{field}.name", inst.name or "", matched, because, POSSIBLE_MATCH))
    return out
