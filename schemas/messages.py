"""What the message adapters (schemas/iso20022.py, schemas/swift_mt.py) hand to the rest of the
screener: one payment event per transaction (SPEC 1.1, JSON form) with the map from its fields to
the elements or tags of the original message, or the precise reason a transaction or message
cannot be screened.

The payment dicts are validated by rules.payment_parsing.parse_payment like any JSON event, so an adapter
never decides what is valid beyond its message's own grammar.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# A message larger than this is refused before parsing (a CBPR+ pacs message is a few kB; a
# file of many messages is split first, and each message is held to this bound).
MAX_MESSAGE_BYTES = 1 << 20
# An error text in a dead-letter stays bounded (SPEC 2.6).
MAX_ERROR = 300


class MessageError(ValueError):
    """A message that cannot be read at all: malformed, of an unknown kind or version, oversized.
    The text says exactly why, in at most MAX_ERROR characters."""

    def __init__(self, message: str) -> None:
        if len(message) > MAX_ERROR:
            message = message[: MAX_ERROR - 3] + "..."
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Adapted:
    """One transaction of a message: its payment event, or why it has none.

    `payment` is the SPEC 1.1 JSON form (plus `underlying` for a cover payment); its
    `source_fields` maps payment field paths ("debtor.name", "intermediary_agents[1].bic",
    "remittance_information[0]", "underlying.creditor.address[2]") to the element path or MT tag
    they came from, most specific first looked up (rules.payment.source_field).
    `label` says which transaction of the message it is ("CdtTrfTxInf[2]", "message 3").
    """

    label: str
    payment: dict[str, Any] | None = None
    error: str | None = None
    source_fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AccountMapping:
    """How the bank names its correspondent accounts, when not by the settlement account itself.

    `accounts`: a settlement account identifier as the message gives it (ISO 20022
    `SttlmInf/SttlmAcct/Id`, MT 53B or the account line of 53A/53D) -> the registry's account_id.
    `bics`: the instructing agent's / sender's BIC (8 or 11 characters) -> account_id, used when
    the message names no settlement account.
    """

    accounts: Mapping[str, str] = field(default_factory=dict)
    bics: Mapping[str, str] = field(default_factory=dict)

    def account_id(self, settlement_account: str | None, sender_bic: str | None) -> str | None:
        if settlement_account:
            return self.accounts.get(settlement_account, settlement_account)
        if sender_bic:
            return self.bics.get(sender_bic) or self.bics.get(sender_bic[:8])
        return None


NO_MAPPING = AccountMapping()


class AccountMappingError(ValueError):
    """An account-mapping file that cannot be used; the screener refuses to start on it."""


def load_account_mapping(path: Path | None) -> AccountMapping:
    """The account mapping of a YAML file with `accounts:` and `bics:` maps of strings (either may
    be left out); NO_MAPPING without a file."""
    if path is None:
        return NO_MAPPING
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise AccountMappingError(f"account mapping {path.name}: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict) or set(data) - {"accounts", "bics"}:
        raise AccountMappingError(f"account mapping {path.name}: expected a mapping with keys accounts and bics")
    maps: dict[str, dict[str, str]] = {}
    for key in ("accounts", "bics"):
        value = data.get(key) or {}
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and k and v for k, v in value.items()
        ):
            raise AccountMappingError(f"account mapping {path.name}: {key} must map strings to account ids")
        maps[key] = {k.strip(): v.strip() for k, v in value.items()}
    return AccountMapping(accounts=maps["accounts"], bics={k.upper(): v for k, v in maps["bics"].items()})
