"""What was decided before: the recorded decisions a replay compares with, and the registries they
were made against.

Recorded decisions come from a JSON Lines file of decisions (what `screener screen` writes, or an
export of the `screening.decisions` topic); the first decision per payment is the recorded one (a
payment seen again gets its first decision back). A registry is found by the `registry_version` a
decision names: `screener screen` keeps a copy of every registry file it screens with under the
data directory, named by its version, so a lookback can use the registry each payment was
screened against (SPEC 2.3) without being told where it was.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ops.file_inputs import read_lines
from ops.replay.compare import decision_problem

SNAPSHOTS = "registries"
_VERSION = re.compile(r"reg-[0-9a-f]{1,64}")
MAX_ERRORS_SHOWN = 3


class RecordedError(Exception):
    """A recorded-decisions file or registry that cannot be used at all."""


@dataclass
class Recorded:
    """payment_id -> the first decision recorded for it, and what could not be read."""

    decisions: dict[str, dict[str, Any]] = field(default_factory=dict)
    later: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    bad_lines: int = 0
    repeated: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, decision: dict[str, Any]) -> None:
        """A decision in recorded order: the first for its payment is `decisions`' one; later ones
        (a file of `screen`, which decides each line, holds one per occurrence) wait in `later`,
        for the payment's later occurrences in the replay."""
        payment_id = decision["payment_id"]
        if payment_id in self.decisions:
            self.repeated += 1
            self.later.setdefault(payment_id, []).append(decision)
        else:
            self.decisions[payment_id] = decision

    def bad(self, error: str) -> None:
        self.bad_lines += 1
        if len(self.errors) < MAX_ERRORS_SHOWN:
            self.errors.append(error)

    def versions(self, key: str) -> list[str]:
        """The distinct values of `rules_version` or `registry_version`, most used first."""
        counts: dict[str, int] = {}
        for decision in self.decisions.values():
            value = decision.get(key)
            if isinstance(value, str):
                counts[value] = counts.get(value, 0) + 1
        return sorted(counts, key=lambda v: (-counts[v], v))


def load_decisions(path: Path) -> Recorded:
    """Read a decisions file: one JSON object per line with at least `payment_id` and `decision`."""
    recorded = Recorded()
    try:
        with path.open("rb") as stream:
            for number, raw, error in read_lines(stream):
                if error is None and not raw.strip():
                    continue
                _take(recorded, number, raw, error)
    except OSError as exc:
        raise RecordedError(f"cannot read decisions {path}: {exc.strerror}") from None
    return recorded


def _take(recorded: Recorded, number: int, raw: bytes, error: str | None) -> None:
    if error is not None:
        recorded.bad(f"line {number}: {error}")
        return
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        recorded.bad(f"line {number}: not JSON: {type(exc).__name__}: {str(exc)[:120]}")
        return
    problem = decision_problem(value)
    if problem is not None:
        recorded.bad(f"line {number}: {problem}")
        return
    recorded.add(value)


def snapshot_path(data_dir: Path, version: str, suffix: str) -> Path:
    return data_dir / SNAPSHOTS / f"{version}{suffix}"


def keep_registry(data_dir: Path, version: str, registry_file: Path, content: bytes) -> Path:
    """Keep a copy of a registry file by its version (written once: equal versions, equal content).
    Raises OSError when the data directory cannot be written."""
    suffix = ".json" if registry_file.suffix == ".json" else ".yaml"
    path = snapshot_path(data_dir, version, suffix)
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written whole or not at all: a half-written copy would be a wrong registry found later.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".registry-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content)
        Path(tmp).replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise
    return path


def find_registry(data_dir: Path, version: str) -> Path | None:
    """The kept copy of the registry with this version, if any (a version is read from recorded
    decisions, which are input: only the form Registry.version has can name a file)."""
    if _VERSION.fullmatch(version) is None:
        return None
    for suffix in (".yaml", ".json"):
        path = snapshot_path(data_dir, version, suffix)
        if path.is_file():
            return path
    return None
