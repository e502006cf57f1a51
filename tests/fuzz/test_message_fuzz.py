"""Fuzzing the message readers: ISO 20022 XML and SWIFT MT input, mutated from the real samples
(ops/samples/messages, tests/schemas/messages), through read_messages, the file screener
(FileScreener.run, run_folder) and the worker's per-record path (PaymentProcessor.process), SPEC 2.6.

Mutations: byte flips, truncations, deleted spans, duplicated, removed, swapped or repeated lines
and elements, inserted control characters, invalid UTF-8, entities, CDATA, comments, random tags,
DOCTYPEs with entities, deep nesting, repeats up to and over MAX_MESSAGE_BYTES, several messages
joined (one format or mixed, with the separators files have between them).

For every input:
- FileScreener.run and PaymentProcessor.process never raise and never hang (each call runs under
  a hard time limit, twice the deadline, so a hang fails the test instead of stalling CI;
  hypothesis' deadline bounds each input's total run time);
- every answer is a decision or a dead-letter; a dead-letter has a non-empty error of at most
  MAX_ERROR_CHARS characters, the original bytes (text or base64, their size and SHA-256) and where
  they came from, and no error comes from a safety net (an adapter's or the engine's exception
  caught by `except Exception`: an unexpected exception is a defect, not a precise error);
- nothing is dropped silently: read_messages covers every byte of the input that is more than a
  separator (blanks, "$", a BOM, XML comments, processing instructions and other markup outside
  elements), each message is one answer per transaction or one dead-letter, the file screener and
  the worker give exactly that many answers (the worker may refuse a record of too many messages
  as one dead-letter; a non-empty input gets at least one answer), a JSON Lines reading answers
  every line, and a file of messages joined gets the answers of the messages one by one.
test_hostile_inputs keeps the inputs this fuzzing found hanging or answered wrongly.

Seeded and bounded like test_one_answer_per_input.py (derandomized, a fixed number of examples,
no shrinking: a hang would make each shrinking step as slow as the time limit). Knobs:
FUZZ_SEED (a seed instead of the derandomized run), FUZZ_EXAMPLES (examples of the main test, the
others scaled from it; default 500), FUZZ_DEADLINE_MS (per input, default 5000), FUZZ_SHRINK=1
(shrink a failure to a minimal input). To hunt:
FUZZ_EXAMPLES=20000 FUZZ_SEED=1 pytest tests/fuzz/test_message_fuzz.py
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import json
import os
import re
import signal
import tempfile
import threading
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, Phase, currently_in_test_context, event, example, given, note, seed, settings
from hypothesis import strategies as st

from ops.file_inputs import JSON_LINES_SUFFIXES, MAX_DEAD_LETTERS_PER_MESSAGE
from ops.screen_file import FileScreener, load_registry_file
from rules import Registry, RuleSet, load_rules
from schemas.codec import MAX_ERROR_CHARS, MAX_ORIGINAL_BYTES
from schemas.inbound import MESSAGE_FORMATS, Message, input_format, read_messages
from schemas.messages import MAX_MESSAGE_BYTES
from streams import processing
from streams.audit import AuditChains
from streams.processing import PaymentProcessor
from streams.records import Outcome, Source
from streams.serde import Serde
from streams.settings import Settings
from streams.stores import Decided

T = TypeVar("T")
# Hypothesis prints a failing input whole; a large one is worth it, so no warning about that.
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

ROOT = Path(__file__).resolve().parents[2]
REGISTRY: Registry = load_registry_file(ROOT / "ops" / "samples" / "registry.yaml")


@functools.cache
def packaged_rules() -> RuleSet:
    """The packaged rules, loaded once (not a fixture: hypothesis would print them with every
    failing example)."""
    return load_rules()


SEED = os.environ.get("FUZZ_SEED")
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "500"))
DEADLINE_MS = int(os.environ.get("FUZZ_DEADLINE_MS", "5000"))
# A call still running after this is a hang: failed, not waited for.
HARD_LIMIT_S = 2 * DEADLINE_MS / 1000
PHASES = (Phase.explicit, Phase.reuse, Phase.generate) + ((Phase.shrink,) if os.environ.get("FUZZ_SHRINK") else ())


def fuzz(examples: int) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """The settings of test_one_answer_per_input.FUZZ, with a deadline and FUZZ_SEED."""
    config = settings(
        max_examples=max(1, examples),
        derandomize=SEED is None,
        database=None,
        deadline=timedelta(milliseconds=DEADLINE_MS),
        phases=PHASES,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
    )

    def apply(test: Callable[..., None]) -> Callable[..., None]:
        test = config(test)
        return seed(int(SEED))(test) if SEED is not None else test

    return apply


# --- The samples ----------------------------------------------------------------------------------


def _samples() -> dict[str, bytes]:
    folders = (ROOT / "ops" / "samples" / "messages", ROOT / "tests" / "schemas" / "messages")
    return {
        str(path.relative_to(ROOT)): path.read_bytes()
        for folder in folders
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.suffix in (".xml", ".fin")
    }


SAMPLES = _samples()
XML_SAMPLES = sorted(name for name, data in SAMPLES.items() if input_format(data) == "iso20022")
MT_SAMPLES = sorted(name for name, data in SAMPLES.items() if input_format(data) == "mt")

# --- The pieces mutations insert ------------------------------------------------------------------

CONTROL = [b"\x00", b"\x01", b"\x07", b"\x08", b"\x0b", b"\x0c", b"\x1b", b"\x7f", b"\r", b"\r\n", b"\t"]
UNICODE = [s.encode() for s in ("\u0085", "\u2028", "\u200b", "\ufeff", "\u202e", "\ufffe", "\U0001f4b8", "é", "٤٢")]
INVALID_UTF8 = [b"\xff", b"\xfe", b"\x80", b"\xc0\x80", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\xf4\x90\x80\x80"]
XML_BITS = [
    *(b"&amp;", b"&lt;", b"&#0;", b"&#x1F;", b"&#xFFFE;", b"&#x110000;", b"&#99999999999;", b"&e;", b"&", b"&#"),
    *(b"]]>", b"<![CDATA[x]]>", b"<![CDATA[", b"<!-- c -->", b"<!--", b"-->", b"<?pi x?>", b"<?xml version='1.0'?>"),
    *(b"<", b">", b"</", b"/>", b'"', b"'", b"=", b"</Document>", b"</CdtTrfTxInf>", b"<CdtTrfTxInf>", b"xmlns=''"),
    b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08">',
    b'<x:Nm xmlns:x="urn:other">X</x:Nm>',
]
MT_BITS = [
    *(b"{", b"}", b"{1:", b"{2:", b"{3:", b"{4:", b"{4:\n", b"\n-}", b"-}", b"{5:{CHK:0}}", b"{S:{SAC:}}", b"$", b":"),
    *(b"{3:{119:COV}}", b"{119:STP}", b"{121:00000000-0000-4000-8000-000000000000}", b"{121:x}", b"{108:A}{108:B}"),
    *(b"\n:59:/ACC\nNAME\n", b"\n:32A:250917USD1,\n", b"\n:32A:999999USD999999999999999,99\n", b"\n:20:" + b"X" * 40),
    *(b"\n:50F:/ACC\n1/NAME\n2/STREET\n3/KP/PYONGYANG\n", b"\n:57D:/X\nBANK\nPYONGYANG\n", b"\n:53B:/ACC-KP-001\n"),
    *(b"\n:13C:/SNDTIME/1200+0100\n", b"\n:72:/INS/KKBCKPPY\n", b"\n:23E:SDVA\n", b"\n:71F:USD1,\n", b"\n:33B:EUR,5\n"),
    *(b"\n:56A:KKBCKPPY\n", b"\n:56A:XXXX\n", b"\n:70:", b"\n:7:\n", b"\n::\n", b"\n:999:x\n", b"\n:50a:x\n"),
]
DOCTYPES = [
    b'<!DOCTYPE Document SYSTEM "file:///etc/passwd">',
    b'<!DOCTYPE Document [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
    b'<!DOCTYPE Document [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]>',
    b'<!DOCTYPE Document PUBLIC "-//X//EN" "http://127.0.0.1:9/x.dtd">',
    b'<!DOCTYPE Document [<!ENTITY e "<Dbtr><Nm>KOREA KWANGSON</Nm></Dbtr>">]>',
    (
        b'<!DOCTYPE Document [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
    ),
    b'<!DOCTYPE Document [<!ELEMENT Document ANY><!ATTLIST Document a CDATA "x">]>',
    b"<!DOCTYPE Document [",
    b"<!DOCTYPE Document",
    b"<!DOCTYPE>",
    b"<!doctype Document>",
]
ENTITY_REFERENCES = [b"&x;", b"&e;", b"&d;", b"&p;", b"%p;", b"&a;"]
TAGS = [
    *("Document", "AppHdr", "FIToFICstmrCdtTrf", "FICdtTrf", "GrpHdr", "NbOfTxs", "CreDtTm", "CdtTrfTxInf", "PmtId"),
    *("UETR", "EndToEndId", "TxId", "IntrBkSttlmAmt", "IntrBkSttlmDt", "ChrgBr", "Dbtr", "Cdtr", "UltmtCdtr", "Nm"),
    *("PstlAdr", "Ctry", "TwnNm", "AdrLine", "BICFI", "FinInstnId", "DbtrAgt", "CdtrAgt", "IntrmyAgt1", "RmtInf"),
    *("Ustrd", "Strd", "SplmtryData", "Envlp", "UndrlygCstmrCdtTrf", "InstdAmt", "SttlmInf", "SttlmAcct", "Id"),
    *("Othr", "MsgDefIdr", "BizSvc", "Fr", "To", "FIId", "Purp", "Cd", "InstrForNxtAgt", "InstrInf", "BizMsgEnvlp"),
]
ATTRIBUTES = [
    *(b"", b' Ccy="USD"', b' Ccy="usd"', b' Ccy=""', b' xmlns="urn:x"', b' xmlns=""', b" a='1' a='2'"),
    b' xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"',
    b' xmlns="urn:iso:std:iso:20022:tech:xsd:head.001.001.02"',
    b' xmlns:p="urn:iso:std:iso:20022:tech:xsd:pacs.009.001.08"',
]
TEXTS = [
    *("", " ", "0", "-1", "1e400", "99999999999999999999", "0.000001", "٤٢٧٥٠.00", "١٢,٥", "NaN", "KP", "XX"),
    *("2025-02-30", "9999-12-31T23:59:59+14:00", "0001-01-01", "2025-06-10T25:00:00", "KKBCKPPY", "DANDONG"),
    *("KOREA KWANGSON BANKING CORP", "PYONGYANG", "\u202eGNAYGNOYP", "A" * 3000, "x\u0301" * 50),
    *("²", "١", "½", "0" * 4400 + "1", "1" * 40),
]

tag_names = (
    st.sampled_from(TAGS) | st.from_regex(r"[A-Za-z_][A-Za-z0-9_.:-]{0,10}", fullmatch=True) | st.text(max_size=4)
)
texts = st.sampled_from(TEXTS) | st.text(max_size=40)


@st.composite
def random_tags(draw: st.DrawFn) -> bytes:
    name = draw(tag_names).encode("utf-8", "surrogatepass")
    attrs = draw(st.sampled_from(ATTRIBUTES))
    inner = draw(texts).encode("utf-8", "surrogatepass")
    shape = draw(st.sampled_from(["pair", "empty", "open", "close", "nested"]))
    if shape == "empty":
        return b"<" + name + attrs + b"/>"
    if shape == "open":
        return b"<" + name + attrs + b">" + inner
    if shape == "close":
        return inner + b"</" + name + b">"
    if shape == "nested":
        return b"<" + name + attrs + b"><" + name + b">" + inner + b"</" + name + b"></" + name + b">"
    return b"<" + name + attrs + b">" + inner + b"</" + name + b">"


pieces: st.SearchStrategy[bytes] = st.one_of(
    st.sampled_from(CONTROL + UNICODE + INVALID_UTF8),
    st.sampled_from(XML_BITS + MT_BITS + ENTITY_REFERENCES),
    st.sampled_from(DOCTYPES),
    random_tags(),
    texts.map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.binary(min_size=1, max_size=12),
)

# --- Mutations ------------------------------------------------------------------------------------

# A start tag with its end tag (the first of that name after it): an element, near enough.
ELEMENT = re.compile(rb"<([A-Za-z][\w.:-]*)(?:\s[^<>]*)?>.*?</\1>", re.DOTALL)
# ELEMENT costs O(n) per unclosed start tag: mutations look for elements in inputs up to this size.
ELEMENT_SCAN_BYTES = 64 * 1024
Mutation = Callable[[st.DrawFn, bytes], bytes]


def element_spans(data: bytes) -> list[tuple[int, int]]:
    return [m.span() for m in ELEMENT.finditer(data)] if len(data) <= ELEMENT_SCAN_BYTES else []


def _position(draw: st.DrawFn, data: bytes) -> int:
    return draw(st.integers(0, len(data)))


def flip_bytes(draw: st.DrawFn, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 4)) if data else 0):
        i = draw(st.integers(0, len(out) - 1))
        out[i] ^= draw(st.integers(1, 255))
    return bytes(out)


def truncate(draw: st.DrawFn, data: bytes) -> bytes:
    cut = _position(draw, data)
    return data[cut:] if draw(st.booleans()) and draw(st.booleans()) else data[:cut]


def delete_span(draw: st.DrawFn, data: bytes) -> bytes:
    i = _position(draw, data)
    return data[:i] + data[i + draw(st.integers(1, 80)) :]


def insert_piece(draw: st.DrawFn, data: bytes) -> bytes:
    i = _position(draw, data)
    return data[:i] + draw(pieces) + data[i:]


def insert_at_line(draw: st.DrawFn, data: bytes) -> bytes:
    """A piece at the start or end of a line, where tags and fields begin."""
    lines = data.splitlines(keepends=True) or [b""]
    i = draw(st.integers(0, len(lines)))
    piece = draw(pieces | st.sampled_from(MT_BITS))
    return b"".join(lines[:i]) + piece + b"".join(lines[i:])


def line_edit(draw: st.DrawFn, data: bytes) -> bytes:
    lines = data.splitlines(keepends=True)
    if not lines:
        return data
    i = draw(st.integers(0, len(lines) - 1))
    j = draw(st.integers(0, len(lines) - 1))
    op = draw(st.sampled_from(["duplicate", "repeat", "remove", "swap", "move"]))
    if op == "duplicate":
        lines.insert(j, lines[i])
    elif op == "repeat":
        lines[i:i] = [lines[i]] * draw(st.sampled_from([2, 3, 10, 40, 500]))
    elif op == "remove":
        del lines[i]
    elif op == "swap":
        lines[i], lines[j] = lines[j], lines[i]
    else:
        lines.insert(j, lines.pop(i))
    return b"".join(lines)


def element_edit(draw: st.DrawFn, data: bytes) -> bytes:
    spans = element_spans(data)
    if not spans:
        return insert_piece(draw, data)
    start, end = draw(st.sampled_from(spans))
    element = data[start:end]
    op = draw(st.sampled_from(["duplicate", "remove", "move", "wrap", "replace_text", "rename", "unwrap"]))
    if op == "move":
        rest = data[:start] + data[end:]
        i = _position(draw, rest)
        return rest[:i] + element + rest[i:]
    return data[:start] + _edited(draw, element, op) + data[end:]


def _edited(draw: st.DrawFn, element: bytes, op: str) -> bytes:
    if op == "duplicate":
        edited = element * draw(st.sampled_from([2, 3, 6]))
    elif op == "remove":
        edited = b""
    elif op == "wrap":
        name = draw(tag_names).encode("utf-8", "surrogatepass")
        edited = b"<" + name + b">" + element + b"</" + name + b">"
    elif op == "replace_text":
        text = draw(texts).encode("utf-8", "surrogatepass")
        edited = re.sub(rb">[^<>]*<", lambda _m: b">" + text + b"<", element, count=1)
    elif op == "rename":
        old = ELEMENT.match(element)
        assert old is not None
        edited = element.replace(old[1], draw(tag_names).encode("utf-8", "surrogatepass"), 1)
    else:  # unwrap: the content without its element
        edited = element[element.find(b">") + 1 : element.rfind(b"</")]
    return edited


def deep_nesting(draw: st.DrawFn, data: bytes) -> bytes:
    """Elements nested around MAX_DEPTH and far beyond, closed or not, inside an element."""
    depth = draw(st.sampled_from([20, 63, 64, 65, 255, 256, 257, 3000, 100_000]))
    name = draw(st.sampled_from([b"a", b"Nm", b"Dbtr", b"SplmtryData", b"Document"]))
    block = (b"<" + name + b">") * depth
    if draw(st.booleans()):
        block += b"x" + (b"</" + name + b">") * depth
    spans = element_spans(data)
    if spans:
        start, _ = draw(st.sampled_from(spans))
        i = data.find(b">", start) + 1
    else:
        i = _position(draw, data)
    return data[:i] + block + data[i:]


def doctype(draw: st.DrawFn, data: bytes) -> bytes:
    declaration = draw(st.sampled_from(DOCTYPES))
    where = draw(st.sampled_from(["start", "after_declaration", "anywhere"]))
    if where == "start":
        i = 0
    elif where == "after_declaration":
        i = data.find(b"?>") + 2 if b"?>" in data else 0
    else:
        i = _position(draw, data)
    out = data[:i] + declaration + b"\n" + data[i:]
    if draw(st.booleans()):
        j = out.find(b"<Ustrd>")
        j = j + len(b"<Ustrd>") if j >= 0 else _position(draw, out)
        out = out[:j] + draw(st.sampled_from(ENTITY_REFERENCES)) + out[j:]
    return out


def large_repeat(draw: st.DrawFn, data: bytes) -> bytes:
    """A line, an element or a piece repeated to tens of kB (test_huge_messages goes to the limit)."""
    lines = data.splitlines(keepends=True) or [b"x"]
    spans = element_spans(data)
    unit = draw(
        st.sampled_from(lines)
        | (st.sampled_from(spans).map(lambda s: data[s[0] : s[1]]) if spans else st.nothing())
        | pieces
    )
    count = max(1, draw(st.sampled_from([2_000, 20_000, 100_000])) // max(1, len(unit)))
    i = _position(draw, data)
    return data[:i] + unit * count + data[i:]


def replace_text(draw: st.DrawFn, data: bytes) -> bytes:
    """A word of the message (a name, a BIC, an amount, a date) replaced with other text."""
    words = [m.span() for m in re.finditer(rb"[A-Za-z0-9,.:/-]+", data)]
    if not words:
        return insert_piece(draw, data)
    start, end = draw(st.sampled_from(words))
    return data[:start] + draw(texts).encode("utf-8", "surrogatepass") + data[end:]


SMALL_MUTATIONS: list[Mutation] = [
    flip_bytes,
    truncate,
    delete_span,
    insert_piece,
    insert_at_line,
    line_edit,
    element_edit,
    doctype,
    replace_text,
]
MUTATIONS: list[Mutation] = [*SMALL_MUTATIONS, deep_nesting, large_repeat]


@st.composite
def mutated(
    draw: st.DrawFn, names: Sequence[str] = tuple(SAMPLES), mutations: Sequence[Mutation] = tuple(MUTATIONS)
) -> bytes:
    """A sample with 0 to 4 mutations."""
    name = draw(st.sampled_from(list(names)))
    note(f"sample {name}")
    data = SAMPLES[name]
    for mutation in draw(st.lists(st.sampled_from(list(mutations)), max_size=4)):
        data = mutation(draw, data)
        note(f"{mutation.__name__}: {len(data)} bytes")
        if len(data) > MAX_MESSAGE_BYTES:
            break
    return data


SEPARATORS = [b"", b"\n", b"\r\n", b"\n\n", b"$", b"$\n", b" ", b"\xef\xbb\xbf", b"\n\xef\xbb\xbf", b"\t"]


@st.composite
def concatenated(draw: st.DrawFn) -> bytes:
    """Several messages in one input, of one format or mixed, some of them mutated."""
    pool = draw(st.sampled_from([XML_SAMPLES, MT_SAMPLES, sorted(SAMPLES)]))
    parts = [
        draw(mutated(names=[name])) if draw(st.integers(0, 3)) == 0 else SAMPLES[name]
        for name in draw(st.lists(st.sampled_from(pool), min_size=2, max_size=5))
    ]
    separators = [draw(st.sampled_from(SEPARATORS)) for _ in parts]
    return b"".join(sep + part for sep, part in zip(separators, parts, strict=True))


# --- Running one input through both paths, with every check ---------------------------------------

SAFETY_NETS = ("message cannot be read: ", "screening failed: ")
DECISIONS = ("pass", "review", "block")
# Bytes that may lie outside every message: separators; in XML also comments, processing
# instructions (a target name, then anything up to "?>", as XML has them) and other <!...> / <?...>
# markup the splitter skips (no element, so no payment text: lxml would refuse them, the splitter
# reads the message beside them).
IGNORABLE = {
    "mt": re.compile(rb"[ \t\r\n$]+|\xef\xbb\xbf"),
    "iso20022": re.compile(
        rb"[ \t\r\n\x0b\x0c]+|\xef\xbb\xbf|<!--.*?-->|<\?[A-Za-z_:][\w.:-]*(?:\s.*?)?\?>"
        rb"|<!DOCTYPE[^\[>]*(?:\[[^\]]*\])?\s*>|<![^>]*>|<\?[^>]*>",
        re.DOTALL,
    ),
}
BLANKS = re.compile(rb"[ \t\r\n$]+|\xef\xbb\xbf")
# How lxml writes the declaration of a message it re-serialises out of a wrapper (split_iso20022).
RESERIALISED = b"<?xml version='1.0' encoding='UTF-8'?>"


class _Hung(BaseException):
    """Raised in the code under test when its time is up; a BaseException, so that no
    `except Exception` safety net turns a hang into a dead-letter."""


def bounded(call: Callable[[], T], what: str, data: bytes) -> T:
    """call(), failed as a hang when it runs over HARD_LIMIT_S (where SIGALRM can interrupt it)."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        return call()

    def expire(_signum: int, _frame: Any) -> None:
        raise _Hung

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, HARD_LIMIT_S)
    try:
        return call()
    except _Hung:
        raise AssertionError(f"{what} hung: still running after {HARD_LIMIT_S:g} s on {describe(data)}") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def tally(what: str) -> None:
    """A hypothesis event (--hypothesis-show-statistics), also outside a hypothesis test."""
    if currently_in_test_context():
        event(what)


def describe(data: bytes) -> str:
    return f"{len(data)} bytes {data[:400]!r}{'...' if len(data) > 400 else ''}"


def original_of(record: dict[str, Any]) -> bytes:
    """The original bytes a dead-letter keeps, text or base64 (exactly one of the two)."""
    assert ("original" in record) != ("original_base64" in record), sorted(record)
    if "original_base64" in record:
        return base64.b64decode(record["original_base64"], validate=True)
    return str(record["original"]).encode("utf-8")


def check_dead_letter(record: dict[str, Any], data: bytes) -> bytes:
    """The bounds and contents every dead-letter must have; returns the original bytes it holds."""
    error = record["error"]
    assert isinstance(error, str), record
    assert error.strip(), f"empty error for {describe(data)}"
    assert len(error) <= MAX_ERROR_CHARS, f"error of {len(error)} characters: {error[:200]!r}..."
    assert not error.startswith(SAFETY_NETS), f"an exception caught by a safety net: {error!r} on {describe(data)}"
    kept = original_of(record)
    assert len(kept) <= MAX_ORIGINAL_BYTES
    assert record["original_truncated"] == (len(kept) < record["original_size"]), record
    if not record["original_truncated"]:
        assert hashlib.sha256(kept).hexdigest() == record["original_sha256"]
        assert len(kept) == record["original_size"]
    return kept


def check_messages(data: bytes, fmt: str, messages: list[Message]) -> int:
    """read_messages answers for every byte: returns how many answers its messages make."""
    assert messages, f"read_messages found nothing in {describe(data)}"
    covered = bytearray(data)
    slices = True
    for m in messages:
        assert (m.error is None) == bool(m.adapted), f"message at {m.offset}: error {m.error!r}, {len(m.adapted)} items"
        assert m.error is None or m.error.strip()
        if data[m.offset : m.offset + len(m.data)] == m.data:
            covered[m.offset : m.offset + len(m.data)] = b"\n" * len(m.data)
            if data.find(m.data, m.offset + 1) >= 0:
                # The same bytes again later (a message repeated, or first seen in a comment):
                # which copy was read, its offset cannot say.
                slices = False
        else:
            assert fmt == "iso20022" and m.data.startswith(RESERIALISED), (
                f"message not from the input: {m.data[:200]!r}"
            )
            slices = False
        if m.error is not None and len(messages) > 1:
            # A message cut out of a file holds more than separators, else its dead-letter is noise.
            assert BLANKS.sub(b"", m.data), f"a message of separators only: {m.data[:80]!r} in {describe(data)}"
    if slices:
        left = IGNORABLE[fmt].sub(b"", bytes(covered))
        assert not left, f"bytes in no message: {left[:200]!r} of {describe(data)}"
    else:
        tally("messages not located by offset")
    return sum(1 if m.error is not None else len(m.adapted) for m in messages)


def line_count(data: bytes) -> int:
    lines = data.split(b"\n")
    return len(lines) - (lines[-1] == b"")


def check_file(data: bytes, name: str) -> tuple[int, int, int]:
    """(decisions, dead-letters, blank lines) of FileScreener.run on data, each checked."""
    out = io.StringIO()
    dead: list[dict[str, Any]] = []
    summary = bounded(
        lambda: FileScreener(packaged_rules(), REGISTRY).run(name, io.BytesIO(data), out, dead.append),
        "FileScreener.run",
        data,
    )
    decisions = [json.loads(line) for line in out.getvalue().splitlines()]
    assert all(d["decision"] in DECISIONS for d in decisions)
    assert summary.screened == len(decisions)
    assert summary.dead_letters == len(dead)
    lines = data.count(b"\n") + 1
    for record in dead:
        kept = check_dead_letter(record, data)
        assert record["source_file"] == name
        assert 1 <= record["line"] <= lines
        assert kept in data or kept.startswith(RESERIALISED), f"dead-letter original not from the input: {kept[:200]!r}"
        tally(f"file dead-letter: {re.sub(r'[^A-Za-z ]', '', record['error'])[:40]}")
    return len(decisions), len(dead), summary.blank_lines


_SETTINGS: list[Settings] = []
PARTITION = 1


def processor() -> tuple[PaymentProcessor, Settings, Serde]:
    if not _SETTINGS:
        _SETTINGS.append(Settings(partitions=2))
    config = _SETTINGS[0]
    serde = Serde(config)
    chains = AuditChains(config, serde)
    chains.start_at(PARTITION)
    return PaymentProcessor(config, serde, chains, packaged_rules(), REGISTRY, Decided()), config, serde


def check_processor(data: bytes) -> list[Outcome]:
    """PaymentProcessor.process on data as a payments record: one decision or dead-letter each."""
    proc, config, serde = processor()
    src = Source(config.topics.payments, PARTITION, 7, b"k", data, 1_750_000_000.0)
    outcomes = bounded(lambda: proc.process(src), "PaymentProcessor.process", data)
    for outcome in outcomes:
        topics = [o.topic for o in outcome.outputs]
        decided, dead = topics.count(config.topics.decisions), topics.count(config.topics.dead_letter)
        assert decided + dead == 1, topics
        if outcome.dead_letter:
            assert dead == 1 and outcome.decision is None
            [value] = [o.value for o in outcome.outputs if o.topic == config.topics.dead_letter]
            record = serde.decode(config.topics.dead_letter, "DeadLetter", value)
            kept = check_dead_letter(record, data)
            assert data.startswith(kept) and record["original_size"] == len(data)
            assert record["original_sha256"] == hashlib.sha256(data).hexdigest()
            assert (record["source_topic"], record["source_partition"], record["source_offset"]) == (
                "payments",
                PARTITION,
                7,
            )
        else:
            assert decided == 1 and outcome.decision in DECISIONS
    return outcomes


def _collapsed(outcomes: list[Any], limit: int, expected: int) -> bool:
    """Whether the worker gave the bad transactions of a record as one dead-letter naming them
    all (over `limit` of them), beside a decision for each good one."""
    dead = [o for o in outcomes if o.dead_letter]
    return len(dead) == 1 and len(outcomes) < expected and expected - (len(outcomes) - 1) > limit


def check_input(data: bytes, name: str = "fuzz.msg") -> None:
    """Every check, for one input through read_messages, the file screener and the worker."""
    fmt = input_format(data)
    tally(f"format {fmt}")
    decisions, dead, blank = check_file(data, name)
    outcomes = check_processor(data)
    if data:
        assert decisions + dead + blank >= 1, f"no answer at all to {describe(data)}"
        assert outcomes
    if data.strip():
        assert decisions + dead >= 1, f"no decision and no dead-letter for {describe(data)}"
    if fmt in MESSAGE_FORMATS:
        messages = bounded(lambda: list(read_messages(data, fmt)), "read_messages", data)
        expected = check_messages(data, fmt, messages)
        if fmt == "mt":
            assert expected >= data.count(b"{1:")
        limit = getattr(processing, "MAX_MESSAGES_PER_RECORD", None)
        if limit is not None and len(messages) > limit:
            # The worker refuses a record of more messages than that whole, as one dead-letter.
            assert len(outcomes) == 1 and outcomes[0].dead_letter, f"worker: {len(outcomes)} outcomes"
        elif not _collapsed(outcomes, processing.MAX_DEAD_LETTERS_PER_RECORD, expected):
            assert len(outcomes) == expected, f"worker: {len(outcomes)} outcomes, {expected} transactions or messages"
        # A file named as no JSON Lines is read as messages; only when none of them can be read
        # may it be taken for JSON Lines after a bad first line.
        readable = any(m.adapted for m in messages)
        if not name.endswith(JSON_LINES_SUFFIXES) and (readable or decisions + dead == expected):
            # More bad transactions in one message than MAX_DEAD_LETTERS_PER_MESSAGE give one
            # dead-letter naming them all: fewer answers, never none.
            many = sum(1 for m in messages if sum(a.payment is None for a in m.adapted) > MAX_DEAD_LETTERS_PER_MESSAGE)
            assert decisions + dead == expected or (many and decisions + dead < expected), (
                f"file: {decisions} + {dead} answers, {expected} expected"
            )
            return
    else:
        assert len(outcomes) == 1
    # Read as JSON Lines: one answer (or a blank) per line.
    assert decisions + dead + blank == line_count(data), f"{decisions} + {dead} + {blank} for {line_count(data)} lines"


# --- The tests ------------------------------------------------------------------------------------


def test_the_samples_are_there() -> None:
    """Guards the fuzzing itself: it mutates real messages of both formats."""
    assert len(XML_SAMPLES) >= 8
    assert len(MT_SAMPLES) >= 8


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_sample_as_it_is(name: str) -> None:
    check_input(SAMPLES[name], Path(name).name)


names = st.sampled_from(["fuzz.msg", "fuzz.xml", "fuzz.fin", "fuzz", "fuzz.jsonl"])


@fuzz(EXAMPLES)
@given(data=mutated(), name=names)
def test_mutated_messages_are_each_answered(data: bytes, name: str) -> None:
    check_input(data, name)


@fuzz(EXAMPLES // 2)
@given(data=concatenated())
def test_concatenated_messages_are_each_answered(data: bytes) -> None:
    check_input(data)


# What may stand between the messages of a file (split_iso20022, split_mt say so).
JOINS = {
    "iso20022": [b"", b"\n", b"\r\n", b"\n\n", b" ", b"\t", b"\xef\xbb\xbf", b"\n\xef\xbb\xbf"],
    "mt": [b"", b"\n", b"\r\n", b"\n\n", b" ", b"\t", b"$", b"$\n", b"\xef\xbb\xbf", b"\n\xef\xbb\xbf"],
}


@st.composite
def joined_samples(draw: st.DrawFn) -> list[tuple[bytes, str]]:
    """(separator, sample name) pairs of one format."""
    fmt = draw(st.sampled_from(["iso20022", "mt"]))
    pool = XML_SAMPLES if fmt == "iso20022" else MT_SAMPLES
    parts = draw(st.lists(st.tuples(st.sampled_from(JOINS[fmt]), st.sampled_from(pool)), min_size=2, max_size=6))
    # Before the first message only what input_format skips: "$" there is no MT file.
    return [(parts[0][0].replace(b"$", b""), parts[0][1]), *parts[1:]]


def answers(data: bytes) -> tuple[int, int, int]:
    """(decisions, dead-letters) of the file screener, and the worker's outcomes (its decisions
    depend on the order: a payment_id seen before with other content is dead-lettered)."""
    decisions, dead, _ = check_file(data, "one.msg")
    return decisions, dead, len(check_processor(data))


MT_DIR, OPS_DIR = "tests/schemas/messages/mt/", "ops/samples/messages/"


@fuzz(EXAMPLES // 4)
@given(parts=joined_samples())
@example(parts=[(b"", OPS_DIR + "mt103_clean.fin"), (b"\n\xef\xbb\xbf", OPS_DIR + "mt202_clean.fin")])
def test_a_file_of_messages_answers_as_its_messages_alone(parts: list[tuple[bytes, str]]) -> None:
    """Nothing dropped, nothing spoilt: a file of unaltered samples of one format, joined as files
    are, gets the decisions and dead-letters of the samples one by one."""
    data = b"".join(separator + SAMPLES[name] for separator, name in parts)
    check_input(data)
    alone = [answers(SAMPLES[name]) for _, name in parts]
    expected = tuple(sum(a[i] for a in alone) for i in range(3))
    assert answers(data) == expected, f"(file decisions, file dead-letters, worker outcomes) for {parts}"


@fuzz(max(4, EXAMPLES // 50))
@given(
    name=st.sampled_from(sorted(SAMPLES)),
    unit=st.sampled_from(["line", "element", "piece", "message"]),
    size=st.sampled_from([MAX_MESSAGE_BYTES - 4096, MAX_MESSAGE_BYTES, MAX_MESSAGE_BYTES + 1, 2 * MAX_MESSAGE_BYTES]),
    data=st.data(),
)
def test_huge_messages(name: str, unit: str, size: int, data: st.DataObject) -> None:
    """Repeats up to and over MAX_MESSAGE_BYTES: refused or read, within the deadline."""
    sample = SAMPLES[name]
    if unit == "line":
        lines = sample.splitlines(keepends=True)
        piece = data.draw(st.sampled_from(lines))
    elif unit == "element" and (spans := [m.span() for m in ELEMENT.finditer(sample)]):
        start, end = data.draw(st.sampled_from(spans))
        piece = sample[start:end]
    elif unit == "message":
        piece = sample + data.draw(st.sampled_from(SEPARATORS))
    else:
        piece = data.draw(pieces)
    i = data.draw(st.integers(0, len(sample)))
    count = max(1, (size - len(sample)) // max(1, len(piece)))
    check_input(sample[:i] + piece * count + sample[i:])


@fuzz(max(5, EXAMPLES // 10))
@given(
    files=st.lists(
        st.tuples(mutated(mutations=SMALL_MUTATIONS), st.sampled_from([".xml", ".fin", ".jsonl", ".txt", ""])),
        max_size=4,
    )
)
def test_a_folder_of_mutated_files(files: list[tuple[bytes, str]]) -> None:
    """FileScreener.run_folder: each file answered as it is alone, each dead-letter naming its
    file; hidden files are left out."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = []
        for i, (content, suffix) in enumerate(files):
            path = folder / ("sub" if i % 2 else "") / f"m{i}{suffix}"
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(content)
            paths.append(path)
        (folder / ".hidden.xml").write_bytes(b"<not screened")
        out, dead = io.StringIO(), list[dict[str, Any]]()
        summary = bounded(
            lambda: FileScreener(packaged_rules(), REGISTRY).run_folder(folder, out, dead.append), "run_folder", b""
        )
        alone = sum(sum(check_file(path.read_bytes(), str(path))[:2]) for path in paths)
    assert summary.dead_letters == len(dead)
    assert summary.screened == len(out.getvalue().splitlines())
    assert summary.screened + summary.dead_letters == alone
    for record in dead:
        check_dead_letter(record, b"")
        assert record["source_file"] in {str(p) for p in paths}


# Inputs this fuzzing found hanging (each for more than a minute: backtracking regular
# expressions, work quadratic in a message's depth or in the number of messages of a file or
# record), or answered wrongly: each must be answered, and within the time limit.
DOCUMENT = b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"/>'


def unreadable_transactions(messages: int, transactions: int) -> bytes:
    """Messages of transactions with an id and nothing else: one dead-letter each."""
    header = b"<GrpHdr><MsgId>M</MsgId><CreDtTm>2025-06-10T10:00:00Z</CreDtTm></GrpHdr>"
    return b"".join(
        DOCUMENT[:-2]
        + b"><FIToFICstmrCdtTrf>"
        + header
        + b"".join(
            b"<CdtTrfTxInf><PmtId><EndToEndId>M%dT%d</EndToEndId></PmtId></CdtTrfTxInf>" % (m, t)
            for t in range(transactions)
        )
        + b"</FIToFICstmrCdtTrf></Document>\n"
        for m in range(messages)
    )


HOSTILE = {
    "repeated xml declarations, a DOCTYPE later (schemas/iso20022_fields.py _PROLOG_DOCTYPE)": (
        b'<?xml version="1.0"?>\n' * 24 + SAMPLES[OPS_DIR + "pacs008_clean.xml"] + b"<!-- <!DOCTYPE -->"
    ),
    "comments before the root, a DOCTYPE later (_PROLOG_DOCTYPE)": b"<!--a-->" * 30 + DOCUMENT + b"<!--<!DOCTYPE-->",
    "an unterminated DOCTYPE of bracket pairs (schemas/iso20022.py _tokens)": b"<!DOCTYPE " + b"[]" * 40,
    "elements nested 300,000 deep (schemas/iso20022.py _top_level)": b"<a>" * 300_000 + b"</a>" * 300_000,
    "a file of 200,000 one-line MT messages (ops/file_inputs.py line numbers)": b"{1:}\n" * 200_000,
    "100,000 blanks inside an MT message (schemas/swift_mt.py _SEPARATORS)": b"{1:" + b" " * 100_000 + b"x",
    # 13,000 dead-letters from a 950 kB record, each with (up to 64 kB of) the whole record and its
    # SHA-256 computed again: about 20 s and 860 MB of dead-letter records.
    "13 messages of 1,000 unreadable transactions in a record (streams/processing.py dead_letter)": (
        unreadable_transactions(13, 1000)
    ),
    # Dropped: a malformed "<?" (no PI target) before a message hides it from the splitter up to the
    # next "?>", here the next message's XML declaration; neither a decision nor a dead-letter.
    "a message after '<?' (schemas/iso20022.py _tokens)": (
        b"<?" + SAMPLES[OPS_DIR + "pacs008_clean.xml"].partition(b"-->")[2] + SAMPLES[OPS_DIR + "pacs008_dandong.xml"]
    ),
    # Safety net: a digit int() cannot read (str.isdigit() is true for it) raises ValueError.
    "NbOfTxs '²' (schemas/iso20022.py _message)": SAMPLES[OPS_DIR + "pacs008_clean.xml"].replace(
        b"<NbOfTxs>1<", "<NbOfTxs>²<".encode()
    ),
    "NbOfTxs of 4,401 digits (schemas/iso20022.py _message: int() digit limit)": SAMPLES[
        OPS_DIR + "pacs008_clean.xml"
    ].replace(b"<NbOfTxs>1<", b"<NbOfTxs>" + b"0" * 4400 + b"1<"),
    # Noise: a BOM after a blank before the first message becomes a message of its own.
    "a blank and a BOM before an MT message (schemas/swift_mt.py split_mt)": (
        b"\n\xef\xbb\xbf" + SAMPLES[OPS_DIR + "mt103_clean.fin"]
    ),
}


@pytest.mark.parametrize("data", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_inputs(data: bytes) -> None:
    check_input(data)


def test_a_message_whose_text_has_a_line_like_json() -> None:
    """A well-formed message is read as one, even when a line of its text opens like a JSON object
    (ops/file_inputs.py _json_lines takes such a file for JSON Lines: every line dead-lettered)."""
    sample = SAMPLES[OPS_DIR + "pacs008_clean.xml"]
    i = sample.index(b"<Ustrd>") + len(b"<Ustrd>")
    data = sample[:i] + b'\n{"ref": "INV-1"}\n' + sample[i:]
    check_input(data, "payment.xml")
    assert check_file(data, "payment.xml")[:2] == (1, 0)
