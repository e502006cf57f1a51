"""The analyst workbench's records (Disposition, Release): their contract, as the workbench writes
them and core banking reads them, survives Avro both ways; a record short of a field is refused."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from schemas.codec import (
    RECORDS,
    CodecError,
    RecordName,
    decode_body,
    decode_single_object,
    encode_body,
    encode_single_object,
    schema,
    schema_fingerprint,
)
from streams.decision_record import DecisionRecord
from streams.serde import Serde
from streams.settings import Settings
from tests.conftest import SCREENED_AT, payment, registry

DISPOSITION_FIELDS = [
    "disposition_id",
    "payment_id",
    "decision_digest",
    "decision_screened_at",
    "kind",
    "actor",
    "role",
    "at",
    "reason",
    "stop_action",
    "answers",
    "state",
]
RELEASE_FIELDS = [
    "release_id",
    "payment_id",
    "outcome",
    "stop_action",
    "reason",
    "decided_by",
    "disposition_id",
    "decision_digest",
    "decided_at",
]
OPTIONAL = {"stop_action", "answers"}


@pytest.fixture(scope="module")
def review(rules) -> DecisionRecord:
    """A held payment: a review (the abbreviation of Commercial Bank of Syria, seated elsewhere)."""
    from rules import parse_payment, screen

    decision = screen(
        parse_payment(payment(creditor_agent={"name": "CBS", "country": "US"})), registry(), rules, SCREENED_AT
    )
    return DecisionRecord.of(decision)


def _digest(record: DecisionRecord) -> str:
    return hashlib.sha256(record.canonical.encode()).hexdigest()


def disposition(review: DecisionRecord, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "disposition_id": "DSP-0001",
        "payment_id": review.payment_id,
        "decision_digest": _digest(review),
        "decision_screened_at": review.screened_at,
        "kind": "confirm",
        "actor": "a.analyst",
        "role": "analyst",
        "at": "2026-01-05T12:30:00+00:00",
        "reason": "creditor agent CBS confirmed as Commercial Bank of Syria",
        "stop_action": "block",
        "answers": None,
        "state": "pending_approval",
    }
    return base | fields


def release(review: DecisionRecord, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "release_id": f"release:{review.payment_id}",
        "payment_id": review.payment_id,
        "outcome": "stop",
        "stop_action": "block",
        "reason": "confirmed: 31 CFR 1010.653(b)(2)",
        "decided_by": ["a.analyst", "b.approver"],
        "disposition_id": "DSP-0002",
        "decision_digest": _digest(review),
        "decided_at": "2026-01-05T13:00:00+00:00",
    }
    return base | fields


def _roundtrip(name: RecordName, record: dict[str, Any]) -> dict[str, Any]:
    decoded_name, decoded = decode_single_object(encode_single_object(name, record))
    assert decoded_name == name
    return decoded


def test_the_held_payment_is_a_review(review):
    assert review.verdict == "review"


def test_the_records_are_known_with_their_fields_in_order():
    assert {"Disposition", "Release"} <= set(RECORDS)
    assert [f["name"] for f in schema("Disposition")["fields"]] == DISPOSITION_FIELDS
    assert [f["name"] for f in schema("Release")["fields"]] == RELEASE_FIELDS
    for name in ("Disposition", "Release"):
        fields = schema(name)["fields"]
        assert {f["name"] for f in fields if f["type"] == ["null", "string"] and f["default"] is None} <= OPTIONAL
        assert all(f["type"] != ["null", "string"] or "default" in f for f in fields)
    # Single-object encoding tells the writer schema by fingerprint: every record has its own.
    assert len({schema_fingerprint(n) for n in RECORDS}) == len(RECORDS)


def test_a_disposition_roundtrips(review):
    record = disposition(review)
    assert _roundtrip("Disposition", record) == record
    approve = disposition(
        review,
        disposition_id="DSP-0002",
        kind="approve",
        actor="b.approver",
        role="approver",
        answers="DSP-0001",
        stop_action=None,
        state="stopped",
    )
    assert _roundtrip("Disposition", approve) == approve


def test_a_disposition_s_optional_fields_are_null_when_left_out(review):
    comment = disposition(review, kind="comment", state="open")
    del comment["stop_action"], comment["answers"]
    assert _roundtrip("Disposition", comment) == comment | {"stop_action": None, "answers": None}


def test_a_release_roundtrips(review):
    stop = release(review)
    assert _roundtrip("Release", stop) == stop
    cleared = release(review, outcome="release", stop_action=None, decided_by=["a.analyst"])
    assert _roundtrip("Release", cleared) == cleared
    without = release(review, outcome="release")
    del without["stop_action"]
    assert _roundtrip("Release", without) == without | {"stop_action": None}


@pytest.mark.parametrize("field", [f for f in DISPOSITION_FIELDS if f not in OPTIONAL])
def test_a_disposition_missing_a_required_field_is_refused(review, field):
    record = disposition(review)
    del record[field]
    with pytest.raises(CodecError, match=f"Disposition record does not fit its schema.*{field}"):
        encode_single_object("Disposition", record)


@pytest.mark.parametrize("field", [f for f in RELEASE_FIELDS if f not in OPTIONAL])
def test_a_release_missing_a_required_field_is_refused(review, field):
    record = release(review)
    del record[field]
    with pytest.raises(CodecError, match=f"Release record does not fit its schema.*{field}"):
        encode_single_object("Release", record)


@pytest.mark.parametrize(
    ("name", "bad"),
    [
        ("Disposition", {"state": None}),
        ("Disposition", {"stop_action": 1}),
        ("Release", {"decided_by": "a.analyst"}),
        ("Release", {"decided_by": None}),
        ("Release", {"decided_by": ["a.analyst", None]}),
    ],
)
def test_a_field_of_the_wrong_type_is_refused(review, name, bad):
    record = (disposition if name == "Disposition" else release)(review) | bad
    with pytest.raises(CodecError, match="does not fit its schema"):
        encode_single_object(name, record)


def test_a_cut_body_is_refused(review):
    body = encode_body("Release", release(review))
    assert decode_body("Release", body) == release(review)
    with pytest.raises(CodecError, match="cannot be read"):
        decode_body("Release", body[: len(body) // 2])


def test_the_topics_serde_tells_the_two_apart(review):
    serde = Serde(Settings())
    t = Settings().topics
    data = serde.encode(t.releases, "Release", release(review))
    assert serde.decode(t.releases, "Release", data) == release(review)
    with pytest.raises(CodecError, match="expected a Disposition record, found Release"):
        serde.decode(t.dispositions, "Disposition", data)
    with pytest.raises(CodecError, match="only for payments"):
        serde.decode(t.releases, "Release", b'{"release_id": "x"}')


def test_confluent_wire_format_with_a_schema_registry(review):
    serde = Serde(Settings(schema_registry_url="mock://screener-casework-test"))
    t = Settings().topics
    cases: list[tuple[str, RecordName, dict[str, Any]]] = [
        (t.dispositions, "Disposition", disposition(review)),
        (t.releases, "Release", release(review)),
    ]
    for topic, name, record in cases:
        data = serde.encode(topic, name, record)
        assert data[:1] == b"\x00"  # magic byte, then a 4-byte schema id
        assert serde.decode(topic, name, data) == record
