"""The text of a SWIFT FIN message and its blocks, for parse_mt (schemas/swift_mt.py, whose
docstring gives the grammar): telling FIN input (is_mt), cutting a file into messages (split_mt),
decoding the text strictly, splitting it into blocks 1 to 5 and S, and reading the basic (1),
application (2) and user (3) header blocks. Block 4 is read by schemas/swift_mt_fields.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise

from schemas.messages import MAX_MESSAGE_BYTES, MessageError
from schemas.swift_mt_fields import BIC

_BOM = b"\xef\xbb\xbf"
_AROUND = b" \t\r\n$"
_MESSAGE_START = re.compile(rb"\{1:")
_HEADER_BLOCK = re.compile(r"\{([12]):([^{}]*)\}")
_TAGGED_BLOCK = re.compile(r"\{([35S]):((?:\{[^{}]*\})*)\}")
_ANY_BLOCK = re.compile(r"\{([0-9A-Z]):")
_BLOCK_ORDER = "12345S"
_BLOCK3_FIELD = re.compile(r"\{([0-9]{3}):([^{}]*)\}")
_BLOCK1 = re.compile(r"F01([A-Z0-9]{12})[0-9]{4}[0-9]{6}")
_INPUT = re.compile(r"I([0-9]{3})([A-Z0-9]{12})(?:[SUN](?:[123](?:[0-9]{3})?)?)?")
_OUTPUT = re.compile(r"O([0-9]{3})([0-9]{4})([0-9]{6})([A-Z0-9]{12})[0-9]{4}[0-9]{6}[0-9]{6}[0-9]{4}[SUN]?")
# Line feed and tab aside, C0 controls and DEL; after CRLF -> LF this includes a bare CR.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def is_mt(data: bytes) -> bool:
    """Whether data looks like FIN MT: its first bytes past a BOM and blanks are "{1:"."""
    return data.lstrip().removeprefix(_BOM).lstrip().startswith(b"{1:")


def split_mt(data: bytes) -> list[bytes]:
    """Each message of a file of one or more, separated by blanks or "$". FIN text cannot hold a
    brace, so every "{1:" opens a message. Text before the first is returned as a message of its
    own, for parse_mt to refuse, rather than dropped."""
    data = data.removeprefix(_BOM)
    starts = [m.start() for m in _MESSAGE_START.finditer(data)]
    bounds = [0, *starts, len(data)] if starts[:1] != [0] else [*starts, len(data)]
    chunks = [data[start:end] for start, end in pairwise(bounds)]
    return [stripped for chunk in chunks if (stripped := _strip_separators(chunk))]


def _strip_separators(chunk: bytes) -> bytes:
    """A chunk without the separators around it: blanks, "$", and byte-order marks (files joined
    by tools that each wrote one keep it at the head of every message). Linear, unlike a pattern
    anchored at the end, which retries at every blank of a long run inside the message."""
    while True:
        stripped = chunk.strip(_AROUND).removeprefix(_BOM).removesuffix(_BOM)
        if stripped == chunk:
            return chunk
        chunk = stripped


def decode(data: bytes) -> str:
    if len(data) > MAX_MESSAGE_BYTES:
        raise MessageError(f"message of {len(data)} bytes is over the limit of {MAX_MESSAGE_BYTES} bytes")
    data = data.lstrip().removeprefix(_BOM).strip(_AROUND)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MessageError(
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start} (FIN text is ASCII)"
        ) from None
    text = text.replace("\r\n", "\n")
    bad = _CONTROL.search(text)
    if bad is not None:
        char = bad.group()
        what = "a carriage return without a line feed" if char == "\r" else f"control character U+{ord(char):04X}"
        raise MessageError(f"{what} on line {text.count(chr(10), 0, bad.start()) + 1}: FIN text has none")
    return text


def split_blocks(text: str) -> dict[str, str]:
    """The blocks of one message, by key, each present at most once and in order."""
    blocks: dict[str, str] = {}
    pos = 0
    while pos < len(text):
        start = _ANY_BLOCK.match(text, pos)
        if start is None:
            raise MessageError(
                f"unexpected text {text[pos : pos + 24]!r} at character {pos}: expected a block such as "
                "{4: (one message per parse_mt; split_mt splits a file)"
            )
        key = start.group(1)
        if key not in _BLOCK_ORDER:
            raise MessageError(f"unknown block {{{key}:")
        if key == "1" and "4" in blocks:
            raise MessageError(
                f"a second message starts at character {pos}: parse_mt reads one, split_mt splits a file"
            )
        if key in blocks or any(_BLOCK_ORDER.index(key) < _BLOCK_ORDER.index(k) for k in blocks):
            raise MessageError(f"block {{{key}: repeated or out of order")
        if key == "4":
            end = text.find("\n-}", start.end())
            if end < 0:
                raise MessageError('block 4 has no terminator: its text must end with a line "-}"')
            blocks[key], pos = text[start.end() : end], end + 3
            continue
        m = (_HEADER_BLOCK if key in "12" else _TAGGED_BLOCK).match(text, pos)
        if m is None:
            raise MessageError(f"block {{{key}: is malformed or not closed with '}}'")
        blocks[key], pos = m.group(2), m.end()
    for key, what in (("1", "basic header"), ("2", "application header"), ("4", "text block")):
        if key not in blocks:
            raise MessageError(f"no block {key} ({what})")
    return blocks


def _lt_bic(address: str, where: str) -> str:
    """The BIC of a 12-character LT address: BIC8, terminal letter, branch code (XXX: none)."""
    bic = address[:8] + ("" if address[9:] == "XXX" else address[9:])
    if not BIC.fullmatch(bic):
        raise MessageError(f"{where}: LT address {address!r} holds no BIC")
    return bic


@dataclass(frozen=True, slots=True)
class Header:
    mt: str
    sender: str
    receiver: str
    sender_source: str
    receiver_source: str
    input_at: datetime | None

    @classmethod
    def read(cls, block1: str, block2: str) -> Header:
        basic = _BLOCK1.fullmatch(block1)
        if basic is None:
            raise MessageError(f"block 1 {block1[:40]!r} is not a FIN basic header (F01, LT address, 4!n, 6!n)")
        if (sent := _INPUT.fullmatch(block2)) is not None:
            return cls(
                sent.group(1),
                _lt_bic(basic.group(1), "block 1"),
                _lt_bic(sent.group(2), "block 2"),
                "block 1 sender",
                "block 2 receiver",
                None,
            )
        if (got := _OUTPUT.fullmatch(block2)) is None:
            raise MessageError(f"block 2 {block2[:60]!r} is not an input (I) or output (O) application header")
        stamp = got.group(3) + got.group(2)
        try:
            input_at = datetime.strptime(stamp, "%y%m%d%H%M").replace(tzinfo=UTC)
        except ValueError:
            raise MessageError(f"block 2: input date and time {stamp!r} are not YYMMDDHHMM") from None
        sender = _lt_bic(got.group(4), "block 2 MIR")
        receiver = _lt_bic(basic.group(1), "block 1")
        return cls(got.group(1), sender, receiver, "block 2 sender (MIR)", "block 1 receiver", input_at)


def user_header(body: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    matches = list(_BLOCK3_FIELD.finditer(body))
    if "".join(m.group(0) for m in matches) != body:
        raise MessageError(f"block 3 {body[:60]!r} is not a list of {{nnn:value}} fields")
    for m in matches:
        if m.group(1) in fields:
            raise MessageError(f"block 3: field {{{m.group(1)}:}} occurs twice")
        fields[m.group(1)] = m.group(2)
    return fields


def message_type_of(mt: str, user: dict[str, str]) -> str:
    flag = user.get("119")
    if mt == "103" and flag in (None, "STP", "REMIT"):
        return "MT103"
    if mt == "202" and flag in (None, "COV"):
        return "MT202COV" if flag else "MT202"
    if mt in ("103", "202"):
        raise MessageError(f"MT{mt} with validation flag {{119:{flag}}} is not accepted")
    raise MessageError(f"message type MT{mt} is not accepted: only MT103, MT202 and MT202COV are screened")
