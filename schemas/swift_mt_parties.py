"""Parties and institutions of SWIFT MT block 4 fields (50a, 52a to 59a): how option A, B, C, D,
F, K and 59 read, for parse_mt (schemas/swift_mt.py). The formats follow the SWIFT Standards MT
message reference guides (Category 1 "Customer Payments", Category 2 "Financial Institution
Transfers", SR 2025) and "Standards MT General Information" (field formats such as 4*35x); the
field tables and the other formats are in schemas/swift_mt_fields.py.

Every reader raises MessageError naming the tag when a field's text breaks its format.
"""

from __future__ import annotations

import re
from typing import Any

from schemas.messages import MessageError
from schemas.swift_mt_fields import BIC, Field, text_lines

_COUNTRY = re.compile(r"[A-Z]{2}")
# The structured lines of 50F and 59F: a one-digit code, a slash, then text (1!n/33x).
_NUMBERED = re.compile(r"([0-9])/(.*)")
_ACCOUNT = re.compile(r"/(?:[CD]/)?(.+)")


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
