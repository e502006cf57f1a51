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
from ops.replay.lookback import Row, write_csv, write_html
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
    """A replay's inputs besides the payments: what to screen with and compare with, and where to."""

    context: Context
    jobs: int
    outputs: Outputs
    progress: Callable[[int], None] | None = None
    tally: Tally = field(default_factory=Tally)
    rows: list[Row] = field(default_factory=list)

    def run(self, items: Iterable[Item | BadInput]) -> float:
        """Screen every item, compare, write; the seconds it took."""
        started = time.perf_counter()
        for done, result in enumerate(replay_items(self.context, items, self.jobs), 1):
            self._take(result)
            if self.progress is not None and done % 500 == 0:
                self.progress(done)
        return time.perf_counter() - started

    def _take(self, result: Replayed) -> None:
        if result.error is not None:
            where = {"source_file": result.source, "line": result.line}
            dead = dead_letter_json(result.error, result.raw, datetime.now(UTC).isoformat(), **where)
            self.outputs.record("dead-letter", result.payment_id, orjson.dumps(dead) + b"\n")
        if result.change is None or result.payment_id is None:
            self.tally.bad_input()
            return
        self.tally.add(result.change, result.registry_version if result.decision_line is not None else None)
        if result.decision_line is not None:
            self.outputs.record("decisions", result.payment_id, result.decision_line)
        if result.diff_line is not None:
            self.outputs.record("diff", result.payment_id, result.diff_line)
        if result.row is not None:
            self.rows.append(result.row)

    def finish(self, versions: Mapping[str, Any]) -> dict[str, str]:
        """Close the outputs and write the lookback report; the paths written, by kind."""
        paths = self.outputs.close()
        folder = self.outputs.folder
        folder.mkdir(parents=True, exist_ok=True)
        write_csv(folder / "lookback.csv", self.rows)
        write_html(folder / "lookback.html", self.rows, "Lookback", datetime.now(UTC), versions)
        return paths | {"lookback_csv": str(folder / "lookback.csv"), "lookback_html": str(folder / "lookback.html")}
