"""The measure files' models (rules/measures/*.yaml and rules/lists/look_alikes.yaml), validated
by pydantic when loaded (rules/catalog.py loads them).

A special-measure file holds one section of 31 CFR 1010.651-661 (SpecialMeasure: who is covered
and what each paragraph requires); an account-rule file one of 1010.610, 1010.630 and 1010.670
(AccountRules); the calendar file the bank's time zone and holidays (1010.670(d) business days).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from rules.bic import BicError, parse_bic

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
