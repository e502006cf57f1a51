"""Reading the blocked-persons list and ownership files into a SanctionsList (rules/sanctions.py):
the project's YAML list, OFAC's CSV files as published (rules/ofac.py) and an ownership CSV for
OFAC's 50 percent rule.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rules.data_files import LISTS_DIR
from rules.sanctions import BlockedPerson, Ownership, SanctionsList


@cache
def program_authority() -> dict[str, str]:
    """Program tag -> authority (rules/lists/ofac_programs.yaml)."""
    data = yaml.safe_load((LISTS_DIR / "ofac_programs.yaml").read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in data["programs"].items()}


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
    list_name: str = "SDN List"
    bics: list[str] = []


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


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()[:16]


def _person(entry: _Entry) -> BlockedPerson:
    authority = (
        entry.authority
        or "; ".join(program_authority().get(p, f"OFAC program {p}") for p in entry.programs)
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
        list_name=entry.list_name,
        bics=tuple(entry.bics),
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


def load_ofac_csv(location: Path, extra_ownership: Iterable[Ownership] = ()) -> SanctionsList:
    """Load OFAC's lists as published (rules/ofac.py): the SDN list (sdn.csv, alt.csv, add.csv,
    sdn_comments.csv) and, when beside it, the Consolidated list (cons_prim.csv, ...).

    `location` is the folder holding them or the sdn.csv file itself. A row that cannot be read
    at all is an error naming it; anything read but not used is counted in `load_report`.
    """
    from rules.ofac import LoadReport, read_ofac_folder

    folder = location if location.is_dir() else location.parent
    if not (folder / "sdn.csv").exists() and not (folder / "cons_prim.csv").exists():
        raise SanctionsError(f"{location}: no sdn.csv or cons_prim.csv found")
    report = LoadReport()
    try:
        entries, read, errors = read_ofac_folder(folder, report)
    except OSError as exc:
        raise SanctionsError(f"cannot read {location}: {exc.strerror}") from None
    if errors:
        raise SanctionsError(f"{folder}: {errors[0]}" + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""))
    ownership = list(extra_ownership)
    built = persons_from_entries(entries)
    lists = " and ".join(sorted({p.list_name for p in built})) or "no entries"
    result = SanctionsList(
        source=f"OFAC {lists} ({', '.join(p.name for p in read)})",
        persons=built,
        ownership=ownership,
        version=_digest(*(p.read_bytes() for p in read), repr(ownership).encode()),
    )
    result.load_report = report.as_dict()
    return result


def load_sanctions(location: Path | None, ownership: Path | None = None) -> SanctionsList:
    """The packaged default list, or the one at `location` (OFAC CSV folder/file or YAML)."""
    extra: list[Ownership] = []
    extra_raw = b""
    if ownership is not None:
        extra, extra_raw = load_ownership_csv(ownership)
    if location is None:
        location = LISTS_DIR / "blocked_persons.yaml"
    if not location.exists():
        raise SanctionsError(f"{location}: no such file or folder")
    if location.suffix in (".yaml", ".yml"):
        result = load_blocked_persons_yaml(location, extra)
    else:
        result = load_ofac_csv(location, extra)
    if extra_raw:
        result.version = _digest(result.version.encode(), extra_raw)
    return result
