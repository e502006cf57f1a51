"""The Kafka side of `screener replay` (issue 14): past payments, the decisions recorded for them,
and the registry as it stood at an instant, from the topics or from the audit trail.

Nothing here joins a consumer group, commits or writes; every read is bounded by the ends its
partitions had when it started (ops/replay/kafka_read.py). ReplaySourceError, one line, for a
broker that does not answer, a missing topic or inconsistent arguments.

(About 300 lines: the three sources share the bounded read, its arguments and its errors.)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from confluent_kafka import TIMESTAMP_NOT_AVAILABLE

from ops.replay.compare import decision_problem
from ops.replay.kafka_read import (
    ReplaySourceError,
    aware,
    epoch_ms,
    extents,
    note,
    open_consumer,
    parse_instant,
    partitions_of,
    read_all,
    read_range,
    time_starts,
    where,
)
from rules import Registry, RegistryError
from schemas.codec import CodecError, RecordName, encode_single_object
from streams.records import Source
from streams.registry_processing import MAX_REGISTRY_RECORD_BYTES, apply_registry_change
from streams.serde import Serde
from streams.settings import Settings
from streams.topics import audit_partition_for_registry

__all__ = [
    "RegistryAt",
    "ReplaySourceError",
    "TopicRecord",
    "payment_records",
    "recorded_decisions_from_audit",
    "recorded_decisions_from_topic",
    "registry_at",
]


# A record as read, with where it was read from: the worker's own record type.
TopicRecord = Source


@dataclass(frozen=True, slots=True)
class RegistryAt:
    """The registry rebuilt for an instant, and what could not go into it."""

    registry: Registry
    applied: int
    skipped: int
    # Why records were skipped, bounded (kafka_read.note).
    errors: tuple[str, ...]
    # What makes the rebuilt registry less certain than the records applied suggest.
    notes: tuple[str, ...]

    @property
    def version(self) -> str:
        return self.registry.version


def payment_records(
    settings: Settings,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    from_offset: int | None = None,
    to_offset: int | None = None,
    topic: str | None = None,
) -> Iterator[TopicRecord]:
    """Records of the payments topic (or `topic`), every partition, partition by partition in
    offset order: record timestamp in [since, until), offset in [from_offset, to_offset), read to
    the ends the partitions had at this call. Arguments, broker and topic are checked here, before
    the first record is asked for."""
    if since is not None and until is not None and aware(since) >= aware(until):
        raise ReplaySourceError(f"since ({since.isoformat()}) must be before until ({until.isoformat()})")
    for name, bound in (("from_offset", from_offset), ("to_offset", to_offset)):
        if bound is not None and bound < 0:
            raise ReplaySourceError(f"{name} must be 0 or more, not {bound}")
    if from_offset is not None and to_offset is not None and from_offset >= to_offset:
        raise ReplaySourceError(f"from_offset ({from_offset}) must be below to_offset ({to_offset})")
    name = topic or settings.topics.payments
    since_ms = epoch_ms(since, up=True) if since is not None else None
    until_ms = epoch_ms(until, up=True) if until is not None else None
    consumer = open_consumer(settings, "payments")
    try:
        spans = extents(consumer, name, partitions_of(consumer, settings, name))
        starts = time_starts(consumer, name, spans, since_ms)
    finally:
        consumer.close()
    plan = [
        (p, max(first, from_offset or 0, starts.get(p, first)), end if to_offset is None else min(end, to_offset))
        for p, (first, end) in sorted(spans.items())
    ]
    return _read_plan(settings, name, plan, since_ms, until_ms)


def _read_plan(
    settings: Settings, topic: str, plan: list[tuple[int, int, int]], since_ms: int | None, until_ms: int | None
) -> Iterator[TopicRecord]:
    consumer = open_consumer(settings, "payments")
    try:
        for partition, start, stop in plan:
            for msg in read_range(consumer, topic, partition, start, stop):
                kind, ts = msg.timestamp()
                if since_ms is not None or until_ms is not None:
                    if kind == TIMESTAMP_NOT_AVAILABLE:
                        continue  # cannot be placed in time, so not in any window
                    if (since_ms is not None and ts < since_ms) or (until_ms is not None and ts >= until_ms):
                        continue
                yield Source(topic, partition, msg.offset() or 0, msg.key(), msg.value(), ts / 1000)
    finally:
        consumer.close()


def recorded_decisions_from_topic(
    settings: Settings, topic: str | None = None, *, errors: list[str] | None = None
) -> dict[str, dict[str, Any]]:
    """payment_id -> the first decision recorded for it on the decisions topic (or `topic`), in the
    JSON form of rules.decision.Decision.to_dict(). Records that cannot be decoded are skipped and
    described in `errors` (bounded) when it is given."""
    name, serde = topic or settings.topics.decisions, Serde(settings)
    return _first_decisions(settings, name, lambda value: serde.decode(name, "Decision", value), errors)


def recorded_decisions_from_audit(settings: Settings, *, errors: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """The same from the audit trail: each `decision` record's body is the decision's canonical
    JSON, the whole wire form (streams/processing.py). The chains are not verified here."""
    topic, serde = settings.topics.audit, Serde(settings)

    def decision_of(value: bytes | None) -> dict[str, Any] | None:
        record = serde.decode(topic, "AuditRecord", value)
        if record["kind"] != "decision":
            return None
        body = json.loads(record["body"])
        if not isinstance(body, dict) or body.get("payment_id") != record["subject_id"]:
            raise ValueError(f"body is not the decision of {record['subject_id']!r}")
        return body

    return _first_decisions(settings, topic, decision_of, errors)


def _first_decisions(
    settings: Settings,
    topic: str,
    decision_of: Callable[[bytes | None], dict[str, Any] | None],
    errors: list[str] | None,
) -> dict[str, dict[str, Any]]:
    """Each payment's first decision. One partition's repeats are the first decision again; a
    payment_id in two payments partitions (a producer not keying by it) is decided in each, and
    the one screened first is the recorded one, whichever source is read."""
    out: dict[str, dict[str, Any]] = {}
    sink = errors if errors is not None else []
    consumer = open_consumer(settings, "decisions")
    try:
        for msg in read_all(consumer, settings, topic):
            try:
                decision = decision_of(msg.value())
            except (CodecError, ValueError, RecursionError) as exc:  # json.JSONDecodeError is a ValueError
                note(sink, f"{where(msg)}: {exc}")
                continue
            if decision is None:
                continue
            problem = decision_problem(decision)
            if problem is not None:
                note(sink, f"{where(msg)}: {problem}")
                continue
            prior = out.get(decision["payment_id"])
            if prior is None or _earlier(decision, prior):
                out[decision["payment_id"]] = decision
    finally:
        consumer.close()
    return out


def _earlier(decision: dict[str, Any], prior: dict[str, Any]) -> bool:
    new, old = parse_instant(decision.get("screened_at")), parse_instant(prior.get("screened_at"))
    return new is not None and old is not None and new < old


def registry_at(settings: Settings, instant: datetime, source: Literal["topics", "audit"] = "topics") -> RegistryAt:
    """The correspondent-account registry as it stood at `instant` (SPEC 2.3), from the registry
    topics (records with timestamp <= instant, in offset order, as the worker applies them) or from
    the registry chain of the audit trail (changes whose registry record's timestamp, `recorded_at`,
    is <= instant). A compacted topic may have lost values later replaced; the trail keeps them."""
    if source == "topics":
        return _from_topics(settings, epoch_ms(instant))
    if source == "audit":
        return _from_audit(settings, aware(instant))
    raise ReplaySourceError(f"registry source must be 'topics' or 'audit', not {source!r}")


def _from_topics(settings: Settings, limit_ms: int) -> RegistryAt:
    registry, serde = Registry(), Serde(settings)
    errors: list[str] = []
    notes: list[str] = []
    applied = skipped = 0
    consumer = open_consumer(settings, "registry")
    try:
        for topic in (settings.topics.registry_accounts, settings.topics.registry_institutions):
            for partition, (first, end) in sorted(
                extents(consumer, topic, partitions_of(consumer, settings, topic)).items()
            ):
                # A removed record matters only if what replaced it came after the instant.
                first_gap = 0 if first > 0 else None
                expected, last_later = first, -1
                for msg in read_range(consumer, topic, partition, first, end):
                    offset = msg.offset() or 0
                    if offset != expected and first_gap is None:
                        first_gap = expected
                    expected = offset + 1
                    kind, ts = msg.timestamp()
                    if kind != TIMESTAMP_NOT_AVAILABLE and ts > limit_ms:
                        last_later = offset
                        continue
                    value = msg.value()
                    try:
                        if kind == TIMESTAMP_NOT_AVAILABLE:
                            raise RegistryError("no timestamp: cannot tell whether it came before the instant")
                        if value is not None and len(value) > MAX_REGISTRY_RECORD_BYTES:
                            raise RegistryError(f"{len(value):,} bytes, over the worker's limit")
                        apply_registry_change(registry, serde, settings, topic, msg.key(), value)
                        applied += 1
                    except (CodecError, ValueError) as exc:  # RegistryError is a ValueError
                        skipped += 1
                        note(errors, f"{where(msg)}: {exc}")
                if first_gap is not None and last_later > first_gap:
                    notes.append(
                        f"{topic}/{partition}: records from offset {first_gap} on were removed (compaction or "
                        "retention) and later ones postdate the instant: values held then may be missing; "
                        "the audit trail keeps them"
                    )
    finally:
        consumer.close()
    return RegistryAt(registry, applied, skipped, tuple(errors), tuple(notes))


def _from_audit(settings: Settings, instant: datetime) -> RegistryAt:
    topic, chain = settings.topics.audit, audit_partition_for_registry(settings)
    registry, serde = Registry(), Serde(settings)
    errors: list[str] = []
    notes: list[str] = []
    applied = skipped = 0
    last: dict[str, Any] | None = None
    # A change after the instant, passed over before the last one applied, is in that one's
    # recorded registry_version: the versions can then no longer be compared.
    passed_over = comparable = False
    consumer = open_consumer(settings, "audit")
    try:
        if chain not in partitions_of(consumer, settings, topic):
            raise ReplaySourceError(
                f"{topic} has no partition {chain}, the registry chain for {settings.partitions} partitions"
            )
        first, end = extents(consumer, topic, [chain])[chain]
        if first > 0:
            notes.append(f"{topic}/{chain} starts at offset {first}: changes in older (archived) records are missing")
        for msg in read_range(consumer, topic, chain, first, end):
            try:
                record = serde.decode(topic, "AuditRecord", msg.value())
                if record["kind"] != "registry":
                    continue
                at = parse_instant(record["recorded_at"])
                if at is None:
                    raise ValueError(f"recorded_at {record['recorded_at']!r} is not an instant")
                if at > instant:
                    passed_over = True
                    continue
                _apply_audited(registry, serde, settings, json.loads(record["body"]))
            except (CodecError, ValueError, KeyError, TypeError) as exc:
                skipped += 1
                note(errors, f"{where(msg)}: {exc!r}" if isinstance(exc, KeyError) else f"{where(msg)}: {exc}")
                continue
            applied += 1
            last, comparable = record, not passed_over
    finally:
        consumer.close()
    if last is not None and comparable and last["registry_version"] != registry.version:
        notes.append(
            f"rebuilt registry {registry.version} is not the {last['registry_version']} the worker recorded "
            f"at {last['audit_id']}: the trail lacks changes it applied"
        )
    return RegistryAt(registry, applied, skipped, tuple(errors), tuple(notes))


def _apply_audited(registry: Registry, serde: Serde, settings: Settings, body: dict[str, Any]) -> None:
    """Apply one audited change through the worker's own path: the body holds the validated record
    as JSON, encoded again so that key rules and validation are apply_registry_change's."""
    topic, op = body["topic"], body["op"]
    if op not in ("upsert", "delete"):
        raise RegistryError(f"unknown registry change {op!r}")
    value = None
    if op == "upsert":
        name: RecordName = "Account" if topic == settings.topics.registry_accounts else "RegistryInstitution"
        value = encode_single_object(name, body["value"])
    apply_registry_change(registry, serde, settings, topic, str(body["key"]).encode(), value)
