"""Block 4 field grammar of SWIFT MT 103, MT 202 and MT 202 COV: which fields each message (and
sequence) accepts, in which order, which are mandatory or may repeat, and how an amount, a date
or a free-text field reads (parties and institutions: schemas/swift_mt_parties.py).
schemas/swift_mt.py documents the grammar as a whole and maps the fields to the payment; the
tables and formats here follow the SWIFT Standards MT message reference guides (Category 1
"Customer Payments", Category 2 "Financial Institution Transfers", SR 2025) and "Standards MT
General Information" (field formats such as 4*35x).

Every reader raises MessageError naming the tag when a field's text breaks its format.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from schemas.messages import MessageError

# 4!a2!a2!c[3!c]: bank code, country code, location code, optional branch code.
BIC = re.compile(r"[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?")
# Digits are [0-9] throughout, never \d, which also matches other scripts' digits ("١٢٥٠").
# 15d: digits with one mandatory decimal comma (the integer part at least one digit).
_AMOUNT = re.compile(r"([0-9]+),([0-9]*)")
_MAX_AMOUNT = 15
_CURRENCY = re.compile(r"[A-Z]{3}")
_DATE = re.compile(r"[0-9]{6}")
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
