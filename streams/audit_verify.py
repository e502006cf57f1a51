"""Verifying the audit trail (SPEC 2.5): walk each chain in offset order and find its first broken
link, judged against the signed checkpoints (streams/checkpoints.py). Used by `screener audit
verify` and by a worker loading a partition, which trusts nothing past a break (31 CFR
1010.630(e): records an examiner can rely on).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

from schemas.codec import CodecError
from streams.audit import GENESIS, record_hash
from streams.checkpoints import Checkpoint
from streams.serde import Serde
from streams.settings import Settings


def _consumer(settings: Settings) -> Consumer:
    conf = settings.kafka_config() | {
        "group.id": f"{settings.app_id}-audit-reader",
        "enable.auto.commit": False,
        "enable.partition.eof": True,
    }
    return Consumer(conf)


@dataclass
class Break:
    partition: int
    offset: int
    audit_id: str
    problem: str


@dataclass
class VerifyReport:
    records: int
    chains: dict[int, int]
    first_break: Break | None
    # Each verified chain's last record: (sequence, hash), what a checkpoint records.
    tips: dict[int, tuple[int, str]] = field(default_factory=dict)


def iter_partition(settings: Settings, partition: int) -> Iterator[tuple[int, bytes | None]]:
    """(offset, value) of every record in one audit partition, up to end-of-partition."""
    consumer = _consumer(settings)
    try:
        consumer.assign([TopicPartition(settings.topics.audit, partition, OFFSET_BEGINNING)])
        while True:
            msg = consumer.poll(10)
            if msg is None:
                raise RuntimeError(f"audit partition {partition}: no end of partition within 10 s")
            error = msg.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    return
                raise RuntimeError(str(error))
            offset = msg.offset()
            if offset is None:  # only a produced, not yet delivered, message lacks one
                raise RuntimeError(f"audit partition {partition}: a record without an offset")
            yield offset, msg.value()
    finally:
        consumer.close()


def check_partition(
    settings: Settings,
    serde: Serde,
    partition: int,
    records: Iterable[tuple[int, bytes | None]],
    checkpoints: Sequence[Checkpoint] = (),
) -> tuple[int, Break | None]:
    """Walk one chain in offset order: (records read, first broken link or None)."""
    trusted, broken = trusted_records(settings, serde, partition, records, checkpoints)
    return len(trusted) + (broken is not None), broken


def trusted_records(
    settings: Settings,
    serde: Serde,
    partition: int,
    records: Iterable[tuple[int, bytes | None]],
    checkpoints: Sequence[Checkpoint] = (),
) -> tuple[list[dict[str, Any]], Break | None]:
    """One chain's records in offset order up to its first broken link (decoded), and the break.

    Against the chain's signed checkpoints (streams/checkpoints.py): a chain whose oldest records
    are archived verifies from its first record when a checkpoint vouches for a record in it; a
    record at a checkpointed sequence must have the checkpointed hash; a chain that ends before a
    checkpointed sequence was truncated, or its broker lost its data.
    """
    _, keys = settings.audit_keyring()
    trusted: list[dict[str, Any]] = []
    expected_seq, prev = 0, GENESIS
    chain = f"{settings.topics.audit}/{partition}"
    anchors = {cp.sequence: cp for cp in checkpoints}
    first_offset = None
    for offset, value in records:
        try:
            rec = serde.decode(settings.topics.audit, "AuditRecord", value)
        except CodecError as exc:
            return trusted, Break(partition, offset, "?", f"unreadable record: {exc}")
        if first_offset is None:
            first_offset = offset
            if int(rec["sequence"]) > 0:
                # The oldest records are gone: retention, if a checkpoint vouches for what is left.
                later = [cp for cp in checkpoints if cp.sequence >= int(rec["sequence"])]
                if not later:
                    return trusted, Break(
                        partition,
                        offset,
                        rec["audit_id"],
                        f"the chain starts at sequence {rec['sequence']}: its records before are missing "
                        "(archived or deleted) and no checkpoint vouches for the rest",
                    )
                expected_seq, prev = int(rec["sequence"]), str(rec["prev_hash"])
        problem = _problem(rec, chain, partition, expected_seq, prev, keys)
        anchor = anchors.get(int(rec["sequence"]))
        if problem is None and anchor is not None and anchor.hash != rec["hash"]:
            problem = f"rewritten: the checkpoint of {anchor.taken_at} holds another hash for this sequence"
        if problem:
            return trusted, Break(partition, offset, rec["audit_id"], problem)
        trusted.append(rec)
        expected_seq, prev = expected_seq + 1, rec["hash"]
    if checkpoints and checkpoints[-1].sequence >= expected_seq:
        cp = checkpoints[-1]
        return trusted, Break(
            partition,
            -1,
            f"{chain}:{cp.sequence}",
            f"truncated: the chain ends before sequence {expected_seq} but the checkpoint of {cp.taken_at} saw "
            f"sequence {cp.sequence} (its tail was cut, or the broker lost its data)",
        )
    return trusted, None


def _problem(
    rec: dict[str, Any], chain: str, partition: int, expected_seq: int, prev: str, keys: dict[str, bytes]
) -> str | None:
    """What is wrong with one record at its place in the chain, or None."""
    key = keys.get(rec.get("key_id") or "")
    if key is None:
        return f"record keyed with {rec.get('key_id')!r}, a key this service does not hold (forged, or removed)"
    if rec["chain"] != chain:
        return f"record of chain {rec['chain']} in partition {partition}"
    if rec["sequence"] != expected_seq:
        return f"sequence {rec['sequence']}, expected {expected_seq} (a record is missing or repeated)"
    if rec["prev_hash"] != prev:
        return "prev_hash does not match the previous record's hash"
    if not hmac.compare_digest(record_hash(rec, key), rec["hash"]):
        return "hash does not match the record's content under its key (altered or forged)"
    return None


def verify(settings: Settings, serde: Serde, checkpoints: dict[str, list[Checkpoint]] | None = None) -> VerifyReport:
    """Read every audit partition from the beginning and report the first broken link, judged
    against the signed checkpoints when given (truncation, rewriting, archived records).

    Every partition the topic has is walked: the chains of the payments partitions, the registry
    chain (partition N) and the casework chain of the workbench (partition N+1; an audit topic from
    before it has none until a worker grows it, streams/topics.py). A checkpointed chain whose
    partition the topic no longer has is walked as an empty chain, so it reports its truncation
    instead of being passed over.
    """
    from confluent_kafka.admin import AdminClient

    meta = AdminClient(settings.kafka_config()).list_topics(settings.topics.audit, timeout=10)
    topic = meta.topics.get(settings.topics.audit)
    if topic is None or topic.error is not None:
        raise RuntimeError(f"audit topic {settings.topics.audit} not found")
    total = 0
    chains: dict[int, int] = {}
    tips: dict[int, tuple[int, str]] = {}
    present = set(topic.partitions)
    for partition in sorted(present | _checkpointed_partitions(settings, checkpoints or {})):
        anchors = (checkpoints or {}).get(f"{settings.topics.audit}/{partition}", [])
        records = iter_partition(settings, partition) if partition in present else iter(())
        trusted, broken = trusted_records(settings, serde, partition, records, anchors)
        total += len(trusted) + (broken is not None)
        if broken is not None:
            return VerifyReport(total, chains, broken, tips)
        chains[partition] = len(trusted)
        if trusted:
            tips[partition] = (int(trusted[-1]["sequence"]), str(trusted[-1]["hash"]))
    return VerifyReport(total, chains, None, tips)


def _checkpointed_partitions(settings: Settings, checkpoints: dict[str, list[Checkpoint]]) -> set[int]:
    """The audit partitions whose chains (`<audit topic>/<partition>`) have checkpoints."""
    prefix = f"{settings.topics.audit}/"
    return {
        int(chain.removeprefix(prefix))
        for chain, cps in checkpoints.items()
        if cps and chain.startswith(prefix) and chain.removeprefix(prefix).isdecimal()
    }
