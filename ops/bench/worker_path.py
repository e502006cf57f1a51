"""The worker's payment path in this process, without a broker: where the floor of its CPU is.

The same code a worker runs for each record (streams/processing.py `PaymentProcessor.process`:
Avro decode and validation, the engine, the decision's encodings, the audit record), on Avro
records of the bench's mix, after the same warm-up as the engine's steady state. Then the last
KNOWN_PASS of those payments again under new payment ids, so that every name is one the memos
already hold: what the path costs when no name is new, the least a worker can spend on a payment
with this code. The service's worker spends more: consuming, producing and librdkafka's threads.
"""

from __future__ import annotations

import gc
import secrets
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import SecretStr

from rules.catalog import RuleSet
from rules.registry import Registry
from streams.audit import AuditChains
from streams.processing import PaymentProcessor
from streams.records import Outcome, Source
from streams.serde import Serde
from streams.settings import Settings
from streams.stages import Stages
from streams.stores import Decided

# The instant the records carry (the engine phase's, so the date rules decide alike).
AS_OF = datetime(2025, 6, 10, 18, 0, tzinfo=UTC)
# The second pass takes the last payments of the first, no more than the memos surely still hold
# (rules/recent_memo.py keeps two generations of 150,000 entries; a payment adds a few).
KNOWN_PASS = 15_000


@dataclass(frozen=True)
class PathFigures:
    """Microseconds of this thread's CPU per payment, by stage and in all."""

    stages_us: dict[str, float]
    payments: int
    decisions: dict[str, int]

    @property
    def total_us(self) -> float:
        return sum(self.stages_us.values())


def _sources(
    serde: Serde, topic: str, partitions: int, payments: Iterable[Mapping[str, Any]], tag: str
) -> list[Source]:
    out: list[Source] = []
    stamp = AS_OF.timestamp()
    for i, payment in enumerate(payments):
        record = dict(payment)
        record["payment_id"] = f"{record['payment_id']}{tag}"
        value = serde.encode(topic, "Payment", record)
        out.append(Source(topic, i % partitions, i, str(record["payment_id"]).encode(), value, stamp))
    return out


def _kind(outcome: Outcome) -> str:
    if outcome.dead_letter:
        return "dead-letter"
    if outcome.replayed:
        return "repeat"
    return str(outcome.decision)


def _measure(processor: PaymentProcessor, sources: list[Source]) -> PathFigures:
    # A clock of its own for each pass: its sums are this pass's alone.
    stages = processor.stages = Stages()
    decisions: Counter[str] = Counter()
    for src in sources:
        for outcome in processor.process(src):
            decisions[_kind(outcome)] += 1
    if decisions.keys() - {"pass", "review", "block"}:
        # A figure over dead-letters or repeats would not be the path of a payment screened.
        raise RuntimeError(f"the worker path did not screen every payment: {dict(decisions)}")
    # No producer in process: the produce stage is the service's alone.
    per_stage: dict[str, float] = {s: us for s, us in stages.per_payment_us().items() if s != "produce"}
    return PathFigures(per_stage, stages.payments, dict(decisions))


def run(
    rules: RuleSet,
    registry: Registry,
    payments: Sequence[Mapping[str, Any]],
    warmup: Sequence[Mapping[str, Any]],
    partitions: int = 4,
) -> tuple[PathFigures, PathFigures]:
    """The path on the mix after the warm-up, then on the last KNOWN_PASS of them, every name known.

    `rules` should be fresh (its memos empty): the warm-up is what fills them.
    """
    # A key made for this run and dropped with it: the records go nowhere.
    key = SecretStr(secrets.token_hex(32))
    settings = Settings(partitions=partitions, audit_keys={"bench": key}, audit_key_id="bench")
    serde = Serde(settings)
    chains = AuditChains(settings, serde)
    for partition in range(partitions):
        chains.start_at(partition)
    processor = PaymentProcessor(settings, serde, chains, rules, registry, Decided())
    topic = settings.topics.payments
    warm = _sources(serde, topic, partitions, warmup, "-w")
    mix = _sources(serde, topic, partitions, payments, "-m")
    again = _sources(serde, topic, partitions, payments[-KNOWN_PASS:], "-k")
    gc.collect()
    gc.freeze()  # as the worker does (streams/worker.py): the rules stay out of the collector's sight
    try:
        for src in warm:
            processor.process(src)
        return _measure(processor, mix), _measure(processor, again)
    finally:
        gc.unfreeze()
