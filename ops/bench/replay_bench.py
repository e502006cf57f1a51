"""The replay phase of `screener bench`: a lookback's speed beside the live worker's, per core.

The payments (the bench's generated mix, as a JSON Lines file) are first screened under a list
missing some of the names they carry, as a bank's past traffic was; then replayed with those names
designated and others removed, once on one process and once on every core, through the same code
`screener replay` runs (ops/replay/), output files included. Each process starts with empty name
caches, as a replay does: the figure is not flattered by a warm worker's memory.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ops.bench.data import ListedName
from ops.bench.engine_bench import rules_with_list
from ops.file_inputs import InputReader
from ops.replay.run import Outputs, Replay
from ops.replay.screening import Context
from rules.catalog import RuleSet
from rules.registry import Registry

# The first names of the list appear in the bench's payments: the lookback designates the first
# quarter of them and removes the second quarter.
ADDED = range(250)
REMOVED = range(250, 500)


@dataclass(frozen=True)
class ReplayFigures:
    payments: int
    per_s_one_job: float
    per_s_all_jobs: float
    jobs: int
    transitions: dict[str, int]

    def per_core(self) -> float:
        """The better of one process and every core shared out: a replay's rate per core."""
        return max(self.per_s_one_job, self.per_s_all_jobs / self.jobs)


def _replay(context: Context, path: Path, jobs: int, out: Path) -> tuple[Replay, float]:
    run = Replay(context, jobs, Outputs(out))
    with path.open("rb") as stream:
        seconds = run.run(InputReader().file(str(path), stream))
    run.finish({})
    return run, seconds


def run(
    payments: list[dict[str, Any]], listed: list[ListedName], base: RuleSet, registry: Registry, work: Path
) -> ReplayFigures:
    path = work / "replay-payments.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in payments), encoding="utf-8")
    as_of = datetime.now(UTC)
    before, _ = rules_with_list(base, listed[REMOVED.start :])
    after, _ = rules_with_list(base, listed[: ADDED.stop] + listed[REMOVED.stop :])
    _replay(Context(before, as_of, registry=registry), path, 1, work / "replay-recorded")
    recorded = {
        d["payment_id"]: d
        for d in map(json.loads, (work / "replay-recorded" / "decisions.jsonl").read_text().splitlines())
    }
    jobs = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    # A fresh rule set for each run: its name caches start empty, as in a replay process.
    one, one_s = _replay(Context(after, as_of, recorded, registry=registry), path, 1, work / "replay-one")
    after_again, _ = rules_with_list(base, listed[: ADDED.stop] + listed[REMOVED.stop :])
    every, every_s = _replay(Context(after_again, as_of, recorded, registry=registry), path, jobs, work / "replay-all")
    if dict(one.tally.transitions) != dict(every.tally.transitions):
        raise RuntimeError("replay on one process and on every core disagree: a defect, not a figure")
    return ReplayFigures(
        payments=len(payments),
        per_s_one_job=one.tally.replayed / one_s,
        per_s_all_jobs=every.tally.replayed / every_s,
        jobs=jobs,
        transitions=dict(sorted(one.tally.transitions.items())),
    )
