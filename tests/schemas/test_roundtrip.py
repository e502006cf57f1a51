"""Every record of SPEC 1 survives JSON -> Avro (single-object encoding) -> JSON unchanged."""

import hashlib
import json
from pathlib import Path

import pytest
import yaml

from rules import parse_payment
from schemas.codec import (
    MAX_ERROR_CHARS,
    RECORDS,
    CodecError,
    dead_letter_json,
    decode_single_object,
    encode_single_object,
    schema,
    sniff,
)
from tests.conftest import SCREENED_AT, payment, registry

SAMPLES = Path(__file__).resolve().parents[2] / "ops" / "samples"


def _roundtrip(name, record):
    data = encode_single_object(name, record)
    assert data[:2] == b"\xc3\x01" and sniff(data) == "single_object"
    decoded_name, decoded = decode_single_object(data)
    assert decoded_name == name
    return decoded


def test_every_schema_loads():
    for name in RECORDS:
        assert schema(name)["name"] == f"screener.{name}"


def test_sample_payments_roundtrip():
    for line in (SAMPLES / "payments.jsonl").read_text(encoding="utf-8").splitlines():
        full = parse_payment(line).model_dump(mode="json")
        full["created_at"] = json.loads(line)["created_at"]
        assert _roundtrip("Payment", full) == full


def test_sample_registry_roundtrips():
    data = yaml.safe_load((SAMPLES / "registry.yaml").read_text(encoding="utf-8"))
    reg = registry(data["accounts"], data["institutions"])
    for acc in reg.accounts():
        record = acc.model_dump(mode="json")
        assert _roundtrip("Account", record) == record
    for inst in reg.institutions():
        record = inst.model_dump(mode="json")
        assert _roundtrip("RegistryInstitution", record) == record


def test_decision_alert_notice_audit_roundtrip(decide):
    decision = decide(payment(intermediary_agents=[{"bic": "KKBCKPPY"}])).to_dict()
    assert _roundtrip("Decision", decision) == decision
    alert = {
        k: decision[k]
        for k in (
            "payment_id",
            "decision",
            "hits",
            "citations",
            "rules_version",
            "registry_version",
            "screened_at",
        )
    } | {"alert_id": "a1", "severity": "high"}
    assert _roundtrip("Alert", alert) == alert
    n = decision["notices"][0]
    notice = {
        "notice_id": "n1",
        "account_id": n["account_id"],
        "section": n["section"],
        "citation": n["citation"],
        "text": n["text"],
        "payment_id": "PAY-1",
        "issued_at": SCREENED_AT.isoformat(),
        "rules_version": "r",
    }
    assert _roundtrip("Notice", notice) == notice
    audit = {
        "audit_id": "x",
        "kind": "decision",
        "subject_id": "PAY-1",
        "chain": "screening.audit/0",
        "sequence": 7,
        "prev_hash": "0" * 64,
        "hash": "f" * 64,
        "key_id": "2026-11",
        "input_digest": "d" * 64,
        "rules_version": "r",
        "registry_version": "g",
        "recorded_at": SCREENED_AT.isoformat(),
        "body": json.dumps(decision),
    }
    assert _roundtrip("AuditRecord", audit) == audit


def test_dead_letter_keeps_non_utf8_bytes_exactly():
    record = {
        "error": "bad",
        "original_base64": "/w==",
        "original_size": 1,
        "original_sha256": "a8100ae6aa1940d0b663bb31cd466142ebbdbd5187131b92d93818987832eb89",
        "original_truncated": False,
        "source_topic": "payments",
        "source_partition": 0,
        "source_offset": 5,
        "source_file": None,
        "line": None,
        "received_at": SCREENED_AT.isoformat(),
    }
    assert _roundtrip("DeadLetter", record) == record


def test_garbage_is_a_codec_error():
    with pytest.raises(CodecError):
        decode_single_object(b"\xc3\x01" + b"\x00" * 8 + b"\x01")
    with pytest.raises(CodecError):
        encode_single_object("Decision", {"payment_id": "x"})


def test_dead_letter_of_an_oversized_input_keeps_a_bounded_prefix_and_the_digest():
    original = b'{"payment_id": "' + "é".encode() * 600_000 + b'"}'  # 1.2 MB
    record = dead_letter_json("x" * 700_000, original, SCREENED_AT.isoformat(), source_topic="payments")
    assert record["original_truncated"] and record["original_size"] == len(original)
    assert record["original_sha256"] == hashlib.sha256(original).hexdigest()
    assert original.startswith(record["original"].encode())  # still text, cut on a character boundary
    assert record["error"].endswith("(error text cut, 700,000 characters)")
    assert len(record["error"]) == MAX_ERROR_CHARS
    assert len(encode_single_object("DeadLetter", record)) < 100_000  # far under a topic's 1 MB
