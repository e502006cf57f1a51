"""ISO 20022 and SWIFT MT messages wherever input is read: `screener screen` on files and folders,
and the worker's record processing (schemas/inbound.py)."""

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from ops.cli import main
from ops.screen_file import FileScreener, load_registry_file
from rules import load_rules
from schemas.codec import decode_single_object
from schemas.inbound import input_format
from schemas.messages import AccountMapping, AccountMappingError, load_account_mapping
from streams.audit import AuditChains
from streams.processing import PaymentProcessor
from streams.records import Source
from streams.serde import Serde
from streams.settings import Settings
from streams.stores import Decided
from tests.conftest import SCREENED_AT

SAMPLES = Path(__file__).resolve().parents[2] / "ops" / "samples"
MESSAGES = SAMPLES / "messages"
REGISTRY = SAMPLES / "registry.yaml"
EXPECTED = list(csv.DictReader((SAMPLES / "messages_expected.tsv").open(encoding="utf-8"), delimiter="\t"))
TWO_TX = Path(__file__).resolve().parents[1] / "schemas" / "messages" / "iso20022" / "pacs008_two_tx.xml"
TWO_MT = Path(__file__).resolve().parents[1] / "schemas" / "messages" / "mt" / "two_messages.fin"


def run(args, capsys):
    code: int | str | None
    try:
        main([*args])
        code = 0
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize(
    ("head", "fmt"),
    [
        (b"<?xml version='1.0'?><Document/>", "iso20022"),
        (b"\xef\xbb\xbf\r\n  <Document/>", "iso20022"),
        (b"{1:F01AAAABBCCAXXX0000000000}", "mt"),
        (b'{"payment_id": "x"}', "json"),
        (b"\xc3\x01avro", "other"),
        (b"", "other"),
    ],
)
def test_the_format_is_told_from_the_content(head, fmt):
    assert input_format(head) == fmt


def test_the_sample_messages_decide_as_documented(tmp_path, capsys):
    out = tmp_path / "decisions.jsonl"
    code, _, err = run(["screen", "--registry", str(REGISTRY), "--input", str(MESSAGES), "--output", str(out)], capsys)
    assert code == 0, err
    got = {d["payment_id"]: d for d in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    # Files in name order, one decision per payment.
    assert list(got) == [e["payment_id"] for e in EXPECTED]
    for case in EXPECTED:
        decision = got[case["payment_id"]]
        assert decision["decision"] == case["expected"], case["case"]
        if case["field"]:
            # The hit names the element or tag an investigator finds in the original message.
            assert case["field"] in {h["field"] for h in decision["hits"]}, (case["case"], decision["hits"])
    assert f"screened {len(EXPECTED)} payments" in err and "dead-lettered 0" in err
    assert not (tmp_path / "messages.dead-letter.jsonl").exists()


def _screen_folder(folder: Path):
    screener = FileScreener(load_rules(), load_registry_file(REGISTRY), as_of=SCREENED_AT)
    out = io.StringIO()
    dead: list[dict[str, Any]] = []
    summary = screener.run_folder(folder, out, dead.append)
    return summary, [json.loads(line) for line in out.getvalue().splitlines()], dead


def test_a_folder_of_mixed_formats_with_bad_messages_goes_on(tmp_path):
    (tmp_path / "a_payments.jsonl").write_bytes((SAMPLES / "payments.jsonl").read_bytes())
    (tmp_path / "b_two_tx.xml").write_bytes(TWO_TX.read_bytes())
    (tmp_path / "c_two.fin").write_bytes(TWO_MT.read_bytes())
    (tmp_path / "d_malformed.xml").write_bytes(b"<Document><FIToFICstmrCdtTrf>")
    (tmp_path / "e_old.xml").write_bytes(
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.02"><FIToFICstmrCdtTrf/></Document>'
    )
    unterminated = (MESSAGES / "mt103_clean.fin").read_bytes().replace(b"-}", b"}")
    (tmp_path / "f_unterminated.fin").write_bytes(b"\n\n" + unterminated)
    (tmp_path / ".hidden.xml").write_bytes(b"<nothing/>")
    summary, decisions, dead = _screen_folder(tmp_path)
    json_count = len((SAMPLES / "payments.jsonl").read_text().splitlines())
    assert summary.screened == len(decisions) == json_count + 2 + 2
    assert summary.dead_letters == len(dead) == 3
    by_file = {Path(d["source_file"]).name: d for d in dead}
    assert set(by_file) == {"d_malformed.xml", "e_old.xml", "f_unterminated.fin"}
    assert "pacs.008.001.02" in by_file["e_old.xml"]["error"]
    assert by_file["f_unterminated.fin"]["line"] == 3  # where the message starts
    assert by_file["f_unterminated.fin"]["original"].encode() == unterminated
    assert all(len(d["error"]) <= 2000 for d in dead)


def test_one_bad_transaction_of_a_message_is_dead_lettered_alone(tmp_path):
    bad = Path(__file__).resolve().parents[1] / "schemas" / "messages" / "iso20022" / "pacs008_bad_transactions.xml"
    (tmp_path / "m.xml").write_bytes(bad.read_bytes())
    summary, decisions, dead = _screen_folder(tmp_path)
    assert dead and all("CdtTrfTxInf" in d["error"] for d in dead)
    assert summary.screened == len(decisions)


def test_the_account_mapping_names_our_account(tmp_path):
    mapping = tmp_path / "accounts.yaml"
    mapping.write_text("accounts:\n  ACC-DE-001: ACC-1\nbics:\n  HNSEDEFF: ACC-1\n")
    loaded = load_account_mapping(mapping)
    assert loaded.account_id("ACC-DE-001", None) == "ACC-1"
    assert loaded.account_id(None, "HNSEDEFFXXX") == "ACC-1"
    assert loaded.account_id("OTHER", None) == "OTHER"
    (tmp_path / "bad.yaml").write_text("accounts: [1, 2]\n")
    with pytest.raises(AccountMappingError):
        load_account_mapping(tmp_path / "bad.yaml")


@pytest.fixture
def processor(rules):
    settings = Settings(partitions=1)
    chains = AuditChains(settings, Serde(settings))
    chains.start_at(0)
    reg = load_registry_file(REGISTRY)
    return PaymentProcessor(settings, Serde(settings), chains, rules, reg, Decided(), AccountMapping())


def _decisions(outcomes):
    return [
        decode_single_object(o.value)[1]
        for outcome in outcomes
        for o in outcome.outputs
        if o.topic == "screening.decisions"
    ]


def test_the_worker_screens_each_transaction_of_a_message(processor):
    outcomes = processor.process(Source("payments", 0, 0, None, TWO_TX.read_bytes(), 1_750_000_000.0))
    assert len(outcomes) == 2 and not any(o.dead_letter for o in outcomes)
    assert len({d["payment_id"] for d in _decisions(outcomes)}) == 2


def test_the_worker_screens_an_mt_record_and_names_its_tag(processor):
    raw = (MESSAGES / "mt103_dandong.fin").read_bytes()
    [outcome] = processor.process(Source("payments", 0, 0, None, raw, 1_750_000_000.0))
    [decision] = _decisions([outcome])
    assert decision["decision"] == "block"
    assert ":56A:" in {h["field"] for h in decision["hits"]}
    # The same message again is a replay, answered with the first decision.
    [again] = processor.process(Source("payments", 0, 1, None, raw, 1_750_000_001.0))
    assert again.replayed


@pytest.mark.parametrize(
    "raw",
    [
        b"<Document><unclosed>",
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]><Document>&a;</Document>',
        b"{1:F01HNSEDEFFAXXX0417002211}{2:I103FCNBUS33XXXXN}{4:\r\n:20:X\r\n",
    ],
)
def test_a_bad_message_on_the_topic_is_one_dead_letter(processor, raw):
    [outcome] = processor.process(Source("payments", 0, 5, None, raw, 1_750_000_000.0))
    assert outcome.dead_letter
    [dead] = [decode_single_object(o.value)[1] for o in outcome.outputs if o.topic == "screening.dead-letter"]
    assert dead["original"].encode() == raw and dead["source_offset"] == 5


@pytest.mark.parametrize("name", ["payments.jsonl", "stdin"])
def test_json_lines_after_a_first_line_that_looks_like_xml_are_still_lines(name):
    good = (SAMPLES / "payments.jsonl").read_bytes().splitlines()[:3]
    data = b"<html>not a payment</html>\n" + b"\n".join(good) + b"\n"
    screener = FileScreener(load_rules(), load_registry_file(REGISTRY), as_of=SCREENED_AT)
    out = io.StringIO()
    dead: list[dict[str, Any]] = []
    summary = screener.run(name, io.BytesIO(data), out, dead.append)
    assert summary.screened == 3
    assert [(d["line"], d["original"]) for d in dead] == [(1, "<html>not a payment</html>")]


def test_a_record_of_too_many_messages_is_one_dead_letter(processor):
    from streams.processing import MAX_MESSAGES_PER_RECORD

    raw = (MESSAGES / "mt202_clean.fin").read_bytes() * (MAX_MESSAGES_PER_RECORD + 1)
    [outcome] = processor.process(Source("payments", 0, 9, None, raw, 1_750_000_000.0))
    assert outcome.dead_letter
    [dead] = [decode_single_object(o.value)[1] for o in outcome.outputs if o.topic == "screening.dead-letter"]
    assert "too many messages in one record" in dead["error"]


def test_byte_order_marks_between_mt_messages_are_separators():
    from schemas.swift_mt import split_mt

    one = (MESSAGES / "mt202_clean.fin").read_bytes()
    assert split_mt(b"\n\xef\xbb\xbf" + one + b"\r\n$\xef\xbb\xbf" + one) == [one.strip(), one.strip()]


@pytest.mark.parametrize(
    "hostile",
    [b"<!DOCTYPE " + b"[]" * 20000, b"<a>" + b"<!--x>" * 100000, b"<a>" + b'<b c="' * 50000],
)
def test_hostile_markup_is_refused(hostile):
    # Each of these took the splitter's tokenizer minutes or more (exponential backtracking, or a
    # scan to the end of the file at every opening); it is linear now, so this returns at once.
    from schemas.inbound import read_messages

    [message] = list(read_messages(hostile, "iso20022"))
    assert message.error and "malformed XML" in message.error


def test_a_leading_dollar_separator_still_reads_as_mt():
    assert input_format(b"$\r\n{1:F01HNSEDEFFAXXX0417002211}") == "mt"


def test_a_folder_entry_that_is_no_regular_file_is_dead_lettered(tmp_path):
    import os

    (tmp_path / "a.fin").write_bytes((MESSAGES / "mt202_clean.fin").read_bytes())
    (tmp_path / "b.fin").symlink_to(tmp_path / "missing.fin")
    os.mkfifo(tmp_path / "c.fin")
    summary, decisions, dead = _screen_folder(tmp_path)
    assert summary.screened == len(decisions) == 1
    assert sorted(Path(d["source_file"]).name for d in dead) == ["b.fin", "c.fin"]
    assert all("not a regular file" in d["error"] for d in dead)
