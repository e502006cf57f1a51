"""Screen payments offline: one decision per payment, in input order.

The input is a JSON Lines file of payment events, an ISO 20022 XML file or an MT file (one
message or several), or a folder of such files, read by ops/file_inputs.py. A line, message or
transaction that cannot be screened goes to the dead-letter file with its file, line and the
precise error, and the run goes on: nothing is dropped silently.
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

from ops.file_inputs import BadInput, InputReader, Item
from rules.catalog import RuleSet
from rules.engine import screen, screening_error
from rules.payment import Payment
from rules.payment_parsing import PaymentError, parse_payment
from rules.registry import Registry, RegistryError, registry_from_mapping
from schemas.codec import dead_letter_json
from schemas.messages import NO_MAPPING, AccountMapping


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


@dataclass
class FileScreener:
    """Screens JSON Lines, ISO 20022 or MT input into decision lines and dead-letter lines."""

    rules: RuleSet
    registry: Registry
    as_of: datetime | None = None
    accounts: AccountMapping = NO_MAPPING
    summary: Summary = field(default_factory=Summary)

    def run(
        self,
        source: str,
        stream: IO[bytes],
        out: IO[str],
        dead_letters: Callable[[dict[str, Any]], None],
        progress: Callable[[int], None] | None = None,
    ) -> Summary:
        """Screen one input: its format told from its first bytes (schemas/inbound.py)."""
        reader = InputReader(self.accounts)
        self._screen_all(reader, reader.file(source, stream, progress), out, dead_letters)
        return self.summary

    def run_folder(self, folder: Path, out: IO[str], dead_letters: Callable[[dict[str, Any]], None]) -> Summary:
        """Screen every file of a folder, in name order, each in its own format."""
        reader = InputReader(self.accounts)
        self._screen_all(reader, reader.folder(folder), out, dead_letters)
        return self.summary

    def _screen_all(
        self,
        reader: InputReader,
        inputs: Iterator[Item | BadInput],
        out: IO[str],
        dead_letters: Callable[[dict[str, Any]], None],
    ) -> None:
        started = time.perf_counter()
        blank_before = reader.blank_lines
        for item in inputs:
            if isinstance(item, BadInput):
                self._dead(dead_letters, item.error, item.raw, item.source, item.line)
                continue
            payment = item.payment
            if payment is None:
                try:
                    payment = parse_payment(item.raw)
                except PaymentError as exc:
                    self._dead(dead_letters, str(exc), item.raw, item.source, item.line)
                    continue
            self._decide(payment, item.raw, item.source, item.line, out, dead_letters)
        self.summary.blank_lines += reader.blank_lines - blank_before
        self.summary.seconds += time.perf_counter() - started

    def _dead(
        self, dead_letters: Callable[[dict[str, Any]], None], error: str, raw: bytes, source: str, line: int | None
    ) -> None:
        self.summary.dead_letters += 1
        where = {"source_file": source} | ({"line": line} if line is not None else {})
        dead_letters(dead_letter_json(error, raw, datetime.now(UTC).isoformat(), **where))

    def _decide(
        self,
        payment: Payment,
        raw: bytes,
        source: str,
        line: int,
        out: IO[str],
        dead_letters: Callable[[dict[str, Any]], None],
    ) -> None:
        try:
            decision = screen(payment, self.registry, self.rules, self.as_of or datetime.now(UTC))
        except Exception as exc:  # noqa: BLE001 - one payment's failure must not stop the run (SPEC 2.6)
            self._dead(dead_letters, screening_error(exc), raw, source, line)
            return
        self.summary.decisions[decision.decision] += 1
        out.write(json.dumps(decision.to_dict(), ensure_ascii=False, separators=(",", ":")) + "\n")
