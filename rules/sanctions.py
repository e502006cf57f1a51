"""Blocked persons: the configured sanctions list and OFAC's 50 percent rule.

Seed 002 (OFAC, 15 June 2023): property of designated persons is blocked, and "any entities
that are owned, directly or indirectly, 50 percent or more by one or more blocked persons are
also blocked". Ownership is aggregated across blocked owners and followed through entities that
are themselves blocked by the rule.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from rules.name_index import NameIndex
from rules.names import normalize_name


@dataclass(frozen=True, slots=True)
class BlockedPerson:
    """A person whose property is blocked, by designation or by ownership."""

    id: str
    name: str
    type: str
    aliases: tuple[str, ...] = ()
    weak_aliases: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    programs: tuple[str, ...] = ()
    authority: str = "OFAC SDN List"
    remarks: str = ""
    owned_by: tuple[str, ...] = ()
    list_name: str = "SDN List"
    bics: tuple[str, ...] = ()

    @property
    def blocks(self) -> bool:
        """Whether dealings are blocked: SDN entries and entities they own (OFAC 50 percent rule).
        The Consolidated (non-SDN) lists restrict specific dealings (sectoral directives, securities,
        correspondent accounts, the Palestinian Legislative Council list), which an analyst judges."""
        return self.list_name == "SDN List" or bool(self.owned_by)

    @property
    def citation(self) -> str:
        if self.owned_by:
            return f"OFAC 50 Percent Rule; {self.authority}"
        return f"OFAC {self.list_name}, entry {self.id}; {self.authority}"


@dataclass(frozen=True, slots=True)
class Ownership:
    """owner (a list id or a listed name) holds percent of owned (an entity name)."""

    owner: str
    owned: str
    percent: float
    owned_country: str | None = None


@dataclass
class SanctionsList:
    """The blocked persons in force, searchable by name."""

    source: str
    persons: list[BlockedPerson]
    ownership: list[Ownership] = field(default_factory=list)
    version: str = ""
    index: NameIndex[BlockedPerson] = field(init=False)
    # BIC8 -> listed persons whose remarks give that BIC (or a branch BIC of it).
    by_bic8: dict[str, tuple[BlockedPerson, ...]] = field(init=False)
    load_report: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.persons = self.persons + derive_owned_entities(self.persons, self.ownership)
        entries: list[tuple[str, BlockedPerson, bool]] = []
        bics: dict[str, list[BlockedPerson]] = defaultdict(list)
        for person in self.persons:
            entries.extend((n, person, False) for n in (person.name, *person.aliases))
            entries.extend((n, person, True) for n in person.weak_aliases)
            for bic in person.bics:
                bics[bic[:8]].append(person)
        self.index = NameIndex(entries, personal=lambda person: person.type == "individual")
        self.by_bic8 = {k: tuple(v) for k, v in bics.items()}

    def with_bic(self, bic: str) -> tuple[BlockedPerson, ...]:
        """Listed persons identified by a BIC: the same institution (first 8 characters), any branch."""
        return self.by_bic8.get(bic.strip().upper()[:8], ())


def derive_owned_entities(persons: list[BlockedPerson], ownership: list[Ownership]) -> list[BlockedPerson]:
    """Entities owned 50 percent or more, in aggregate, by blocked persons (seed 002).

    Repeats until nothing changes, so an entity owned by an entity blocked under the rule is
    blocked too; ownership by persons that are not blocked never counts.
    """
    if not ownership:
        return []
    blocked: dict[str, BlockedPerson] = {}
    for person in persons:
        blocked[person.id] = person
        for name in (person.name, *person.aliases):
            blocked.setdefault(f"name:{normalize_name(name)}", person)
    derived: dict[str, BlockedPerson] = {}
    changed = True
    while changed:
        changed = False
        shares: dict[str, float] = defaultdict(float)
        owners: dict[str, list[BlockedPerson]] = defaultdict(list)
        names: dict[str, Ownership] = {}
        for link in ownership:
            owner = blocked.get(link.owner) or blocked.get(f"name:{normalize_name(link.owner)}")
            if owner is None:
                continue
            key = normalize_name(link.owned)
            shares[key] += link.percent
            owners[key].append(owner)
            names[key] = link
        for key, share in shares.items():
            if share < 50 or key in derived or f"name:{key}" in blocked:
                continue
            link = names[key]
            by = owners[key]
            person = BlockedPerson(
                id=f"owned:{key}",
                name=link.owned,
                type="entity",
                countries=(link.owned_country,) if link.owned_country else (),
                programs=tuple(sorted({p for o in by for p in o.programs})),
                authority="; ".join(sorted({o.authority for o in by})),
                remarks=f"owned {share:g} percent in aggregate by blocked persons "
                + ", ".join(sorted({o.name for o in by})),
                owned_by=tuple(sorted({o.id for o in by})),
            )
            derived[key] = person
            blocked[person.id] = person
            blocked[f"name:{key}"] = person
            changed = True
    return list(derived.values())
