"""The rules as data: the measure files in rules/measures/, validated when loaded.

Each special-measure file holds one section of 31 CFR 1010.651-661 (who is covered and what
each paragraph requires); the account-rule files hold 1010.610, 1010.630 and 1010.670. The
`rules_version` is a digest of every file's content and of the blocked-persons list, so two
screeners with the same version enforce exactly the same rules.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import ValidationError

from rules.bic import parse_bic
from rules.business_days import us_federal_holidays
from rules.data_files import LISTS_DIR, MEASURES_DIR
from rules.measure_files import (
    AccountRules,
    CalendarRules,
    ListedInstitution,
    LookAlike,
    LookAlikes,
    RulesError,
    SpecialMeasure,
    _Model,
)
from rules.name_index import NameIndex
from rules.places import PlaceIndex, build_place_index
from rules.recent_memo import RecentMemo
from rules.sanctions import SanctionsList
from rules.sanctions_files import load_sanctions


@dataclass(frozen=True, slots=True)
class ListedRef:
    """A listed institution and the section that lists it."""

    measure: SpecialMeasure
    institution: ListedInstitution


@dataclass
class RuleSet:
    """Everything the engine needs besides the payment and the registry, with its indexes."""

    measures: list[SpecialMeasure]
    account_rules: dict[str, AccountRules]
    calendar: CalendarRules
    look_alikes: list[LookAlike]
    sanctions: SanctionsList
    measures_version: str
    version: str = field(init=False)
    covered_names: NameIndex[ListedRef] = field(init=False)
    look_alike_names: NameIndex[LookAlike] = field(init=False)
    # Country and place names, for addresses and branch qualifiers (rules/places.py).
    places: PlaceIndex = field(init=False)
    by_bic: dict[str, list[ListedRef]] = field(init=False)
    # Listed institutions by the bank code (letters 1-4) of their BICs.
    by_bank_code: dict[str, list[ListedRef]] = field(init=False)
    # Listed institutions by (section, name), to check a name match against their known BICs.
    listed: dict[tuple[str, str], ListedInstitution] = field(init=False)
    tz: ZoneInfo = field(init=False)
    closed_days: frozenset[date] = field(init=False)
    _special_measure_jurisdictions: frozenset[str] = field(init=False)
    # Name-match results by name: a pure function of the name and this rule set, memoised because
    # the same bank names recur in payment after payment. Bounded, recently used kept
    # (rules/recent_memo.py): at most twice MATCH_CACHE_GENERATION entries.
    match_cache: RecentMemo = field(init=False)
    MATCH_CACHE_GENERATION = 150_000

    def with_sanctions(self, sanctions: SanctionsList) -> RuleSet:
        """These rules with another blocked-persons list (indexes and caches built afresh)."""
        return RuleSet(
            measures=self.measures,
            account_rules=self.account_rules,
            calendar=self.calendar,
            look_alikes=self.look_alikes,
            sanctions=sanctions,
            measures_version=self.measures_version,
        )

    def memo(self, key: Any, compute: Any) -> Any:
        """The cached value for key, computing it on a miss."""
        return self.match_cache.get_or_compute(key, compute)

    def __post_init__(self) -> None:
        self.match_cache = RecentMemo(self.MATCH_CACHE_GENERATION)
        try:
            self.tz = ZoneInfo(self.calendar.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise RulesError(f"calendar.yaml: unknown time zone {self.calendar.timezone!r}") from None
        self.closed_days = us_federal_holidays()
        self.version = (
            "rules-" + hashlib.sha256(f"{self.measures_version}:{self.sanctions.version}".encode()).hexdigest()[:14]
        )
        entries: list[tuple[str, ListedRef, bool]] = []
        self.by_bic = {}
        self.by_bank_code = {}
        self.listed = {}
        for measure in self.measures:
            for inst in measure.covered.institutions:
                ref = ListedRef(measure, inst)
                self.listed[(measure.section, inst.name)] = inst
                entries.extend((n, ref, False) for n in inst.strong_names())
                entries.extend((n, ref, True) for n in inst.weak_aliases)
                for code in dict.fromkeys(parse_bic(b.bic).bank_code for b in inst.bics):
                    self.by_bank_code.setdefault(code, []).append(ref)
                for b in inst.bics:
                    self.by_bic.setdefault(parse_bic(b.bic).institution_key, []).append(ref)
        self.covered_names = NameIndex(entries)
        self.look_alike_names = NameIndex((n, la, False) for la in self.look_alikes for n in (la.name, *la.aliases))
        covered: dict[str, list[str]] = {}
        for measure in self.measures:
            for code in {*measure.covered.jurisdictions, *measure.covered.located_in}:
                covered.setdefault(code, []).extend(measure.covered.jurisdiction_names)
        self.places = build_place_index(covered)
        # Asked for each payment with an offshore or foreign licence: built once.
        self._special_measure_jurisdictions = frozenset(c for m in self.measures for c in m.covered.jurisdictions)

    def special_measure_jurisdictions(self) -> frozenset[str]:
        """Countries under jurisdiction-wide special measures (1010.610(c)(3))."""
        return self._special_measure_jurisdictions


def _load_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_bytes())
    except OSError as exc:
        raise RulesError(f"cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise RulesError(f"{path.name}: not valid YAML: {exc}") from None


def _validate(model: type[_Model], data: Any, name: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg']}" for e in exc.errors())
        raise RulesError(f"{name}: {problems}") from None


_REQUIRED_ACCOUNT_CHECKS = {
    "1010.610": {
        "offshore_license",
        "fatf_call_for_action",
        "special_measures_jurisdiction",
        "account_closed",
        "account_closing",
    },
    "1010.630": {"shell_bank", "nested_shell_bank", "certification", "legacy_certification", "verification"},
    "1010.670": {"termination_notice"},
}


def load_rules(
    directory: Path | None = None,
    sanctions: Path | None = None,
    ownership: Path | None = None,
) -> RuleSet:
    """Load and validate every measure file, the look-alikes and the blocked-persons list."""
    directory = directory or MEASURES_DIR
    if not directory.is_dir():
        raise RulesError(f"{directory}: not a directory of measure files")
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise RulesError(f"{directory}: holds no *.yaml measure files")
    digest = hashlib.sha256()
    measures: list[SpecialMeasure] = []
    account_rules: dict[str, AccountRules] = {}
    calendar: CalendarRules | None = None
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        data = _load_yaml(path)
        kind = data.get("kind") if isinstance(data, dict) else None
        if kind == "special_measure":
            measures.append(_validate(SpecialMeasure, data, path.name))
        elif kind == "account_rules":
            rules = _validate(AccountRules, data, path.name)
            account_rules[rules.section] = rules
        elif kind == "calendar":
            calendar = _validate(CalendarRules, data, path.name)
        else:
            raise RulesError(f"{path.name}: kind must be special_measure, account_rules or calendar, not {kind!r}")
    for section, required in _REQUIRED_ACCOUNT_CHECKS.items():
        if section not in account_rules:
            raise RulesError(f"{directory}: no account_rules file for {section}")
        missing = required - set(account_rules[section].checks)
        if missing:
            raise RulesError(f"{section}: missing checks {sorted(missing)}")
    if calendar is None:
        raise RulesError(f"{directory}: no calendar file (kind: calendar)")
    sections = [m.section for m in measures]
    if len(set(sections)) != len(sections):
        raise RulesError(f"{directory}: a section appears twice: {sorted(sections)}")
    look_path = LISTS_DIR / "look_alikes.yaml"
    digest.update(look_path.read_bytes())
    look_alikes = _validate(LookAlikes, _load_yaml(look_path), look_path.name)
    return RuleSet(
        measures=sorted(measures, key=lambda m: m.section),
        account_rules=account_rules,
        calendar=calendar,
        look_alikes=look_alikes.entries,
        sanctions=load_sanctions(sanctions, ownership),
        measures_version=digest.hexdigest()[:16],
    )
