"""The workbench store (ops/workbench/store.py): cases, atomic actions, the outbox, restarts, on
each backend (a SQLite file and a PostgreSQL database: the `store_target` fixture, conftest.py)."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ops.workbench.events import build_records, release_id_of
from ops.workbench.store import NewCase, Store, case_id_of
from rules.casework import Action, Kind, Refused, Role, State

AT = "2026-11-23T10:00:00+00:00"


def new_case(
    payment_id: str, four_eyes: tuple[str, ...] = (), screened_at: str = "2026-11-23T09:00:00+00:00"
) -> NewCase:
    decision = {"payment_id": payment_id, "decision": "review", "hits": [], "screened_at": screened_at}
    return NewCase(payment_id, json.dumps(decision), screened_at, four_eyes, "ACC-1", f"{payment_id} Acme", "d/0@1")


def act(store: Store, payment_id: str, kind: Kind, actor: str, role: Role = Role.ANALYST, **kw: str) -> State:
    action = Action(f"{kind}-{actor}-{len(store.history(case_id_of(payment_id)))}", kind, actor, role, "why", **kw)
    row, _ = store.act(case_id_of(payment_id), action, lambda c, a, s: build_records(c, a, s, AT), AT)
    return row.state


@pytest.fixture
def store(store_target: Path | str) -> Iterator[Store]:
    store = Store(store_target)
    yield store
    store.close()


def test_a_decision_read_again_opens_no_second_case(store: Store) -> None:
    assert store.ingest([new_case("P-1")], positions=[("d", 0, 5)]) == 1
    assert store.ingest([new_case("P-1")], positions=[("d", 0, 6)]) == 0
    assert [c.payment_id for c in store.queue()] == ["P-1"]
    assert store.positions("d") == {0: 6}
    row = store.case(case_id_of("P-1"))
    assert row is not None
    assert row.decision_digest == hashlib.sha256(new_case("P-1").decision_json.encode()).hexdigest()


def test_payments_are_kept_only_for_cases(store: Store) -> None:
    store.ingest(payments=[("P-1", b"one", "p/0@1"), ("P-2", b"two", "p/0@2")])
    store.ingest([new_case("P-1")], settled=["P-1", "P-2"])
    assert store.payment("P-1") == (b"one", "p/0@1")
    assert store.payment("P-2") is None


def test_queue_order_filters_and_search(store: Store) -> None:
    store.ingest(
        [
            new_case("P-late", screened_at="2026-11-23T09:30:00+00:00"),
            new_case("P-early", ("blocked_person x",), screened_at="2026-11-23T08:00:00+00:00"),
        ]
    )
    assert [c.payment_id for c in store.queue()] == ["P-early", "P-late"]
    assert [c.payment_id for c in store.queue(severity="high")] == ["P-early"]
    assert [c.payment_id for c in store.queue(search="LATE")] == ["P-late"]
    count, oldest, by_state = store.open_summary()
    assert (count, oldest, by_state) == (2, "2026-11-23T08:00:00+00:00", {"open": 2})


def test_four_eyes_release_is_recorded_once_with_its_outbox(store: Store) -> None:
    store.ingest([new_case("P-1", ("blocked_person x",))])
    assert act(store, "P-1", Kind.CLEAR, "ann") is State.PENDING_APPROVAL
    pending = store.case(case_id_of("P-1"))
    assert pending is not None
    assert pending.pending is not None
    with pytest.raises(Refused):
        act(store, "P-1", Kind.APPROVE, "ann", Role.APPROVER)
    assert act(store, "P-1", Kind.APPROVE, "bob", Role.APPROVER) is State.RELEASED
    release = store.release(case_id_of("P-1"))
    assert release is not None
    assert release["release_id"] == release_id_of("P-1")
    assert release["decided_by"] == ["ann", "bob"]
    kinds = [(e.kind, e.record.get("kind")) for e in store.unsent()]
    assert kinds == [("disposition", "clear"), ("disposition", "approve"), ("release", None)]
    history = store.history(case_id_of("P-1"))
    assert [h["state"] for h in history] == ["pending_approval", "released"]
    assert history[1]["answers"] == history[0]["disposition_id"]
    with pytest.raises(Refused) as closed:
        act(store, "P-1", Kind.COMMENT, "carol")
    assert closed.value.code == "closed"
    assert store.dispositions_by() == {("clear", "ann"): 1, ("approve", "bob"): 1}
    assert store.closed_summary() == {"released": 1}


def test_a_refused_action_records_nothing(store: Store) -> None:
    store.ingest([new_case("P-1")])
    with pytest.raises(Refused):
        act(store, "P-1", Kind.CONFIRM, "ann", stop_action="hold")
    assert store.history(case_id_of("P-1")) == []
    assert store.unsent() == []
    with pytest.raises(Refused) as unknown:
        act(store, "P-unknown", Kind.COMMENT, "ann")
    assert unknown.value.code == "no_case"


def test_the_same_disposition_is_not_recorded_twice(store: Store) -> None:
    store.ingest([new_case("P-1")])
    action = Action("d-1", Kind.COMMENT, "ann", Role.ANALYST, "note")
    store.act(case_id_of("P-1"), action, lambda c, a, s: build_records(c, a, s, AT), AT)
    with pytest.raises(Refused) as dup:
        store.act(case_id_of("P-1"), action, lambda c, a, s: build_records(c, a, s, AT), AT)
    assert dup.value.code == "duplicate"


def test_concurrent_clears_release_once(store: Store) -> None:
    """Two people clearing one case at the same instant: one release, the other refused."""
    store.ingest([new_case("P-1")])
    outcomes: list[str] = []

    def clear(actor: str) -> None:
        try:
            act(store, "P-1", Kind.CLEAR, actor)
            outcomes.append("ok")
        except Refused as refused:
            outcomes.append(refused.code)

    threads = [threading.Thread(target=clear, args=(name,)) for name in ("ann", "bob", "carol", "dave")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["closed", "closed", "closed", "ok"]
    assert [e.kind for e in store.unsent()].count("release") == 1


def test_state_and_outbox_survive_a_restart(store_target: Path | str) -> None:
    path = store_target
    first = Store(path)
    first.ingest([new_case("P-1", ("indirect_use 31 CFR 1010.659(b)(2)",))], positions=[("d", 1, 9)])
    act(first, "P-1", Kind.CLEAR, "ann")
    entries = first.unsent()
    first.mark_sent([entries[0].seq], AT)
    first.close()
    second = Store(path)
    row = second.case(case_id_of("P-1"))
    assert row is not None
    assert row.state is State.PENDING_APPROVAL
    assert row.pending is not None
    assert row.pending.actor == "ann"
    assert second.positions("d") == {1: 9}
    assert second.unsent() == []
    assert act(second, "P-1", Kind.APPROVE, "bob", Role.APPROVER) is State.RELEASED


def test_sessions_expire(store: Store) -> None:
    store.put_session("h1", "ann", "c1", created_at=100.0, expires_at=200.0)
    session = store.session("h1", now=150.0)
    assert session is not None
    assert session.user_name == "ann"
    assert store.session("h1", now=201.0) is None
    store.drop_session("h1")
    assert store.session("h1", now=150.0) is None
