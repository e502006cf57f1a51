"""Screen a JSON Lines file of payment events offline: one decision per line, in input order.

The input is read line by line (constant memory), each line bounded in size. A line that is not
a valid payment event goes to the dead-letter file with its line number and the precise error,
and the run goes on: nothing is dropped silently.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import yaml

from rules.catalog import RuleSet
from rules.engine import screen, screening_error
from rules.payment import PaymentError, parse_payment
from rules.registry import Registry, RegistryError, registry_from_mapping
from schemas.codec import dead_letter_json

MAX_LINE_BYTES = 1 << 20


class InputError(Exception):
    """An argument or file the run cannot use at all (exit code 2)."""


def load_registry_file(path: Path) -> Registry:
    """Read a registry from a JSON or YAML file (SPEC 1.2)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read registry {path}: {exc.strerror}") from None
    try:
        data: Any = json.loads(raw) if path.suffix == ".json" else yaml.safe_load(raw)
    except (json.JSONDecodeError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputError(
            f"registry {path} is not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {str(exc).splitlines()[0]}"
        ) from None
    try:
        return registry_from_mapping(data)
    except RegistryError as exc:
        raise InputError(f"registry {path}: {exc}") from None


@dataclass
class Summary:
    decisions: Counter[str] = field(default_factory=Counter)
    dead_letters: int = 0
    blank_lines: int = 0
    seconds: float = 0.0

    @property
    def screened(self) -> int:
        return sum(self.decisions.values())

    def line(self, dead_letter_path: Path | None) -> str:
        rate = self.screened / self.seconds if self.seconds > 0 else 0.0
        counts = ", ".join(f"{k} {self.decisions.get(k, 0)}" for k in ("block", "review", "pass"))
        dead = f"; dead-lettered {self.dead_letters}"
        if self.dead_letters and dead_letter_path is not None:
            dead += f" (see {dead_letter_path})"
        blank = f"; {self.blank_lines} blank lines skipped" if self.blank_lines else ""
        return f"screened {self.screened} payments: {counts}{dead}{blank}; {self.seconds:.2f} s ({rate:,.0f}/s)"


def read_lines(stream: IO[bytes]) -> Iterator[tuple[int, bytes, str | None]]:
    """(line number, bytes, error) for each line; an oversized line is cut and flagged, not held."""
    number = 0
    while True:
        chunk = stream.readline(MAX_LINE_BYTES + 1)
        if not chunk:
            return
        number += 1
        if len(chunk) > MAX_LINE_BYTES and not chunk.endswith(b"\n"):
            size = len(chunk)
            while True:  # drain the rest of the line without keeping it
                rest = stream.readline(MAX_LINE_BYTES)
                size += len(rest)
                if not rest or rest.endswith(b"\n"):
                    break
            yield (
                number,
                chunk,
                f"oversized line: {size} bytes, limit {MAX_LINE_BYTES} (kept the first {len(chunk)})",
            )
            continue
        yield number, chunk.rstrip(b"\r\n"), None


@dataclass
class FileScreener:
    """Screens a stream of JSON lines into decision lines and dead-letter lines."""

    rules: RuleSet
    registry: Registry
    as_of: datetime | None = None
    summary: Summary = field(default_factory=Summary)

    def run(
        self,
        source: str,
        stream: IO[bytes],
        out: IO[str],
        dead_letters: Callable[[dict[str, Any]], None],
        progress: Callable[[int], None] | None = None,
    ) -> Summary:
        started = time.perf_counter()
        consumed = 0
        for number, raw, read_error in read_lines(stream):
            consumed += len(raw) + 1
            if progress is not None and number % 2000 == 0:
                progress(consumed)
            if read_error is None and not raw.strip():
                self.summary.blank_lines += 1
                continue
            error = read_error
            if error is None:
                try:
                    payment = parse_payment(raw)
                except PaymentError as exc:
                    error = str(exc)
            if error is not None:
                self.summary.dead_letters += 1
                dead_letters(
                    dead_letter_json(error, raw, datetime.now(UTC).isoformat(), source_file=source, line=number)
                )
                continue
            try:
                decision = screen(payment, self.registry, self.rules, self.as_of or datetime.now(UTC))
            except Exception as exc:  # one payment's failure must not stop the run (SPEC 2.6)
                self.summary.dead_letters += 1
                dead_letters(
                    dead_letter_json(
                        screening_error(exc), raw, datetime.now(UTC).isoformat(), source_file=source, line=number
                    )
                )
                continue
            self.summary.decisions[decision.decision] += 1
            out.write(json.dumps(decision.to_dict(), ensure_ascii=False, separators=(",", ":")) + "\n")
        if progress is not None:
            progress(consumed)
        self.summary.seconds = time.perf_counter() - started
        return self.summary
