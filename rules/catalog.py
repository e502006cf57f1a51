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
from typing import Annotated, Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator, model_validator

from rules.bic import BicError, parse_bic
from rules.business_days import us_federal_holidays
from rules.name_index import NameIndex
from rules.places import PlaceIndex, build_place_index
from rules.sanctions import SanctionsList, load_sanctions

MEASURES_DIR = Path(__file__).parent / "measures"
LISTS_DIR = Path(__file__).parent / "lists"

Basis = Literal["listed", "chartered", "located_in", "branch", "office", "subsidiary"]
ALL_BASES: tuple[Basis, ...] = ("listed", "chartered", "located_in", "branch", "office", "subsidiary")
Paragraph = str
# Where a date or an identifier comes from: a regulation paragraph, a Federal Register page, an OFAC
# list entry, or an honest "public reference data ... confirm before production". Never blank.
Source = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class RulesError(ValueError):
    """A rules directory or file that cannot be used; the message names the file and field."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SourcedBic(_Model):
    """A BIC of a listed institution and where it comes from (e.g. the OFAC SDN entry)."""

    bic: str
    source: Source

    @field_validator("bic")
    @classmethod
    def _valid_bic(cls, bic: str) -> str:
        try:
            parse_bic(bic)
        except BicError as exc:
            raise ValueError(str(exc)) from exc
        return bic


class ListedInstitution(_Model):
    """An institution the section names (or that is known to fall under it)."""

    name: str = Field(min_length=1)
    # Why it is listed and where its names come from (regulation paragraph, OFAC entries).
    source: Source
    former_names: list[str] = []
    aliases: list[str] = []
    weak_aliases: list[str] = []
    bics: list[SourcedBic] = []
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    countries: list[str] = []
    # Cities of its head office and branches: an abbreviation written with its seat
    # ("CBS Damascus") refers to it.
    seats: list[str] = []

    def strong_names(self) -> list[str]:
        return [self.name, *self.former_names, *self.aliases]

    def operating_countries(self) -> set[str]:
        return set(self.countries) | ({self.country} if self.country else set())


class Covered(_Model):
    """Who a section covers (its definitions paragraph)."""

    definition: str
    term: str
    text: str
    includes: list[Literal["branch", "office", "subsidiary"]]
    # "banks": only foreign banks (1010.651(a)(1)); "all": any foreign financial institution of
    # 1010.605(f), dealers in foreign exchange and money transmitters included.
    financial_institutions: Literal["banks", "all"]
    jurisdictions: list[str] = []
    located_in: list[str] = []
    jurisdiction_names: list[str] = []
    institutions: list[ListedInstitution] = []


class ParagraphRule(_Model):
    """What one paragraph requires and the action it drives."""

    paragraph: str
    action: Literal["block", "review", "info"]
    requirement: str
    bases: list[Basis] = list(ALL_BASES)
    # The defined term the paragraph uses, where it differs from the section's main one.
    term: str | None = None


class ExceptionRule(_Model):
    """An exception that turns a block into a review when the payment carries an authorization."""

    paragraph: str | None
    action: Literal["review"]
    applies_to: list[Literal["direct_use", "indirect_use"]]
    requirement: str


class NoticeRule(_Model):
    paragraph: str
    record_paragraph: str
    text: str = Field(min_length=1)


class Paragraphs(_Model):
    direct_use: ParagraphRule
    indirect_use: ParagraphRule
    investigate: ParagraphRule
    exception: ExceptionRule | None = None
    notice: NoticeRule | None = None


class Effective(_Model):
    """The date a final rule takes effect (its Federal Register DATES line) and that source."""

    date: date
    source: Source


class SpecialMeasure(_Model):
    """One section of 31 CFR 1010.651-661."""

    kind: Literal["special_measure"]
    section: str = Field(pattern=r"^1010\.6\d\d$")
    citation: str
    title: str
    effective: Effective
    covered: Covered
    paragraphs: Paragraphs

    @property
    def effective_date(self) -> date:
        """The rule's effective date (kept for callers written before `effective`)."""
        return self.effective.date

    def cite(self, paragraph: str | None) -> str:
        """'31 CFR 1010.660(b)(2)' from '(b)(2)'."""
        return f"{self.citation}{paragraph or ''}"

    def in_force(self, on: date) -> bool:
        """A payment dated before a measure took effect is not screened under it (SPEC 2.2)."""
        return on >= self.effective.date


class AccountCheck(_Model):
    model_config = ConfigDict(frozen=True, extra="allow")

    paragraph: str
    requirement: str
    action: Literal["block", "review", "info"] | None = None

    # Settings that must carry a `<name>_source` beside them, besides every date setting.
    SOURCED_SETTINGS: ClassVar[frozenset[str]] = frozenset({"jurisdictions"})

    @model_validator(mode="after")
    def _sourced_settings(self) -> AccountCheck:
        """Every date setting (and every jurisdiction list) states its source beside it."""
        extra = self.model_extra or {}
        for name, value in extra.items():
            if name.endswith("_source"):
                if name.removesuffix("_source") not in extra:
                    raise ValueError(f"{name!r} is the source of no setting {name.removesuffix('_source')!r}")
                if not isinstance(value, str) or not value.strip():
                    raise ValueError(f"{name!r} must be a non-empty string")
            elif (isinstance(value, date) or name in self.SOURCED_SETTINGS) and f"{name}_source" not in extra:
                raise ValueError(f"the setting {name!r} lacks its source {name + '_source'!r}")
        return self

    def setting(self, name: str) -> Any:
        extra = self.model_extra or {}
        if name not in extra:
            raise RulesError(f"check {self.paragraph} lacks the setting {name!r}")
        return extra[name]


class AccountRules(_Model):
    """One of 1010.610, 1010.630, 1010.670: rules about the account the payment uses."""

    kind: Literal["account_rules"]
    section: str
    citation: str
    title: str
    checks: dict[str, AccountCheck]

    def cite(self, check: str) -> str:
        return f"{self.citation}{self.checks[check].paragraph}"


class CalendarRules(_Model):
    kind: Literal["calendar"]
    timezone: str
    holidays: Literal["US"]


class LookAlike(_Model):
    name: str
    aliases: list[str] = []
    country: str | None = None
    resembles: str


class LookAlikes(_Model):
    kind: Literal["look_alikes"]
    entries: list[LookAlike]


@dataclass(frozen=True, slots=True)
class ListedRef:
    """A listed institution and the section that lists it."""

    measure: SpecialMeasure
    institution: ListedInstitution


# No cached value (None may be one).
_MISSING = object()


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
    # Name-match results by name: a pure function of the name and this rule set, memoised because
    # the same bank names recur in payment after payment. Bounded; cleared when full.
    match_cache: dict[Any, Any] = field(init=False, default_factory=dict)
    MATCH_CACHE_MAX = 200_000

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
        # A lookup with a default: a miss (a name never seen) raises no KeyError to catch.
        value = self.match_cache.get(key, _MISSING)
        if value is _MISSING:
            if len(self.match_cache) >= self.MATCH_CACHE_MAX:
                self.match_cache.clear()
            value = self.match_cache[key] = compute()
        return value

    def __post_init__(self) -> None:
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

    def special_measure_jurisdictions(self) -> set[str]:
        """Countries under jurisdiction-wide special measures (1010.610(c)(3))."""
        return {c for m in self.measures for c in m.covered.jurisdictions}


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
