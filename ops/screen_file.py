"""Screen payments offline: one decision per payment, in input order.

The input is a JSON Lines file of payment events, an ISO 20022 XML file or an MT file (one
message or several), or a folder of such files; each file's format is told from its content
(schemas/inbound.py). JSON Lines are read line by line (constant memory), each line bounded in
size; a message file is read whole, bounded, and split into messages. A line, message or
transaction that cannot be screened goes to the dead-letter file with its file, line and the
precise error, and the run goes on: nothing is dropped silently.
"""

from __future__ import annotations

import io
import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import yaml

from rules.catalog import RuleSet
from rules.engine import screen, screening_error
from rules.payment import Payment
from rules.payment_parsing import PaymentError, parse_payment
from rules.registry import Registry, RegistryError, registry_from_mapping
from schemas.codec import dead_letter_json
from schemas.inbound import (
    MESSAGE_FORMATS,
    Format,
    Message,
    bounded_errors,
    input_format,
    message_payments,
    read_messages,
)
from schemas.messages import NO_MAPPING, AccountMapping

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer  # what io.RawIOBase.readinto is given (no run-time name)

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


class _Prefixed(io.RawIOBase):
    """A stream whose first bytes were read to tell its format, read again from the start."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        if self._head:
            n = min(len(view), len(self._head))
            view[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(view))
        view[: len(data)] = data
        return len(data)


# A file of ISO 20022 or MT messages is read whole before it is split into messages: bounded.
MAX_MESSAGE_FILE_BYTES = 256 << 20
# Dead-letters one message may give (one per bad transaction); beyond, one names them all.
MAX_DEAD_LETTERS_PER_MESSAGE = 20


def input_files(folder: Path) -> list[Path]:
    """The files of an input folder, in name order, subfolders included; hidden files and our own
    outputs (dead-letter files) left out."""
    return sorted(
        f
        for f in folder.rglob("*")
        if not f.is_dir()
        and not any(part.startswith(".") for part in f.relative_to(folder).parts)
        and not f.name.endswith(".dead-letter.jsonl")
    )


# A file named so is JSON Lines whatever its first line holds: a first line that is garbage
# ("<html>") must not turn a file of payment events into one unreadable XML message.
JSON_LINES_SUFFIXES = (".jsonl", ".ndjson", ".json")
_JSON_OBJECT_LINE = re.compile(rb'^[ \t]*\{[ \t]*"', re.MULTILINE)


def _json_lines(data: bytes, messages: list[Message]) -> bool:
    """Whether data that starts like XML or MT is JSON Lines after a bad first line: read as
    messages it gives no transaction at all, and a later line opens a JSON object with a key."""
    if any(m.adapted for m in messages):
        return False
    first_end = data.find(b"\n")
    return first_end >= 0 and _JSON_OBJECT_LINE.search(data, first_end + 1) is not None


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
        started = time.perf_counter()
        head = stream.read(64)
        fmt = input_format(head)
        if fmt in MESSAGE_FORMATS and not source.endswith(JSON_LINES_SUFFIXES):
            data = head + stream.read(MAX_MESSAGE_FILE_BYTES + 1 - len(head))
            messages = None if len(data) > MAX_MESSAGE_FILE_BYTES else list(read_messages(data, fmt, self.accounts))
            if messages is None or not _json_lines(data, messages):
                self._run_messages(source, data, fmt, messages, out, dead_letters)
                self.summary.seconds += time.perf_counter() - started
                return self.summary
            head, stream = data, io.BytesIO()
        lines = io.BufferedReader(_Prefixed(head, stream), buffer_size=1 << 16)
        self._run_lines(source, lines, out, dead_letters, progress)
        self.summary.seconds += time.perf_counter() - started
        return self.summary

    def run_folder(self, folder: Path, out: IO[str], dead_letters: Callable[[dict[str, Any]], None]) -> Summary:
        """Screen every file of a folder, in name order, each in its own format."""
        for path in input_files(folder):
            if not path.is_file():
                # A dangling link, a pipe or a device: opening a pipe would wait for a writer.
                error = f"cannot read {path.name}: not a regular file (a dangling link, a pipe or a device)"
                self._dead(dead_letters, error, b"", str(path), None)
                continue
            try:
                with path.open("rb") as stream:
                    self.run(str(path), stream, out, dead_letters)
            except OSError as exc:
                self._dead(dead_letters, f"cannot read {path.name}: {exc.strerror}", b"", str(path), None)
        return self.summary

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

    def _run_messages(
        self,
        source: str,
        data: bytes,
        fmt: Format,
        messages: list[Message] | None,
        out: IO[str],
        dead_letters: Callable[[dict[str, Any]], None],
    ) -> None:
        if messages is None or len(data) > MAX_MESSAGE_FILE_BYTES:
            error = f"oversized file: over {MAX_MESSAGE_FILE_BYTES} bytes of messages; split it"
            self._dead(dead_letters, error, data, source, 1)
            return
        line, counted_to = 1, 0
        for message in messages:
            # The line the message starts on, so an investigator finds it in the file (counted on
            # from the previous message: once over the file, not once per message).
            line += data.count(b"\n", counted_to, max(counted_to, message.offset))
            counted_to = max(counted_to, message.offset)
            payments, errors = message_payments(message)
            for payment, _adapted in payments:
                self._decide(payment, message.data, source, line, out, dead_letters)
            for error in bounded_errors(errors, MAX_DEAD_LETTERS_PER_MESSAGE, "transactions"):
                self._dead(dead_letters, error, message.data, source, line)

    def _run_lines(
        self,
        source: str,
        stream: IO[bytes],
        out: IO[str],
        dead_letters: Callable[[dict[str, Any]], None],
        progress: Callable[[int], None] | None,
    ) -> None:
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
                self._dead(dead_letters, error, raw, source, number)
                continue
            self._decide(payment, raw, source, number, out, dead_letters)
        if progress is not None:
            progress(consumed)
