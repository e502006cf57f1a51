"""Topic encodings: single-object Avro, Confluent wire format (mock registry), JSON for payments."""

import json
import logging

import pytest

from schemas.codec import CodecError
from streams.serde import Serde
from streams.settings import Settings
from tests.conftest import payment


def test_single_object_roundtrip_without_a_registry():
    serde = Serde(Settings())
    data = serde.encode(
        "payments", "Payment", payment() | {"intermediary_agents": [], "previous_instructing_agents": []}
    )
    assert data[:2] == b"\xc3\x01"
    assert serde.decode("payments", "Payment", data)["payment_id"] == "PAY-1"


def test_confluent_wire_format_with_a_schema_registry():
    serde = Serde(Settings(schema_registry_url="mock://screener-test"))
    record = {
        "payment_id": "PAY-9",
        "decision": "pass",
        "hits": [],
        "citations": [],
        "rules_version": "r",
        "registry_version": "g",
        "screened_at": "2026-01-01T00:00:00+00:00",
        "notices": [],
    }
    data = serde.encode("screening.decisions", "Decision", record)
    assert data[:1] == b"\x00"  # magic byte, then a 4-byte schema id
    assert serde.decode("screening.decisions", "Decision", data) == record


def test_json_is_accepted_for_payments_only():
    serde = Serde(Settings())
    assert serde.decode("payments", "Payment", json.dumps(payment()).encode())["payment_id"] == "PAY-1"
    with pytest.raises(CodecError, match="only for payments"):
        serde.decode("registry.accounts", "Account", b'{"account_id": "A"}')


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"\x07garbage", "unknown encoding"),
        (b"\x00\x00\x00\x00\x01abc", "no schema registry"),
        (b"\xc3\x01" + b"\x01" * 8, "unknown schema fingerprint"),
    ],
)
def test_undecodable_values_raise_one_error_type(data, message):
    with pytest.raises(CodecError, match=message):
        Serde(Settings()).decode("payments", "Payment", data)


def test_settings_mask_secrets_and_pass_security_through():
    settings = Settings(
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username="svc",
        sasl_password="s3cret",
        bootstrap_servers="127.0.0.1:9093",
    )
    assert settings.masked()["sasl_password"] == "**********"
    assert "s3cret" not in json.dumps(settings.masked())
    conf = settings.kafka_config()
    assert conf["sasl.password"] == "s3cret" and conf["security.protocol"] == "SASL_SSL"


def test_credentials_written_into_a_url_are_masked():
    settings = Settings(schema_registry_url="https://svc-user:Pa55word@127.0.0.1:8081/api")
    shown = json.dumps(settings.masked())
    assert "Pa55word" not in shown and "svc-user" not in shown
    assert settings.masked()["schema_registry_url"] == "https://**********@127.0.0.1:8081/api"


def test_librdkafka_logs_go_through_python_logging(caplog):
    from confluent_kafka import Producer

    caplog.set_level(logging.INFO, logger="librdkafka")
    Producer(Settings(bootstrap_servers="127.0.0.1:1").kafka_config()).poll(1.0)
    assert any(r.name == "librdkafka" and "Connection refused" in r.getMessage() for r in caplog.records)
