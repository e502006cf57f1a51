"""The payment event (SPEC 1.1) and its validation: the models and the contract's field limits.

A payment that does not meet the contract is never screened on a guess: parse_payment
(rules/payment_parsing.py) raises PaymentError with one precise message, and the caller
dead-letters the input.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictStr,
    field_validator,
    model_validator,
)

from rules.bic import BicError, parse_bic

MESSAGE_TYPES = ("pacs.008", "pacs.009", "pacs.009.cov", "MT103", "MT202", "MT202COV", "other")
MessageType = Literal["pacs.008", "pacs.009", "pacs.009.cov", "MT103", "MT202", "MT202COV", "other"]

# Field limits generous beyond ISO 20022 (names 140, remittance 140 x n) yet bounded, so one
# hostile record cannot exhaust memory or scoring time.
MAX_ID = 256
MAX_NAME = 512
MAX_LINE = 2048
MAX_LINES = 64
MAX_AGENTS = 32
# The instants a payment may carry: electronic payments postdate 1970, and the bound above keeps
# every time-zone conversion of the date rules in range.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
# The free-text fields, each a list of lines as the message wrapped them.
FREE_TEXT_FIELDS = ("remittance_information", "instructions")


def _none_as_empty(value: Any) -> Any:
    """Producers send null for an empty list; the contract treats both alike."""
    return [] if value is None else value


def _none_as_empty_map(value: Any) -> Any:
    return {} if value is None else value


Name = Annotated[StrictStr, Field(min_length=1, max_length=MAX_NAME)]
Line = Annotated[StrictStr, Field(max_length=MAX_LINE)]
Country = Annotated[StrictStr, Field(pattern=r"^[A-Z]{2}$")]
Lines = Annotated[list[Line], BeforeValidator(_none_as_empty), Field(max_length=MAX_LINES)]
Amount = Annotated[StrictStr, Field(pattern=r"^-?\d{1,18}(\.\d{1,8})?$")]
Currency = Annotated[StrictStr, Field(pattern=r"^[A-Z]{3}$")]


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


def _valid_bic(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    try:
        return parse_bic(value).value
    except BicError as exc:
        raise ValueError(str(exc)) from exc


Bic = Annotated[StrictStr, Field(max_length=16), AfterValidator(_valid_bic)]


class Party(_Record):
    """A debtor, creditor or ultimate party.

    `bic` is optional and beyond SPEC 1.1: the debtor and creditor of a pacs.009 / MT202 are
    financial institutions, and a customer transfer may name a bank as a party too. Such a party
    may come with its BIC and no name (SPEC 1.1 requires the name; a message that identifies an
    institution by BIC alone is no less a payment).
    """

    name: Name | None = None
    country: Country | None = None
    # Factories, not literal defaults, here and below: pydantic deep-copies a literal [] for every
    # payment that omits the field (half of a JSON payment's validation time).
    address: Lines = Field(default_factory=list)
    account: Annotated[StrictStr, Field(max_length=MAX_ID)] | None = None
    bic: Bic | None = None

    @model_validator(mode="after")
    def _named(self) -> Party:
        # A party is named; only a financial institution as a party (pacs.009 `Dbtr/FinInstnId`,
        # MT202 52A) may be identified by its BIC alone.
        if self.name is None and self.bic is None:
            raise ValueError("name: required field is missing (a party without a BIC needs a name)")
        return self


class Institution(_Record):
    """A financial institution named in a payment; at least one field identifies it."""

    bic: Bic | None = None
    name: Name | None = None
    country: Country | None = None
    address: Lines = Field(default_factory=list)

    @model_validator(mode="after")
    def _identified(self) -> Institution:
        if not (self.bic or self.name or self.country or any(self.address)):
            raise ValueError("institution has no identifying field (bic, name, country or address)")
        return self


class Authorization(_Record):
    """An OFAC general or specific licence, or another authority, relied on for the payment."""

    type: Annotated[StrictStr, Field(min_length=1, max_length=MAX_ID)]
    reference: Annotated[StrictStr, Field(max_length=MAX_ID)] | None = None


Agents = Annotated[list[Institution], BeforeValidator(_none_as_empty), Field(max_length=MAX_AGENTS)]
# Where each field came from in the original message (schemas/messages.py): at most one entry per
# element a message can carry, each a bounded path.
SourcePath = Annotated[StrictStr, Field(min_length=1, max_length=MAX_ID)]
SourceFields = Annotated[dict[SourcePath, SourcePath], BeforeValidator(_none_as_empty_map), Field(max_length=1024)]


class Underlying(_Record):
    """The customer transfer a cover payment carries (ISO 20022 pacs.009 COV
    `UndrlygCstmrCdtTrf`, MT202COV sequence B): screened like the payment itself, because its
    parties and agents are the ones the cover moves money for. Beyond SPEC 1.1."""

    debtor: Party | None = None
    creditor: Party | None = None
    ultimate_debtor: Party | None = None
    ultimate_creditor: Party | None = None
    debtor_agent: Institution | None = None
    creditor_agent: Institution | None = None
    intermediary_agents: Agents = Field(default_factory=list)
    previous_instructing_agents: Agents = Field(default_factory=list)
    remittance_information: Lines = Field(default_factory=list)
    instructions: Lines = Field(default_factory=list)
    amount: Amount | None = None
    currency: Currency | None = None


class Payment(_Record):
    """One payment message (SPEC 1.1)."""

    payment_id: Annotated[StrictStr, Field(min_length=1, max_length=MAX_ID)]
    message_type: MessageType
    created_at: AwareDatetime
    direction: Literal["inbound", "outbound"] | None = None
    amount: Amount | None = None
    currency: Currency | None = None
    correspondent_account_id: Annotated[StrictStr, Field(max_length=MAX_ID)] | None = None
    purpose: Annotated[StrictStr, Field(max_length=MAX_ID)] | None = None
    debtor: Party | None = None
    creditor: Party | None = None
    ultimate_debtor: Party | None = None
    ultimate_creditor: Party | None = None
    debtor_agent: Institution | None = None
    creditor_agent: Institution | None = None
    instructing_agent: Institution | None = None
    instructed_agent: Institution | None = None
    intermediary_agents: Agents = Field(default_factory=list)
    previous_instructing_agents: Agents = Field(default_factory=list)
    remittance_information: Lines = Field(default_factory=list)
    # Instructions to agents (MT field 72, ISO 20022 InstrForCdtrAgt / InstrForNxtAgt): free text
    # screened like the remittance lines. Optional, beyond SPEC 1.1.
    instructions: Lines = Field(default_factory=list)
    authorization: Authorization | None = None
    # Beyond SPEC 1.1: the customer transfer under a cover payment, and, for a payment adapted
    # from an ISO 20022 or MT message, each field's element path or tag in that message, so a hit
    # names the place an investigator finds it (e.g. "CdtTrfTxInf/IntrmyAgt2/FinInstnId/BICFI").
    underlying: Underlying | None = None
    source_fields: SourceFields = Field(default_factory=dict)

    @field_validator("created_at", mode="before")
    @classmethod
    def _rfc3339(cls, value: Any) -> Any:
        if isinstance(value, str) and "T" not in value.upper():
            raise ValueError("created_at must be an RFC 3339 timestamp with a time and offset")
        return value

    @field_validator("created_at")
    @classmethod
    def _in_range(cls, value: datetime) -> datetime:
        """An instant the rules can place on the bank's calendar: a year out of range ("0001",
        "9999" with an offset) would overflow on conversion and is no real payment's."""
        if not EARLIEST <= value < LATEST:
            raise ValueError(
                f"{value.isoformat()} is out of range: the contract accepts "
                f"{EARLIEST.date().isoformat()} to {(LATEST - timedelta(days=1)).date().isoformat()}"
            )
        return value

    def institutions(self) -> list[tuple[str, Institution]]:
        """Every institution field with its path, in a fixed order (the underlying transfer's last)."""
        out = _institutions(self, "", ("debtor_agent", "creditor_agent", "instructing_agent", "instructed_agent"))
        if self.underlying is not None:
            out.extend(_institutions(self.underlying, "underlying.", ("debtor_agent", "creditor_agent")))
        return out

    def free_text(self) -> list[tuple[str, list[str]]]:
        """Every free-text field with its path: a list of lines as the message wrapped them."""
        out = [(name, getattr(self, name)) for name in FREE_TEXT_FIELDS]
        if self.underlying is not None:
            out.extend((f"underlying.{name}", getattr(self.underlying, name)) for name in FREE_TEXT_FIELDS)
        return out

    def parties(self) -> list[tuple[str, Party]]:
        """Every party field with its path, in a fixed order (the underlying transfer's last)."""
        out = _parties(self, "")
        if self.underlying is not None:
            out.extend(_parties(self.underlying, "underlying."))
        return out


PARTY_FIELDS = ("debtor", "creditor", "ultimate_debtor", "ultimate_creditor")


def _parties(record: Payment | Underlying, prefix: str) -> list[tuple[str, Party]]:
    out: list[tuple[str, Party]] = []
    for field in PARTY_FIELDS:
        party = getattr(record, field)
        if party is not None:
            out.append((prefix + field, party))
    return out


def _institutions(record: Payment | Underlying, prefix: str, singles: tuple[str, ...]) -> list[tuple[str, Institution]]:
    out: list[tuple[str, Institution]] = []
    for field in singles:
        inst = getattr(record, field)
        if inst is not None:
            out.append((prefix + field, inst))
    for field in ("intermediary_agents", "previous_instructing_agents"):
        for i, inst in enumerate(getattr(record, field)):
            out.append((f"{prefix}{field}[{i}]", inst))
    return out


def source_field(fields: dict[str, str], path: str) -> str:
    """The original message's element path or tag for a payment field path, from the most specific
    entry the adapter recorded ("intermediary_agents[1].bic", else "intermediary_agents[1]");
    the path itself for a payment that came as JSON."""
    if not fields:
        return path
    probe = path
    while probe:
        found = fields.get(probe)
        if found is not None:
            return found
        cut = max(probe.rfind("."), probe.rfind("["))
        if cut <= 0:
            break
        probe = probe[:cut]
    return path


def payment_instant(payment: Payment) -> datetime:
    """The "as of" instant of every date-dependent rule (SPEC 1.1: created_at)."""
    return payment.created_at
