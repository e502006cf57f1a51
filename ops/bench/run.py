"""`screener bench`: one run, one machine, every figure against baselines measured in the same run.

Order: data; the engine with 1k, 20k and 100k synthetic listed names, then with the real list
(`--sanctions`, by default OFAC's snapshot in ../shared/data/ofac beside the checkout when there is
one); the worker's payment path in process (ops/bench/worker_path.py); the embedded broker; the
plain confluent-kafka loop; the naive Faust agent; the service on each list (latency at 1,000
payments/s, then a backlog at saturation, with CPU per payment by process and by stage); a replay.
A table goes to stderr as each part ends; the last line on stdout is one JSON object.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ops.bench import data, replay_bench, worker_path
from ops.bench.engine_bench import EngineResult, rules_with_list, run_engine
from ops.bench.report import engine_row, say, targets
from ops.bench.service_bench import Plan, ServiceRun, kafka_parts
from rules import load_rules, native, parse_payment
from rules.payment import Payment
from rules.registry import Registry, registry_from_mapping

LIST_SIZES = (1_000, 20_000, 100_000)
HEADLINE_LIST = 20_000
REPLAY_PAYMENTS = 20_000
# The real-list snapshot the developers' guide places beside the checkout.
REAL_LIST_BESIDE_CHECKOUT = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ofac"


def default_real_list() -> Path | None:
    """OFAC's snapshot beside the checkout, when there is one."""
    return REAL_LIST_BESIDE_CHECKOUT if (REAL_LIST_BESIDE_CHECKOUT / "sdn.csv").is_file() else None


def run(
    quick: bool,
    seed: int,
    workdir: Path | None = None,
    workers: int = 1,
    partitions: int = 4,
    sanctions: Path | None = None,
) -> dict[str, Any]:
    """Run every part and return the figures (also printed as a table on stderr)."""
    plan = Plan.for_mode(quick)
    real_list = sanctions or default_real_list()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="screener-bench-") as tmp:
        work = workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        say(f"==> generating data (seed {seed}): {max(LIST_SIZES):,} listed names, payment mix")
        listed = data.blocked_persons(max(LIST_SIZES), seed)
        registry_data = data.registry(seed)
        # Listed people in the payments are drawn from the first 1,000 names: on every list size.
        mix = list(data.payments(plan.engine_payments, seed, listed[: min(LIST_SIZES)], registry_data))
        kinds: dict[str, int] = {}
        for g in mix:
            kinds[g.kind] = kinds.get(g.kind, 0) + 1
        payments = [parse_payment(g.payment) for g in mix]
        registry = registry_from_mapping(registry_data)
        # The same population, another draw: what a running worker has seen before these payments.
        warm_drawn = [
            g.payment
            for g in data.payments(plan.warm_up_payments, seed, listed[: min(LIST_SIZES)], registry_data, run=6)
        ]
        warmup = [parse_payment(p) for p in warm_drawn]
        engine = _engine_parts(plan, seed, listed, registry_data, registry, payments, warmup, real_list)
        path = _worker_path(plan, seed, listed, registry_data, registry, warm_drawn)
        kafka = kafka_parts(plan, seed, listed[:HEADLINE_LIST], registry_data, work, workers, partitions, real_list)
        # At least 20,000 payments: a replay is a batch, and its processes' name caches warm over it.
        count = max(len(mix), REPLAY_PAYMENTS)
        replayed = [g.payment for g in data.payments(count, seed, listed[: min(LIST_SIZES)], registry_data, run=3)]
        say(f"==> replay: {count:,} payments screened under the 20k list less 250 names, replayed with them")
        lookback = replay_bench.run(replayed, listed[:HEADLINE_LIST], load_rules(), registry, work)
        say(
            f"replay  {lookback.per_s_one_job:>8,.0f}/s on 1 process, {lookback.per_s_all_jobs:>8,.0f}/s on "
            f"{lookback.jobs}; transitions {lookback.transitions}"
        )
    result = _figures(engine, kafka, plan, kinds, workers, seed, quick, real_list)
    result |= _path_figures(*path)
    result |= _replay_figures(lookback, result["cpu_us_per_payment_worker"])
    result["seconds"] = round(time.monotonic() - started, 1)
    return result


def _engine_parts(
    plan: Plan,
    seed: int,
    listed: list[data.ListedName],
    registry_data: dict[str, Any],
    registry: Registry,
    payments: list[Payment],
    warmup: list[Payment],
    real_list: Path | None,
) -> dict[str, EngineResult]:
    say(
        f"==> engine, in process, one core (steady state: after {len(warmup):,} other payments of the mix); "
        f"rules modules: {native.state()}"
    )
    base = load_rules()
    out: dict[str, EngineResult] = {}
    for size in LIST_SIZES:
        rules, build_s = rules_with_list(base, listed[:size])
        out[str(size)] = run_engine(rules, registry, payments, build_s, warmup)
        say(engine_row(out[str(size)]))
        if size == HEADLINE_LIST:
            # A cold start: the same payments with every cache empty.
            rules, build_s = rules_with_list(base, listed[:size])
            out["cold"] = run_engine(rules, registry, payments, build_s)
            say(engine_row(out["cold"]) + "  <- cold start, caches empty")
            # The worst case: every party a name never seen before (no cache can help).
            unique = [
                parse_payment(g.payment)
                for g in data.payments(
                    plan.engine_payments, seed, listed[: min(LIST_SIZES)], registry_data, run=4, one_off=1.0
                )
            ]
            rules, build_s = rules_with_list(base, listed[:size])
            out["unique"] = run_engine(rules, registry, unique, build_s, warmup)
            say(engine_row(out["unique"]) + "  <- every party name new")
        del rules
    if real_list is not None:
        started = time.perf_counter()
        real = load_rules(sanctions=real_list)
        out["real"] = run_engine(real, registry, payments, time.perf_counter() - started, warmup)
        say(engine_row(out["real"]) + f"  <- real list: {real.sanctions.source}")
    else:
        say("(no real list: --sanctions not given and no ../shared/data/ofac beside the checkout)")
    return out


def _worker_path(
    plan: Plan,
    seed: int,
    listed: list[data.ListedName],
    registry_data: dict[str, Any],
    registry: Registry,
    warm: list[dict[str, Any]],
) -> tuple[worker_path.PathFigures, worker_path.PathFigures]:
    """The worker's path in process on the saturation run's draw of the mix, after the warm-up."""
    people = listed[: min(LIST_SIZES)]
    drawn = [g.payment for g in data.payments(plan.saturation_payments, seed, people, registry_data, run=3)]
    say(
        f"==> worker path in process, no broker ({len(drawn):,} payments of the saturation run's draw after "
        f"{len(warm):,}; then the last {min(len(drawn), worker_path.KNOWN_PASS):,} of them again, every name known)"
    )
    rules, _ = rules_with_list(load_rules(), listed[:HEADLINE_LIST])
    mix, known = worker_path.run(rules, registry, drawn, warm)
    for label, figures in (("path, names as in the mix", mix), ("path, every name known", known)):
        stages = ", ".join(f"{stage} {us:.1f}" for stage, us in figures.stages_us.items())
        say(f"{label:<44} {figures.total_us:6.1f} us per payment ({stages})")
    return mix, known


def _path_figures(mix: worker_path.PathFigures, known: worker_path.PathFigures) -> dict[str, Any]:
    return {
        # The worker's path in this process (no broker): decode, screen, encode and audit.
        "path_us_per_payment_in_process": round(mix.total_us, 1),
        "path_us_per_payment_by_stage_in_process": {k: round(v, 1) for k, v in mix.stages_us.items()},
        # The last of them again, every name already in the memos: the least this code spends.
        "path_us_per_payment_names_known": round(known.total_us, 1),
        "path_us_per_payment_by_stage_names_known": {k: round(v, 1) for k, v in known.stages_us.items()},
    }


def _figures(
    engine: dict[str, EngineResult],
    kafka: dict[str, Any],
    plan: Plan,
    kinds: dict[str, int],
    workers: int,
    seed: int,
    quick: bool,
    real_list: Path | None,
) -> dict[str, Any]:
    head, cold, unique = engine[str(HEADLINE_LIST)], engine["cold"], engine["unique"]
    small, large = engine[str(min(LIST_SIZES))], engine[str(max(LIST_SIZES))]
    service: ServiceRun = kafka["service_synthetic"]
    real_service: ServiceRun | None = kafka.get("service_real")
    real_engine = engine.get("real")
    naive = kafka["faust_naive"]
    # Each worker's CPU is already per payment of the whole run: their sum is what one payment
    # costs in worker CPU, whichever worker screened it.
    worker_cpu = sum(v for k, v in service.cpu.items() if k.startswith("worker"))
    result: dict[str, Any] = {
        "engine_per_s": round(head.per_s),
        # Whether the engine's modules ran compiled (rules/native.py) in this process and the workers.
        "engine_build": native.state(),
        "engine_p50_ms": round(head.p50_ms, 3),
        "engine_p99_ms": round(head.p99_ms, 3),
        "engine_per_s_real_list": round(real_engine.per_s) if real_engine else None,
        "engine_p99_ms_real_list": round(real_engine.p99_ms, 3) if real_engine else None,
        "real_list": str(real_list.name) if real_list else None,
        "real_list_entries": real_engine.list_size if real_engine else None,
        "real_list_load_s": round(real_engine.index_build_s, 2) if real_engine else None,
        "engine_per_s_cold_start": round(cold.per_s),
        "engine_p99_ms_cold_start": round(cold.p99_ms, 3),
        "engine_per_s_unique_names": round(unique.per_s),
        "engine_p99_ms_unique_names": round(unique.p99_ms, 3),
        "engine_per_s_by_list_size": {str(k): round(engine[str(k)].per_s) for k in LIST_SIZES},
        "engine_p99_ms_by_list_size": {str(k): round(engine[str(k)].p99_ms, 3) for k in LIST_SIZES},
        # Cost per payment with 100x the names, relative to the smallest list (1.0: flat).
        "engine_cost_growth_1k_to_100k": round(small.per_s / large.per_s, 2),
        "e2e_per_s": round(service.e2e.per_s),
        "e2e_per_s_real_list": round(real_service.e2e.per_s) if real_service else None,
        "faust_naive_per_s": round(naive.per_s),
        "kafka_raw_per_s": round(kafka["kafka_raw"].per_s),
        "e2e_vs_faust_naive": round(service.e2e.per_s / naive.per_s, 2),
        "e2e_vs_faust_naive_real_list": round(real_service.e2e.per_s / naive.per_s, 2) if real_service else None,
        # CPU microseconds per payment inside the drain window: each process (Linux /proc), and the
        # worker's screen-loop thread by stage (its own clock); the rest of the worker's CPU is
        # consuming, librdkafka's threads and Faust.
        "cpu_us_per_payment_worker": round(worker_cpu),
        "cpu_us_per_payment_service": {k: round(v) for k, v in service.cpu.items()},
        "cpu_us_per_payment_by_stage": {k: round(v, 1) for k, v in service.stages_us.items()},
        "cpu_us_per_payment_service_real_list": (
            {k: round(v) for k, v in real_service.cpu.items()} if real_service else None
        ),
        "cpu_us_per_payment_by_stage_real_list": (
            {k: round(v, 1) for k, v in real_service.stages_us.items()} if real_service else None
        ),
        "cpu_us_per_event_faust_naive": {k: round(v) for k, v in kafka["cpu_naive"].items()},
        "latency_p50_ms_at_1k": round(service.latency_1k.p50_ms, 1),
        "latency_p99_ms_at_1k": round(service.latency_1k.p99_ms, 1),
        "latency_max_ms_at_1k": round(service.latency_1k.max_ms, 1),
        "latency_p99_ms_at_1k_real_list": round(real_service.latency_1k.p99_ms, 1) if real_service else None,
        "broker_hop_p50_ms_at_1k": round(kafka["broker_hop"].p50_ms, 1),
        "broker_hop_p99_ms_at_1k": round(kafka["broker_hop"].p99_ms, 1),
        # Each successive 5 s of the 1,000/s phase: the broker's growth, and the service's beside it.
        "broker_hop_p99_ms_by_5s_at_1k": list(kafka["broker_hop"].p99_ms_by_5s),
        "latency_p99_ms_by_5s_at_1k": list(service.latency_1k.p99_ms_by_5s),
        "latency_p50_ms_at_saturation": round(service.latency_saturation.p50_ms, 1),
        "latency_p99_ms_at_saturation": round(service.latency_saturation.p99_ms, 1),
        "latency_max_ms_at_saturation": round(service.latency_saturation.max_ms, 1),
        "list_size": HEADLINE_LIST,
        "list_names_indexed": head.names_indexed,
        "payments_engine": plan.engine_payments,
        "payments_e2e": service.e2e.records,
        "payment_mix": dict(sorted(kinds.items())),
        "counterparties": data.CUSTOMERS,
        "one_off_party_share": data.ONE_OFF_SHARE,
        "partitions": kafka["partitions"],
        "workers": workers,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "seed": seed,
        "quick": quick,
        "plan": asdict(plan),
    }
    return result


def _replay_figures(lookback: replay_bench.ReplayFigures, worker_cpu_us: float) -> dict[str, Any]:
    """A replay's rate per core beside a live worker's: the worker screens 1e6 / (its CPU
    microseconds per payment) payments per second of one core (the same run's service phase)."""
    worker_per_core = 1e6 / worker_cpu_us if worker_cpu_us else 0.0
    return {
        "replay_per_s_one_job": round(lookback.per_s_one_job),
        "replay_per_s_all_jobs": round(lookback.per_s_all_jobs),
        "replay_jobs": lookback.jobs,
        "replay_per_core": round(lookback.per_core()),
        "worker_per_core": round(worker_per_core),
        "replay_vs_worker_per_core": round(lookback.per_core() / worker_per_core, 2) if worker_per_core else None,
        "replay_transitions": lookback.transitions,
    }


def print_summary(result: dict[str, Any]) -> None:
    """The targets of the benchmark issue, met or not, then the JSON line."""
    say("==> targets")
    for label, ok in targets(result):
        say(f"  {'met   ' if ok else 'MISSED'}  {label}")
    print(json.dumps(result, sort_keys=False), flush=True)
