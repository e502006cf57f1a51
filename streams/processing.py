"""What each agent does with one record, without Faust: decode, call the engine, shape outputs.

Nothing here decides: the decision is rules.engine.screen's; this module turns bytes into a
payment, a decision into the records of SPEC 1.3, and anything unreadable into a dead-letter.
"""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from rules import PaymentError, Registry, RegistryError, RuleSet, parse_payment, screen
from rules.bic import BicError, parse_bic
from rules.engine import screening_error
from rules.payment import Payment
from rules.registry import parse_account, parse_institution
from schemas.codec import CodecError, dead_letter_json
from schemas.inbound import MESSAGE_FORMATS, Format, input_format, read_messages
from schemas.messages import NO_MAPPING, AccountMapping
from streams.audit import AuditChains, canonical, digest
from streams.outputs import alert_record, notice_records
from streams.serde import Serde
from streams.settings import Settings
from streams.stores import Decided


@dataclass(frozen=True, slots=True)
class Source:
    """Where a record came from."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp: float

    @property
    def instant(self) -> datetime:
        """The record's timestamp: the same on every redelivery, so decisions repeat exactly."""
        return datetime.fromtimestamp(round(self.timestamp, 3), UTC)

    @property
    def position(self) -> str:
        return f"{self.topic}/{self.partition}/{self.offset}"


@dataclass(frozen=True, slots=True)
class Out:
    """A record to send."""

    topic: str
    key: bytes
    value: bytes
    partition: int | None = None


@dataclass
class Outcome:
    outputs: list[Out]
    decision: str | None = None
    dead_letter: bool = False
    replayed: bool = False
    # (store key, notice_id, section) the screen loop records as soon as the notice is produced.
    remember: tuple[str, str, str] | None = None


class Processor:
    """Shared by the agents: settings, codec, audit chains."""

    def __init__(self, settings: Settings, serde: Serde, audit: AuditChains) -> None:
        self.settings = settings
        self.serde = serde
        self.audit = audit
        self.topics = settings.topics

    def dead_letter(self, src: Source, error: str, chain: int, versions: tuple[str, str]) -> list[Out]:
        record = dead_letter_json(
            error,
            src.value,
            src.instant.isoformat(),
            source_topic=src.topic,
            source_partition=src.partition,
            source_offset=src.offset,
        )
        value = self.serde.encode(self.topics.dead_letter, "DeadLetter", record)
        audit_key, audit_value = self.audit.append(
            chain,
            kind="dead_letter",
            subject_id=src.position,
            input_digest=digest(src.value or b""),
            rules_version=versions[0],
            registry_version=versions[1],
            recorded_at=src.instant.isoformat(),
            body={k: v for k, v in record.items() if k not in ("original", "original_base64")}
            | {"original_sha256": digest(src.value or b"")},
        )
        return [
            Out(self.topics.dead_letter, src.position.encode(), value),
            Out(self.topics.audit, audit_key, audit_value, chain),
        ]


# Messages one record may hold (a producer sends one per record; a few joined are read too).
MAX_MESSAGES_PER_RECORD = 100
# Dead-letters one record may give; beyond, one names them all (see _process_messages).
MAX_DEAD_LETTERS_PER_RECORD = 20


class PaymentProcessor(Processor):
    """The screen loop's work for one payment record."""

    def __init__(
        self,
        settings: Settings,
        serde: Serde,
        audit: AuditChains,
        rules: RuleSet,
        registry: Registry,
        decided: Decided,
        accounts: AccountMapping = NO_MAPPING,
    ) -> None:
        super().__init__(settings, serde, audit)
        self.rules = rules
        self.registry = registry
        self.decided = decided
        self.accounts = accounts

    def process(self, src: Source) -> list[Outcome]:
        """One outcome per payment the record holds: one for a JSON or Avro payment event, one per
        transaction of an ISO 20022 or MT message (schemas/inbound.py), a dead-letter for each
        message or transaction that cannot be screened."""
        versions = (self.rules.version, self.registry.version)
        raw = src.value or b""
        fmt = input_format(raw)
        if fmt in MESSAGE_FORMATS:
            return self._process_messages(src, raw, fmt, versions)
        try:
            payment = parse_payment(raw if fmt == "json" else self.serde.decode(src.topic, "Payment", raw))
        except (CodecError, PaymentError) as exc:
            return [Outcome(self.dead_letter(src, str(exc), src.partition, versions), dead_letter=True)]
        return [self._screen(src, payment, digest(raw), versions)]

    def _process_messages(self, src: Source, raw: bytes, fmt: Format, versions: tuple[str, str]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        messages = list(islice(read_messages(raw, fmt, self.accounts), MAX_MESSAGES_PER_RECORD + 1))
        if len(messages) > MAX_MESSAGES_PER_RECORD:
            # One record's worth of dead-letters and decisions stays bounded: a batch belongs in a
            # file (`screener produce` sends one record per message).
            error = f"too many messages in one record: over {MAX_MESSAGES_PER_RECORD}; send one message per record"
            return [self._dead(src, error, versions)]
        errors: list[str] = []
        for number, message in enumerate(messages, 1):
            where = f"message {number} of {len(messages)}: " if len(messages) > 1 else ""
            if message.error is not None:
                errors.append(where + message.error)
                continue
            for item in message.adapted:
                if item.payment is None:
                    errors.append(f"{where}{item.error}")
                    continue
                try:
                    payment = parse_payment(item.payment)
                except PaymentError as exc:
                    errors.append(f"{where}{item.label}: {exc}")
                    continue
                # The idempotency digest is the adapted payment's, not the record's: one
                # transaction of a message is the same payment whatever else the message holds.
                outcomes.append(self._screen(src, payment, digest(canonical(item.payment).encode()), versions))
        if len(errors) > MAX_DEAD_LETTERS_PER_RECORD:
            # Each dead-letter carries the record's bytes: a record of a thousand unreadable
            # transactions gives one, naming how many and the first of them, not a thousand.
            shown = "; ".join(errors[:5])
            errors = [f"{len(errors)} transactions or messages of this record cannot be screened; the first: {shown}"]
        outcomes.extend(self._dead(src, error, versions) for error in errors)
        return outcomes

    def _dead(self, src: Source, error: str, versions: tuple[str, str]) -> Outcome:
        return Outcome(self.dead_letter(src, error, src.partition, versions), dead_letter=True)

    def _screen(self, src: Source, payment: Payment, input_digest: str, versions: tuple[str, str]) -> Outcome:
        prior = self.decided.get(src.partition, payment.payment_id)
        replayed = False
        if prior is not None:
            prior_digest, prior_json = prior
            if prior_digest != input_digest:
                return self._dead(
                    src,
                    f"payment_id {payment.payment_id!r} was already screened with different content "
                    f"(first input sha256 {prior_digest[:16]}...); the first decision stands",
                    versions,
                )
            decision = json.loads(prior_json)
            decision_json = prior_json
            replayed = True
        else:
            try:
                decision = screen(payment, self.registry, self.rules, src.instant).to_dict()
            except Exception as exc:  # one payment's failure must not stop the worker (SPEC 2.6)
                return self._dead(src, screening_error(exc), versions)
            decision_json = canonical(decision)
            self.decided.put(src.partition, payment.payment_id, input_digest, decision_json)
        outputs = self._outputs(src, decision, decision_json, input_digest)
        return Outcome(outputs, decision["decision"], replayed=replayed)

    def _outputs(self, src: Source, decision: dict[str, Any], decision_json: str, input_digest: str) -> list[Out]:
        t, key = self.topics, decision["payment_id"].encode()
        encoded = self.serde.encode(t.decisions, "Decision", decision)
        outs = [Out(t.decisions, key, encoded)]
        if decision["decision"] == "block":
            outs.append(Out(t.blocks, key, self.serde.encode(t.blocks, "Decision", decision)))
        alert = alert_record(decision, self.settings.alert_severity)
        if alert is not None:
            outs.append(Out(t.alerts, key, self.serde.encode(t.alerts, "Alert", alert)))
        for notice in notice_records(decision):
            outs.append(
                Out(
                    t.notice_requests,
                    notice["account_id"].encode(),
                    self.serde.encode(t.notice_requests, "Notice", notice),
                )
            )
        audit_key, audit_value = self.audit.append(
            src.partition,
            kind="decision",
            subject_id=decision["payment_id"],
            input_digest=input_digest,
            rules_version=decision["rules_version"],
            registry_version=decision["registry_version"],
            recorded_at=decision["screened_at"],
            body_json=decision_json,
        )
        outs.append(Out(t.audit, audit_key, audit_value, src.partition))
        return outs


class NoticeProcessor(Processor):
    """The screen loop's work for a notice request: the notice the first time an (account, section)
    needs one."""

    def process(self, src: Source, sent: MutableMapping[str, str], registry_version: str) -> Outcome:
        try:
            notice = self.serde.decode(src.topic, "Notice", src.value)
        except CodecError as exc:
            return Outcome(self.dead_letter(src, str(exc), src.partition, ("", registry_version)), dead_letter=True)
        key = f"{notice['account_id']}|{notice['section']}"
        if key in sent:
            return Outcome([])
        audit_key, audit_value = self.audit.append(
            src.partition,
            kind="notice",
            subject_id=notice["notice_id"],
            input_digest=digest(src.value or b""),
            rules_version=notice["rules_version"],
            registry_version=registry_version,
            recorded_at=notice["issued_at"],
            body=notice,
        )
        # The notice is sent before the table remembers it: a crash in between repeats the same
        # notice (same id, same bytes), never loses it.
        outs = [
            Out(self.topics.notices, notice["account_id"].encode(), src.value or b""),
            Out(self.topics.audit, audit_key, audit_value, src.partition),
        ]
        return Outcome(outs, remember=(key, notice["notice_id"], notice["section"]))


# A registry record is kept in a table whose changelog holds it base64-encoded (4/3 larger): this
# bound keeps that copy, and the dead-letter of a larger one, under a topic's 1 MB record limit.
MAX_REGISTRY_RECORD_BYTES = 512 * 1024


def registry_key(settings: Settings, topic: str, key: bytes | None) -> str:
    """The canonical key of a registry record: an institution's BIC in its 11-character form (a
    BIC8 and its XXX form are one key, in the view, the table, the changelog and tombstones), an
    account's id as it is. Raises RegistryError for a missing key or an invalid BIC."""
    if not key:
        raise RegistryError("a registry record needs a key (account_id or bic)")
    text = key.decode("utf-8", errors="replace")
    if topic == settings.topics.registry_institutions:
        try:
            return parse_bic(text).bic11
        except BicError as exc:
            raise RegistryError(f"key {text[:64]!r}: {exc}") from None
    return text


def apply_registry_change(
    registry: Registry, serde: Serde, settings: Settings, topic: str, key: bytes | None, value: bytes | None
) -> dict[str, Any]:
    """Apply one registry record (upsert, or tombstone when value is None); return what changed.

    Raises CodecError or RegistryError for a record that cannot be applied.
    """
    t = settings.topics
    if topic not in (t.registry_accounts, t.registry_institutions):
        raise RegistryError(f"not a registry topic: {topic}")
    is_account = topic == t.registry_accounts
    key_text = registry_key(settings, topic, key)
    if value is None:
        if is_account:
            registry.delete_account(key_text)
        else:
            registry.delete_institution(key_text)
        return {"topic": topic, "key": key_text, "op": "delete"}
    if is_account:
        account = parse_account(serde.decode(topic, "Account", value))
        if account.account_id != key_text:
            raise RegistryError(f"key {key_text!r} is not the record's account_id {account.account_id!r}")
        registry.put_account(account)
        return {"topic": topic, "key": key_text, "op": "upsert", "value": account.model_dump(mode="json")}
    record = parse_institution(serde.decode(topic, "RegistryInstitution", value))
    if key_text != record.bic:
        raise RegistryError(f"key {key_text!r} is not the record's bic {record.bic!r}")
    registry.put_institution(record)
    return {"topic": topic, "key": key_text, "op": "upsert", "value": record.model_dump(mode="json")}


class RegistryProcessor(Processor):
    """The registry agent's work: validate and apply a change, and audit it on the registry chain."""

    def __init__(self, settings: Settings, serde: Serde, audit: AuditChains, registry: Registry, chain: int) -> None:
        super().__init__(settings, serde, audit)
        self.registry = registry
        self.chain = chain

    def process(self, src: Source, rules_version: str) -> Outcome:
        try:
            if src.value is not None and len(src.value) > MAX_REGISTRY_RECORD_BYTES:
                raise RegistryError(
                    f"registry record of {len(src.value):,} bytes, limit {MAX_REGISTRY_RECORD_BYTES:,}: not applied "
                    "(its table and changelog copy would exceed the topic's record size)"
                )
            change = apply_registry_change(self.registry, self.serde, self.settings, src.topic, src.key, src.value)
        except (CodecError, RegistryError, ValueError) as exc:
            return Outcome(
                self.dead_letter(src, str(exc), self.chain, (rules_version, self.registry.version)), dead_letter=True
            )
        audit_key, audit_value = self.audit.append(
            self.chain,
            kind="registry",
            subject_id=f"{src.topic}:{change['key']}",
            input_digest=digest(src.value or b""),
            rules_version=rules_version,
            registry_version=self.registry.version,
            recorded_at=src.instant.isoformat(),
            body=change,
        )
        return Outcome([Out(self.topics.audit, audit_key, audit_value, self.chain)])
