"""The workbench's screening and registry callables: `screener screen`'s decisions at the workbench
clock's instant, dead-letters (never exceptions) for what cannot be screened, payments shown from
any format, and registry lookups from a file or from the registry topics; then the service's
context that hands them to the web layer, and the `screener workbench` commands that need no broker."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ops.screen_file import FileScreener, load_registry_file
from ops.workbench.screening import MAX_SCREEN_BYTES, RegistrySource, Screening, typed_payments
from rules import Registry, RuleSet
from schemas.codec import encode_single_object
from streams.metrics import Metrics
from streams.registry_view import RegistryView, State
from streams.serde import Serde
from streams.settings import Settings
from tests.streams.test_registry_view import ACCOUNTS, SERDE, SETTINGS, FakeRegistryTopics, acc, inst

SAMPLES = Path(__file__).resolve().parents[3] / "ops" / "samples"
NOW = datetime(2025, 6, 12, 9, 30, tzinfo=UTC)
REVIEWS = {"P-015", "P-018", "P-021", "P-031"}


def sample_lines() -> dict[str, bytes]:
    lines = (SAMPLES / "payments.jsonl").read_bytes().splitlines()
    return {json.loads(line)["payment_id"]: line for line in lines}


@pytest.fixture(scope="module")
def screening(rules: RuleSet) -> Screening:
    source = RegistrySource(load_registry_file(SAMPLES / "registry.yaml"))
    return Screening(rules, source, Serde(Settings()), "payments", clock=lambda: NOW)


def test_sample_payments_decide_as_screener_screen_does(screening: Screening, rules: RuleSet):
    out = io.StringIO()
    offline = FileScreener(rules, load_registry_file(SAMPLES / "registry.yaml"), as_of=NOW)
    offline.run("samples", (SAMPLES / "payments.jsonl").open("rb"), out, lambda _: None)
    expected = {d["payment_id"]: d for d in map(json.loads, out.getvalue().splitlines())}
    for payment_id, line in sample_lines().items():
        decisions, dead = screening.screen(line)
        assert dead == []
        assert decisions == [expected[payment_id]], payment_id
    verdicts = {p: d["decision"] for p, d in expected.items()}
    assert {p for p, v in verdicts.items() if v == "review"} >= REVIEWS
    assert verdicts["P-002"] == "block"


def test_every_blocked_person_hit_of_the_samples_has_its_listed_entry(screening: Screening):
    hits = [
        hit
        for line in sample_lines().values()
        for decision in screening.screen(line)[0]
        for hit in decision["hits"]
        if hit["rule"] in ("blocked_person", "possible_match") and hit["citation"].startswith("OFAC")
    ]
    assert hits
    for hit in hits:
        entry = screening.listed_entry(hit["citation"])
        if entry is None:  # an entity blocked under the 50 Percent Rule: its citation names no entry
            assert hit["citation"].startswith("OFAC 50 Percent Rule")
            entry = screening.listed_entry(hit["matched"])
        assert entry is not None, hit["citation"]
        assert entry["name"] == hit["matched"]
        assert entry["authority"] and entry["programs"]


def test_a_decision_is_at_the_clock_instant_under_the_versions_shown(screening: Screening):
    [decision], _ = screening.screen(sample_lines()["P-015"])
    assert decision["screened_at"] == NOW.isoformat()
    assert decision["decision"] == "review"
    versions = screening.versions()
    assert versions == {"rules_version": decision["rules_version"], "registry_version": decision["registry_version"]}


def test_several_json_lines_give_one_decision_each(screening: Screening):
    lines = sample_lines()
    decisions, dead = screening.screen(lines["P-002"] + b"\n" + lines["P-031"] + b"\n")
    assert [(d["payment_id"], d["decision"]) for d in decisions] == [("P-002", "block"), ("P-031", "review")]
    assert dead == []


def test_an_avro_payment_from_the_topic_is_screened_as_its_json(screening: Screening):
    record = json.loads(sample_lines()["P-018"])
    decisions, dead = screening.screen(encode_single_object("Payment", record))
    assert dead == []
    assert [(d["payment_id"], d["decision"]) for d in decisions] == [("P-018", "review")]


@pytest.mark.parametrize(
    "data",
    [
        b'{"payment_id": "X-1", "message_type": "MT103"',  # cut short
        b'{"payment_id": "X-1"}',  # not the contract
        b"<Document><nothing/></Document>",
        b"{1:F01BANKDEFFXXXX0000000000}{2:I103",
        b"\xc3\x01" + b"\x00" * 12,  # Avro marker, unknown schema
        b"\x00\xff\xfe garbage",
        b"",
        b"\n  \n",
    ],
)
def test_malformed_input_gives_a_dead_letter_never_an_exception(screening: Screening, data: bytes):
    decisions, dead = screening.screen(data)
    assert decisions == []
    assert len(dead) >= 1
    assert all(d["error"] and d["source_file"] == "workbench" for d in dead)
    assert dead[0]["original_size"] == len(data)


def test_an_oversized_input_is_a_dead_letter_without_being_read(screening: Screening):
    decisions, [dead] = screening.screen(b"{" + b" " * MAX_SCREEN_BYTES + b"}")
    assert decisions == []
    assert "too large" in dead["error"]
    assert dead["original_truncated"] is True


def test_iso20022_and_mt_messages_are_screened(screening: Screening):
    expected: dict[str, list[tuple[str, str]]] = {}
    for row in (SAMPLES / "messages_expected.tsv").read_text().splitlines()[1:]:
        name, payment_id, verdict = row.split("\t")[:3]
        expected.setdefault(name, []).append((payment_id, verdict))
    for name, want in expected.items():
        decisions, dead = screening.screen((SAMPLES / "messages" / name).read_bytes())
        assert dead == [], name
        assert sorted((d["payment_id"], d["decision"]) for d in decisions) == sorted(want), name


def test_payment_view_shows_the_typed_payment_or_why_not(screening: Screening):
    view = screening.payment_view(sample_lines()["P-015"])
    assert not isinstance(view, str)
    assert view["payment_id"] == "P-015"
    assert view["correspondent_account_id"] == json.loads(sample_lines()["P-015"])["correspondent_account_id"]
    avro = screening.payment_view(encode_single_object("Payment", json.loads(sample_lines()["P-002"])))
    assert not isinstance(avro, str)
    assert avro["payment_id"] == "P-002"
    message = screening.payment_view((SAMPLES / "messages" / "mt103_dandong.fin").read_bytes())
    assert not isinstance(message, str)
    assert message["message_type"] == "MT103"
    assert isinstance(screening.payment_view(b"not a payment"), str)
    assert isinstance(screening.payment_view(b'{"payment_id": 5}'), str)


def test_registry_lookups_from_a_file(screening: Screening):
    account = screening.account_record("ACC-KP-001")
    assert account is not None
    assert account["account_id"] == "ACC-KP-001"
    assert screening.account_record("ACC-NONE") is None
    institution = screening.institution_record("CMSYSYDA")  # the primary office's record, by its BIC8
    assert institution is not None
    assert institution["bic"] == "CMSYSYDAXXX"
    assert screening.institution_record("ZZZZDEFF") is None
    assert screening.institution_record("not a bic") is None


def test_special_measure_sections_are_the_special_measure_files(screening: Screening, rules: RuleSet):
    sections = screening.special_measure_sections()
    assert sections == {m.section for m in rules.measures}
    assert {"1010.651", "1010.658", "1010.659", "1010.661"} <= sections
    assert "1010.630" not in sections


def test_typed_payments_reads_every_transaction_of_a_message():
    serde = Serde(Settings())
    payments, errors = typed_payments((SAMPLES / "messages" / "pacs008_clean.xml").read_bytes(), serde, "payments")
    assert errors == []
    assert [p.message_type for p in payments] == ["pacs.008"]
    payments, errors = typed_payments(b"\x01\x02", serde, "payments")
    assert payments == []
    assert errors


def test_registry_from_the_topics_is_loaded_then_followed(rules: RuleSet):
    topics = FakeRegistryTopics()
    topics.append(ACCOUNTS, "ACC-1", acc("ACC-1"))
    topics.append(SETTINGS.topics.registry_institutions, "HNSEDEFFXXX", inst("HNSEDEFFXXX"))

    def make_view(registry: Registry) -> RegistryView:
        return RegistryView(SETTINGS, SERDE, registry, Metrics(), State(), make_consumer=lambda _: topics)

    source = RegistrySource(Registry(), make_view)
    screening = Screening(rules, source, SERDE, "payments", clock=lambda: NOW)
    assert not source.loaded.is_set()
    source.start()
    try:
        assert source.loaded.wait(10)
        assert screening.account_record("ACC-1") is not None
        assert screening.institution_record("HNSEDEFF") is not None
        before = screening.versions()["registry_version"]
        topics.append(ACCOUNTS, "ACC-2", acc("ACC-2"))
        assert until(lambda: screening.account_record("ACC-2") is not None)
        assert screening.versions()["registry_version"] != before
        assert source.status() | {"progress": None} == {"source": "topics", "loaded": True, "progress": None}
    finally:
        source.stop()
    assert source.thread is not None
    assert not source.thread.is_alive()


def test_a_registry_reader_that_fails_is_started_again(rules: RuleSet, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr("ops.workbench.screening.READER_RETRY_S", 0.01)
    topics = FakeRegistryTopics()
    topics.append(ACCOUNTS, "ACC-1", acc("ACC-1"))
    made: list[int] = []

    def make_view(registry: Registry) -> RegistryView:
        made.append(1)
        if len(made) == 1:
            return RegistryView(SETTINGS, SERDE, registry, Metrics(), State(), make_consumer=_no_broker)
        return RegistryView(SETTINGS, SERDE, registry, Metrics(), State(), make_consumer=lambda _: topics)

    source = RegistrySource(Registry(), make_view)
    source.start()
    try:
        assert source.loaded.wait(10)
        assert source.registry.account("ACC-1") is not None
        assert source.error is None
        assert len(made) == 2
    finally:
        source.stop()


def until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def _no_broker(config: dict[str, object]) -> FakeRegistryTopics:
    raise RuntimeError("broker not reachable")


# -- what the service gives the web layer, and the command line ---------------------------------


def test_the_workbench_context_carries_the_screening_callables(rules: RuleSet, tmp_path: Path):
    from ops.workbench.service import ServeOptions, Workbench

    options = ServeOptions(users=None, db=tmp_path / "wb.sqlite", registry_file=SAMPLES / "registry.yaml")
    workbench = Workbench(Settings(data_dir=tmp_path), rules, options)
    try:
        ctx = workbench.context()
        decisions, dead = ctx.screen(sample_lines()["P-031"])
        assert (dead, [d["decision"] for d in decisions]) == ([], ["review"])
        assert ctx.account_record("ACC-KP-001") is not None
        assert ctx.versions()["rules_version"] == rules.version
        person = rules.sanctions.persons[0]
        entry = ctx.listed_entry(person.citation)
        assert entry is not None
        assert (entry["id"], entry["name"]) == (person.id, person.name)
        status = dict(ctx.status())
        assert status["ready"] is False  # the feed is not started
        assert status["registry"] == {"source": "file", "loaded": True}
        assert status["feed"]["running"] is False
        assert (tmp_path / "wb.sqlite").exists()
    finally:
        workbench.stop()


def test_hash_password_reads_stdin_and_token_prints_a_pair(capsys: pytest.CaptureFixture[str], monkeypatch):
    from ops.cli import main
    from ops.workbench.auth import hash_token, verify_password

    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse battery\n"))
    main(["workbench", "hash-password"])
    hashed = capsys.readouterr().out.strip()
    assert verify_password("correct horse battery", hashed)
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    with pytest.raises(SystemExit) as ended:
        main(["workbench", "hash-password"])
    assert ended.value.code == 2
    main(["workbench", "token"])
    token_line, hash_line = capsys.readouterr().out.splitlines()
    assert hash_line == "api_token_hash: " + hash_token(token_line.removeprefix("token: "))


def test_serve_without_a_users_file_is_a_usage_error(capsys: pytest.CaptureFixture[str], monkeypatch):
    from ops.cli import main

    monkeypatch.delenv("SCREENER_WORKBENCH_USERS", raising=False)
    with pytest.raises(SystemExit) as ended:
        main(["workbench", "serve"])
    assert ended.value.code == 2
    assert "no users file" in capsys.readouterr().err
