"""Blocked persons: the configured sanctions list and OFAC's 50 percent rule.

Seed 002 (OFAC, 15 June 2023): property of designated persons is blocked, and "any entities
that are owned, directly or indirectly, 50 percent or more by one or more blocked persons are
also blocked". Ownership is aggregated across blocked owners and followed through entities that
are themselves blocked by the rule.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pycountry
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rules.name_index import NameIndex
from rules.names import normalize_name

# OFAC program tags and the authority each rests on, for the citation of a blocked-person hit.
PROGRAM_AUTHORITY = {
    "NPWMD": "E.O. 13382",
    "DPRK": "E.O. 13466 (31 CFR part 510)",
    "DPRK2": "E.O. 13687 (31 CFR part 510)",
    "DPRK3": "E.O. 13722 / E.O. 13810 (31 CFR part 510)",
    "DPRK4": "E.O. 13810 (31 CFR part 510)",
    "IRAN": "31 CFR part 560",
    "IFSR": "31 CFR part 561",
    "IRGC": "E.O. 13224 / 31 CFR part 561",
    "SDGT": "E.O. 13224 (31 CFR part 594)",
    "SYRIA": "E.O. 13894",
    "BURMA-EO14014": "E.O. 14014 (31 CFR part 525)",
    "CUBA": "31 CFR part 515",
    "RUSSIA-EO14024": "E.O. 14024 (31 CFR part 587)",
}


# OFAC writes some countries its own way; everything else pycountry resolves.
OFAC_COUNTRY_NAMES = {
    "korea, north": "KP",
    "korea, south": "KR",
    "burma": "MM",
    "russia": "RU",
    "turkey": "TR",
    "congo, democratic republic of the": "CD",
    "congo, republic of the": "CG",
    "macau": "MO",
    "region: crimea": "UA",
    "region: gaza": "PS",
    "region: west bank": "PS",
    "laos": "LA",
    "moldova": "MD",
    "czech republic": "CZ",
    "cote d ivoire": "CI",
    "micronesia, federated states of": "FM",
    "palestinian": "PS",
    "bosnia and herzegovina": "BA",
    "kosovo": "XK",
    "curacao": "CW",
}


def country_code(name: str) -> str | None:
    """ISO 3166 alpha-2 code for a country as OFAC names it, or None when it names none."""
    key = name.strip().lower()
    if not key:
        return None
    if key in OFAC_COUNTRY_NAMES:
        return OFAC_COUNTRY_NAMES[key]
    if len(key) == 2 and key.isalpha():
        return key.upper()
    try:
        return str(pycountry.countries.lookup(name.strip()).alpha_2)
    except LookupError:
        return None


class SanctionsError(ValueError):
    """A sanctions or ownership file that cannot be used."""


class _Entry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    type: Literal["individual", "entity", "vessel", "aircraft"] = "entity"
    aliases: list[str] = []
    weak_aliases: list[str] = []
    countries: list[str] = []
    programs: list[str] = []
    authority: str | None = None
    remarks: str | None = None


class _Ownership(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    owner: str = Field(min_length=1)
    owned: str = Field(min_length=1)
    percent: float = Field(gt=0, le=100)
    owned_country: str | None = None


class _ListFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["blocked_persons"]
    source: str
    entries: list[_Entry]
    ownership: list[_Ownership] = []


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

    @property
    def citation(self) -> str:
        if self.owned_by:
            return f"OFAC 50 Percent Rule; {self.authority}"
        return f"OFAC SDN List; {self.authority}"


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

    def __post_init__(self) -> None:
        self.persons = self.persons + derive_owned_entities(self.persons, self.ownership)
        entries: list[tuple[str, BlockedPerson, bool]] = []
        for person in self.persons:
            entries.extend((n, person, False) for n in (person.name, *person.aliases))
            entries.extend((n, person, True) for n in person.weak_aliases)
        self.index = NameIndex(entries)


def derive_owned_entities(persons: list[BlockedPerson], ownership: list[Ownership]) -> list[BlockedPerson]:
    """Entities owned 50 percent or more, in aggregate, by blocked persons (seed 002).

    Repeats until nothing changes, so an entity owned by an entity blocked under the rule is
    blocked too; ownership by persons that are not blocked never counts.
    """
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


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()[:16]


def _person(entry: _Entry) -> BlockedPerson:
    authority = (
        entry.authority
        or "; ".join(PROGRAM_AUTHORITY.get(p, f"OFAC program {p}") for p in entry.programs)
        or "OFAC SDN List"
    )
    return BlockedPerson(
        id=entry.id,
        name=entry.name,
        type=entry.type,
        aliases=tuple(entry.aliases),
        weak_aliases=tuple(entry.weak_aliases),
        countries=tuple(entry.countries),
        programs=tuple(entry.programs),
        authority=authority,
        remarks=entry.remarks or "",
    )


def persons_from_entries(entries: Iterable[Mapping[str, Any]]) -> list[BlockedPerson]:
    """Blocked persons from entries in the list file's form (id, name, type, aliases, ...).

    Raises SanctionsError naming the first entry that does not validate.
    """
    out: list[BlockedPerson] = []
    for i, entry in enumerate(entries):
        try:
            out.append(_person(_Entry.model_validate(entry)))
        except ValidationError as exc:
            err = exc.errors()[0]
            raise SanctionsError(f"entry {i}: {'.'.join(str(p) for p in err['loc'])}: {err['msg']}") from None
    return out


def load_ownership_csv(path: Path) -> tuple[list[Ownership], bytes]:
    """Read an ownership file: CSV with header `owner,owned,percent[,owned_country]`.

    `owner` is a list id (an SDN ent_num) or a listed name; `owned` is the entity's name;
    `percent` is the share held, 0-100.
    """
    raw = _read(path)
    reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig")))
    required = {"owner", "owned", "percent"}
    if not reader.fieldnames or not required <= set(reader.fieldnames):
        raise SanctionsError(f"{path}: ownership CSV needs the header owner,owned,percent[,owned_country]")
    out: list[Ownership] = []
    for line, row in enumerate(reader, start=2):
        try:
            item = _Ownership.model_validate(
                {
                    "owner": (row.get("owner") or "").strip(),
                    "owned": (row.get("owned") or "").strip(),
                    "percent": (row.get("percent") or "").strip(),
                    "owned_country": (row.get("owned_country") or "").strip() or None,
                }
            )
        except ValidationError as exc:
            raise SanctionsError(f"{path}:{line}: {exc.errors()[0]['loc'][0]}: {exc.errors()[0]['msg']}") from None
        out.append(Ownership(item.owner, item.owned, item.percent, item.owned_country))
    return out, raw


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SanctionsError(f"cannot read {path}: {exc.strerror}") from None


def load_blocked_persons_yaml(path: Path, extra_ownership: Iterable[Ownership] = ()) -> SanctionsList:
    """Load a list in this project's YAML form (see rules/lists/blocked_persons.yaml)."""
    raw = _read(path)
    try:
        # libyaml's parser when PyYAML was built with it: a 100,000-entry list loads in seconds.
        data: Any = yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - a safe loader
        parsed = _ListFile.model_validate(data)
    except yaml.YAMLError as exc:
        raise SanctionsError(f"{path}: not valid YAML: {exc}") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        raise SanctionsError(f"{path}: {'.'.join(str(p) for p in err['loc'])}: {err['msg']}") from None
    ownership = [Ownership(o.owner, o.owned, o.percent, o.owned_country) for o in parsed.ownership]
    ownership.extend(extra_ownership)
    return SanctionsList(
        source=parsed.source,
        persons=[_person(e) for e in parsed.entries],
        ownership=ownership,
        version=_digest(raw, repr(ownership).encode()),
    )


_NULL = "-0-"


def _field(value: str) -> str:
    value = value.strip()
    return "" if value == _NULL else value


def _ofac_rows(path: Path) -> list[list[str]]:
    raw = _read(path)
    # OFAC's legacy files are Latin-1 and may end with a DOS end-of-file byte.
    text = raw.decode("latin-1").replace("\x1a", "")
    return [row for row in csv.reader(io.StringIO(text)) if row and any(c.strip() for c in row)]


def _display_name(name: str, sdn_type: str) -> str:
    """OFAC writes individuals as "SURNAME, Given Names"; screening compares either order."""
    if sdn_type == "individual" and "," in name:
        surname, _, given = name.partition(",")
        return f"{given.strip()} {surname.strip()}".strip()
    return name


def _read_aliases(path: Path, persons: dict[str, dict[str, Any]]) -> None:
    """alt.csv: ent_num, alt_num, alt_type, alt_name, alt_remarks."""
    for row in _ofac_rows(path):
        if len(row) < 4 or _field(row[0]) not in persons:
            continue
        person = persons[_field(row[0])]
        alt = _display_name(_field(row[3]), person["type"])
        if not alt:
            continue
        # OFAC marks low-quality a.k.a.s "weak"; a single word is as ambiguous.
        remarks = _field(row[4]).lower() if len(row) > 4 else ""
        weak = "weak" in remarks or len(normalize_name(alt).split()) < 2
        person["weak_aliases" if weak else "aliases"].append(alt)


def _read_addresses(path: Path, persons: dict[str, dict[str, Any]]) -> None:
    """add.csv: ent_num, add_num, address, city/state/postal, country, add_remarks."""
    for row in _ofac_rows(path):
        if len(row) < 5 or _field(row[0]) not in persons:
            continue
        country = country_code(_field(row[4]))
        if country:
            persons[_field(row[0])]["countries"].append(country)


def load_ofac_csv(location: Path, extra_ownership: Iterable[Ownership] = ()) -> SanctionsList:
    """Load OFAC's SDN list as published: sdn.csv with alt.csv and add.csv beside it.

    sdn.csv: ent_num, SDN_Name, SDN_Type, Program, Title, Call_Sign, Vess_type, Tonnage, GRT,
    Vess_flag, Vess_owner, Remarks. alt.csv: ent_num, alt_num, alt_type, alt_name, alt_remarks.
    add.csv: ent_num, add_num, address, city/state/postal, country, add_remarks. "-0-" is null.
    `location` is the folder holding them or the sdn.csv file itself.
    """
    folder = location if location.is_dir() else location.parent
    sdn_path = location if location.is_file() else folder / "sdn.csv"
    if not sdn_path.exists():
        raise SanctionsError(f"{location}: no sdn.csv found")
    persons: dict[str, dict[str, Any]] = {}
    digests = [sdn_path.read_bytes()]
    for line, row in enumerate(_ofac_rows(sdn_path), start=1):
        if len(row) < 4:
            raise SanctionsError(f"{sdn_path}:{line}: expected at least 4 columns, found {len(row)}")
        ent, name, sdn_type, program = (_field(c) for c in row[:4])
        if not ent or not name:
            raise SanctionsError(f"{sdn_path}:{line}: ent_num and SDN_Name are required")
        kind = sdn_type.lower() if sdn_type.lower() in ("individual", "vessel", "aircraft") else "entity"
        programs = [p.strip("[] ") for p in program.replace("]", "] ").split() if p.strip("[] ")]
        persons[ent] = {
            "id": f"SDN-{ent}",
            "name": _display_name(name, kind),
            "type": kind,
            "aliases": [],
            "weak_aliases": [],
            "countries": [],
            "programs": programs,
            "remarks": _field(row[11]) if len(row) > 11 else "",
        }
    for name, reader in (("alt.csv", _read_aliases), ("add.csv", _read_addresses)):
        path = folder / name
        if path.exists():
            digests.append(path.read_bytes())
            reader(path, persons)
    ownership = list(extra_ownership)
    digests.append(repr(ownership).encode())
    built = []
    for data in persons.values():
        entry = _Entry.model_validate({**data, "countries": sorted(set(data["countries"]))})
        built.append(_person(entry))
    return SanctionsList(
        source=f"OFAC SDN list ({sdn_path.name})",
        persons=built,
        ownership=ownership,
        version=_digest(*digests),
    )


def load_sanctions(location: Path | None, ownership: Path | None = None) -> SanctionsList:
    """The packaged default list, or the one at `location` (OFAC CSV folder/file or YAML)."""
    extra: list[Ownership] = []
    extra_raw = b""
    if ownership is not None:
        extra, extra_raw = load_ownership_csv(ownership)
    if location is None:
        location = Path(__file__).parent / "lists" / "blocked_persons.yaml"
    if not location.exists():
        raise SanctionsError(f"{location}: no such file or folder")
    if location.suffix in (".yaml", ".yml"):
        result = load_blocked_persons_yaml(location, extra)
    else:
        result = load_ofac_csv(location, extra)
    if extra_raw:
        result.version = _digest(result.version.encode(), extra_raw)
    return result
