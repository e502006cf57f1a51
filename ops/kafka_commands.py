"""What the Kafka operator commands do: publish payments and registry files, decode topics, verify
the audit trail. The CLI (ops/cli/stream.py) parses arguments and calls these."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from confluent_kafka import KafkaException

from ops.file_inputs import MAX_MESSAGE_FILE_BYTES, Prefixed
from rules.bic import parse_bic
from schemas.codec import CodecError, RecordName
from schemas.inbound import MESSAGE_FORMATS, Format, input_format, read_messages
from streams.kafka_io import Sender, read_partitions, tail
from streams.serde import Serde
from streams.settings import Settings
from streams.topics import ensure_topics


def record_name_for(settings: Settings, topic: str) -> RecordName | None:
    """Which record a topic holds (None for the internal notice requests, which hold notices)."""
    t = settings.topics
    names: dict[str, RecordName] = {
        t.payments: "Payment",
        t.decisions: "Decision",
        t.blocks: "Decision",
        t.alerts: "Alert",
        t.notices: "Notice",
        t.notice_requests: "Notice",
        t.audit: "AuditRecord",
        t.dead_letter: "DeadLetter",
        t.registry_accounts: "Account",
        t.registry_institutions: "RegistryInstitution",
        t.dispositions: "Disposition",
        t.releases: "Release",
    }
    return names.get(topic)


def produce_payments(
    settings: Settings, sources: IO[bytes] | Sequence[tuple[str, IO[bytes]]], topic: str | None, raw: bool
) -> tuple[int, int, list[str]]:
    """Publish payments from JSON Lines, ISO 20022 or MT input (format told from the content).

    A JSON payment event is published keyed by payment_id, Avro unless raw; a line that is not one
    is published as it is, so that the service dead-letters it and nothing is lost. An ISO 20022
    or MT message is published unchanged, one record per message, keyed by its first payment's id
    when it has one. Returns (published, sent as they were, delivery errors)."""
    ensure_topics(settings)
    serde = Serde(settings)
    target = topic or settings.topics.payments
    sender = Sender(settings)
    as_is = 0
    for name, source in sources if isinstance(sources, Sequence) else [("", sources)]:
        head = source.read(64)
        fmt = input_format(head)
        if fmt in MESSAGE_FORMATS:
            as_is += _produce_messages(sender, target, name, head + source.read(MAX_MESSAGE_FILE_BYTES), fmt)
        else:
            lines = io.BufferedReader(Prefixed(head, source))
            as_is += _produce_lines(sender, serde, target, name, lines, raw)
    sender.flush()
    return sender.sent, as_is, sender.errors


def _send(sender: Sender, target: str, key: bytes | None, value: bytes, where: str) -> None:
    try:
        sender.send(target, key, value)
    except KafkaException as exc:  # too large for the topic: reported, and the rest goes on
        sender.errors.append(f"{where}: not sent ({len(value):,} bytes): {exc}")


def _produce_messages(sender: Sender, target: str, name: str, data: bytes, fmt: Format) -> int:
    """Each message as it is; returns how many were sent without a payment id to key them."""
    unkeyed = 0
    for message in read_messages(data, fmt):
        ids = [a.payment["payment_id"] for a in message.adapted if a.payment and a.payment.get("payment_id")]
        key = str(ids[0]).encode() if ids else None
        unkeyed += key is None
        _send(sender, target, key, message.data, f"{name} at byte {message.offset}".lstrip())
    return unkeyed


def _produce_lines(sender: Sender, serde: Serde, target: str, name: str, source: IO[bytes], raw: bool) -> int:
    raw_count = 0
    for number, line in enumerate(source, 1):
        data = line.rstrip(b"\r\n")
        if not data.strip():
            continue
        key: bytes | None = None
        value = data
        try:
            record = json.loads(data)
            if isinstance(record, dict) and isinstance(record.get("payment_id"), str):
                key = record["payment_id"].encode()
                if not raw:
                    value = serde.encode(target, "Payment", record)
        except Exception:  # noqa: BLE001 - any line that is not a payment event (deep nesting, a 5,000-digit number): sent as it is
            key, value = None, data
        if value is data:
            raw_count += 1
        _send(sender, target, key, value, f"{name} line {number}".lstrip())
    return raw_count


def decoded_records(
    settings: Settings, topic: str, from_beginning: bool, count: int | None, timeout: float
) -> Iterator[dict[str, Any]]:
    """The records of one of our topics in their JSON form, with their position."""
    name = record_name_for(settings, topic)
    if name is None:
        raise ValueError(f"{topic} is not one of the screener's topics")
    serde = Serde(settings)
    for msg in tail(settings, topic, from_beginning, count, timeout):
        value = msg.value()
        position = {
            "topic": msg.topic(),
            "partition": msg.partition(),
            "offset": msg.offset(),
            "key": msg.key().decode("utf-8", "replace") if msg.key() else None,
        }
        if value is None:
            yield {"_position": position, "tombstone": True}
            continue
        try:
            yield serde.decode(topic, name, value) | {"_position": position}
        except CodecError as exc:
            yield {"_position": position, "undecodable": str(exc)}


def load_registry(settings: Settings, path: Path, delete_missing: bool = True) -> dict[str, int]:
    """Publish a registry file: an upsert per record, a tombstone per key no longer in the file."""
    from ops.screen_file import load_registry_file

    registry = load_registry_file(path)
    ensure_topics(settings)
    serde = Serde(settings)
    t = settings.topics
    sender = Sender(settings)
    accounts = {a.account_id: a for a in registry.accounts()}
    institutions = {i.bic: i for i in registry.institutions()}
    for account_id, account in accounts.items():
        sender.send(
            t.registry_accounts,
            account_id.encode(),
            serde.encode(t.registry_accounts, "Account", account.model_dump(mode="json")),
        )
    for bic, record in institutions.items():
        sender.send(
            t.registry_institutions,
            bic.encode(),
            serde.encode(t.registry_institutions, "RegistryInstitution", record.model_dump(mode="json")),
        )
    deleted = 0
    if delete_missing:
        for topic, keep in ((t.registry_accounts, set(accounts)), (t.registry_institutions, set(institutions))):
            for key in _live_keys(settings, topic) - keep:
                sender.send(topic, key.encode(), None)
                deleted += 1
    sender.flush()
    if sender.errors:
        raise RuntimeError("; ".join(sender.errors[:3]))
    return {"accounts": len(accounts), "institutions": len(institutions), "tombstones": deleted}


def _live_keys(settings: Settings, topic: str) -> set[str]:
    """The keys a registry topic holds a live record for, read to its end in bulk (one consumer,
    no idle wait at the end)."""
    live: set[str] = set()
    records = read_partitions(settings, [(topic, 0)])[(topic, 0)]
    for _, raw_key, value in records:
        key = raw_key.decode("utf-8", "replace") if raw_key else ""
        if topic == settings.topics.registry_institutions and key:
            key = parse_bic(key).bic11
        if value is None:
            live.discard(key)
        else:
            live.add(key)
    return live
