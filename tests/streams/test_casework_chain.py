"""The workbench's topics and the casework audit chain: topic specs, the growth of an audit topic
from before the chain, and `audit verify` / `audit checkpoint` walking the chain (fake broker)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException

import streams.topics
from ops.cli import main
from schemas.codec import decode_single_object
from streams import audit_verify
from streams.audit import AuditChains
from streams.checkpoints import Checkpoint, load, sign
from streams.serde import Serde
from streams.settings import Settings
from streams.topics import (
    TopicError,
    audit_partition_for_casework,
    audit_partition_for_registry,
    ensure_topics,
    topic_specs,
)

N = 4
KW = {"input_digest": "d", "rules_version": "r", "registry_version": "g", "recorded_at": "2026-01-05T13:00:00+00:00"}


@pytest.fixture
def settings() -> Settings:
    return Settings(bootstrap_servers="127.0.0.1:1", partitions=N)


# --- topic specs ---------------------------------------------------------------------------------


def test_the_workbench_topics_are_kept_and_keyed_by_payment(settings):
    specs = {s.name: s for s in topic_specs(settings)}
    for name in ("screening.dispositions", "screening.releases"):
        assert specs[name].partitions == N
        assert specs[name].key == "payment_id"
        assert specs[name].config == {"retention.ms": "-1", "retention.bytes": "-1"}
        assert specs[name].config == specs[settings.topics.notices].config
    assert settings.topics.dispositions == "screening.dispositions"
    assert settings.topics.releases == "screening.releases"


def test_the_audit_topic_has_a_chain_per_payments_partition_the_registry_and_the_casework_chain(settings):
    [audit] = [s for s in topic_specs(settings) if s.name == settings.topics.audit]
    assert audit.partitions == N + 2
    assert audit.config["retention.bytes"] == "-1" and audit.config["cleanup.policy"] == "delete"
    assert audit_partition_for_registry(settings) == N
    assert audit_partition_for_casework(settings) == N + 1
    assert audit_partition_for_casework(Settings(partitions=1)) == 2


def test_the_casework_chain_is_named_by_its_partition(settings):
    chains = AuditChains(settings, Serde(settings))
    casework = audit_partition_for_casework(settings)
    chains.start_at(casework)
    key, value = chains.append(casework, kind="disposition", subject_id="PAY-1", body={"kind": "clear"}, **KW)
    _, record = decode_single_object(value)
    assert key == b"screening.audit/5" and record["chain"] == "screening.audit/5"
    assert record["audit_id"] == "screening.audit/5:0" and record["kind"] == "disposition"


# --- ensure_topics: growing an audit topic from before the casework chain --------------------------


def _done(exc: Exception | None = None) -> Future[None]:
    future: Future[None] = Future()
    if exc is None:
        future.set_result(None)
    else:
        future.set_exception(exc)
    return future


@dataclass
class TopicMeta:
    partitions: dict[int, object]
    error: object = None


@dataclass
class FakeAdmin:
    """The broker as the AdminClient sees it: topic -> partition count."""

    topics: dict[str, int]
    refuse: KafkaException | None = None
    grown_meanwhile: bool = False
    grown: list[tuple[str, int]] = field(default_factory=list)

    def list_topics(self, topic: str | None = None, timeout: float = 0) -> Any:
        shown = {t: TopicMeta(dict.fromkeys(range(n))) for t, n in self.topics.items() if topic in (None, t)}
        return type("Metadata", (), {"topics": shown})()

    def create_topics(self, new: list[Any], request_timeout: float = 0) -> dict[str, Future[None]]:
        for t in new:
            self.topics[t.topic] = t.num_partitions
        return {t.topic: _done() for t in new}

    def create_partitions(self, new: list[Any], request_timeout: float = 0) -> dict[str, Future[None]]:
        self.grown += [(p.topic, p.new_total_count) for p in new]
        if self.refuse is not None:
            if self.grown_meanwhile:
                self.topics.update({p.topic: p.new_total_count for p in new})
            return {p.topic: _done(self.refuse) for p in new}
        self.topics.update({p.topic: p.new_total_count for p in new})
        return {p.topic: _done() for p in new}


UNSUPPORTED = KafkaException(
    KafkaError(KafkaError._UNSUPPORTED_FEATURE, "CreatePartitions (KIP-195) not supported by broker")
)


def _deployed_before_the_workbench(settings: Settings) -> dict[str, int]:
    """Every topic of a deployment from before this change: no workbench topics, audit N+1."""
    old = {s.name: s.partitions for s in topic_specs(settings)}
    del old[settings.topics.dispositions], old[settings.topics.releases]
    old[settings.topics.audit] = N + 1
    return old


def _admin(monkeypatch: pytest.MonkeyPatch, admin: FakeAdmin) -> FakeAdmin:
    monkeypatch.setattr(streams.topics, "AdminClient", lambda conf: admin)
    return admin


def test_an_audit_topic_from_before_the_casework_chain_is_grown_by_one(settings, monkeypatch):
    admin = _admin(monkeypatch, FakeAdmin(_deployed_before_the_workbench(settings)))
    created = ensure_topics(settings)
    assert sorted(created) == ["screening.dispositions", "screening.releases"]
    assert admin.grown == [("screening.audit", N + 2)]
    assert admin.topics["screening.audit"] == N + 2
    assert ensure_topics(settings) == [] and len(admin.grown) == 1  # nothing more to do the next time


def test_a_new_deployment_is_created_with_the_casework_partition(settings, monkeypatch):
    admin = _admin(monkeypatch, FakeAdmin({}))
    assert len(ensure_topics(settings)) == len(topic_specs(settings))
    assert admin.topics["screening.audit"] == N + 2 and admin.grown == []


def test_a_broker_that_refuses_to_grow_the_audit_topic_is_a_clear_error(settings, monkeypatch):
    admin = _admin(monkeypatch, FakeAdmin(_deployed_before_the_workbench(settings), refuse=UNSUPPORTED))
    with pytest.raises(TopicError) as raised:
        ensure_topics(settings)
    message = str(raised.value)
    assert "topic screening.audit has 5 partitions (a deployment from before the casework audit chain)" in message
    assert "the screener needs 6" in message and "KIP-195" in message
    assert "kafka-topics --alter --topic screening.audit --partitions 6" in message
    assert admin.topics["screening.audit"] == N + 1


def test_a_refusal_because_another_worker_grew_it_meanwhile_is_no_error(settings, monkeypatch):
    already = KafkaException(KafkaError(KafkaError.INVALID_PARTITIONS, "Topic already has 6 partitions."))
    admin = FakeAdmin(_deployed_before_the_workbench(settings), refuse=already, grown_meanwhile=True)
    _admin(monkeypatch, admin)
    ensure_topics(settings)
    assert admin.topics["screening.audit"] == N + 2


@pytest.mark.parametrize("audit", [N, N + 3, 1])
def test_any_other_audit_partition_count_stays_an_error(settings, monkeypatch, audit):
    topics = {s.name: s.partitions for s in topic_specs(settings)} | {settings.topics.audit: audit}
    admin = _admin(monkeypatch, FakeAdmin(topics))
    with pytest.raises(TopicError, match=rf"topic screening\.audit has {audit} partitions, the screener needs 6"):
        ensure_topics(settings)
    assert admin.grown == []


def test_the_audit_topic_is_not_grown_when_screener_partitions_is_not_the_deployment_s(monkeypatch):
    """Deployed with 3 partitions (audit 5 = 3+2), started by mistake with 4: the audit topic's 5
    is also "N+1", but partitions are never removed, so nothing is grown and the error names the
    payments topic."""
    deployed = {s.name: s.partitions for s in topic_specs(Settings(partitions=3))}
    admin = _admin(monkeypatch, FakeAdmin(deployed))
    with pytest.raises(TopicError, match=r"topic payments has 3 partitions, the screener needs 4"):
        ensure_topics(Settings(bootstrap_servers="127.0.0.1:1", partitions=4))
    assert admin.grown == [] and admin.topics["screening.audit"] == 5


# --- audit verify and checkpoint walk the casework chain ------------------------------------------


def _chains(settings: Settings, lengths: dict[int, int]) -> dict[int, list[tuple[int, bytes | None]]]:
    """Audit partition -> its records (offset, value), each chain `lengths[partition]` long."""
    writer = AuditChains(settings, Serde(settings))
    out: dict[int, list[tuple[int, bytes | None]]] = {}
    for partition, length in lengths.items():
        writer.start_at(partition)
        kind = "disposition" if partition == audit_partition_for_casework(settings) else "decision"
        out[partition] = [
            (i, writer.append(partition, kind=kind, subject_id=f"PAY-{i}", body={"i": i}, **KW)[1])
            for i in range(length)
        ]
    return out


def _broker(monkeypatch: pytest.MonkeyPatch, chains: dict[int, list[tuple[int, bytes | None]]]) -> None:
    """The audit topic holds these partitions and records; verify reads them through the fakes."""
    import confluent_kafka.admin

    def iter_partition(settings: Settings, partition: int) -> Iterator[tuple[int, bytes | None]]:
        assert partition in chains, f"partition {partition} read, but the topic has none"
        return iter(chains[partition])

    admin = FakeAdmin({"screening.audit": len(chains)})
    monkeypatch.setattr(confluent_kafka.admin, "AdminClient", lambda conf: admin)
    monkeypatch.setattr(audit_verify, "iter_partition", iter_partition)


def test_verify_walks_the_casework_chain(settings, monkeypatch):
    chains = _chains(settings, {0: 3, 1: 0, 2: 1, 3: 0, 4: 2, 5: 4})
    _broker(monkeypatch, chains)
    report = audit_verify.verify(settings, Serde(settings))
    assert report.first_break is None
    assert report.chains == {0: 3, 1: 0, 2: 1, 3: 0, 4: 2, 5: 4}
    assert report.records == 10
    _, last = decode_single_object(chains[5][-1][1] or b"")
    assert report.tips[5] == (3, last["hash"])


def test_a_break_in_the_casework_chain_is_reported_there(settings, monkeypatch):
    chains = _chains(settings, {0: 1, 1: 0, 2: 0, 3: 0, 4: 0, 5: 4})
    del chains[5][2]  # a disposition removed
    _broker(monkeypatch, chains)
    report = audit_verify.verify(settings, Serde(settings))
    assert report.first_break is not None and report.first_break.partition == 5
    assert report.first_break.problem == "sequence 3, expected 2 (a record is missing or repeated)"


def test_a_checkpointed_casework_chain_the_topic_no_longer_has_is_truncated(settings, monkeypatch):
    written = _chains(settings, {5: 3})[5]
    _, rec = decode_single_object(written[-1][1] or b"")
    cp = sign(Checkpoint(rec["chain"], rec["sequence"], rec["hash"], "2026-11-22T00:00:00+00:00", ""), settings)
    _broker(monkeypatch, _chains(settings, {0: 1, 1: 0, 2: 0, 3: 0, 4: 0}))  # an audit topic of N+1
    report = audit_verify.verify(settings, Serde(settings), {rec["chain"]: [cp]})
    assert report.first_break is not None and report.first_break.partition == 5
    assert report.first_break.problem.startswith("truncated: the chain ends before sequence 0")


def test_an_audit_topic_from_before_the_casework_chain_verifies(settings, monkeypatch):
    _broker(monkeypatch, _chains(settings, {0: 2, 1: 0, 2: 0, 3: 0, 4: 1}))
    report = audit_verify.verify(settings, Serde(settings))
    assert report.first_break is None and sorted(report.chains) == [0, 1, 2, 3, 4]


def test_audit_verify_and_checkpoint_commands_cover_the_casework_chain(monkeypatch, tmp_path: Path, capsys):
    settings = Settings(partitions=N)
    _broker(monkeypatch, _chains(settings, {0: 2, 1: 0, 2: 0, 3: 0, 4: 1, 5: 3}))
    main(["audit", "verify"])
    out = capsys.readouterr().out
    assert "audit trail intact: 6 records in 6 chains" in out
    assert "screening.audit/4 (registry): 1" in out and "screening.audit/5 (casework): 3" in out

    path = tmp_path / "checkpoints.jsonl"
    main(["audit", "checkpoint", "--out", str(path)])
    anchors = load(path, settings)
    assert sorted(anchors) == ["screening.audit/0", "screening.audit/4", "screening.audit/5"]
    assert anchors["screening.audit/5"][-1].sequence == 2


def test_audit_verify_notes_an_audit_topic_without_the_casework_partition(monkeypatch, capsys):
    _broker(monkeypatch, _chains(Settings(partitions=N), {0: 2, 1: 0, 2: 0, 3: 0, 4: 1}))
    main(["audit", "verify"])
    captured = capsys.readouterr()
    assert "audit trail intact: 3 records in 5 chains" in captured.out
    assert "has no partition 5 for the casework chain yet" in captured.err
