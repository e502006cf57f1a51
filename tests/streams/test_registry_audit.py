"""The registry agent's audit duty without a broker: batches audited in order with one delivery
wait, bad records dead-lettered, and the agent's own registry rebuilt where its position is not
known, so that every audit record names the version the view has after the same records."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

from rules import Registry
from streams.audit import GENESIS, AuditChains, Tip
from streams.delivery import Outbox
from streams.metrics import Metrics
from streams.records import Source
from streams.registry_audit import RegistryAudit
from streams.registry_processing import RegistryProcessor, apply_registry_change
from streams.registry_read import Part
from streams.registry_view import State
from streams.serde import Serde
from streams.settings import Settings
from tests.conftest import account

SETTINGS = Settings(partitions=2)
SERDE = Serde(SETTINGS)
ACCOUNTS = SETTINGS.topics.registry_accounts
INSTITUTIONS = SETTINGS.topics.registry_institutions


class RecordingProducer:
    """Takes every record and reports it delivered at once; flush must never be needed."""

    def __init__(self) -> None:
        self.records: list[tuple[str, bytes | None, bytes | None, int | None]] = []
        self.flushes = 0

    def produce(self, topic: str, *args: Any, **kwargs: Any) -> None:
        self.records.append((topic, kwargs.get("key"), kwargs.get("value"), kwargs.get("partition")))
        on_delivery = kwargs.get("on_delivery")
        if on_delivery is not None:
            on_delivery(None, SimpleNamespace(topic=lambda: topic, partition=lambda: kwargs.get("partition")))

    def poll(self, timeout: float = -1) -> int:
        return 0

    def flush(self, timeout: float = -1) -> int:
        self.flushes += 1
        return 0


class CountingOutbox(Outbox):
    def __init__(self, producer: RecordingProducer, audit_topic: str) -> None:
        super().__init__(producer, audit_topic)
        self.batches = 0

    def end_batch(self) -> asyncio.Future[None]:
        self.batches += 1
        return super().end_batch()


class Agent:
    """The agent with a recording producer, positions the test sets and rebuilds it records."""

    def __init__(self, committed: Mapping[Part, int] | None = None, history: list[Source] | None = None) -> None:
        self.producer = RecordingProducer()
        self.outbox = CountingOutbox(self.producer, SETTINGS.topics.audit)
        self.chains = audit = AuditChains(SETTINGS, SERDE, sink=self.outbox.audit_sink)
        chain = SETTINGS.partitions
        audit.start_at(chain)
        self.committed = dict(committed or {})
        self.history = history or []
        self.rebuilds: list[dict[Part, int]] = []
        changes = RegistryProcessor(SETTINGS, SERDE, audit, Registry(), chain)
        self.audit = RegistryAudit(
            SETTINGS,
            audit,
            changes,
            self.outbox,
            Metrics(),
            State(),
            lambda: "rules-test",
            positions=lambda: dict(self.committed),
            rebuild=self.rebuild,
            last_record=lambda chain: self.tip,
        )
        # The chain's last record as the topic holds it (None: an empty chain).
        self.tip: dict[str, Any] | None = None

    def rebuild(self, stops: Mapping[Part, int]) -> Registry:
        """What read_registry does, over the records the test says the topics hold."""
        self.rebuilds.append(dict(stops))
        return view_after([s for s in self.history if s.offset < stops.get((s.topic, s.partition), 0)])

    def audits(self) -> list[dict[str, Any]]:
        return [
            SERDE.decode(SETTINGS.topics.audit, "AuditRecord", value)
            for topic, _, value, _ in self.producer.records
            if topic == SETTINGS.topics.audit and value is not None
        ]


def src(topic: str, offset: int, key: str | None, value: bytes | None) -> Source:
    return Source(topic, 0, offset, key.encode() if key is not None else None, value, 1_780_000_000.0 + offset)


def acc(account_id: str, **fields: Any) -> bytes:
    return SERDE.encode(ACCOUNTS, "Account", account(account_id, **fields))


def inst(bic: str) -> bytes:
    record = {"bic": bic, "name": "Hanseatic Commerce Bank AG", "country": "DE", "kind": "bank"}
    return SERDE.encode(INSTITUTIONS, "RegistryInstitution", record)


def view_after(sources: list[Source]) -> Registry:
    """The view after these records, as every worker's view applies them (bad ones skipped)."""
    registry = Registry()
    for s in sources:
        with contextlib.suppress(ValueError):  # skipped, as the view skips it
            apply_registry_change(registry, SERDE, SETTINGS, s.topic, s.key, s.value)
    return registry


def test_a_batch_is_audited_in_order_with_the_views_versions_and_delivered_with_one_wait() -> None:
    agent = Agent()
    batch = [
        src(ACCOUNTS, 0, "ACC-1", acc("ACC-1", status="open")),
        src(ACCOUNTS, 1, "ACC-2", acc("ACC-2")),
        src(INSTITUTIONS, 0, "HNSEDEFF", inst("HNSEDEFF")),
        src(ACCOUNTS, 2, "ACC-1", acc("ACC-1", status="closing")),
        src(ACCOUNTS, 3, "ACC-2", None),  # a tombstone
    ]

    asyncio.run(agent.audit.apply_batch(batch))

    # One delivery wait for the whole batch, no flush, and nothing but audit records written.
    assert (agent.outbox.batches, agent.producer.flushes) == (1, 0)
    assert {topic for topic, *_ in agent.producer.records} == {SETTINGS.topics.audit}
    audits = agent.audits()
    assert [a["sequence"] for a in audits] == [0, 1, 2, 3, 4]
    assert [a["subject_id"] for a in audits] == [
        f"{ACCOUNTS}:ACC-1",
        f"{ACCOUNTS}:ACC-2",
        f"{INSTITUTIONS}:HNSEDEFFXXX",
        f"{ACCOUNTS}:ACC-1",
        f"{ACCOUNTS}:ACC-2",
    ]
    # Each record names the version the view has after the same records.
    assert [a["registry_version"] for a in audits] == [view_after(batch[: i + 1]).version for i in range(5)]
    # A first start (nothing committed): nothing to rebuild from.
    assert agent.rebuilds == [{(ACCOUNTS, 0): 0, (INSTITUTIONS, 0): 0}]
    assert agent.audit.audited == {ACCOUNTS: 4, INSTITUTIONS: 1}


def test_bad_records_inside_a_batch_are_dead_lettered_one_by_one_and_the_rest_audited() -> None:
    agent = Agent(committed={(ACCOUNTS, 0): 10})
    batch = [
        src(ACCOUNTS, 10, "ACC-1", acc("ACC-1")),
        src(ACCOUNTS, 11, "ACC-2", b"not avro"),
        src(ACCOUNTS, 12, "ACC-OTHER", acc("ACC-3")),  # key is not its id
        src(ACCOUNTS, 13, "ACC-4", acc("ACC-4")),
    ]

    asyncio.run(agent.audit.apply_batch(batch))

    dead = [
        SERDE.decode(SETTINGS.topics.dead_letter, "DeadLetter", v)
        for t, _, v, _ in agent.producer.records
        if t == SETTINGS.topics.dead_letter and v is not None
    ]
    assert [(d["source_offset"], d["source_topic"]) for d in dead] == [(11, ACCOUNTS), (12, ACCOUNTS)]
    assert "is not the record's account_id" in dead[1]["error"]
    assert [a["kind"] for a in agent.audits()] == ["registry", "dead_letter", "dead_letter", "registry"]
    assert agent.outbox.batches == 1
    assert agent.audit.audited[ACCOUNTS] == 14


def test_the_agents_registry_is_rebuilt_at_its_start_and_where_offsets_jump_not_otherwise() -> None:
    history = [
        src(ACCOUNTS, 0, "ACC-1", acc("ACC-1")),
        src(ACCOUNTS, 1, "ACC-2", acc("ACC-2")),
        src(INSTITUTIONS, 0, "HNSEDEFF", inst("HNSEDEFF")),
        src(ACCOUNTS, 2, "ACC-3", acc("ACC-3")),
        src(ACCOUNTS, 3, "ACC-1", None),
        src(ACCOUNTS, 4, "ACC-4", acc("ACC-4")),
        src(ACCOUNTS, 5, "ACC-5", acc("ACC-5")),
    ]
    # A restart: the group committed accounts up to 2 and the institution; the first batch is
    # the records from there.
    agent = Agent(committed={(ACCOUNTS, 0): 2, (INSTITUTIONS, 0): 1}, history=history)
    asyncio.run(agent.audit.apply_batch([history[3]]))
    assert agent.rebuilds == [{(ACCOUNTS, 0): 2, (INSTITUTIONS, 0): 1}]
    asyncio.run(agent.audit.apply_batch([history[4]]))  # the next offset: no rebuild
    assert len(agent.rebuilds) == 1
    asyncio.run(agent.audit.apply_batch([history[6]]))  # offset 4 never came: rebuilt up to 5
    assert agent.rebuilds[-1] == {(ACCOUNTS, 0): 5, (INSTITUTIONS, 0): 1}
    versions = [a["registry_version"] for a in agent.audits()]
    assert versions == [view_after(history[: n + 1]).version for n in (3, 4, 6)]
    # A rebalance forgets the position: the next batch rebuilds from the group's position.
    agent.audit.forget()
    agent.chains.start_at(SETTINGS.partitions, 3, agent.audits()[-1]["hash"])  # the chain's tip, as re-read
    agent.committed = {(ACCOUNTS, 0): 6, (INSTITUTIONS, 0): 1}
    asyncio.run(agent.audit.apply_batch([src(ACCOUNTS, 6, "ACC-6", acc("ACC-6"))]))
    assert agent.rebuilds[-1] == {(ACCOUNTS, 0): 6, (INSTITUTIONS, 0): 1}


def test_the_agent_waits_for_this_workers_view_before_taking_records() -> None:
    agent = Agent()
    taken: list[int] = []

    class Stream:
        def take_events(self, n: int, within: float) -> Any:
            async def events() -> Any:
                taken.append(n)
                if False:
                    yield []

            return events()

    async def scenario() -> None:
        task = asyncio.create_task(agent.audit.consume(Stream()))  # type: ignore[arg-type]
        await asyncio.sleep(0.05)
        assert taken == []
        agent.audit.state.registry_ready.set()
        await asyncio.wait_for(task, 2)
        assert taken == [2000]

    asyncio.run(scenario())


def test_a_rebalance_during_the_chains_recovery_is_caught_before_anything_is_produced() -> None:
    """forget() (Faust's rebalance callback) can run while the batch awaits the chain's tip: the
    tip and the agent's position are then read again, and the batch is audited once, delivered and
    counted, never left produced but unacknowledged."""

    async def scenario() -> Agent:
        agent = Agent()
        agent.audit.forget()
        chain = SETTINGS.partitions

        def slow_recover(partition: int) -> None:
            time.sleep(0.2)
            agent.chains._tips[partition] = Tip(0, GENESIS)

        agent.chains.recover = slow_recover  # type: ignore[method-assign]
        asyncio.get_running_loop().call_later(0.1, agent.audit.forget)
        await agent.audit.apply_batch([src(ACCOUNTS, 0, "ACC-1", acc("ACC-1"))])
        assert agent.audit.taken is not None
        assert chain in agent.chains._tips
        return agent

    agent = asyncio.run(scenario())
    assert len(agent.audits()) == 1
    assert agent.audit.audited == {ACCOUNTS: 1}


def test_what_the_chain_holds_already_is_not_audited_again_by_its_next_writer() -> None:
    """A batch audited and delivered, then a crash before Faust committed it: the next writer of
    the chain (a restart, a hand-over) reads from the chain's tip which offsets are on it, audits
    only the rest, and its registry still has every change (31 CFR 1010.630(e): each change once)."""
    history = [src(ACCOUNTS, i, f"ACC-{i}", acc(f"ACC-{i}")) for i in range(5)]
    history.insert(2, src(ACCOUNTS, 2, "ACC-BAD", b"not avro"))
    history = [src(ACCOUNTS, i, s.key.decode() if s.key else None, s.value) for i, s in enumerate(history)]
    first = Agent(history=history)
    asyncio.run(first.audit.apply_batch(history[:4]))
    audited = first.audits()
    assert len(audited) == 4
    assert json.loads(audited[-1]["body"])["position"] == {f"{ACCOUNTS}/0": 4}
    # The restarted agent: nothing committed, the chain's tip is the first agent's last record.
    second = Agent(history=history)
    second.chains.start_at(SETTINGS.partitions, int(audited[-1]["sequence"]) + 1, str(audited[-1]["hash"]))
    second.tip = audited[-1]
    asyncio.run(second.audit.apply_batch(history))
    again = second.audits()
    assert [json.loads(r["body"]).get("position") for r in again] == [{f"{ACCOUNTS}/0": 5}, {f"{ACCOUNTS}/0": 6}]
    assert second.audit.changes.registry.version == view_after(history).version
