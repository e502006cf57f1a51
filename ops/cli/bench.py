"""`screener bench`: the benchmark command (what it measures: ops/bench/run.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ops.cli.common import UsageError, app, kafka_errors


@app.command()
def bench(
    quick: Annotated[bool, typer.Option("--quick", help="Smaller runs: under two minutes.")] = False,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the synthetic list, registry and payments.")] = 20261122,
    workdir: Annotated[
        Path | None, typer.Option("--workdir", help="Keep logs and generated files here (default: a temp dir).")
    ] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, max=8, help="Worker processes for the service.")] = 1,
    partitions: Annotated[
        int, typer.Option("--partitions", min=1, max=64, help="Partitions of the payments and output topics.")
    ] = 4,
    listed: Annotated[
        Path | None,
        typer.Option(
            "--list",
            help="Only the engine, on this list (OFAC folder or YAML) against the packaged list in the same run.",
        ),
    ] = None,
    formats: Annotated[
        bool, typer.Option("--formats", help="Only the parse cost per message of each input format, beside JSON.")
    ] = False,
    sanctions: Annotated[
        Path | None,
        typer.Option(
            "--sanctions",
            help="Blocked-persons list for the real-list figures: OFAC sdn.csv or its folder "
            "(default: ../shared/data/ofac beside the checkout when present)",
        ),
    ] = None,
    registry_load: Annotated[
        int | None,
        typer.Option(
            "--registry-load",
            min=1,
            help="Only a worker's first registry load: N generated accounts with their institutions, "
            "records/s from the start of loading to ready.",
        ),
    ] = None,
) -> None:
    """Benchmark the engine, two baselines and the service on the embedded broker; print a table and a JSON line."""
    from ops.bench.run import print_summary
    from ops.bench.run import run as run_bench
    from rules.sanctions_files import SanctionsError

    if registry_load is not None:
        from ops.bench.registry_load import run as run_registry_load

        try:
            result = run_registry_load(registry_load, seed, workdir)
        except kafka_errors() as exc:
            raise UsageError(f"benchmark failed: {exc}") from None
        print(json.dumps(result))
        return
    if formats:
        from ops.bench.parse_bench import run as run_parse_bench

        print(json.dumps(run_parse_bench(quick), indent=2))
        return
    if listed is not None:
        from ops.bench.list_bench import run as run_list_bench

        try:
            print(json.dumps(run_list_bench(listed, seed, quick), indent=2))
        except SanctionsError as exc:
            raise UsageError(str(exc)) from None
        return

    try:
        result = run_bench(quick, seed, workdir, workers=workers, partitions=partitions, sanctions=sanctions)
    except SanctionsError as exc:  # a --sanctions list that cannot be read
        raise UsageError(str(exc)) from None
    except kafka_errors() as exc:
        raise UsageError(f"benchmark failed: {exc}") from None
    print_summary(result)
