"""ISO 20022 and SWIFT MT messages through Kafka: produced as they are, sniffed by the worker, each
transaction decided as offline, each bad message dead-lettered with its bytes."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

from ops.file_inputs import input_files
from ops.kafka_commands import produce_payments
from ops.screen_file import FileScreener, load_registry_file
from rules import load_rules
from tests.integration.conftest import SAMPLES, Worker, collect

MESSAGES = SAMPLES / "messages"
TWO_TX = Path(__file__).resolve().parents[1] / "schemas" / "messages" / "iso20022" / "pacs008_two_tx.xml"
COMPARED = ("decision", "hits", "citations", "notices", "rules_version", "registry_version")
BAD = [
    b"<Document><FIToFICstmrCdtTrf>",  # malformed XML
    b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.02"><FIToFICstmrCdtTrf/></Document>',
    (MESSAGES / "mt103_clean.fin").read_bytes().replace(b"-}", b"}"),  # no block 4 terminator
    (MESSAGES / "mt202_clean.fin").read_bytes().replace(b"USD3000000,00", b"USD3O00000,00"),  # not a number
]


def offline(paths: list[Path]) -> dict[str, dict[str, Any]]:
    out = io.StringIO()
    screener = FileScreener(load_rules(), load_registry_file(SAMPLES / "registry.yaml"))
    for path in paths:
        with path.open("rb") as stream:
            screener.run(str(path), stream, out, lambda _: None)
    return {d["payment_id"]: d for d in map(json.loads, out.getvalue().splitlines())}


def test_messages_decide_through_kafka_as_offline_and_bad_ones_are_dead_lettered(worker: Worker, settings, tmp_path):
    files = [*input_files(MESSAGES), TWO_TX]
    expected = offline(files)
    sources = [(str(f), f.open("rb")) for f in files]
    try:
        sent, _, errors = produce_payments(settings, sources, None, raw=False)
    finally:
        for _, stream in sources:
            stream.close()
    assert errors == [] and sent == len(files)  # one record per message, sent unchanged
    for number, bad in enumerate(BAD):
        (tmp_path / f"bad{number}").write_bytes(bad)
    with (tmp_path / "bad0").open("rb") as a, (tmp_path / "bad1").open("rb") as b:
        produce_payments(settings, [("a", a), ("b", b)], None, raw=False)
    with (tmp_path / "bad2").open("rb") as c, (tmp_path / "bad3").open("rb") as d:
        produce_payments(settings, [("c", c), ("d", d)], None, raw=False)

    got = collect(settings, settings.topics.decisions, len(expected))
    assert set(got) == set(expected)
    for payment_id, records in got.items():
        for record in records:
            assert {k: record[k] for k in COMPARED} == {k: expected[payment_id][k] for k in COMPARED}, payment_id
    assert any(":56A:" in {h["field"] for h in d["hits"]} for d in expected.values())

    dead = collect(settings, settings.topics.dead_letter, len(BAD), key="original_sha256")
    assert {hashlib.sha256(b).hexdigest() for b in BAD} <= set(dead)
    for records in dead.values():
        assert records[0]["error"] and len(records[0]["error"]) <= 2000
