"""The engine on a real list (`screener bench --list DIR`): load time and steady-state throughput
on one core, against the packaged list in the same run (ratio reported), on the benchmark's
payment mix."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ops.bench import data
from ops.bench.engine_bench import run_engine
from rules import load_rules, parse_payment
from rules.registry import registry_from_mapping

PAYMENTS = 20_000
WARM_UP = 20_000


def run(listed: Path, seed: int, quick: bool) -> dict[str, Any]:
    """Figures for the packaged list and for `listed`, the same payments through both."""
    count = PAYMENTS // 4 if quick else PAYMENTS
    registry_data = data.registry(seed)
    registry = registry_from_mapping(registry_data)
    people = data.blocked_persons(200, seed)
    payments = [parse_payment(g.payment) for g in data.payments(count, seed, people, registry_data, run=1)]
    warmup = [parse_payment(g.payment) for g in data.payments(WARM_UP, seed, people, registry_data, run=0)]
    started = time.perf_counter()
    rules = load_rules(sanctions=listed)
    load_s = time.perf_counter() - started
    baseline = run_engine(load_rules(), registry, payments, 0.0, warmup)
    real = run_engine(rules, registry, payments, load_s, warmup)
    return {
        "list": rules.sanctions.source,
        "list_entries": real.list_size,
        "list_names_indexed": real.names_indexed,
        "list_load_s": round(load_s, 2),
        "engine_per_s_packaged_list": round(baseline.per_s),
        "engine_per_s_this_list": round(real.per_s),
        "engine_p99_ms_this_list": round(real.p99_ms, 3),
        "ratio_to_packaged_list": round(real.per_s / baseline.per_s, 2),
        "payments": count,
        "decisions_this_list": real.decisions,
        "seed": seed,
    }
