"""Avro encoding of every record in SPEC 1 and of the workbench's dispositions and releases, and the
one error type decoding raises.

Without a schema registry, records are written in Avro single-object encoding (Avro
specification: marker C3 01, the 8-byte little-endian CRC-64-AVRO fingerprint of the writer
schema's canonical form, then the body), so every record on a topic says which schema wrote it.
With a registry the Confluent wire format is used instead (streams/serde.py). A JSON object
(first byte "{") is accepted for payments so that any client can produce.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any, Literal, get_args

from fastavro import schemaless_reader, schemaless_writer
from fastavro.schema import fingerprint, load_schema, parse_schema, to_parsing_canonical_form

SCHEMA_DIR = Path(__file__).parent
SINGLE_OBJECT_MARKER = b"\xc3\x01"
CONFLUENT_MAGIC = b"\x00"

RecordName = Literal[
    "Payment",
    "Account",
    "RegistryInstitution",
    "Decision",
    "Alert",
    "Notice",
    "AuditRecord",
    "DeadLetter",
    # The analyst workbench's records (ops/workbench): a person's action on a review, and the
    # outcome of a held payment that core banking acts on.
    "Disposition",
    "Release",
]
RECORDS: tuple[RecordName, ...] = get_args(RecordName)


class CodecError(ValueError):
    """Bytes or a record that cannot be encoded or decoded; the stream dead-letters them."""


@cache
def schema(name: RecordName) -> dict[str, Any]:
    """The parsed schema of a top-level record (named types resolved from schemas/*.avsc)."""
    path = SCHEMA_DIR / f"screener.{name}.avsc"
    parsed = load_schema(str(path), _write_hint=False)
    if not isinstance(parsed, dict):
        raise CodecError(f"{path.name} does not define a record")
    return parsed


@cache
def _parsed(name: RecordName) -> Any:
    """The schema as fastavro's reader and writer take it: parsed once and marked parsed, because
    an unmarked schema is parsed again on every call, which costs more than the encoding itself."""
    return parse_schema(schema(name))


@cache
def canonical_form(name: RecordName) -> str:
    """The Parsing Canonical Form, which the fingerprint and a schema registry both use."""
    return str(to_parsing_canonical_form(schema(name)))


@cache
def schema_fingerprint(name: RecordName) -> bytes:
    """CRC-64-AVRO fingerprint, little-endian, as single-object encoding writes it."""
    return bytes.fromhex(fingerprint(canonical_form(name), "CRC-64-AVRO"))


@cache
def _by_fingerprint() -> dict[bytes, RecordName]:
    return {schema_fingerprint(n): n for n in RECORDS}


def to_avro(name: RecordName, record: Mapping[str, Any]) -> dict[str, Any]:
    """The Avro datum of a record's JSON form (the two differ only for dead-letter bytes)."""
    datum = dict(record)
    if name == "DeadLetter":
        if "original_base64" in datum:
            try:
                datum["original"] = base64.b64decode(datum.pop("original_base64"), validate=True)
            except (binascii.Error, ValueError) as exc:
                raise CodecError(f"original_base64 is not base64: {exc}") from None
        elif isinstance(datum.get("original"), str):
            datum["original"] = datum["original"].encode("utf-8")
    elif name == "Release" and isinstance(datum.get("decided_by"), str | bytes):
        # fastavro writes any iterable as an array: one name given as a string would be recorded
        # as its letters, each one a person who decided.
        raise CodecError("Release record does not fit its schema: decided_by is a list of people, not one string")
    return datum


def from_avro(name: RecordName, datum: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON form of an Avro datum: bytes that are not UTF-8 travel as base64."""
    record = dict(datum)
    if name == "DeadLetter" and isinstance(record.get("original"), bytes):
        raw: bytes = record["original"]
        try:
            record["original"] = raw.decode("utf-8")
        except UnicodeDecodeError:
            del record["original"]
            record["original_base64"] = base64.b64encode(raw).decode("ascii")
    return record


# Bounds of a dead-letter record (SPEC 2.6), well under a topic's 1 MB record limit whatever the
# input: an error text that repeats a huge field, or an input too large to keep whole.
MAX_ERROR_CHARS = 2_000
MAX_ORIGINAL_BYTES = 65_536


def bounded_error(error: str) -> str:
    """An error text cut to MAX_ERROR_CHARS, saying how long it was."""
    if len(error) <= MAX_ERROR_CHARS:
        return error
    note = f"... (error text cut, {len(error):,} characters)"
    return error[: MAX_ERROR_CHARS - len(note)] + note


def dead_letter_json(error: str, original: bytes | None, received_at: str, **source: Any) -> dict[str, Any]:
    """The JSON form of a dead-letter record: the original as text when it is UTF-8, else base64.

    Bounded: the error text to MAX_ERROR_CHARS; an original over MAX_ORIGINAL_BYTES is kept as its
    first bytes, its size and its SHA-256. `source` names where the input came from:
    source_topic/partition/offset, or source_file/line.
    """
    raw = original or b""
    kept = raw[:MAX_ORIGINAL_BYTES]
    if len(kept) < len(raw):
        # Cut on a UTF-8 character boundary, so that a text input stays text.
        kept = kept.decode("utf-8", errors="ignore").encode("utf-8") if _is_utf8(raw) else kept
    record = {
        "error": bounded_error(error),
        "original": kept,
        "original_size": len(raw),
        "original_sha256": hashlib.sha256(raw).hexdigest(),
        "original_truncated": len(kept) < len(raw),
        "received_at": received_at,
        **source,
    }
    return from_avro("DeadLetter", record)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def encode_body(name: RecordName, record: Mapping[str, Any]) -> bytes:
    """The schemaless Avro body of a record given in its JSON form."""
    out = io.BytesIO()
    try:
        schemaless_writer(out, _parsed(name), to_avro(name, record))
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise CodecError(f"{name} record does not fit its schema: {exc}") from None
    return out.getvalue()


def decode_body(name: RecordName, body: bytes) -> dict[str, Any]:
    """A record's JSON form from its schemaless Avro body."""
    try:
        datum = schemaless_reader(io.BytesIO(body), _parsed(name), None)
    except (EOFError, ValueError, TypeError, IndexError, UnicodeDecodeError, OverflowError) as exc:
        raise CodecError(f"{name}: Avro body cannot be read: {exc or type(exc).__name__}") from None
    if not isinstance(datum, dict):
        raise CodecError(f"{name}: Avro body is not a record")
    return from_avro(name, datum)


def encode_single_object(name: RecordName, record: Mapping[str, Any]) -> bytes:
    """Avro single-object encoding: marker, fingerprint, body."""
    return SINGLE_OBJECT_MARKER + schema_fingerprint(name) + encode_body(name, record)


def decode_single_object(data: bytes) -> tuple[RecordName, dict[str, Any]]:
    """Decode a single-object-encoded record, whichever of our schemas wrote it."""
    if len(data) < 10 or not data.startswith(SINGLE_OBJECT_MARKER):
        raise CodecError("not Avro single-object encoding (no C3 01 marker)")
    name = _by_fingerprint().get(data[2:10])
    if name is None:
        raise CodecError(f"unknown schema fingerprint {data[2:10].hex()}")
    return name, decode_body(name, data[10:])


def decode_json(data: bytes) -> dict[str, Any]:
    """A JSON object record (payments produced by kcat or a shell)."""
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CodecError(f"not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise CodecError("a JSON record must be an object")
    return value


def sniff(data: bytes) -> Literal["json", "single_object", "confluent", "unknown"]:
    """Which encoding a record's value uses, from its first bytes."""
    if data.lstrip()[:1] == b"{":
        return "json"
    if data.startswith(SINGLE_OBJECT_MARKER):
        return "single_object"
    if data.startswith(CONFLUENT_MAGIC) and len(data) >= 5:
        return "confluent"
    return "unknown"
