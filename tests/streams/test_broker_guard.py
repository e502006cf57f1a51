"""The broker data-loss guard: what counts as lost data, the marker, and the refusal to start."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from streams import broker_guard
from streams.broker_guard import DataLossGuard, Observation
from streams.settings import Settings
from streams.topics import BrokerDataLostError, topic_specs


def settings(tmp_path: Path) -> Settings:
    return Settings(bootstrap_servers="127.0.0.1:1", partitions=4, data_dir=tmp_path)


def healthy(s: Settings, end: int = 10) -> Observation:
    specs = topic_specs(s)
    return Observation(
        {spec.name: spec.partitions for spec in specs},
        {(spec.name, p): end for spec in specs for p in range(spec.partitions)},
    )


def guard(tmp_path: Path) -> tuple[DataLossGuard, Settings]:
    s = settings(tmp_path)
    return DataLossGuard(s, on_loss=lambda evidence: None), s


def test_a_broker_that_kept_its_data_is_not_reported(tmp_path: Path) -> None:
    g, s = guard(tmp_path)
    assert g.check(healthy(s, 10)) == []
    assert g.check(healthy(s, 10)) == []  # away and back, nothing written meanwhile
    assert g.check(healthy(s, 25)) == []


def test_an_end_offset_gone_back_is_lost_data(tmp_path: Path) -> None:
    g, s = guard(tmp_path)
    g.check(healthy(s, 10))
    now = healthy(s, 10)
    ends = dict(now.ends)
    ends[(s.topics.audit, 2)] = 3
    evidence = g.check(Observation(now.partitions, ends))
    assert evidence == [f"{s.topics.audit}/2 ends at offset 3, had 10"]


def test_a_missing_topic_or_other_partition_count_is_lost_data(tmp_path: Path) -> None:
    g, s = guard(tmp_path)
    g.check(healthy(s))
    partitions = dict(healthy(s).partitions)
    del partitions[s.topics.notices]
    partitions[s.topics.audit] = 4  # re-created by a first write with the broker's defaults
    evidence = g.check(Observation(partitions, {}))
    assert f"topic {s.topics.notices} is missing" in evidence
    assert f"topic {s.topics.audit} has 4 partitions, was created with 6" in evidence


def test_an_empty_broker_is_lost_data_even_at_the_first_look(tmp_path: Path) -> None:
    g, s = guard(tmp_path)
    evidence = g.check(Observation({}, {}))
    assert len(evidence) == len(topic_specs(s))


def test_ends_seen_only_grow(tmp_path: Path) -> None:
    g, s = guard(tmp_path)
    g.check(healthy(s, 10))
    g.check(healthy(s, 30))
    assert set(g.seen.values()) == {30}


def test_the_marker_keeps_the_worker_from_starting(tmp_path: Path) -> None:
    s = settings(tmp_path)
    broker_guard.refuse_if_marked(s)  # no marker: nothing raised
    path = broker_guard.write_marker(s, ["topic payments is missing", "topic screening.audit is missing"])
    assert json.loads(path.read_text())["evidence"][0] == "topic payments is missing"
    with pytest.raises(BrokerDataLostError, match=r"topic payments is missing.*remove"):
        broker_guard.refuse_if_marked(s)
    path.unlink()
    broker_guard.refuse_if_marked(s)


def test_an_unreadable_marker_still_refuses(tmp_path: Path) -> None:
    s = settings(tmp_path)
    broker_guard.marker_path(s).write_text("{not json")
    with pytest.raises(BrokerDataLostError, match="marker unreadable"):
        broker_guard.refuse_if_marked(s)


def test_evidence_summary_is_bounded() -> None:
    evidence = [f"topic t{i} is missing" for i in range(40)]
    assert broker_guard.summary(evidence).endswith("(and 37 more)")
