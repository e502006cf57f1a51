"""Signed checkpoints: truncation, rewriting, archived records and forged anchors are told apart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from schemas.codec import decode_single_object
from streams.audit import AuditChains
from streams.audit_verify import check_partition
from streams.checkpoints import Checkpoint, CheckpointError, append, load, sign
from streams.serde import Serde
from streams.settings import Settings


@pytest.fixture(scope="module")
def settings() -> Settings:
    return Settings(partitions=2)


@pytest.fixture(scope="module")
def chain(settings: Settings) -> list[tuple[int, bytes]]:
    """Ten records of chain 0, as they sit on the topic (offset, value)."""
    audit = AuditChains(settings, Serde(settings))
    audit.start_at(0)
    kw = {"subject_id": "s", "input_digest": "d", "rules_version": "r", "registry_version": "g", "recorded_at": "t"}
    return [(i, audit.append(0, kind="registry", body={"i": i}, **kw)[1]) for i in range(10)]


def _checkpoint(settings: Settings, value: bytes) -> Checkpoint:
    _, rec = decode_single_object(value)
    return sign(Checkpoint(rec["chain"], rec["sequence"], rec["hash"], "2026-11-22T00:00:00+00:00", ""), settings)


def test_a_checkpointed_chain_verifies(settings, chain):
    assert check_partition(settings, Serde(settings), 0, chain, [_checkpoint(settings, chain[6][1])]) == (10, None)


def test_a_truncated_tail_is_detected_against_a_checkpoint(settings, chain):
    cp = _checkpoint(settings, chain[9][1])
    _, broken = check_partition(settings, Serde(settings), 0, chain[:7], [cp])
    assert broken is not None and broken.problem.startswith("truncated: the chain ends before sequence 7")
    assert check_partition(settings, Serde(settings), 0, chain[:7])[1] is None  # undetectable without it


def test_an_emptied_chain_is_a_broker_that_lost_its_data(settings, chain):
    _, broken = check_partition(settings, Serde(settings), 0, [], [_checkpoint(settings, chain[3][1])])
    assert broken is not None and "broker lost its data" in broken.problem


def test_archived_oldest_records_verify_when_a_checkpoint_vouches_for_the_rest(settings, chain):
    assert check_partition(settings, Serde(settings), 0, chain[4:], [_checkpoint(settings, chain[8][1])]) == (6, None)
    _, broken = check_partition(settings, Serde(settings), 0, chain[4:])
    assert broken is not None and "no checkpoint vouches" in broken.problem


def test_records_deleted_in_the_middle_are_never_retention(settings, chain):
    _, broken = check_partition(
        settings, Serde(settings), 0, chain[:3] + chain[5:], [_checkpoint(settings, chain[8][1])]
    )
    assert broken is not None and broken.problem.startswith("sequence 5, expected 3")


def test_a_rewritten_chain_disagrees_with_the_checkpoint(settings, chain):
    other = AuditChains(settings, Serde(settings))
    other.start_at(0)
    kw = {"subject_id": "s", "input_digest": "d", "rules_version": "r", "registry_version": "g", "recorded_at": "t"}
    rewritten = [(i, other.append(0, kind="registry", body={"i": -i}, **kw)[1]) for i in range(10)]
    _, broken = check_partition(settings, Serde(settings), 0, rewritten, [_checkpoint(settings, chain[5][1])])
    assert broken is not None and broken.problem.startswith("rewritten")


def test_checkpoint_file_round_trips_and_a_forged_one_is_refused(settings, chain, tmp_path: Path):
    path = tmp_path / "checkpoints.jsonl"
    append(path, [_checkpoint(settings, chain[2][1]), _checkpoint(settings, chain[7][1])])
    assert [cp.sequence for cp in load(path, settings)["screening.audit/0"]] == [2, 7]
    forged = json.loads(path.read_text().splitlines()[1]) | {"sequence": 1}
    path.write_text(path.read_text() + json.dumps(forged) + "\n")
    with pytest.raises(CheckpointError, match=r":3: checkpoint of screening\.audit/0 does not verify"):
        load(path, settings)


def test_a_missing_audit_topic_with_checkpointed_chains_is_a_broker_that_lost_its_data(settings, chain, tmp_path):
    from streams.topics import TopicError, _refuse_if_data_lost

    path = tmp_path / "checkpoints.jsonl"
    lost = Settings(partitions=2, audit_checkpoints=path)
    _refuse_if_data_lost(lost)  # no checkpoints yet: a new deployment, topics are created
    append(path, [_checkpoint(settings, chain[9][1])])
    with pytest.raises(TopicError, match=r"the broker lost its data: screening\.audit is missing.*\(10 records\)"):
        _refuse_if_data_lost(lost)
