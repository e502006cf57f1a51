"""OFAC's list files as published: the SDN list and the Consolidated (non-SDN) list, read together.

Layout (both lists, https://ofac.treasury.gov/sanctions-list-service, legacy CSV): primary records
(sdn.csv / cons_prim.csv: ent_num, name, type, program, title, call sign, vessel type, tonnage,
GRT, vessel flag, vessel owner, remarks), aliases (alt.csv / cons_alt.csv: ent_num, alt_num,
alt_type, alt_name, alt_remarks), addresses (add.csv / cons_add.csv: ent_num, add_num, address,
city/state/postal, country, add_remarks) and remarks continued past the primary file's field limit
(sdn_comments.csv / cons_comments.csv: ent_num, remarks). "-0-" is null.

Every entry cites its own list and program. Identifiers in the remarks are read ("SWIFT/BIC
BMJIIRTH": a payment naming only the bank's BIC finds the listing), every country is mapped
(pycountry, and rules/lists/ofac_countries.yaml for OFAC's own spellings), and whatever is not
used is counted in the load report rather than dropped silently.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pycountry
import yaml

from rules.data_files import LISTS_DIR
from rules.names import name_tokens

NULL = "-0-"
SDN = "SDN List"
CONSOLIDATED = "Consolidated (non-SDN) List"
# file prefix, list name, entry id prefix
LAYOUTS = (("", SDN, "SDN"), ("cons_", CONSOLIDATED, "CONS"))
_BIC = re.compile(r"SWIFT/BIC\s+([A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?)\b")
# A former or other name written into the listed name: "NEW NAME (ex-OLD NAME)", "(f.k.a. X)".
_NAME_IN_NAME = re.compile(r"\((?:ex-|ex |f\.?k\.?a\.?\s+|formerly\s+|a\.?k\.?a\.?\s+)([^)]+)\)", re.IGNORECASE)


@cache
def _country_table() -> dict[str, tuple[str, ...]]:
    data = yaml.safe_load((LISTS_DIR / "ofac_countries.yaml").read_text(encoding="utf-8"))
    return {str(k).lower(): tuple(v or ()) for k, v in data["names"].items()}


def country_codes(name: str) -> tuple[str, ...] | None:
    """ISO 3166-1 alpha-2 codes for a country as OFAC names it: () when OFAC records none
    ("undetermined"), None when the name is not known."""
    key = " ".join(name.strip().lower().split())
    if not key:
        return ()
    table = _country_table()
    if key in table:
        return table[key]
    if len(key) == 2 and key.isalpha():
        return (key.upper(),)
    try:
        return (str(pycountry.countries.lookup(name.strip()).alpha_2),)
    except LookupError:
        pass
    try:
        # Names pycountry knows only loosely ("Iran" for "Iran, Islamic Republic of").
        return (str(pycountry.countries.search_fuzzy(name.strip())[0].alpha_2),)
    except LookupError:
        return None


def _field(value: str) -> str:
    value = value.strip()
    return "" if value == NULL else value


def _rows(path: Path) -> list[list[str]]:
    # OFAC's legacy files are Latin-1 and may end with a DOS end-of-file byte.
    text = path.read_bytes().decode("latin-1").replace("\x1a", "")
    return [row for row in csv.reader(io.StringIO(text)) if row and any(c.strip() for c in row)]


def display_name(name: str, sdn_type: str) -> str:
    """OFAC writes individuals as "SURNAME, Given Names"; screening compares either order."""
    if sdn_type == "individual" and "," in name:
        surname, _, given = name.partition(",")
        return f"{given.strip()} {surname.strip()}".strip()
    return name


def names_within(name: str) -> list[str]:
    """Other names written inside a listed name ("X (ex-Y)": Y), which identify it as well."""
    return [m.strip(" '\"") for m in _NAME_IN_NAME.findall(name) if m.strip(" '\"")]


@dataclass
class LoadReport:
    """What was read from the files and what was not used, by reason."""

    entries: Counter[str] = field(default_factory=Counter)
    aliases: int = 0
    weak_aliases: int = 0
    names_within_names: int = 0
    addresses: int = 0
    bics: int = 0
    unused: Counter[str] = field(default_factory=Counter)
    unmapped_countries: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "entries": dict(self.entries),
            "aliases": self.aliases,
            "weak_aliases": self.weak_aliases,
            "names_within_names": self.names_within_names,
            "addresses": self.addresses,
            "bics": self.bics,
            "unused": dict(self.unused),
            "unmapped_countries": dict(self.unmapped_countries),
        }


def _primary(
    path: Path, list_name: str, prefix: str, report: LoadReport, errors: list[str]
) -> dict[str, dict[str, Any]]:
    entries: dict[str, dict[str, Any]] = {}
    for line, row in enumerate(_rows(path), start=1):
        if len(row) < 4:
            errors.append(f"{path.name}:{line}: expected at least 4 columns, found {len(row)}")
            continue
        ent, name, sdn_type, program = (_field(c) for c in row[:4])
        if not ent or not name:
            errors.append(f"{path.name}:{line}: ent_num and name are required")
            continue
        kind = sdn_type.lower() if sdn_type.lower() in ("individual", "vessel", "aircraft") else "entity"
        programs = [p.strip("[] ") for p in program.replace("]", "] ").split("] ") if p.strip("[] ")]
        within = names_within(name)
        primary = _NAME_IN_NAME.sub(" ", name).strip() if within else name
        report.names_within_names += len(within)
        entries[ent] = {
            "id": f"{prefix}-{ent}",
            "name": display_name(primary, kind),
            "type": kind,
            "aliases": [display_name(n, kind) for n in within],
            "weak_aliases": [],
            "countries": [],
            "programs": programs,
            "remarks": _field(row[11]) if len(row) > 11 else "",
            "list_name": list_name,
        }
        report.entries[list_name] += 1
    return entries


def _comments(path: Path, entries: dict[str, dict[str, Any]], report: LoadReport) -> None:
    for row in _rows(path):
        ent = _field(row[0]) if row else ""
        if ent not in entries or len(row) < 2:
            report.unused[f"{path.name}: remarks of an unknown entry"] += 1
            continue
        entries[ent]["remarks"] = (entries[ent]["remarks"] + _field(row[1])).strip()


def _aliases(path: Path, entries: dict[str, dict[str, Any]], report: LoadReport) -> None:
    for row in _rows(path):
        if len(row) < 4 or _field(row[0]) not in entries:
            report.unused[f"{path.name}: alias of an unknown entry"] += 1
            continue
        entry = entries[_field(row[0])]
        alt = display_name(_field(row[3]), entry["type"])
        if not alt:
            report.unused[f"{path.name}: empty alias"] += 1
            continue
        # OFAC marks low-quality a.k.a.s "weak"; a single word is as ambiguous.
        remarks = _field(row[4]).lower() if len(row) > 4 else ""
        weak = "weak" in remarks or len(name_tokens(alt)) < 2
        entry["weak_aliases" if weak else "aliases"].append(alt)
        if weak:
            report.weak_aliases += 1
        else:
            report.aliases += 1


def _addresses(path: Path, entries: dict[str, dict[str, Any]], report: LoadReport) -> None:
    for row in _rows(path):
        if len(row) < 5 or _field(row[0]) not in entries:
            report.unused[f"{path.name}: address of an unknown entry"] += 1
            continue
        report.addresses += 1
        country = _field(row[4])
        if not country:
            continue
        codes = country_codes(country)
        if codes is None:
            report.unmapped_countries[country] += 1
            continue
        entries[_field(row[0])]["countries"].extend(codes)


def read_ofac_folder(folder: Path, report: LoadReport) -> tuple[list[dict[str, Any]], list[Path], list[str]]:
    """Entries (in the list file's form) of every list found in folder, the files read, and
    errors for rows that could not be read at all."""
    entries: list[dict[str, Any]] = []
    read: list[Path] = []
    errors: list[str] = []
    for file_prefix, list_name, id_prefix in LAYOUTS:
        primary = folder / ("sdn.csv" if not file_prefix else f"{file_prefix}prim.csv")
        if not primary.exists():
            continue
        found = _primary(primary, list_name, id_prefix, report, errors)
        read.append(primary)
        for suffix, reader in (("comments", _comments), ("alt", _aliases), ("add", _addresses)):
            path = folder / (
                f"sdn_{suffix}.csv" if suffix == "comments" and not file_prefix else f"{file_prefix}{suffix}.csv"
            )
            if path.exists():
                reader(path, found, report)
                read.append(path)
        for entry in found.values():
            entry["bics"] = sorted(set(_BIC.findall(entry["remarks"])))
            report.bics += len(entry["bics"])
            entry["countries"] = sorted(set(entry["countries"]))
        entries.extend(found.values())
    return entries, read, errors
