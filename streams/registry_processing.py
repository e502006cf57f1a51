"""A registry record's work: validate a change to the correspondent-account registry and apply it
(every worker's view, streams/registry_view.py), and the registry agent's audit of it on the
registry chain (31 CFR 1010.630(e): records of the accounts' facts)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rules import Registry, RegistryError
from rules.bic import BicError, parse_bic
from rules.registry import Account, InstitutionRecord, parse_account, parse_institution
from schemas.codec import CodecError
from streams.audit import AuditChains, digest
from streams.dead_letter import Processor
from streams.records import Out, Outcome, Source
from streams.serde import Serde
from streams.settings import Settings

# One registry record's bound. The worker's view, its registry agent and `screener replay` refuse a
# larger record alike (the agent dead-letters it), so all three hold the same content and version.
MAX_REGISTRY_RECORD_BYTES = 512 * 1024


def registry_key(settings: Settings, topic: str, key: bytes | None) -> str:
    """The canonical key of a registry record: an institution's BIC in its 11-character form (a
    BIC8 and its XXX form are one key, in the view, the audit trail and tombstones), an account's
    id as it is. Raises RegistryError for a missing key or an invalid BIC."""
    if not key:
        raise RegistryError("a registry record needs a key (account_id or bic)")
    text = key.decode("utf-8", errors="replace")
    if topic == settings.topics.registry_institutions:
        try:
            return parse_bic(text).bic11
        except BicError as exc:
            raise RegistryError(f"key {text[:64]!r}: {exc}") from None
    return text


@dataclass(frozen=True, slots=True)
class RegistryChange:
    """One registry record decoded and validated, not yet applied: an upsert of `record`, or a
    tombstone of `key` when `record` is None. Preparing is the costly part (decode, validation);
    applying is a few dictionary updates, cheap enough for the screen loop's turn."""

    topic: str
    key: str
    is_account: bool
    record: Account | InstitutionRecord | None

    def apply(self, registry: Registry) -> dict[str, Any]:
        """Apply to `registry`; what changed, as the audit record's body states it."""
        record, key = self.record, self.key
        if record is None:
            if self.is_account:
                registry.delete_account(key)
            else:
                registry.delete_institution(key)
            return {"topic": self.topic, "key": key, "op": "delete"}
        if isinstance(record, Account):
            registry.put_account(record)
        else:
            registry.put_institution(record)
        return {"topic": self.topic, "key": key, "op": "upsert", "value": record.model_dump(mode="json")}


def prepare_registry_change(
    serde: Serde, settings: Settings, topic: str, key: bytes | None, value: bytes | None
) -> RegistryChange:
    """Decode and validate one registry record (upsert, or tombstone when value is None).

    Raises CodecError or RegistryError for a record that cannot be applied.
    """
    t = settings.topics
    if topic not in (t.registry_accounts, t.registry_institutions):
        raise RegistryError(f"not a registry topic: {topic}")
    is_account = topic == t.registry_accounts
    key_text = registry_key(settings, topic, key)
    if value is None:
        return RegistryChange(topic, key_text, is_account, None)
    if is_account:
        account = parse_account(serde.decode(topic, "Account", value))
        if account.account_id != key_text:
            raise RegistryError(f"key {key_text!r} is not the record's account_id {account.account_id!r}")
        return RegistryChange(topic, key_text, is_account, account)
    record = parse_institution(serde.decode(topic, "RegistryInstitution", value))
    if key_text != record.bic:
        raise RegistryError(f"key {key_text!r} is not the record's bic {record.bic!r}")
    return RegistryChange(topic, key_text, is_account, record)


def apply_registry_change(
    registry: Registry, serde: Serde, settings: Settings, topic: str, key: bytes | None, value: bytes | None
) -> dict[str, Any]:
    """Apply one registry record (upsert, or tombstone when value is None); return what changed.

    Raises CodecError or RegistryError for a record that cannot be applied.
    """
    return prepare_registry_change(serde, settings, topic, key, value).apply(registry)


def registry_record_change(
    serde: Serde, settings: Settings, topic: str, key: bytes | None, value: bytes | None
) -> RegistryChange:
    """A record of a registry topic as the worker takes it: within MAX_REGISTRY_RECORD_BYTES, then
    prepared. The view and the registry agent both go through here, so they refuse the same
    records (31 CFR 1010.630(e): the audit trail's versions are the view's)."""
    if value is not None and len(value) > MAX_REGISTRY_RECORD_BYTES:
        raise RegistryError(
            f"registry record of {len(value):,} bytes, limit {MAX_REGISTRY_RECORD_BYTES:,}: not applied"
        )
    return prepare_registry_change(serde, settings, topic, key, value)


class RegistryProcessor(Processor):
    """The registry agent's work: validate and apply a change, and audit it on the registry chain."""

    def __init__(self, settings: Settings, serde: Serde, audit: AuditChains, registry: Registry, chain: int) -> None:
        super().__init__(settings, serde, audit)
        self.registry = registry
        self.chain = chain

    def process(self, src: Source, rules_version: str) -> Outcome:
        return self.process_change(src, rules_version)[0]

    def process_change(
        self, src: Source, rules_version: str, position: Mapping[str, int] | None = None
    ) -> tuple[Outcome, str | None]:
        """The record's outcome, and its canonical key once applied (None when dead-lettered).
        `position` (the agent's audited offsets after this record) goes into the audit body, so the
        chain's tip tells a later writer what is on the chain already."""
        extra = {"position": dict(position)} if position is not None else {}
        try:
            prepared = registry_record_change(self.serde, self.settings, src.topic, src.key, src.value)
            change = prepared.apply(self.registry)
        except (CodecError, RegistryError, ValueError) as exc:
            outputs = self.dead_letter(src, str(exc), self.chain, (rules_version, self.registry.version), extra)
            return Outcome(outputs, dead_letter=True), None
        audit_key, audit_value = self.audit.append(
            self.chain,
            kind="registry",
            subject_id=f"{src.topic}:{change['key']}",
            input_digest=digest(src.value or b""),
            rules_version=rules_version,
            registry_version=self.registry.version,
            recorded_at=src.instant.isoformat(),
            body=change | extra,
        )
        return Outcome([Out(self.topics.audit, audit_key, audit_value, self.chain)]), str(change["key"])

    def apply_only(self, src: Source) -> None:
        """Apply a change already on the chain to the agent's registry, without auditing it again
        (one that could not be applied was dead-lettered then, and is skipped now)."""
        with contextlib.suppress(CodecError, RegistryError, ValueError):
            registry_record_change(self.serde, self.settings, src.topic, src.key, src.value).apply(self.registry)
