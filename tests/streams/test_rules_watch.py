"""Live updates of the rules without a broker: the watcher's looks driven one step at a time, the
screen loop's swap point with a scripted consumer, the real processor, audit chains and outbox."""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from structlog.testing import capture_logs

from rules import Registry, RuleSet, load_rules
from rules.sanctions_files import SanctionsError
from schemas.codec import decode_single_object
from streams.audit import AuditChains
from streams.audit_verify import check_partition
from streams.batches import Batches
from streams.delivery import Outbox
from streams.kafka_io import DeliveryCallback
from streams.metrics import Metrics
from streams.notice_processing import NoticeProcessor
from streams.processing import PaymentProcessor
from streams.records import Outcome, Source
from streams.rules_in_force import CHANGE_KIND, REFUSED_KIND, RulesInForce, RulesSwitch, Update
from streams.rules_watch import RulesWatch, files_read, look
from streams.screen_loop import ScreenLoop
from streams.serde import Serde
from streams.settings import Settings
from streams.stores import Decided, NoticesSent
from tests.conftest import payment, registry
from tests.streams.test_delivery import FakeProducer
from tests.streams.test_screen_loop import PAYMENTS, FakeConsumer, FakeFlusher, FakeLoader, LoopState, Msg, until

LISTED = "Imaginary Person Alpha"


def blocked_list(*names: str) -> str:
    entries = [{"id": f"T-{i}", "name": n, "type": "individual", "programs": ["SDGT"]} for i, n in enumerate(names)]
    return json.dumps({"kind": "blocked_persons", "source": "test list", "entries": entries})


def refused_count(metrics: Metrics) -> float:
    return float(metrics.rules_updates.labels("refused")._value.get())


# -- the watcher ----------------------------------------------------------------------------


class CountingLoader:
    """A loader whose RuleSet version is the list file's content; content with "broken" in it
    fails as a list that does not validate would."""

    def __init__(self) -> None:
        self.loaded: list[str] = []
        # Written to the list once its content has been read: a writer at work during the load.
        self.then_write: str | None = None

    def __call__(self, rules_dir: Path | None, sanctions: Path | None, ownership: Path | None) -> Any:
        assert sanctions is not None
        text = sanctions.read_text()
        self.loaded.append(text)
        if self.then_write is not None:
            sanctions.write_text(self.then_write)
            self.then_write = None
        if "broken" in text:
            raise SanctionsError(f"{sanctions}: entries.0.name: Field required")
        return SimpleNamespace(version=f"v:{text}")


def watcher(tmp_path: Path, content: str) -> tuple[RulesWatch, RulesInForce, CountingLoader, Metrics, Path]:
    listed = tmp_path / "list.yaml"
    listed.write_text(content)
    holder = RulesInForce(SimpleNamespace(version=f"v:{content}"))  # type: ignore[arg-type]
    loader, metrics = CountingLoader(), Metrics()
    settings = Settings(sanctions=listed, rules_watch_interval_s=2)
    return RulesWatch(settings, holder, metrics, by="test-worker", loader=loader), holder, loader, metrics, listed


def test_new_content_is_loaded_only_once_two_looks_agree(tmp_path: Path) -> None:
    async def scenario() -> None:
        watch, holder, loader, _, listed = watcher(tmp_path, "one")
        await watch.step()
        await watch.step()
        # The first settled look is checked against the rules the worker started with: the same.
        assert loader.loaded == ["one"]
        assert not holder.has_waiting()
        listed.write_text("tw")  # half-written
        await watch.step()
        listed.write_text("two")
        await watch.step()
        assert loader.loaded == ["one"], "loaded while the file was still changing"
        await watch.step()
        assert loader.loaded == ["one", "two"]
        assert holder.pending is not None
        assert holder.pending.version == "v:two"
        assert holder.version == "v:one", "put in force by the watcher, not at the screen loop's swap point"
        [update] = holder.take()
        assert update.cause.startswith("watched path changed: sanctions (modified ")
        assert update.by == "test-worker"
        assert [f.role for f in update.files] == ["sanctions"]

    asyncio.run(scenario())


def test_content_that_changed_while_loading_is_not_taken(tmp_path: Path) -> None:
    async def scenario() -> None:
        watch, holder, loader, metrics, listed = watcher(tmp_path, "one")
        await watch.step()
        await watch.step()
        listed.write_text("two")
        await watch.step()
        loader.then_write = "broken three"
        await watch.step()
        assert loader.loaded == ["one", "two"]
        assert not holder.has_waiting(), "offered rules built from content that is no longer there"
        loader.then_write = "four"
        await watch.step()
        assert loader.loaded == ["one", "two", "broken three"]
        assert refused_count(metrics) == 0, "refused content that was still being written"
        await watch.step()
        assert loader.loaded[-1] == "four"
        assert [u.rules.version for u in holder.take() if u.rules is not None] == ["v:four"]

    asyncio.run(scenario())


def test_a_refused_update_keeps_the_rules_and_is_reported_once_per_content(tmp_path: Path) -> None:
    async def scenario() -> None:
        watch, holder, loader, metrics, listed = watcher(tmp_path, "good")
        await watch.step()
        await watch.step()
        listed.write_text("broken")
        with capture_logs() as logs:
            for _ in range(5):
                await watch.step()
        assert holder.version == "v:good"
        assert holder.pending is None
        assert loader.loaded == ["good", "broken"], "the same bad content was tried again"
        assert refused_count(metrics) == 1
        errors = [e for e in logs if e["log_level"] == "error"]
        assert len(errors) == 1
        assert errors[0]["error"] == f"{listed}: entries.0.name: Field required"
        assert holder.readiness()["rules_last_refusal"]["error"] == errors[0]["error"]  # type: ignore[index]
        [refusal] = holder.take()
        assert refusal.rules is None
        # Fixing the file puts the fix in force.
        listed.write_text("fixed")
        await watch.step()
        await watch.step()
        assert holder.pending is not None
        assert holder.pending.version == "v:fixed"
        # Another bad content is tried (and refused) again.
        listed.write_text("broken again")
        await watch.step()
        await watch.step()
        assert refused_count(metrics) == 2

    asyncio.run(scenario())


def test_a_bad_list_is_refused_with_the_loaders_reason(tmp_path: Path) -> None:
    async def scenario() -> None:
        listed = tmp_path / "list.yaml"
        listed.write_text(blocked_list(LISTED))
        settings = Settings(sanctions=listed)
        holder = RulesInForce(load_rules(sanctions=listed))
        watch = RulesWatch(settings, holder, Metrics(), by="test-worker")
        await watch.step()
        await watch.step()
        listed.write_text("kind: blocked_persons\nentries: [\n")
        await watch.step()
        await watch.step()
        assert holder.pending is None
        assert holder.last_refusal is not None
        assert f"{listed}: not valid YAML" in str(holder.last_refusal["error"])

    asyncio.run(scenario())


def test_the_version_covers_the_ownership_file(tmp_path: Path) -> None:
    listed = tmp_path / "list.yaml"
    listed.write_text(blocked_list(LISTED))
    owners = tmp_path / "owners.csv"
    owners.write_text("owner,owned,percent\nT-0,Alpha Trading LLC,60\n")
    first = load_rules(sanctions=listed, ownership=owners).version
    owners.write_text("owner,owned,percent\nT-0,Beta Trading LLC,60\n")
    assert load_rules(sanctions=listed, ownership=owners).version != first
    assert load_rules(sanctions=listed).version != first


def test_an_ofac_folder_is_digested_with_the_files_beside_sdn_csv(tmp_path: Path) -> None:
    for name in ("sdn.csv", "alt.csv", "add.csv", "unrelated.txt"):
        (tmp_path / name).write_text("1")
    read = files_read("sanctions", tmp_path / "sdn.csv")
    assert sorted(p.name for p in read) == ["add.csv", "alt.csv", "sdn.csv"]
    before, _ = look({"sanctions": tmp_path})
    (tmp_path / "unrelated.txt").write_text("2")
    assert look({"sanctions": tmp_path})[0] == before
    (tmp_path / "alt.csv").write_text("2")
    assert look({"sanctions": tmp_path})[0] != before
    (tmp_path / "sdn_comments.csv").write_text("3")
    assert len(look({"sanctions": tmp_path})[1]) == 4


def test_a_folder_behind_a_symbolic_link_is_switched_whole(tmp_path: Path) -> None:
    for release, text in (("v1", "1"), ("v2", "2")):
        (tmp_path / release).mkdir()
        for name in ("sdn.csv", "alt.csv"):
            (tmp_path / release / name).write_text(text)
    current = tmp_path / "current"
    current.symlink_to(tmp_path / "v1")
    before, _ = look({"sanctions": current})
    staged = tmp_path / "staged"
    staged.symlink_to(tmp_path / "v2")
    staged.replace(current)
    after, files = look({"sanctions": current})
    assert after != before
    assert {f.sha256 for f in files} == {hashlib.sha256(b"2").hexdigest()}


# -- the swap point -------------------------------------------------------------------------


@dataclass
class PaymentMsg(Msg):
    """A consumed payment record."""

    _value: bytes = b"{}"

    def value(self) -> bytes:
        return self._value


class Delivering(FakeProducer):
    """A producer whose every record is on the broker as soon as it is produced."""

    def produce(
        self,
        topic: str,
        value: str | bytes | None = None,
        key: str | bytes | None = None,
        partition: int | None = None,
        callback: DeliveryCallback | None = None,
        on_delivery: DeliveryCallback | None = None,
    ) -> None:
        super().produce(topic, value, key, partition, callback, on_delivery)
        self.deliver(len(self.callbacks) - 1)

    def records(self, topic: str) -> list[tuple[int | None, dict[str, Any]]]:
        return [(p, decode_single_object(v)[1]) for t, _, v, p in self.produced if t == topic and isinstance(v, bytes)]


class OfferMidBatch(PaymentProcessor):
    """The real processor; at the record named, the watcher's new RuleSet arrives mid-batch."""

    offer_at: tuple[int, Update] | None = None

    def process(self, src: Source) -> list[Outcome]:
        if self.offer_at is not None and src.offset == self.offer_at[0]:
            self.in_force.offer(self.offer_at[1])
        return super().process(src)


def screen_two_batches(settings: Settings, rules: RuleSet, update: Update) -> tuple[Delivering, RulesInForce]:
    """The real screen loop, processor, chains and outbox over two batches of payments to LISTED,
    partitions 0 and 1 assigned; `update` arrives while the first batch is screened."""
    t, serde, reg, metrics = settings.topics, Serde(settings), registry(), Metrics()
    producer = Delivering()
    outbox = Outbox(producer, t.audit)
    audit = AuditChains(settings, serde, sink=outbox.audit_sink)
    for chain in (0, 1):
        audit.start_at(chain)
    holder = RulesInForce(rules)
    processor = OfferMidBatch(settings, serde, audit, holder, reg, Decided())
    processor.offer_at = (1, update)
    notices = NoticeProcessor(settings, serde, audit)
    batches = Batches(t.payments, processor, notices, NoticesSent(), outbox, metrics, processor.stages, reg)
    consumer, state = FakeConsumer(), LoopState()

    async def crash(exc: BaseException) -> None:
        raise AssertionError(exc)

    switch = RulesSwitch(holder, audit, outbox, reg, metrics)
    loader, flusher = FakeLoader(), FakeFlusher()
    loop = ScreenLoop(settings, state, batches, loader, flusher, crash, metrics, lambda _: consumer, rules=switch)

    def pay(offset: int) -> PaymentMsg:
        value = json.dumps(payment(payment_id=f"P-{offset}", creditor={"name": LISTED})).encode()
        return PaymentMsg(PAYMENTS, offset % 2, offset, _value=value)

    async def scenario() -> None:
        consumer.script.append(lambda: consumer.assign_partitions(0, 1))
        state.registry_ready.set()
        task = asyncio.create_task(loop.run())
        await until(lambda: loop.assigned == {0, 1})
        consumer.script.append([pay(0), pay(1), pay(2)])
        consumer.script.append([pay(3), pay(4), PaymentMsg(PAYMENTS, 1, 5, _value=b"not a payment")])
        await until(lambda: len([r for r in producer.produced if r[0] == t.decisions]) == 5)
        state.draining = True
        await asyncio.wait_for(task, 5)

    asyncio.run(scenario())
    return producer, holder


def test_a_new_rule_set_takes_over_between_batches_and_each_owned_chain_records_it(tmp_path: Path, rules: RuleSet):
    listed = tmp_path / "list.yaml"
    listed.write_text(blocked_list(LISTED))
    updated = load_rules(sanctions=listed)
    settings = Settings(partitions=2, poll_interval_s=0.001)
    t, serde = settings.topics, Serde(settings)
    files = look({"sanctions": listed})[1]
    update = Update("d1", files, "watched path changed: sanctions", "w1", "now", updated)
    producer, holder = screen_two_batches(settings, rules, update)
    decisions = {d["payment_id"]: (d["decision"], d["rules_version"]) for _, d in producer.records(t.decisions)}
    old, new = rules.version, updated.version
    # The batch in progress when the new rules arrived finished under the old ones, whole.
    assert {p: decisions[p] for p in ("P-0", "P-1", "P-2")} == dict.fromkeys(("P-0", "P-1", "P-2"), ("pass", old))
    assert {p: decisions[p] for p in ("P-3", "P-4")} == dict.fromkeys(("P-3", "P-4"), ("block", new))
    assert holder.version == new
    assert holder.readiness()["rules_version"] == new
    audit_records = producer.records(t.audit)
    for chain in (0, 1):
        kinds = [(r["kind"], r["rules_version"]) for p, r in audit_records if p == chain]
        change = kinds.index((CHANGE_KIND, new))
        assert all(v == old for _, v in kinds[:change]) and all(v == new for _, v in kinds[change:]), kinds
        produced = enumerate(producer.produced)
        raw = [(i, v) for i, (topic, _, v, p) in produced if topic == t.audit and p == chain and isinstance(v, bytes)]
        assert check_partition(settings, serde, chain, raw) == (len(raw), None), "the trail does not verify"
    [(_, record)] = [(p, r) for p, r in audit_records if r["kind"] == CHANGE_KIND and p == 0]
    body = json.loads(record["body"])
    assert (body["before"], body["after"], body["by"]) == (old, new, "w1")
    assert body["cause"] == "watched path changed: sanctions"
    assert body["files"][0]["path"] == str(listed) and len(body["files"][0]["sha256"]) == 64
    [dead] = [r for p, r in audit_records if r["kind"] == "dead_letter"]
    assert dead["rules_version"] == new


def test_a_refusal_is_recorded_on_each_owned_chain_and_changes_nothing(rules: RuleSet) -> None:
    settings = Settings(partitions=2)
    producer = Delivering()
    outbox = Outbox(producer, settings.topics.audit)
    audit = AuditChains(settings, Serde(settings), sink=outbox.audit_sink)
    for chain in (0, 1):
        audit.start_at(chain)
    holder = RulesInForce(rules)
    switch = RulesSwitch(holder, audit, outbox, Registry(), Metrics())

    async def scenario() -> None:
        assert switch.switch([0, 1]) is None
        holder.offer(Update("d2", (), "watched path changed: sanctions", "w1", "now", error="bad list"))
        delivered = switch.switch([0, 1])
        assert delivered is not None
        await asyncio.wait_for(delivered, 5)

    asyncio.run(scenario())
    records = producer.records(settings.topics.audit)
    assert [(p, r["kind"], r["rules_version"]) for p, r in records] == [
        (0, REFUSED_KIND, rules.version),
        (1, REFUSED_KIND, rules.version),
    ]
    assert json.loads(records[0][1]["body"])["error"] == "bad list"
    assert holder.version == rules.version
    assert holder.readiness()["rules_last_refusal"] is not None


def test_every_part_reads_the_one_holder(rules: RuleSet, tmp_path: Path) -> None:
    listed = tmp_path / "list.yaml"
    listed.write_text(blocked_list(LISTED))
    updated = load_rules(sanctions=listed)
    holder = RulesInForce(rules)
    settings = Settings()
    serde = Serde(settings)
    processor = PaymentProcessor(settings, serde, AuditChains(settings, serde), holder, registry(), Decided())
    version_for_registry = holder.current_version
    holder.offer(Update("d", (), "c", "w", "now", updated))
    assert (processor.rules.version, version_for_registry()) == (rules.version, rules.version)
    holder.take()
    holder.rules = updated  # what RulesSwitch does at the swap point
    assert (processor.rules.version, version_for_registry()) == (updated.version, updated.version)


@pytest.mark.parametrize("interval", [0, 2])
def test_nothing_is_watched_without_a_configured_path_or_with_interval_zero(interval: float, tmp_path: Path) -> None:
    holder = RulesInForce(SimpleNamespace(version="v"))  # type: ignore[arg-type]
    assert not RulesWatch(Settings(rules_watch_interval_s=interval), holder, Metrics(), by="w").enabled
    listed = tmp_path / "l.yaml"
    configured = RulesWatch(Settings(sanctions=listed, rules_watch_interval_s=interval), holder, Metrics(), by="w")
    assert configured.enabled == (interval > 0)


def test_content_the_worker_started_with_is_not_loaded_again(tmp_path: Path) -> None:
    """The look taken before the worker read its rules is in force: only content changed since
    (even while the worker was starting) is loaded, not the same list a second time."""

    async def scenario() -> None:
        listed = tmp_path / "list.yaml"
        listed.write_text("one")
        settings = Settings(sanctions=listed, rules_watch_interval_s=2)
        holder = RulesInForce(SimpleNamespace(version="v:one"))  # type: ignore[arg-type]
        loader = CountingLoader()
        started = look({"sanctions": listed})
        watch = RulesWatch(settings, holder, Metrics(), by="w", loader=loader, started_with=started)
        await watch.step()
        await watch.step()
        assert loader.loaded == []
        listed.write_text("two")
        await watch.step()
        await watch.step()
        assert loader.loaded == ["two"]
        [update] = holder.take()
        assert update.cause.startswith("watched path changed: sanctions")

    asyncio.run(scenario())
