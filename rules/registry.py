"""The correspondent-account registry (SPEC 1.2) as an immutable, versioned view.

SPEC 2.3: every decision is made against the registry as it stood when the payment was
screened and records its `registry_version`. The version is a digest of the content, computed
per record and combined order-independently, so a live registry can update it per change.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError, field_validator

from rules.bic import Bic, BicError, parse_bic, try_parse_bic
from rules.name_index import NameIndex
from rules.names import normalize_name
from rules.payment import Country, Institution, Lines, Name

_MOD = 2**256
_MAX_CHAIN = 16


class RegistryError(ValueError):
    """A registry record or file that does not meet SPEC 1.2."""


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class NestedInstitution(Institution):
    """A foreign bank known to use an account through its holder (1010.610(b)(2))."""

    shell_bank: bool = False
    regulated_affiliate: bool = False


class Holder(Institution):
    """The foreign bank an account is held for."""

    license: Literal["onshore", "offshore"] | None = None
    shell_bank: bool = False
    regulated_affiliate: bool = False
    publicly_traded: bool = False


class Account(_Record):
    """A correspondent account (SPEC 1.2)."""

    account_id: Annotated[StrictStr, Field(min_length=1, max_length=256)]
    status: Literal["open", "closing", "closed"]
    opened_on: date | None = None
    holder: Holder
    # The institution the account is held on behalf of, where it is not the holder itself
    # (1010.651-661 (b)(1): "for, or on behalf of"). An optional field beyond SPEC 1.2.
    held_on_behalf_of: Institution | None = None
    certified_on: date | None = None
    verification_requested_on: date | None = None
    termination_notice_received_on: date | None = None
    nested_institutions: list[NestedInstitution] = []


class InstitutionRecord(_Record):
    """Reference data about a bank, keyed by BIC (SPEC 1.2)."""

    bic: StrictStr
    name: Name | None = None
    aliases: list[Name] = []
    country: Country | None = None
    parent_bic: StrictStr | None = None
    parent_ownership_pct: Annotated[float, Field(ge=0, le=100)] | None = None
    kind: Literal["bank", "branch", "office", "subsidiary", "other"] = "bank"
    address: Lines = []

    @field_validator("bic", "parent_bic")
    @classmethod
    def _valid_bic(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return parse_bic(value).bic11
        except BicError as exc:
            raise ValueError(str(exc)) from exc

    def names(self) -> list[str]:
        return [n for n in [self.name, *self.aliases] if n]


Relation = Literal["branch", "office", "subsidiary"]


@dataclass(frozen=True, slots=True)
class Ancestor:
    """An institution above another in the registry, and how the chain reaches it.

    relation is the loosest link on the way: "subsidiary" if any link is ownership of more than
    50 percent (1010.653(a)(4) and the like), else "branch" or "office".
    """

    record: InstitutionRecord
    relation: Relation
    path: tuple[str, ...]


def _digest(kind: str, key: str, value: Mapping[str, Any] | None) -> int:
    body = json.dumps([kind, key, value], sort_keys=True, default=str, separators=(",", ":"))
    return int.from_bytes(hashlib.sha256(body.encode()).digest(), "big")


def _describe(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'record'}: {e['msg']}" for e in exc.errors())


def parse_account(data: Mapping[str, Any]) -> Account:
    try:
        return Account.model_validate(data)
    except ValidationError as exc:
        raise RegistryError(f"account {data.get('account_id')!r}: {_describe(exc)}") from None


def parse_institution(data: Mapping[str, Any]) -> InstitutionRecord:
    try:
        return InstitutionRecord.model_validate(data)
    except ValidationError as exc:
        raise RegistryError(f"institution {data.get('bic')!r}: {_describe(exc)}") from None


class Registry:
    """Accounts and institutions, with lookups by id, BIC and name, and a content version."""

    def __init__(
        self,
        accounts: Iterable[Account] = (),
        institutions: Iterable[InstitutionRecord] = (),
    ) -> None:
        self._accounts: dict[str, Account] = {}
        self._institutions: dict[str, InstitutionRecord] = {}
        self._by_name: dict[str, list[str]] = {}
        self._acc: int = 0
        self._version_of: int = -1
        self._version = ""
        self._names: NameIndex[str] | None = None
        self._names_of: int = -1
        for account in accounts:
            self.put_account(account)
        for record in institutions:
            self.put_institution(record)

    # -- updates (SPEC 1.2: an upsert; a tombstone deletes) ---------------------------------

    def put_account(self, account: Account) -> None:
        self.delete_account(account.account_id)
        self._accounts[account.account_id] = account
        self._acc = (self._acc + _digest("account", account.account_id, account.model_dump(mode="json"))) % _MOD

    def delete_account(self, account_id: str) -> None:
        old = self._accounts.pop(account_id, None)
        if old is not None:
            self._acc = (self._acc - _digest("account", account_id, old.model_dump(mode="json"))) % _MOD

    def put_institution(self, record: InstitutionRecord) -> None:
        self.delete_institution(record.bic)
        self._institutions[record.bic] = record
        for name in record.names():
            self._by_name.setdefault(normalize_name(name), []).append(record.bic)
        self._acc = (self._acc + _digest("institution", record.bic, record.model_dump(mode="json"))) % _MOD

    def delete_institution(self, bic: str) -> None:
        key = parse_bic(bic).bic11
        old = self._institutions.pop(key, None)
        if old is None:
            return
        for name in old.names():
            bics = self._by_name.get(normalize_name(name), [])
            if key in bics:
                bics.remove(key)
        self._acc = (self._acc - _digest("institution", key, old.model_dump(mode="json"))) % _MOD

    # -- reads -----------------------------------------------------------------------------

    @property
    def version(self) -> str:
        """A digest of the whole content; equal content gives an equal version.

        Formatted once per content: it is part of every evidence memo key, several per payment.
        """
        if self._version_of != self._acc:
            self._version = f"reg-{self._acc:064x}"[:20]
            self._version_of = self._acc
        return self._version

    def __len__(self) -> int:
        return len(self._accounts) + len(self._institutions)

    def account(self, account_id: str) -> Account | None:
        return self._accounts.get(account_id)

    def accounts(self) -> list[Account]:
        return list(self._accounts.values())

    def institutions(self) -> list[InstitutionRecord]:
        return list(self._institutions.values())

    def institution_by_bic(self, bic: Bic | str | None) -> InstitutionRecord | None:
        """Resolve by the 11-character form, falling back to the primary office (BIC8 + XXX)."""
        parsed = bic if isinstance(bic, Bic) else try_parse_bic(bic)
        if parsed is None:
            return None
        return self._institutions.get(parsed.bic11) or self._institutions.get(parsed.bic8 + "XXX")

    def institutions_by_name(self, name: str | None) -> list[InstitutionRecord]:
        """Registry institutions whose name or alias normalises to the same form."""
        if not name:
            return []
        bics = self._by_name.get(normalize_name(name), [])
        return [self._institutions[b] for b in bics if b in self._institutions]

    def name_index(self) -> NameIndex[str]:
        """Every institution name and alias, for finding them in free text. Built on first use
        and again after a change (registry changes are rare next to payments)."""
        if self._names is None or self._names_of != self._acc:
            names = sorted({n for record in self._institutions.values() for n in record.names()})
            self._names = NameIndex((n, n, False) for n in names)
            self._names_of = self._acc
        return self._names

    def ancestors(self, record: InstitutionRecord) -> list[Ancestor]:
        """Parents reachable through branch, office or more-than-50-percent links.

        A link of exactly 50 percent or less, not a branch or office, ends the chain: such an
        institution is not a subsidiary (1010.653(a)(4), 1010.658(a)(4), 1010.659(a)(6),
        1010.660(a)(5), 1010.661(a)(5)).
        """
        out: list[Ancestor] = []
        seen = {record.bic}
        current = record
        relation: Relation | None = None
        path: tuple[str, ...] = (record.bic,)
        for _ in range(_MAX_CHAIN):
            if current.parent_bic is None:
                break
            if current.kind in ("branch", "office"):
                link: Relation = current.kind
            elif current.parent_ownership_pct is not None and current.parent_ownership_pct > 50:
                link = "subsidiary"
            else:
                break
            relation = "subsidiary" if "subsidiary" in (relation, link) else (relation or link)
            parent = self._institutions.get(current.parent_bic)
            path = (*path, current.parent_bic)
            if parent is None or parent.bic in seen:
                break
            out.append(Ancestor(parent, relation, path))
            seen.add(parent.bic)
            current = parent
        return out


def registry_from_mapping(data: Mapping[str, Any]) -> Registry:
    """Build a registry from a mapping with keys `accounts` and `institutions` (SPEC 1.2)."""
    if not isinstance(data, Mapping):
        raise RegistryError("a registry file must hold a mapping with keys 'accounts' and 'institutions'")
    unknown = set(data) - {"accounts", "institutions"}
    if unknown:
        raise RegistryError(f"unknown top-level keys {sorted(unknown)}; expected 'accounts' and 'institutions'")
    accounts_raw = data.get("accounts") or []
    institutions_raw = data.get("institutions") or []
    if not isinstance(accounts_raw, list) or not isinstance(institutions_raw, list):
        raise RegistryError("'accounts' and 'institutions' must be lists")
    accounts = [parse_account(a) for a in accounts_raw]
    institutions = [parse_institution(i) for i in institutions_raw]
    ids = [a.account_id for a in accounts]
    # Counted once, not list.count per id: quadratic, 7 s for a 20,000-account file.
    dupes = sorted(i for i, n in Counter(ids).items() if n > 1)
    if dupes:
        raise RegistryError(f"duplicate account_id {dupes}")
    bics = [i.bic for i in institutions]
    dupes = sorted(b for b, n in Counter(bics).items() if n > 1)
    if dupes:
        raise RegistryError(f"duplicate institution bic {dupes}")
    return Registry(accounts, institutions)
