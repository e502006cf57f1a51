"""Every record of SPEC 1 survives JSON -> Avro (single-object encoding) -> JSON unchanged."""

import json
from pathlib import Path

import pytest
import yaml

from rules import parse_payment
from schemas.codec import RECORDS, CodecError, decode_single_object, encode_single_object, schema, sniff
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
