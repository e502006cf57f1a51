"""The service on a real Kafka-protocol broker (embedded Tansu, started by the fixtures)."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from ops.kafka_commands import decoded_records, load_registry, produce_payments
from ops.screen_file import FileScreener, load_registry_file
from rules import load_rules
from streams.audit_verify import verify
from streams.kafka_io import Sender
from streams.serde import Serde
from tests.integration.conftest import SAMPLES, Worker, collect

# Every test here shares one worker: the samples go first, then one payment per test.
SAMPLE_COUNT = len((SAMPLES / "payments.jsonl").read_text().splitlines())
COMPARED = ("decision", "hits", "citations", "notices", "rules_version", "registry_version")


def offline_decisions() -> dict[str, dict[str, Any]]:
    out = io.StringIO()
    FileScreener(load_rules(), load_registry_file(SAMPLES / "registry.yaml")).run(
        "samples", (SAMPLES / "payments.jsonl").open("rb"), out, lambda _: None
    )
    return {d["payment_id"]: d for d in map(json.loads, out.getvalue().splitlines())}


def test_sample_payments_decide_through_kafka_as_offline(worker: Worker, settings):
    with (SAMPLES / "payments.jsonl").open("rb") as source:
        sent, raw, errors = produce_payments(settings, source, None, raw=False)
    expected = offline_decisions()
    assert (sent, raw, errors) == (len(expected), 0, [])
    got = collect(settings, settings.topics.decisions, len(expected))
    assert set(got) == set(expected)
    for payment_id, records in got.items():
        for record in records:
            assert {k: record[k] for k in COMPARED} == {k: expected[payment_id][k] for k in COMPARED}, payment_id
    want_blocks = {p for p, d in expected.items() if d["decision"] == "block"}
    blocks = collect(settings, settings.topics.blocks, len(want_blocks))
    assert set(blocks) == want_blocks
    alerts = collect(settings, settings.topics.alerts, 1)
    assert set(alerts) == {p for p, d in expected.items() if any(h["action"] in ("review", "info") for h in d["hits"])}
    want_notices = {(n["account_id"], n["section"]) for d in expected.values() for n in d["notices"]}
    notices = collect(settings, settings.topics.notices, len(want_notices), key="notice_id")
    assert {(r[0]["account_id"], r[0]["section"]) for r in notices.values()} == want_notices
    assert all(
        len({json.dumps({k: v for k, v in r.items() if k != "_position"}, sort_keys=True) for r in rs}) == 1
        for rs in notices.values()
    )


def test_health_readiness_and_metrics(worker: Worker):
    port = worker.web_port
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
        assert json.load(resp) == {"status": "alive"}
    ready = worker.readyz()
    assert ready["ready"] and ready["registry_loaded"]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as resp:
        text = resp.read().decode()
    assert 'screener_payments_screened_total{decision="block"}' in text
    assert "screener_screening_seconds_bucket" in text


@pytest.mark.parametrize("path", ["/", "/table/registry-accounts/", "/table/registry-accounts/ACC-KP-001/", "/router/"])
def test_no_other_page_is_served(worker: Worker, path: str):
    # Faust's own pages would serve registry records and routing metadata without authentication.
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"http://127.0.0.1:{worker.web_port}{path}", timeout=2)
    assert err.value.code == 404


def kcat_env(tmp_path: Path) -> dict[str, str]:
    """Debian bookworm's kcat links librdkafka 2.0.2, which misreads the tagged fields of Tansu's
    ApiVersion v3 response ("Read underflow"); run the same kcat on the librdkafka 2.16 that the
    confluent-kafka wheel ships. Against a real Kafka the packaged kcat works as it is."""
    import confluent_kafka

    libs = Path(confluent_kafka.__file__).parent.parent / "confluent_kafka.libs"
    (tmp_path / "librdkafka.so.1").symlink_to(next(libs.glob("librdkafka-*.so.1")))
    return dict(os.environ, LD_LIBRARY_PATH=str(tmp_path))


def test_payment_produced_by_kcat_is_screened(worker: Worker, settings, tmp_path: Path):
    kcat = shutil.which("kcat")
    assert kcat, "kcat is missing: `bash ops/bootstrap.sh test` installs it"
    line = json.dumps(
        {
            "payment_id": "KCAT-1",
            "message_type": "MT103",
            "created_at": "2025-06-10T10:00:00Z",
            "correspondent_account_id": "ACC-DE-001",
            "creditor": {"name": "Choe Chol Min"},
        }
    )
    subprocess.run(
        [kcat, "-P", "-b", settings.bootstrap_servers, "-t", settings.topics.payments, "-k", "KCAT-1"],
        input=line.encode() + b"\n",
        check=True,
        timeout=30,
        env=kcat_env(tmp_path),
    )
    got = collect(settings, settings.topics.decisions, SAMPLE_COUNT + 1)
    assert got["KCAT-1"][0]["decision"] == "block"


def test_bad_input_lands_in_the_dead_letter_topic(worker: Worker, settings):
    sender = Sender(settings)
    bad = [
        b"not json at all",
        b"\xc3\x01\x00\x01\x02\x03\x04\x05\x06\x07\x08",
        json.dumps(
            {"payment_id": "BAD-AMOUNT", "message_type": "MT103", "created_at": "2025-06-10T10:00:00Z", "amount": 12.5}
        ).encode(),
    ]
    for value in bad:
        sender.send(settings.topics.payments, b"bad", value)
    sender.flush()
    dead = collect(settings, settings.topics.dead_letter, 3, key="error")
    records = [r for rs in dead.values() for r in rs]
    originals = {r.get("original", r.get("original_base64")) for r in records}
    assert "not json at all" in originals
    amount = next(r for r in records if "BAD-AMOUNT" in r.get("original", ""))
    assert "amount: must be a decimal string" in amount["error"]
    assert amount["source_topic"] == settings.topics.payments and amount["source_offset"] >= 0
    # The worker is still screening after bad input.
    Sender(settings).send(
        settings.topics.payments,
        b"AFTER-BAD",
        json.dumps({"payment_id": "AFTER-BAD", "message_type": "MT103", "created_at": "2025-06-10T10:00:00Z"}).encode(),
    )
    # The samples, the kcat payment and this one.
    assert "AFTER-BAD" in collect(settings, settings.topics.decisions, SAMPLE_COUNT + 2)


def test_registry_update_changes_the_next_decision(worker: Worker, settings, tmp_path: Path):
    data = yaml.safe_load((SAMPLES / "registry.yaml").read_text())
    for account in data["accounts"]:
        if account["account_id"] == "ACC-DE-001":
            account["holder"]["shell_bank"] = True
    changed = tmp_path / "registry.yaml"
    changed.write_text(yaml.safe_dump(data))
    target = load_registry_file(changed).version
    load_registry(settings, changed)
    deadline = time.monotonic() + 30
    while worker.readyz()["registry_version"] != target and time.monotonic() < deadline:
        time.sleep(0.2)
    assert worker.readyz()["registry_version"] == target
    line = json.dumps(
        {
            "payment_id": "AFTER-REGISTRY",
            "message_type": "MT103",
            "created_at": "2025-06-10T10:00:00Z",
            "correspondent_account_id": "ACC-DE-001",
        }
    ).encode()
    produce_payments(settings, io.BytesIO(line + b"\n"), None, raw=False)
    decision = collect(settings, settings.topics.decisions, SAMPLE_COUNT + 3)["AFTER-REGISTRY"][0]
    assert decision["decision"] == "block"
    assert [h["citation"] for h in decision["hits"]] == ["31 CFR 1010.630(a)(1)(i)"]
    assert decision["registry_version"] == target
    load_registry(settings, SAMPLES / "registry.yaml")


def test_audit_trail_verifies(worker: Worker, settings):
    time.sleep(2)  # let the last batch's audit records reach the broker
    report = verify(settings, Serde(settings))
    assert report.first_break is None
    assert report.records >= 48 + 3
    assert report.chains.get(settings.partitions, 0) >= 27  # the registry chain


def test_sigterm_finishes_flushes_and_exits_zero_within_ten_seconds(worker: Worker, settings, broker, tmp_path):
    lines = [
        json.dumps(
            {
                "payment_id": f"TERM-{i}",
                "message_type": "MT103",
                "created_at": "2025-06-10T10:00:00Z",
                "correspondent_account_id": "ACC-DE-001",
            }
        )
        for i in range(3000)
    ]
    produce_payments(settings, io.BytesIO("\n".join(lines).encode()), None, raw=False)
    time.sleep(0.3)
    code, seconds = worker.terminate()
    assert code == 0 and seconds < 10, worker.log.read_text(errors="replace")[-3000:]
    restarted = Worker(broker, worker.log.parent, "payment-screener").start()
    try:
        got = collect(settings, settings.topics.decisions, SAMPLE_COUNT + 3 + 3000, timeout=90)
        assert all(f"TERM-{i}" in got for i in range(3000))
    finally:
        restarted.terminate()
    assert not [
        r
        for r in decoded_records(settings, settings.topics.dead_letter, True, None, 1.0)
        if "TERM-" in r.get("original", "")
    ]
