"""The agents' work on one record, without a broker."""

import hashlib
import json
from typing import Any

import pytest

from rules import RegistryError
from schemas.codec import decode_single_object
from streams.audit import AuditChains
from streams.audit_verify import check_partition
from streams.notice_processing import NoticeProcessor
from streams.processing import PaymentProcessor
from streams.records import Out, Source
from streams.registry_processing import RegistryProcessor, apply_registry_change
from streams.serde import Serde
from streams.settings import Settings
from streams.stores import Decided
from tests.conftest import account, payment, registry


@pytest.fixture(scope="module")
def settings():
    return Settings(partitions=2)


@pytest.fixture
def chains(settings):
    audit = AuditChains(settings, Serde(settings))
    for p in range(3):
        audit.start_at(p)
    return audit


@pytest.fixture
def processor(settings, chains, rules):
    return PaymentProcessor(settings, Serde(settings), chains, rules, registry(), Decided())


def src(value: bytes, offset: int = 0, partition: int = 0, topic: str = "payments") -> Source:
    return Source(topic, partition, offset, b"k", value, 1_750_000_000.123)


def process(processor, source):
    """The one outcome of a record holding one payment."""
    [outcome] = processor.process(source)
    return outcome


def by_topic(outcome):
    out: dict[str, list[Out]] = {}
    for o in outcome.outputs:
        out.setdefault(o.topic, []).append(o)
    return out


def test_payment_yields_decision_derived_events_and_audit(processor):
    raw = json.dumps(payment(intermediary_agents=[{"bic": "KKBCKPPY"}])).encode()
    outcome = process(processor, src(raw))
    topics = by_topic(outcome)
    assert outcome.decision == "block"
    assert set(topics) == {"screening.decisions", "screening.blocks", "screening.notice-requests", "screening.audit"}
    _, decision = decode_single_object(topics["screening.decisions"][0].value)
    assert decision["screened_at"] == "2025-06-15T15:06:40.123000+00:00"  # the record's own timestamp
    assert topics["screening.audit"][0].partition == 0


def test_same_payment_again_gets_the_same_decision_bytes(processor):
    raw = json.dumps(payment(creditor={"name": "Choe Chol Min"})).encode()
    first = process(processor, src(raw, 0))
    again = process(processor, src(raw, 7))
    assert again.replayed
    assert by_topic(again)["screening.decisions"][0].value == by_topic(first)["screening.decisions"][0].value


def test_same_payment_id_with_different_content_is_dead_lettered(processor):
    process(processor, src(json.dumps(payment()).encode()))
    outcome = process(processor, src(json.dumps(payment(amount="999.00")).encode(), 1))
    assert outcome.dead_letter
    _, dead = decode_single_object(by_topic(outcome)["screening.dead-letter"][0].value)
    assert "already screened with different content" in dead["error"]


def test_decided_store_rebuilt_from_the_audit_chain_answers_a_replay(settings, chains, rules, processor):
    """After a restart the store is what the partition's audit chain says (streams/stores.py)."""
    raw = json.dumps(payment(creditor={"name": "Choe Chol Min"})).encode()
    first = process(processor, src(raw, 0))
    dead = process(processor, src(b"not a payment", 1))
    chain = [decode_single_object(o.value)[1] for o in first.outputs + dead.outputs if o.topic == "screening.audit"]
    assert [r["kind"] for r in chain] == ["decision", "dead_letter"]
    restarted = Decided()
    assert restarted.load(0, chain) == 1
    fresh = PaymentProcessor(settings, Serde(settings), chains, rules, registry(), restarted)
    again = process(fresh, src(raw, 2))
    assert again.replayed
    assert by_topic(again)["screening.decisions"][0].value == by_topic(first)["screening.decisions"][0].value
    changed = process(fresh, src(json.dumps(payment(creditor={"name": "Someone Else"})).encode(), 3))
    assert changed.dead_letter
    # Another partition's chain knows nothing of it: screened as new.
    assert not process(fresh, src(raw, 4, partition=1)).replayed


def test_bad_bytes_are_dead_lettered_with_position_and_original(processor):
    outcome = process(processor, src(b'{"payment_id": 1}', offset=42, partition=1))
    topics = by_topic(outcome)
    _, dead = decode_single_object(topics["screening.dead-letter"][0].value)
    assert (dead["source_topic"], dead["source_partition"], dead["source_offset"]) == ("payments", 1, 42)
    assert dead["original"] == '{"payment_id": 1}'
    assert "payment_id" in dead["error"]
    assert topics["screening.audit"][0].partition == 1


def test_notice_goes_out_once_per_account_and_section(settings, chains, processor):
    raw = json.dumps(payment(intermediary_agents=[{"bic": "KKBCKPPY"}])).encode()
    request = by_topic(process(processor, src(raw)))["screening.notice-requests"][0]
    notices = NoticeProcessor(settings, Serde(settings), chains)
    sent: dict[str, str] = {}
    first = notices.process(src(request.value, topic="screening.notice-requests"), sent, "g")
    assert first.remember is not None
    key, notice_id, _ = first.remember
    sent[key] = notice_id
    second = notices.process(src(request.value, 1, topic="screening.notice-requests"), sent, "g")
    assert [o.topic for o in first.outputs] == ["screening.notices", "screening.audit"]
    assert second.outputs == []


def test_registry_change_is_applied_validated_and_audited(settings, chains):
    serde = Serde(settings)
    reg = registry([])
    proc = RegistryProcessor(settings, serde, chains, reg, chain=2)
    value = serde.encode("registry.accounts", "Account", account("ACC-9"))
    outcome = proc.process(Source("registry.accounts", 0, 0, b"ACC-9", value, 1.0), "r")
    assert reg.account("ACC-9") is not None and [o.partition for o in outcome.outputs] == [2]
    wrong_key = proc.process(Source("registry.accounts", 0, 1, b"ACC-X", value, 1.0), "r")
    assert wrong_key.dead_letter
    tombstone = proc.process(Source("registry.accounts", 0, 2, b"ACC-9", None, 1.0), "r")
    assert not tombstone.dead_letter and reg.account("ACC-9") is None


def test_audit_chain_verifies_and_detects_tampering(settings, processor):
    serde = Serde(settings)
    for i in range(4):
        process(processor, src(json.dumps(payment(payment_id=f"P{i}")).encode(), i))
    records = []
    processor.audit.start_at(0)
    for i in range(4):
        outcome = process(processor, src(json.dumps(payment(payment_id=f"Q{i}")).encode(), i))
        records += [o.value for o in outcome.outputs if o.topic == "screening.audit"]
    good = list(enumerate(records))
    assert check_partition(settings, serde, 0, good) == (4, None)
    skipped = check_partition(settings, serde, 0, [good[0], good[2], good[3]])[1]
    assert skipped is not None
    assert skipped.problem.startswith("sequence 2")
    _, rec = decode_single_object(records[1])
    rec["body"] = rec["body"].replace("pass", "block")
    altered = serde.encode("screening.audit", "AuditRecord", rec)
    broken = check_partition(settings, serde, 0, [good[0], (1, altered), good[2]])[1]
    assert broken is not None
    assert broken.offset == 1 and "altered" in broken.problem


def test_payment_whose_screening_raises_is_dead_lettered_and_the_next_is_decided(processor, monkeypatch):
    import streams.processing
    from rules import screen as real  # the engine's screen, which streams.processing calls

    def failing(p, *args):
        if p.payment_id == "POISON":
            raise OverflowError("date value out of range " + "x" * 5000)
        return real(p, *args)

    monkeypatch.setattr(streams.processing, "screen", failing)
    poison = process(processor, src(json.dumps(payment(payment_id="POISON")).encode(), 1))
    assert poison.dead_letter
    _, dead = decode_single_object(by_topic(poison)["screening.dead-letter"][0].value)
    assert dead["error"].startswith("screening failed: OverflowError: date value out of range")
    assert len(dead["error"]) < 400
    assert process(processor, src(json.dumps(payment(payment_id="AFTER")).encode(), 2)).decision == "pass"


def test_registry_keys_are_canonical_bic11_so_a_bic8_tombstone_deletes_the_same_record(settings):
    from streams.registry_processing import registry_key

    t = settings.topics
    assert registry_key(settings, t.registry_institutions, b"kkbckppy") == "KKBCKPPYXXX"
    assert registry_key(settings, t.registry_institutions, b"KKBCKPPYXXX") == "KKBCKPPYXXX"
    assert registry_key(settings, t.registry_accounts, b"ACC-1") == "ACC-1"
    with pytest.raises(RegistryError, match="key 'NOT A BIC'"):
        registry_key(settings, t.registry_institutions, b"NOT A BIC")
    serde = Serde(settings)
    reg = registry([])
    value = serde.encode(t.registry_institutions, "RegistryInstitution", {"bic": "KKBCKPPYXXX", "name": "KKBC"})
    apply_registry_change(reg, serde, settings, t.registry_institutions, b"KKBCKPPYXXX", value)
    change = apply_registry_change(reg, serde, settings, t.registry_institutions, b"KKBCKPPY", None)
    assert change["key"] == "KKBCKPPYXXX" and reg.institution_by_bic("KKBCKPPY") is None


def _forged(settings: Settings, serde: Serde, record: dict[str, Any], key: bytes = b"x" * 32) -> bytes:
    """A record someone without the service's key wrote: well chained, keyed with their own key."""
    from streams.audit import record_hash

    record = dict(record, hash="")
    record["hash"] = record_hash(record, key)
    return serde.encode(settings.topics.audit, "AuditRecord", record)


def test_a_forged_decision_on_the_trail_is_not_trusted_and_the_payment_is_screened(settings, processor):
    from streams.audit_verify import trusted_records

    serde = Serde(settings)
    processor.audit.start_at(0)
    values = [
        o.value
        for i in range(2)
        for o in process(processor, src(json.dumps(payment(payment_id=f"OK{i}")).encode(), i)).outputs
        if o.topic == "screening.audit"
    ]
    _, last = decode_single_object(values[-1])
    sanctioned = json.dumps(payment(payment_id="FORGED", intermediary_agents=[{"bic": "KKBCKPPY"}])).encode()
    forged = {
        **last,
        "audit_id": "screening.audit/0:2",
        "sequence": 2,
        "prev_hash": last["hash"],
        "subject_id": "FORGED",
        "input_digest": hashlib.sha256(sanctioned).hexdigest(),
        "body": json.dumps({"payment_id": "FORGED", "decision": "pass", "hits": []}),
    }
    records = list(enumerate([*values, _forged(settings, serde, forged)]))
    trusted, broken = trusted_records(settings, serde, 0, records)
    assert [r["subject_id"] for r in trusted] == ["OK0", "OK1"]
    assert broken is not None
    assert broken.offset == 2 and "altered or forged" in broken.problem
    decided = Decided()
    decided.load(0, trusted)
    fresh = PaymentProcessor(settings, serde, processor.audit, processor.rules, registry(), decided)
    outcome = process(fresh, src(sanctioned, 3))
    assert outcome.decision == "block" and not outcome.replayed


def test_records_under_a_rotated_key_verify_while_the_old_key_is_kept(monkeypatch):
    monkeypatch.delenv("SCREENER_AUDIT_KEYS")  # the keys are these Settings' own
    old = Settings(partitions=2, audit_keys={"2025": "a" * 64})
    new = Settings(partitions=2, audit_keys={"2025": "a" * 64, "2026": "b" * 64}, audit_key_id="2026")
    serde = Serde(old)
    values: list[bytes] = []
    for s in (old, new):
        chains = AuditChains(s, serde)
        if values:
            _, last = decode_single_object(values[-1])
            chains.start_at(0, last["sequence"] + 1, last["hash"])
        else:
            chains.start_at(0)
        values.append(
            chains.append(
                0,
                kind="registry",
                subject_id="r",
                input_digest="d",
                rules_version="r",
                registry_version="g",
                recorded_at="t",
                body={},
            )[1]
        )
    assert check_partition(new, serde, 0, enumerate(values)) == (2, None)
    dropped = Settings(partitions=2, audit_keys={"2026": "b" * 64})
    unkeyed = check_partition(dropped, serde, 0, enumerate(values))[1]
    assert unkeyed is not None
    assert "a key this service does not hold" in unkeyed.problem


def test_no_trail_is_written_without_a_key(monkeypatch):
    from streams.settings import AuditKeyError

    monkeypatch.delenv("SCREENER_AUDIT_KEYS")
    with pytest.raises(AuditKeyError, match="SCREENER_AUDIT_KEYS"):
        AuditChains(Settings(audit_keys={}), Serde(Settings()))
    with pytest.raises(AuditKeyError, match="shorter than 32 bytes"):
        Settings(audit_keys={"k": "short"}).audit_keyring()


def test_the_worker_waits_for_a_missing_broker_with_a_bounded_backoff(monkeypatch):
    from confluent_kafka import KafkaError, KafkaException

    import streams.worker

    calls = []

    def ensure(settings):
        calls.append(1)
        if len(calls) < 4:
            raise KafkaException(KafkaError(KafkaError._TRANSPORT))
        return ["payments"]

    monkeypatch.setattr(streams.worker, "ensure_topics", ensure)
    slept: list[float] = []
    assert streams.worker.wait_for_broker(Settings(), sleep=slept.append) == ["payments"]
    assert slept == [0.5, 1.0, 2.0]


def test_the_worker_gives_up_on_a_broker_that_never_comes(monkeypatch):
    from confluent_kafka import KafkaError, KafkaException

    import streams.worker

    def never(settings):
        raise KafkaException(KafkaError(KafkaError._TRANSPORT))

    monkeypatch.setattr(streams.worker, "ensure_topics", never)
    monkeypatch.setattr(streams.worker, "STARTUP_WAIT_S", 3.0)
    slept: list[float] = []
    with pytest.raises(KafkaException):
        streams.worker.wait_for_broker(Settings(), sleep=slept.append)
    assert slept == [0.5, 1.0, 2.0]  # the next wait (4 s) would pass the 3 s bound


def test_an_oversized_registry_record_is_dead_lettered_not_applied(settings, chains):
    serde = Serde(settings)
    reg = registry([])
    proc = RegistryProcessor(settings, serde, chains, reg, chain=2)
    big = account("ACC-BIG", nested_institutions=[{"name": "N" * 500, "country": "DE"}] * 1200)
    value = serde.encode("registry.accounts", "Account", big)
    assert len(value) > 512 * 1024
    outcome = proc.process(Source("registry.accounts", 0, 0, b"ACC-BIG", value, 1.0), "r")
    assert outcome.dead_letter and reg.account("ACC-BIG") is None
    _, dead = decode_single_object(next(o.value for o in outcome.outputs if o.topic == "screening.dead-letter"))
    assert "limit 524,288" in dead["error"] and dead["original_truncated"]
