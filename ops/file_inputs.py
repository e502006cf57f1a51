"""Payment inputs from files: JSON Lines, ISO 20022 XML or MT messages, or a folder of such files.

Each file's format is told from its content (schemas/inbound.py). JSON Lines are read line by line
(constant memory), each line bounded in size; a message file is read whole, bounded, and split into
messages. What the reader yields is either an `Item` to screen (a JSON line still to parse, or a
payment adapted from a message) or a `BadInput` with its file, line and precise error (SPEC 2.6):
nothing is dropped silently. `screener screen` and `screener replay` read their inputs here.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from rules.payment import Payment
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


@dataclass(frozen=True, slots=True)
class Item:
    """One payment to screen: `payment` is None for a JSON Lines event not yet parsed (its parse is
    left to whoever screens it, so a parallel run parses in parallel)."""

    source: str
    line: int
    raw: bytes
    payment: Payment | None = None


@dataclass(frozen=True, slots=True)
class BadInput:
    """Input that cannot be screened, with where it was and why."""

    source: str
    line: int | None
    raw: bytes
    error: str


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


class Prefixed(io.RawIOBase):
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
class InputReader:
    """Reads files and folders into items and bad inputs; counts the blank lines it skips."""

    accounts: AccountMapping = NO_MAPPING
    blank_lines: int = 0

    def file(
        self, source: str, stream: IO[bytes], progress: Callable[[int], None] | None = None
    ) -> Iterator[Item | BadInput]:
        """One input, its format told from its first bytes."""
        head = stream.read(64)
        fmt = input_format(head)
        if fmt in MESSAGE_FORMATS and not source.endswith(JSON_LINES_SUFFIXES):
            data = head + stream.read(MAX_MESSAGE_FILE_BYTES + 1 - len(head))
            messages = None if len(data) > MAX_MESSAGE_FILE_BYTES else list(read_messages(data, fmt, self.accounts))
            if messages is None or not _json_lines(data, messages):
                yield from self._messages(source, data, fmt, messages)
                return
            head, stream = data, io.BytesIO()
        lines = io.BufferedReader(Prefixed(head, stream), buffer_size=1 << 16)
        yield from self._lines(source, lines, progress)

    def folder(self, folder: Path) -> Iterator[Item | BadInput]:
        """Every file of a folder, in name order, each in its own format."""
        for path in input_files(folder):
            if not path.is_file():
                # A dangling link, a pipe or a device: opening a pipe would wait for a writer.
                error = f"cannot read {path.name}: not a regular file (a dangling link, a pipe or a device)"
                yield BadInput(str(path), None, b"", error)
                continue
            try:
                with path.open("rb") as stream:
                    yield from self.file(str(path), stream)
            except OSError as exc:
                yield BadInput(str(path), None, b"", f"cannot read {path.name}: {exc.strerror}")

    def _messages(
        self, source: str, data: bytes, fmt: Format, messages: list[Message] | None
    ) -> Iterator[Item | BadInput]:
        if messages is None or len(data) > MAX_MESSAGE_FILE_BYTES:
            error = f"oversized file: over {MAX_MESSAGE_FILE_BYTES} bytes of messages; split it"
            yield BadInput(source, 1, data, error)
            return
        line, counted_to = 1, 0
        for message in messages:
            # The line the message starts on, so an investigator finds it in the file (counted on
            # from the previous message: once over the file, not once per message).
            line += data.count(b"\n", counted_to, max(counted_to, message.offset))
            counted_to = max(counted_to, message.offset)
            payments, errors = message_payments(message)
            for payment, _adapted in payments:
                yield Item(source, line, message.data, payment)
            for error in bounded_errors(errors, MAX_DEAD_LETTERS_PER_MESSAGE, "transactions"):
                yield BadInput(source, line, message.data, error)

    def _lines(
        self, source: str, stream: IO[bytes], progress: Callable[[int], None] | None
    ) -> Iterator[Item | BadInput]:
        consumed = 0
        for number, raw, read_error in read_lines(stream):
            consumed += len(raw) + 1
            if progress is not None and number % 2000 == 0:
                progress(consumed)
            if read_error is not None:
                yield BadInput(source, number, raw, read_error)
            elif not raw.strip():
                self.blank_lines += 1
            else:
                yield Item(source, number, raw)
        if progress is not None:
            progress(consumed)
