"""`screener bench`: one run, one machine, every figure against baselines measured in the same run.

Order: data; the engine with 1k, 20k and 100k listed names; the embedded broker; the plain
confluent-kafka loop; the naive Faust agent; the service (latency at 1,000 payments/s, then a
backlog at saturation). A table goes to stderr as each part ends; the last line on stdout is one
JSON object.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from ops.bench import data
from ops.bench.cpu import CpuMeter
from ops.bench.engine_bench import EngineResult, rules_with_list, run_engine
from ops.bench.kafka_bench import (
    Latency,
    Rate,
    cpu_per_record,
    create_topics,
    faust_naive,
    kafka_raw_loop,
    produce_all,
    service_run,
)
from rules import load_rules, parse_payment
from rules.registry import registry_from_mapping

LIST_SIZES = (1_000, 20_000, 100_000)
HEADLINE_LIST = 20_000
# Payments screened before the engine is timed (steady state); the same in both modes, so that the
# quick run's steady state is the full run's.
WARM_UP_PAYMENTS = 20_000


@dataclass(frozen=True)
class Plan:
    """How much work each part does."""

    engine_payments: int
    baseline_records: int
    latency_seconds: float
    saturation_payments: int

    @classmethod
    def for_mode(cls, quick: bool) -> Plan:
        if quick:
            return cls(engine_payments=3_000, baseline_records=20_000, latency_seconds=5, saturation_payments=15_000)
        return cls(engine_payments=20_000, baseline_records=60_000, latency_seconds=20, saturation_payments=60_000)


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _engine_row(r: EngineResult) -> str:
    return (
        f"engine  list {r.list_size:>7,}  ({r.names_indexed:>7,} names, index {r.index_build_s:4.1f} s)  "
        f"{r.per_s:>8,.0f} payments/s  p50 {r.p50_ms:6.3f} ms  p99 {r.p99_ms:6.3f} ms  max {r.max_ms:6.1f} ms  "
        f"{r.decisions}"
    )


def _rate_row(label: str, rate: Rate) -> str:
    return f"{label:<44} {rate.per_s:>8,.0f} records/s  ({rate.records:,} records)"


def _cpu_row(label: str, cpu: dict[str, float]) -> str:
    parts = ", ".join(f"{name} {us:,.0f} us" for name, us in cpu.items())
    return f"{label:<44} {parts}  (drain window; 2 cores shared)"


def _latency_row(label: str, lat: Latency) -> str:
    return (
        f"{label:<44} p50 {lat.p50_ms:6.1f} ms  p99 {lat.p99_ms:6.1f} ms  max {lat.max_ms:7.1f} ms  "
        f"(offered {lat.achieved_per_s:,.0f}/s, {lat.records:,} payments)"
    )


def run(quick: bool, seed: int, workdir: Path | None = None, workers: int = 1, partitions: int = 4) -> dict[str, Any]:
    """Run every part and return the figures (also printed as a table on stderr)."""
    plan = Plan.for_mode(quick)
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
        base = load_rules()

        # The same population, another draw: what a running worker has seen before these payments.
        warmup = [
            parse_payment(g.payment)
            for g in data.payments(WARM_UP_PAYMENTS, seed, listed[: min(LIST_SIZES)], registry_data, run=6)
        ]
        say(f"==> engine, in process, one core (steady state: after {len(warmup):,} other payments of the mix)")
        engine: dict[int, EngineResult] = {}
        for size in LIST_SIZES:
            rules, build_s = rules_with_list(base, listed[:size])
            engine[size] = run_engine(rules, registry, payments, build_s, warmup)
            say(_engine_row(engine[size]))
            if size == HEADLINE_LIST:
                # A cold start: the same payments with every cache empty.
                rules, build_s = rules_with_list(base, listed[:size])
                cold = run_engine(rules, registry, payments, build_s)
                say(_engine_row(cold) + "  <- cold start, caches empty")
                # The worst case: every party a name never seen before (no cache can help).
                unique = [
                    parse_payment(g.payment)
                    for g in data.payments(
                        plan.engine_payments, seed, listed[: min(LIST_SIZES)], registry_data, run=4, one_off=1.0
                    )
                ]
                rules, build_s = rules_with_list(base, listed[:size])
                unique_names = run_engine(rules, registry, unique, build_s, warmup)
                say(_engine_row(unique_names) + "  <- every party name new")
            del rules

        kafka = _kafka_parts(plan, seed, listed[:HEADLINE_LIST], registry_data, work, workers, partitions)
    head = engine[HEADLINE_LIST]
    lat_1k: Latency = kafka["latency_1k"]
    lat_sat: Latency = kafka["latency_saturation"]
    e2e: Rate = kafka["e2e"]
    naive: Rate = kafka["faust_naive"]
    raw: Rate = kafka["kafka_raw"]
    small, large = engine[min(LIST_SIZES)], engine[max(LIST_SIZES)]
    result: dict[str, Any] = {
        "engine_per_s": round(head.per_s),
        "engine_p50_ms": round(head.p50_ms, 3),
        "engine_p99_ms": round(head.p99_ms, 3),
        "engine_per_s_cold_start": round(cold.per_s),
        "engine_p99_ms_cold_start": round(cold.p99_ms, 3),
        "engine_per_s_unique_names": round(unique_names.per_s),
        "engine_p99_ms_unique_names": round(unique_names.p99_ms, 3),
        "engine_per_s_by_list_size": {str(k): round(v.per_s) for k, v in engine.items()},
        "engine_p99_ms_by_list_size": {str(k): round(v.p99_ms, 3) for k, v in engine.items()},
        # Cost per payment with 100x the names, relative to the smallest list (1.0: flat).
        "engine_cost_growth_1k_to_100k": round(small.per_s / large.per_s, 2),
        "e2e_per_s": round(e2e.per_s),
        "faust_naive_per_s": round(naive.per_s),
        "kafka_raw_per_s": round(raw.per_s),
        "e2e_vs_faust_naive": round(e2e.per_s / naive.per_s, 2),
        # CPU microseconds per record inside each drain window, by process (Linux /proc).
        "cpu_us_per_payment_service": {k: round(v) for k, v in kafka["cpu_service"].items()},
        "cpu_us_per_event_faust_naive": {k: round(v) for k, v in kafka["cpu_naive"].items()},
        "latency_p50_ms_at_1k": round(lat_1k.p50_ms, 1),
        "broker_hop_p50_ms_at_1k": round(kafka["broker_hop"].p50_ms, 1),
        "broker_hop_p99_ms_at_1k": round(kafka["broker_hop"].p99_ms, 1),
        "latency_p99_ms_at_1k": round(lat_1k.p99_ms, 1),
        "latency_max_ms_at_1k": round(lat_1k.max_ms, 1),
        "latency_p50_ms_at_saturation": round(lat_sat.p50_ms, 1),
        "latency_p99_ms_at_saturation": round(lat_sat.p99_ms, 1),
        "latency_max_ms_at_saturation": round(lat_sat.max_ms, 1),
        "list_size": HEADLINE_LIST,
        "list_names_indexed": head.names_indexed,
        "payments_engine": plan.engine_payments,
        "payments_e2e": e2e.records,
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
        "seconds": round(time.monotonic() - started, 1),
        "plan": asdict(plan),
    }
    return result


def _kafka_parts(
    plan: Plan,
    seed: int,
    listed: list[data.ListedName],
    registry_data: dict[str, Any],
    work: Path,
    workers: int,
    partitions: int,
) -> dict[str, Any]:
    from ops.broker import EmbeddedBroker, free_port
    from ops.demo import ensure_local_audit_key, start_worker, stop_worker, wait_ready, worker_env
    from ops.kafka_commands import load_registry
    from streams.serde import Serde
    from streams.settings import Settings
    from streams.topics import ensure_topics

    out: dict[str, Any] = {}
    with EmbeddedBroker(log_path=work / "broker.log") as broker:
        say(f"==> embedded broker on {broker.bootstrap}")
        ensure_local_audit_key()
        settings = Settings(bootstrap_servers=broker.bootstrap, partitions=partitions)
        out["partitions"] = settings.partitions
        n = settings.partitions
        create_topics(
            settings,
            {"bench.raw.in": n, "bench.raw.out": n, "bench.naive.in": n, "bench.naive.out": n, "bench.hop": n},
        )
        # The baselines move payment-sized records (the Avro payment of the mix), keyed alike.
        serde = Serde(settings)
        sample = [
            (g.payment["payment_id"].encode(), serde.encode(settings.topics.payments, "Payment", g.payment))
            for g in data.payments(plan.baseline_records, seed, listed, registry_data, run=1)
        ]
        out.update(_baselines(settings, sample, plan, work, broker.pid))

        ensure_topics(settings)
        list_path = data.write_list(work / "bench-list.yaml", listed, seed)
        registry_path = work / "bench-registry.yaml"
        registry_path.write_text(yaml.safe_dump(registry_data, sort_keys=False), encoding="utf-8")
        load_registry(settings, registry_path)
        ports = [free_port() for _ in range(workers)]
        procs = [
            start_worker(
                worker_env(
                    broker.bootstrap,
                    port,
                    work / f"worker-data-{i}",
                    SCREENER_SANCTIONS=str(list_path),
                    SCREENER_PARTITIONS=str(partitions),
                ),
                work / f"worker-{i}.log",
            )
            for i, port in enumerate(ports)
        ]
        try:
            # Twice: a worker that was ready gives partitions up when the next joins, and is
            # ready again once it holds its share with its state loaded.
            for _ in range(2):
                for port, proc in zip(ports, procs, strict=True):
                    wait_ready(port, proc, timeout=180)
            say(f"==> service ready: {workers} worker(s), {n} partitions, {len(listed):,}-name list")
            latency_count = int(1000 * plan.latency_seconds)
            paced = [
                (g.payment["payment_id"].encode(), serde.encode(settings.topics.payments, "Payment", g.payment))
                for g in data.payments(latency_count, seed, listed[:1000], registry_data, run=2)
            ]
            out["latency_1k"], _ = service_run(settings, paced, 1000.0)
            say(_latency_row("service: produce-to-decision at 1,000/s", out["latency_1k"]))
            backlog = [
                (g.payment["payment_id"].encode(), serde.encode(settings.topics.payments, "Payment", g.payment))
                for g in data.payments(plan.saturation_payments, seed, listed[:1000], registry_data, run=3)
            ]
            pids: dict[str, int | None] = {
                f"worker{i}" if workers > 1 else "worker": p.pid for i, p in enumerate(procs)
            }
            with CpuMeter(pids | {"broker": broker.pid}) as meter:
                out["latency_saturation"], out["e2e"] = service_run(settings, backlog, None, timeout=300)
            out["cpu_service"] = cpu_per_record(meter, out["e2e"])
            say(_rate_row("service: end to end at saturation", out["e2e"]))
            say(_cpu_row("  CPU per payment", out["cpu_service"]))
            say(_latency_row("service: produce-to-decision at saturation", out["latency_saturation"]))
        except RuntimeError:
            for i in range(workers):
                log = work / f"worker-{i}.log"
                say(f"worker log: {log}")
                sys.stderr.write(log.read_text(errors="replace")[-3000:])
            raise
        finally:
            for proc in procs:
                code = stop_worker(proc)
                if code not in (0, None):
                    say(f"a worker exited with code {code}")
    return out


def _baselines(
    settings: Any, sample: list[tuple[bytes, bytes]], plan: Plan, work: Path, broker_pid: int | None
) -> dict[str, Any]:
    """The plain confluent-kafka loop, the naive Faust agent and the broker's own hop latency."""
    out: dict[str, Any] = {}
    produce_all(settings, "bench.raw.in", sample)
    out["kafka_raw"] = kafka_raw_loop(settings, "bench.raw.in", "bench.raw.out", len(sample))
    say(_rate_row("baseline: confluent-kafka consume-produce loop", out["kafka_raw"]))
    produce_all(settings, "bench.naive.in", sample)
    out["faust_naive"], out["cpu_naive"] = faust_naive(
        settings, "bench.naive.in", "bench.naive.out", len(sample), work, 180, broker_pid
    )
    say(_rate_row("baseline: naive Faust agent, one event at a time", out["faust_naive"]))
    say(_cpu_row("  CPU per event", out["cpu_naive"]))
    # The broker's own produce-to-consume latency at 1,000/s, read as the service's is: the floor
    # under the service's figure (two such hops, with screening between).
    hop = sample[: int(1000 * plan.latency_seconds)]
    out["broker_hop"], _ = service_run(settings, hop, 1000.0, source="bench.hop", target="bench.hop")
    say(_latency_row("baseline: broker hop, produce to consume", out["broker_hop"]))
    return out


def print_summary(result: dict[str, Any]) -> None:
    """The targets of the benchmark issue, met or not, then the JSON line."""
    checks = [
        ("e2e_vs_faust_naive >= 2", result["e2e_vs_faust_naive"] >= 2),
        ("engine_per_s >= 10,000 (20k list)", result["engine_per_s"] >= 10_000),
        ("latency_p99_ms_at_1k <= 50", result["latency_p99_ms_at_1k"] <= 50),
    ]
    say("==> targets")
    for label, ok in checks:
        say(f"  {'met   ' if ok else 'MISSED'}  {label}")
    print(json.dumps(result, sort_keys=False), flush=True)
