"""The engine alone, in this process, on one core: payments per second and per-payment latency."""

from __future__ import annotations

import gc
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ops.bench.data import ListedName
from ops.bench.kafka_bench import percentile
from rules import RuleSet, screen
from rules.payment import Payment
from rules.registry import Registry
from rules.sanctions import SanctionsList
from rules.sanctions_files import persons_from_entries


@dataclass(frozen=True)
class EngineResult:
    """One engine run over the payment mix with one list size."""

    list_size: int
    names_indexed: int
    index_build_s: float
    payments: int
    per_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    decisions: dict[str, int] = field(default_factory=dict)


def rules_with_list(base: RuleSet, listed: list[ListedName]) -> tuple[RuleSet, float]:
    """base with its blocked-persons list replaced by `listed` (indexes built fresh, caches empty)."""
    started = time.perf_counter()
    persons = persons_from_entries(x.entry for x in listed)
    sanctions = SanctionsList(f"synthetic, {len(listed)} entries", persons, version=f"bench-{len(listed)}")
    rules = base.with_sanctions(sanctions)
    return rules, time.perf_counter() - started


def run_engine(
    rules: RuleSet, registry: Registry, payments: list[Payment], build_s: float, warmup: list[Payment] | None = None
) -> EngineResult:
    """Screen every payment once, timing each.

    With `warmup`, those payments are screened first, untimed: the steady state of a running
    worker, whose caches hold the names it has seen (recurring counterparties and banks), while
    names new to it still cost a full search. Without it, the caches start empty (a cold start).
    Long-lived objects are frozen out of the garbage collector, as the worker does
    (streams/worker.py).
    """
    as_of = datetime(2025, 6, 10, 18, 0, tzinfo=UTC)
    for payment in warmup or ():
        screen(payment, registry, rules, as_of)
    gc.collect()
    gc.freeze()
    latencies: list[float] = []
    decisions: Counter[str] = Counter()
    clock = time.perf_counter
    try:
        started = clock()
        for payment in payments:
            t0 = clock()
            decision = screen(payment, registry, rules, as_of)
            latencies.append(clock() - t0)
            decisions[decision.decision] += 1
        elapsed = clock() - started
    finally:
        gc.unfreeze()
    ms = [x * 1000 for x in latencies]
    return EngineResult(
        list_size=len({p.id for p in rules.sanctions.persons}),
        names_indexed=len(rules.sanctions.index),
        index_build_s=build_s,
        payments=len(payments),
        per_s=len(payments) / elapsed,
        p50_ms=statistics.median(ms),
        p99_ms=percentile(ms, 0.99),
        max_ms=max(ms),
        decisions=dict(sorted(decisions.items())),
    )
