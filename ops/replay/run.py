"""One replay: payments screened again, each compared with its recorded decision, the results kept.

Everything a replay writes goes to its own output folder (new decisions, a per-payment diff,
dead-letters, the lookback report) and, when asked, to a topic of its own: never to the live
decision topics, whose consumers would act on a lookback as if it were today's screening.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Protocol

import orjson

from ops.file_inputs import BadInput, Item
from ops.replay.compare import Change, compare
from ops.replay.lookback import LookbackWriter, Row, wanted
from ops.replay.screening import Context, Replayed, replay_items
from ops.replay.summary import Tally
from schemas.codec import dead_letter_json


class Sink(Protocol):
    """Where a replay's records go besides its files (a topic of its own)."""

    def send(self, kind: str, key: str | None, line: bytes) -> None: ...

    def close(self) -> None: ...


@dataclass
class Outputs:
    """The replay's output folder: decisions.jsonl, diff.jsonl, dead-letter.jsonl (only if needed),
    lookback.csv and lookback.html."""

    folder: Path
    sink: Sink | None = None
    _files: dict[str, IO[bytes]] = field(default_factory=dict)

    def path(self, name: str) -> Path:
        return self.folder / name

    def record(self, kind: str, key: str | None, line: bytes) -> None:
        """One JSON line (UTF-8, ending in a newline) of a kind: decisions, diff or dead-letter."""
        name = f"{kind}.jsonl"
        out = self._files.get(name)
        if out is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            out = self._files[name] = self.path(name).open("wb")
        out.write(line)
        if self.sink is not None:
            self.sink.send(kind, key, line)

    def close(self) -> dict[str, str]:
        for out in self._files.values():
            out.close()
        if self.sink is not None:
            self.sink.close()
        return {name.split(".")[0]: str(self.path(name)) for name in self._files}


@dataclass
class Replay:
    """A replay's inputs besides the payments: what to screen with and compare with, and where to.

    A payment id met again in the input is compared with the decision recorded for that
    occurrence (`later`: `screen` decides every line, so its file holds one per occurrence); one
    with no decision of its own (the worker gives a repeat the first decision back) is counted as
    `repeated`, not compared and not reported twice.
    """

    context: Context
    jobs: int
    outputs: Outputs
    progress: Callable[[int], None] | None = None
    later: Mapping[str, list[dict[str, Any]]] = field(default_factory=dict)
    tally: Tally = field(default_factory=Tally)
    lookback: LookbackWriter | None = None
    # Occurrences so far of each payment id: one entry per distinct id of the input.
    seen: dict[str, int] = field(default_factory=dict)

    def run(self, items: Iterable[Item | BadInput]) -> float:
        """Screen every item, compare, write; the seconds it took."""
        started = time.perf_counter()
        self.lookback = LookbackWriter(self.outputs.folder)
        for done, result in enumerate(replay_items(self.context, items, self.jobs), 1):
            self._take(result)
            if self.progress is not None and done % 500 == 0:
                self.progress(done)
        return time.perf_counter() - started

    def _take(self, result: Replayed) -> None:
        pid = result.payment_id
        if result.error is not None:
            where = {"source_file": result.source, "line": result.line}
            dead = dead_letter_json(result.error, result.raw, datetime.now(UTC).isoformat(), **where)
            self.outputs.record("dead-letter", pid, orjson.dumps(dead) + b"\n")
        if pid is None:
            self.tally.bad_input()
            return
        if result.no_registry or result.change is None:
            self.tally.no_registry += 1
            return
        occurrence = self.seen[pid] = self.seen.get(pid, 0) + 1
        change, diff_line, row = result.change, result.diff_line, result.row
        repeated = False
        if occurrence > 1:
            change, diff_line, row, repeated = self._again(pid, result, occurrence)
        self.tally.add(change, result.registry_version if result.decision_line is not None else None, repeated)
        if result.decision_line is not None:
            self.outputs.record("decisions", pid, result.decision_line)
        if diff_line is not None:
            self.outputs.record("diff", pid, diff_line)
        if row is not None and self.lookback is not None:
            self.lookback.add(row)

    def _again(self, pid: str, result: Replayed, occurrence: int) -> tuple[Change, bytes, Row | None, bool]:
        """A later occurrence of a payment id: compared with its own recorded decision, if any."""
        later = self.later.get(pid, [])
        recorded = later[occurrence - 2] if occurrence - 2 < len(later) else None
        decision = orjson.loads(result.decision_line) if result.decision_line is not None else None
        change = compare(pid, recorded, decision)
        where = {"source": result.source, "line": result.line, "occurrence": occurrence}
        diff = orjson.dumps(change.to_dict(decision) | where) + b"\n"
        repeated = recorded is None
        keep = decision is not None and not repeated and wanted(change)
        row = Row(change, result.facts or {}, f"{result.source}:{result.line}") if keep else None
        return change, diff, row, repeated

    def finish(self, versions: Mapping[str, Any]) -> dict[str, str]:
        """Finish the lookback report, then close the outputs (a topic's delivery last: a failure
        there leaves the files whole); the paths written, by kind."""
        lookback = self.lookback or LookbackWriter(self.outputs.folder)
        lookback.close(versions)
        reports = {"lookback_csv": str(lookback.csv_path), "lookback_html": str(lookback.html_path)}
        return self.outputs.close() | reports
