"""Block 4 field grammar of SWIFT MT 103, MT 202 and MT 202 COV: which fields each message (and
sequence) accepts, in which order, which are mandatory or may repeat, and how a party, an
institution, an amount or a free-text field reads. schemas/swift_mt.py documents the grammar as a
whole and maps the fields to the payment; the tables and formats here follow the SWIFT Standards MT
message reference guides (Category 1 "Customer Payments", Category 2 "Financial Institution
Transfers", SR 2025) and "Standards MT General Information" (field formats such as 4*35x).

Every reader raises MessageError naming the tag when a field's text breaks its format.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from schemas.messages import MessageError

# 4!a2!a2!c[3!c]: bank code, country code, location code, optional branch code.
BIC = re.compile(r"[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?")
# Digits are [0-9] throughout, never \d, which also matches other scripts' digits ("١٢٥٠").
# 15d: digits with one mandatory decimal comma (the integer part at least one digit).
_AMOUNT = re.compile(r"([0-9]+),([0-9]*)")
_MAX_AMOUNT = 15
_CURRENCY = re.compile(r"[A-Z]{3}")
_COUNTRY = re.compile(r"[A-Z]{2}")
_DATE = re.compile(r"[0-9]{6}")
# The structured lines of 50F and 59F: a one-digit code, a slash, then text (1!n/33x).
_NUMBERED = re.compile(r"([0-9])/(.*)")
_ACCOUNT = re.compile(r"/(?:[CD]/)?(.+)")
_TAG_LINE = re.compile(r":([0-9]{2}[A-Z]?):(.*)")


@dataclass(frozen=True, slots=True)
class Field:
    """One field of block 4: its tag ("50K", "59", "32A") and its lines as the message has them."""

    tag: str
    lines: tuple[str, ...]
    line_no: int

    @property
    def number(self) -> str:
        return self.tag[:2]

    @property
    def option(self) -> str:
        return self.tag[2:]

    @property
    def label(self) -> str:
        return f":{self.tag}:"


@dataclass(frozen=True, slots=True)
class Spec:
    """A field of a message or sequence, named as SWIFT does ("50a": any of its options)."""

    name: str
    tags: frozenset[str]
    mandatory: bool = False
    repeatable: bool = False


def _spec(name: str, options: str = "", *, m: bool = False, r: bool = False) -> Spec:
    """`options` lists the letters of a field "NNa" ("-" for its option without a letter: 59)."""
    if not options:
        return Spec(name, frozenset({name}), m, r)
    return Spec(name, frozenset(name[:2] + ("" if o == "-" else o) for o in options), m, r)


# Each table is in the order the standard requires (FIN rejects a field out of order).
MT103 = (
    _spec("20", m=True),
    _spec("13C", r=True),
    _spec("23B", m=True),
    _spec("23E", r=True),
    _spec("26T"),
    _spec("32A", m=True),
    _spec("33B"),
    _spec("36"),
    _spec("50a", "AFK", m=True),
    _spec("51A"),
    _spec("52a", "AD"),
    _spec("53a", "ABD"),
    _spec("54a", "ABD"),
    _spec("55a", "ABD"),
    _spec("56a", "ACD"),
    _spec("57a", "ABCD"),
    _spec("59a", "-AF", m=True),
    _spec("70"),
    _spec("71A", m=True),
    _spec("71F", r=True),
    _spec("71G"),
    _spec("72"),
    _spec("77B"),
)
MT202_A = (
    _spec("20", m=True),
    _spec("21", m=True),
    _spec("13C", r=True),
    _spec("32A", m=True),
    _spec("52a", "AD"),
    _spec("53a", "ABD"),
    _spec("54a", "ABD"),
    _spec("56a", "AD"),
    _spec("57a", "ABD"),
    _spec("58a", "AD", m=True),
    _spec("72"),
)
MT202COV_B = (
    _spec("50a", "AFK", m=True),
    _spec("52a", "AD"),
    _spec("56a", "ACD"),
    _spec("57a", "ABCD"),
    _spec("59a", "-AF", m=True),
    _spec("70"),
    _spec("72"),
    _spec("33B"),
)


def block4_fields(body: str) -> list[Field]:
    """Block 4 as fields: a line ":tag:" opens one, other lines continue it. No line of a field
    may start with ":", so one that does and is no well-formed tag is refused, never merged."""
    fields: list[Field] = []
    tag: str | None = None
    lines: list[str] = []
    start = 0
    for number, line in enumerate(body.split("\n")):
        m = _TAG_LINE.fullmatch(line)
        if m is not None:
            if tag is not None:
                fields.append(Field(tag, tuple(lines), start))
            tag, lines, start = m.group(1), [m.group(2)], number
        elif line.startswith(":"):
            raise MessageError(f"block 4 line {number}: {line[:40]!r} starts with ':' but is not a field tag :nna:")
        elif tag is not None:
            lines.append(line)
        elif line.strip():
            raise MessageError(f"block 4 line {number}: text {line[:40]!r} before the first field")
    if tag is not None:
        fields.append(Field(tag, tuple(lines), start))
    return fields


def check_sequence(fields: Sequence[Field], specs: Sequence[Spec], where: str) -> dict[str, list[Field]]:
    """The fields of a sequence by spec name, once each has been checked allowed, in order, not
    repeated and with every mandatory field present."""
    by_tag = {tag: (i, spec) for i, spec in enumerate(specs) for tag in spec.tags}
    found: dict[str, list[Field]] = {}
    last = -1
    for field in fields:
        hit = by_tag.get(field.tag)
        if hit is None:
            raise MessageError(f"{where}: field {field.label} (block 4 line {field.line_no}) is not allowed here")
        position, spec = hit
        if spec.name in found and not spec.repeatable:
            # A second beneficiary or ordering customer is an evasion attempt when one reader takes
            # the first and another the last: never resolved silently.
            first = found[spec.name][0]
            raise MessageError(
                f"{where}: field {field.label} (line {field.line_no}) repeats {first.label} (line {first.line_no}); "
                f":{spec.name}: may occur once"
            )
        if position < last:
            raise MessageError(f"{where}: field {field.label} (line {field.line_no}) is out of the standard's order")
        last = position
        found.setdefault(spec.name, []).append(field)
    missing = [f":{spec.name}:" for spec in specs if spec.mandatory and spec.name not in found]
    if missing:
        raise MessageError(f"{where}: mandatory field {', '.join(missing)} is missing")
    return found


def text_lines(field: Field) -> list[str]:
    """The field's lines without surrounding blanks; an empty line carries nothing and is dropped.
    Lines longer than the standard's 35 characters are kept whole: the payment contract bounds
    them, and cutting one could split a name."""
    lines = [line.strip() for line in field.lines]
    kept = [line for line in lines if line]
    if not kept:
        raise MessageError(f"field {field.label} (line {field.line_no}) is empty")
    return kept


def single_line(field: Field) -> str:
    lines = text_lines(field)
    if len(lines) != 1:
        raise MessageError(f"field {field.label} must be one line, found {len(lines)}")
    return lines[0]


def amount(text: str, label: str) -> str:
    """A SWIFT amount ("1250,00", "1250,") as a contract decimal ("1250.00", "1250")."""
    m = _AMOUNT.fullmatch(text)
    if m is None or len(text) > _MAX_AMOUNT:
        raise MessageError(
            f"field {label} amount {text[:40]!r} is not a SWIFT amount "
            "(digits with one decimal comma, at most 15 characters, e.g. 1250,00)"
        )
    whole = m.group(1).lstrip("0") or "0"
    return f"{whole}.{m.group(2)}" if m.group(2) else whole


def currency_amount(text: str, label: str) -> tuple[str, str]:
    """3!a15d (33B, 71F, 71G and the tail of 32A): currency and decimal amount."""
    if not _CURRENCY.fullmatch(text[:3]):
        raise MessageError(f"field {label} currency {text[:3]!r} is not a three-letter ISO 4217 code")
    return text[:3], amount(text[3:], label)


def swift_date(text: str, label: str) -> datetime:
    """6!n YYMMDD at midnight UTC. FIN dates carry two digits for the year; a payment message's
    value date is current, so every year is read in 2000-2099."""
    if not _DATE.fullmatch(text):
        raise MessageError(f"{label} date {text[:12]!r} is not YYMMDD")
    try:
        return datetime(2000 + int(text[:2]), int(text[2:4]), int(text[4:6]), tzinfo=UTC)
    except ValueError:
        raise MessageError(f"{label} date {text!r} is not a valid date (YYMMDD)") from None


def value_date_amount(field: Field) -> tuple[datetime, str, str]:
    """32A: 6!n3!a15d, value date, currency and amount."""
    text = single_line(field)
    when = swift_date(text[:6], f"field {field.label}")
    currency, value = currency_amount(text[6:], field.label)
    return when, currency, value


def account_of(identifier: str) -> str | None:
    """The account a party identifier line names ("/123", "/C/123", "/D/123"); None for a
    national clearing code ("//FW021000021"), which identifies a bank, not an account."""
    if identifier.startswith("//"):
        return None
    m = _ACCOUNT.fullmatch(identifier)
    return m.group(1).strip() if m else None


def _split_identifier(field: Field) -> tuple[str | None, list[str]]:
    """The optional first line of a party or institution field: [/1!a][/34x] or /34x."""
    lines = text_lines(field)
    if lines[0].startswith("/"):
        return lines[0], lines[1:]
    return None, lines


def _only_bic(lines: list[str], field: Field) -> str:
    if len(lines) != 1:
        raise MessageError(f"field {field.label} option A is an optional /party identifier line then one BIC line")
    if not BIC.fullmatch(lines[0]):
        raise MessageError(f"field {field.label} {lines[0][:40]!r} is not a BIC (4!a2!a2!c[3!c])")
    return lines[0]


def _with_identifier(record: dict[str, Any], address: list[str], identifier: str | None) -> dict[str, Any]:
    """A party keeps its account; a clearing code, the only identifier of some banks, stays an
    address line so it is screened as text."""
    if identifier is not None:
        account = account_of(identifier)
        if account:
            record["account"] = account
        else:
            address.insert(0, identifier)
    if address:
        record["address"] = address
    return record


def party(field: Field) -> dict[str, Any]:
    """A Party (rules.payment): 50A/F/K, 59/59A/59F, or a bank as the party of an MT 202 (52A/D,
    58A/D). Option A is [/account] and a BIC (no name: the contract allows a party by BIC alone);
    K, D and 59 are [/account] then a name line and address lines; F is structured."""
    if field.option == "F":
        return _structured_party(field)
    identifier, rest = _split_identifier(field)
    if field.option == "A":
        return _with_identifier({"bic": _only_bic(rest, field)}, [], identifier)
    if not rest:
        raise MessageError(f"field {field.label} has a party identifier but no name line")
    return _with_identifier({"name": rest[0]}, rest[1:], identifier)


def _structured_party(field: Field) -> dict[str, Any]:
    """50F: party identifier (/account or CODE/CC/identifier), then numbered lines: 1 name,
    2 address, 3 country/town (its first occurrence opens with the ISO country code), 4 date of
    birth, 5 place of birth, 6 customer number, 7 national identity number, 8 the continuation of
    the identifier of the preceding 6 or 7 line, else of the party identifier. 59F: [/account],
    then lines 1, 2 and 3 only. A repeated 1 continues the name; the parts are joined with a
    space. Lines 4 to 7 have no contract field and are kept verbatim as address lines, screened as
    text (a place of birth in Pyongyang is evidence)."""
    lines = text_lines(field)
    codes = "12345678" if field.number == "50" else "123"
    identifier: str | None = None
    if not _NUMBERED.fullmatch(lines[0]):
        identifier, lines = lines[0], lines[1:]
    names: list[str] = []
    address: list[str] = []
    country: str | None = None
    last_id: int | None = None
    for line in lines:
        m = _NUMBERED.fullmatch(line)
        if m is None or m.group(1) not in codes:
            raise MessageError(f"field {field.label} {line[:40]!r} is not a numbered line ({', '.join(codes)}/text)")
        code, text = m.group(1), m.group(2).strip()
        if code == "1":
            names.append(text)
        elif code == "3" and country is None:
            country, town = _country_town(text, field)
            address += town
        elif code in "23":
            address.append(text)
        elif code == "8":
            identifier = _continue_identifier(address, last_id, identifier, text, field)
        else:
            address.append(line)
            last_id = len(address) - 1 if code in "67" else None
    name = " ".join(part for part in names if part)
    if not name:
        raise MessageError(f"field {field.label} has no name line (1/)")
    record: dict[str, Any] = {"name": name}
    if country is not None:
        record["country"] = country
    # A CODE/CC/identifier line (a passport, a national id) names no account: screened as text.
    return _with_identifier(record, address, identifier)


def _continue_identifier(
    address: list[str], last_id: int | None, identifier: str | None, text: str, field: Field
) -> str | None:
    """8/ completes the identifier of the preceding 6/ or 7/ line, else the party identifier."""
    if last_id is not None:
        address[last_id] += text
        return identifier
    if identifier is None:
        raise MessageError(f"field {field.label} line 8/ continues no identifier")
    return identifier + text


def _country_town(text: str, field: Field) -> tuple[str, list[str]]:
    """The first 3/ line: ISO country code, then optionally "/" and the town."""
    country, _, town = text.partition("/")
    if not _COUNTRY.fullmatch(country):
        raise MessageError(f"field {field.label} line 3/ must open with an ISO country code, not {country[:8]!r}")
    return country, [town.strip()] if town.strip() else []


def institution(field: Field) -> dict[str, Any]:
    """An Institution (rules.payment) from option A (BIC), B (location), C (/identifier only) or D
    (name and address). The contract has no account for an institution: its party identifier
    line ("/C/12345", "//FW021000021") is kept verbatim as its first address line, screened as text."""
    identifier, rest = _split_identifier(field)
    return _institution(field, identifier, rest)


def settlement(field: Field) -> tuple[dict[str, Any] | None, str | None]:
    """53a, the sender's correspondent: the institution, if the field names one, and the
    settlement account its identifier line gives (53B is often the account alone)."""
    identifier, rest = _split_identifier(field)
    account = account_of(identifier) if identifier is not None else None
    if account is None:
        return _institution(field, identifier, rest), None
    if not rest and field.option == "B":
        return None, account
    return _institution(field, None, rest), account


def _institution(field: Field, identifier: str | None, rest: list[str]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    address = [identifier] if identifier is not None else []
    if field.option == "A":
        record["bic"] = _only_bic(rest, field)
    elif field.option == "D":
        if not rest:
            raise MessageError(f"field {field.label} has no name line")
        record["name"] = rest[0]
        address += rest[1:]
    elif field.option == "C":
        if rest or identifier is None:
            raise MessageError(f"field {field.label} option C is one party identifier line (/34x)")
    else:
        address += rest
    if address:
        record["address"] = address
    return record
