"""The Kafka parts of `screener bench`: the baselines and the service on the embedded broker.

The service is measured twice when a real list is given: with the synthetic 20k-name list and
with the real one, each on its own worker set, with the same payments. Each saturation run also
reads the worker's own stage clock (streams/stages.py, on /metrics) before and after, so the CPU
per payment is split into decode, screen, encode, audit and produce, beside the whole process's
CPU from /proc.
"""

from __future__ import annotations

import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ops.bench import data
from ops.bench.cpu import CpuMeter
from ops.bench.kafka_bench import Rate, cpu_per_record, create_topics, faust_naive, kafka_raw_loop, produce_all
from ops.bench.latency import Latency, service_run
from ops.bench.report import cpu_row, latency_row, rate_row, say
from streams.settings import Settings

_STAGE_LINE = re.compile(r'^screener_stage_seconds_total\{stage="(\w+)"\} (\S+)$', re.MULTILINE)
_PAYMENTS_LINE = re.compile(r"^screener_stage_payments_total (\S+)$", re.MULTILINE)


@dataclass(frozen=True)
class Plan:
    """How much work each part does."""

    engine_payments: int
    baseline_records: int
    latency_seconds: float
    saturation_payments: int
    # Payments screened before anything is timed, by the engine and by the service alike: the
    # steady state of a running worker, whose caches hold the counterparties it has seen. The same
    # in both modes, so that the quick run's steady state is the full run's.
    warm_up_payments: int = 20_000

    @classmethod
    def for_mode(cls, quick: bool) -> Plan:
        if quick:
            return cls(engine_payments=3_000, baseline_records=20_000, latency_seconds=5, saturation_payments=15_000)
        return cls(engine_payments=20_000, baseline_records=60_000, latency_seconds=20, saturation_payments=60_000)


@dataclass(frozen=True)
class ServiceRun:
    """One worker set's figures: latency at 1,000/s, then a backlog at saturation."""

    latency_1k: Latency
    latency_saturation: Latency
    e2e: Rate
    cpu: dict[str, float]
    stages_us: dict[str, float]


def stage_clock(port: int) -> tuple[dict[str, float], float]:
    """A worker's stage seconds and the payments they cover, from its /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode("utf-8")
    seconds = {stage: float(value) for stage, value in _STAGE_LINE.findall(text)}
    found = _PAYMENTS_LINE.search(text)
    return seconds, float(found.group(1)) if found else 0.0


def stage_us(
    before: list[tuple[dict[str, float], float]], after: list[tuple[dict[str, float], float]]
) -> dict[str, float]:
    """Microseconds per payment by stage between two readings of every worker."""
    totals: dict[str, float] = {}
    payments = 0.0
    for (s0, p0), (s1, p1) in zip(before, after, strict=True):
        payments += p1 - p0
        for stage, value in s1.items():
            totals[stage] = totals.get(stage, 0.0) + value - s0.get(stage, 0.0)
    return {stage: seconds * 1e6 / max(payments, 1.0) for stage, seconds in totals.items()}


def baselines(
    settings: Settings, sample: list[tuple[bytes, bytes]], plan: Plan, work: Path, broker_pid: int | None
) -> dict[str, Any]:
    """The plain confluent-kafka loop, the naive Faust agent and the broker's own hop latency."""
    out: dict[str, Any] = {}
    produce_all(settings, "bench.raw.in", sample)
    out["kafka_raw"] = kafka_raw_loop(settings, "bench.raw.in", "bench.raw.out", len(sample))
    say(rate_row("baseline: confluent-kafka consume-produce loop", out["kafka_raw"]))
    produce_all(settings, "bench.naive.in", sample)
    out["faust_naive"], out["cpu_naive"] = faust_naive(
        settings, "bench.naive.in", "bench.naive.out", len(sample), work, 180, broker_pid
    )
    say(rate_row("baseline: naive Faust agent, one event at a time", out["faust_naive"]))
    say(cpu_row("  CPU per event", out["cpu_naive"]))
    # The broker's own produce-to-consume latency at 1,000/s, read as the service's is: the floor
    # under the service's figure (two such hops, with screening between).
    hop = sample[: int(1000 * plan.latency_seconds)]
    out["broker_hop"], _ = service_run(settings, hop, 1000.0, source="bench.hop", target="bench.hop")
    say(latency_row("baseline: broker hop, produce to consume", out["broker_hop"]))
    return out


@contextmanager
def worker_set(
    bootstrap: str, list_path: Path, work: Path, name: str, workers: int, partitions: int
) -> Iterator[list[tuple[int, int]]]:
    """Start `workers` workers screening against list_path; yield (web port, pid) of each once ready."""
    from ops.broker import free_port
    from ops.demo import start_worker, stop_worker, wait_ready, worker_env

    ports = [free_port() for _ in range(workers)]
    env = {"SCREENER_SANCTIONS": str(list_path), "SCREENER_PARTITIONS": str(partitions)}
    procs: list[subprocess.Popen[bytes]] = []
    try:
        # One at a time, as a rolling start: on the embedded broker, two members joining an
        # emptied consumer group at once were left without partitions for minutes (README,
        # "Known problem"). Then once more: a worker that was ready gives partitions up when the
        # next joins, and is ready again once it holds its share with its state loaded.
        for i, port in enumerate(ports):
            procs.append(
                start_worker(worker_env(bootstrap, port, work / f"{name}-data-{i}", **env), work / f"{name}-{i}.log")
            )
            wait_ready(port, procs[-1], timeout=300)
        for port, proc in zip(ports, procs, strict=True):
            wait_ready(port, proc, timeout=300)
        yield [(port, proc.pid) for port, proc in zip(ports, procs, strict=True)]
    except RuntimeError:
        for i in range(len(procs)):
            log = work / f"{name}-{i}.log"
            say(f"worker log: {log}")
            sys.stderr.write(log.read_text(errors="replace")[-3000:])
        raise
    finally:
        for proc in procs:
            code = stop_worker(proc)
            if code not in (0, None):
                say(f"a worker exited with code {code}")


def measure_service(
    settings: Settings,
    workers: list[tuple[int, int]],
    broker_pid: int | None,
    warm_up: list[tuple[bytes, bytes]],
    paced: list[tuple[bytes, bytes]],
    backlog: list[tuple[bytes, bytes]],
    label: str,
) -> ServiceRun:
    """Latency at 1,000/s; then, after an untimed warm-up (the steady state the engine is timed in),
    the backlog at saturation with CPU by process and by stage."""
    latency_1k, _ = service_run(settings, paced, 1000.0)
    say(latency_row(f"service{label}: produce-to-decision at 1,000/s", latency_1k))
    service_run(settings, warm_up, None, timeout=600)
    say(f"service{label}: {len(warm_up):,} payments screened as a warm-up (untimed)")
    pids: dict[str, int | None] = {
        f"worker{i}" if len(workers) > 1 else "worker": pid for i, (_, pid) in enumerate(workers)
    }
    before = [stage_clock(port) for port, _ in workers]
    with CpuMeter(pids | {"broker": broker_pid}) as meter:
        saturation, e2e = service_run(settings, backlog, None, timeout=300)
    after = [stage_clock(port) for port, _ in workers]
    cpu = cpu_per_record(meter, e2e)
    stages = stage_us(before, after)
    say(rate_row(f"service{label}: end to end at saturation", e2e))
    say(cpu_row("  CPU per payment", cpu))
    say(cpu_row("  worker's screen-loop thread by stage", stages, note="(stage clock)"))
    say(latency_row(f"service{label}: produce-to-decision at saturation", saturation))
    return ServiceRun(latency_1k, saturation, e2e, cpu, stages)


def kafka_parts(
    plan: Plan,
    seed: int,
    listed: list[data.ListedName],
    registry_data: dict[str, Any],
    work: Path,
    workers: int,
    partitions: int,
    real_list: Path | None,
) -> dict[str, Any]:
    """Every part that needs the broker: baselines, then the service on each list."""
    from ops.broker import EmbeddedBroker
    from ops.demo import ensure_local_audit_key
    from ops.kafka_commands import load_registry
    from streams.serde import Serde
    from streams.topics import ensure_topics

    out: dict[str, Any] = {}
    with EmbeddedBroker(log_path=work / "broker.log") as broker:
        say(f"==> embedded broker on {broker.bootstrap}")
        ensure_local_audit_key()
        settings = Settings(bootstrap_servers=broker.bootstrap, partitions=partitions)
        out["partitions"] = n = settings.partitions
        create_topics(
            settings,
            {"bench.raw.in": n, "bench.raw.out": n, "bench.naive.in": n, "bench.naive.out": n, "bench.hop": n},
        )
        # The baselines move payment-sized records (the Avro payment of the mix), keyed alike.
        serde = Serde(settings)

        def encoded(count: int, run: int, people: list[data.ListedName]) -> list[tuple[bytes, bytes]]:
            return [
                (g.payment["payment_id"].encode(), serde.encode(settings.topics.payments, "Payment", g.payment))
                for g in data.payments(count, seed, people, registry_data, run=run)
            ]

        out.update(baselines(settings, encoded(plan.baseline_records, 1, listed), plan, work, broker.pid))
        ensure_topics(settings)
        registry_path = work / "bench-registry.yaml"
        registry_path.write_text(yaml.safe_dump(registry_data, sort_keys=False), encoding="utf-8")
        load_registry(settings, registry_path)
        lists = [("synthetic", data.write_list(work / "bench-list.yaml", listed, seed))]
        if real_list is not None:
            lists.append(("real", real_list))
        latency_count = int(1000 * plan.latency_seconds)
        for number, (name, path) in enumerate(lists):
            with worker_set(broker.bootstrap, path, work, f"worker-{name}", workers, partitions) as ready:
                say(f"==> service ready: {workers} worker(s), {n} partitions, {name} list ({path.name})")
                # Fresh payment ids for each list: the second set must not answer from the first's
                # decided store.
                warm_up = encoded(plan.warm_up_payments, 6 + 10 * number, listed[:1000])
                paced = encoded(latency_count, 2 + 10 * number, listed[:1000])
                backlog = encoded(plan.saturation_payments, 3 + 10 * number, listed[:1000])
                label = "" if name == "synthetic" else " (real list)"
                out[f"service_{name}"] = measure_service(settings, ready, broker.pid, warm_up, paced, backlog, label)
    return out
