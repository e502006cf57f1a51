"""The workbench's publisher: each outbox entry (ops/workbench/store.py) onto its topic and into
the casework audit chain, exactly once across crashes and restarts, without Kafka transactions.

Per batch of entries, in outbox seq order: (1) the events (Disposition to screening.dispositions,
Release to screening.releases, keyed by payment_id, Avro through streams/serde.py), delivery
awaited; (2) an audit record each on the casework chain (audit partition N+1, kind disposition or
release) whose body is the event and the entry's `outbox_seq`, delivery awaited; (3) the entries
marked sent. The producer is idempotent (acks all): in order and without gaps per partition, so
the chain on the broker is a prefix of what was appended, and an audit record is on the broker
only after its event.

Recovery, at start and after any failure (then with a fresh producer, once the old one has every
delivery report, so nothing of it lands later):
- the chain's last records are read back and checked (HMAC, links), so the tip is extended, not
  forked. Every entry up to the last body's `outbox_seq` had its event delivered before its audit
  record was produced: it is marked sent, once its event id is found to be the chain's (a store
  restored from an old backup is refused, not marked by a chain it did not write);
- the dispositions and releases topics are read to their end from positions kept in the store
  (`publisher:<topic>`): an unsent entry whose event id is there gets its audit record only.
  Those positions move only when the outbox is empty, when every event before them is an entry's
  marked sent.
So a crash before the event is delivered sends it again; one between event and audit record finds
the event and writes the record only; one before mark_sent marks the entry from the chain: one
event and one audit record per entry, wherever the crash.

Produce and read errors are retried with backoff, logged when they start and then once a minute;
entries wait in the outbox, the web layer goes on. A fatal error (no audit key, a chain that does
not verify or is not the store's) is logged once and reported by status(); nothing is sent until
a person fixes it and restarts. An entry that does not encode (a defect) holds nothing back: it
goes to the dead-letter topic, and its audit record is a dead_letter. One publisher per store:
the casework chain has one writer.

(About 340 lines: sending, recovery and the status they report are one protocol, best read in one
place; reading topics back is in topic_reader.py.)
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from confluent_kafka import KafkaError, Message

from ops.workbench.store import OutboxEntry, Store, case_id_of
from ops.workbench.topic_reader import KafkaReader, TopicReader
from schemas.codec import CodecError, RecordName, bounded_error, dead_letter_json
from streams.audit import AuditChains, record_hash
from streams.delivery import Producer, idempotent_producer
from streams.kafka_io import produce
from streams.logs import get_logger
from streams.serde import Serde
from streams.settings import AuditKeyError, Settings
from streams.topics import audit_partition_for_casework

log = get_logger("screener.workbench.publisher")

POSITIONS = "publisher:"  # prefix of the store's `positions` rows for the topics read at recovery
BACKOFF_S = (0.5, 30.0)
LOG_EVERY_S = 60.0
PENDING_COUNTED = 1000  # status() counts unsent entries up to this


class FatalError(RuntimeError):
    """Sending cannot go on without a person: reported, never retried in a loop."""


@dataclass(frozen=True, slots=True)
class PublisherStatus:
    running: bool
    sent: int  # entries this publisher sent
    pending: int  # unsent entries in the store, counted up to PENDING_COUNTED
    last_error: str | None  # None once sending works again
    fatal: bool


class Publisher:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        producer_factory: Callable[[], Producer] | None = None,
        reader: TopicReader | None = None,
        serde: Serde | None = None,
        poll_s: float = 1.0,
        batch: int = 200,
        delivery_timeout_s: float = 30.0,
    ) -> None:
        self._settings, self._store, self._poll_s, self._batch = settings, store, poll_s, batch
        self._serde = serde or Serde(settings)
        self._reader = reader or KafkaReader(settings)
        # Longer than librdkafka's message timeout: every record has its final report before a
        # failure is acted on.
        self._flush_s = delivery_timeout_s + 10.0
        config = settings.kafka_config() | {"message.timeout.ms": int(delivery_timeout_s * 1000)}
        self._new_producer = producer_factory or (lambda: idempotent_producer(config))
        self._chain = audit_partition_for_casework(settings)
        t = settings.topics
        self._topics: dict[str, tuple[str, RecordName]] = {
            "disposition": (t.dispositions, "Disposition"),
            "release": (t.releases, "Release"),
        }
        self._producer: Producer | None = None  # None: recover before sending
        self._audit: AuditChains | None = None
        self._found: set[str] = set()  # event ids on the topics after the stored positions
        self._ends: dict[str, dict[int, int]] = {}  # per topic: partition -> an offset past all read
        self._wake, self._stopping = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None
        self._sent, self._fatal, self._logged_at = 0, False, 0.0
        self._error: str | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="workbench-publisher", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Send now (an action was just recorded) rather than at the next poll."""
        self._wake.set()

    def stop(self, timeout: float = 60.0) -> None:
        """Send what is pending and stop; what cannot be sent waits in the outbox."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def status(self) -> PublisherStatus:
        running = self._thread is not None and self._thread.is_alive()
        pending = len(self._store.unsent(PENDING_COUNTED))
        return PublisherStatus(running, self._sent, pending, self._error, self._fatal)

    def _run(self) -> None:
        delay = BACKOFF_S[0]
        while True:
            stopping = self._stopping.is_set()
            self._wake.clear()  # before sending: a wake during the pass makes another pass
            try:
                self.run_once()
            except FatalError as exc:
                log.error("workbench publisher stopped: a person must fix this and restart", error=str(exc))
                return
            except Exception as exc:  # noqa: BLE001 - every failure is retried; the outbox keeps the entries
                if self._error is None or time.monotonic() - self._logged_at >= LOG_EVERY_S:
                    log.warning("workbench publisher cannot send; retrying", error=str(exc)[:500], retry_in_s=delay)
                    self._logged_at = time.monotonic()
                self._error = f"{type(exc).__name__}: {exc}"[:500]
                if stopping:
                    return
                self._stopping.wait(delay)
                delay = min(delay * 2, BACKOFF_S[1])
                continue
            if self._error is not None:
                log.info("workbench publisher sending again")
                self._error = None
            delay = BACKOFF_S[0]
            if stopping:
                return
            self._wake.wait(self._poll_s)

    def run_once(self) -> int:
        """Send every pending entry, recovering first when needed; returns how many were sent.
        Raises what fails (the next call recovers). Not while the thread runs."""
        if self._fatal:
            raise FatalError(self._error or "fatal")
        try:
            if self._producer is None:
                self._recover()
            sent = 0
            while entries := self._store.unsent(self._batch):
                self._send(entries)
                sent += len(entries)
            return sent
        except FatalError as exc:
            self._producer, self._error, self._fatal = None, str(exc), True
            raise
        except BaseException:
            self._producer = None
            raise

    def _send(self, entries: Sequence[OutboxEntry]) -> None:
        producer, audit = self._producer, self._audit
        assert producer is not None  # both set by _recover
        assert audit is not None
        if unknown := [e.seq for e in entries if e.kind not in self._topics]:
            raise FatalError(f"outbox entry {unknown[0]} is neither a disposition nor a release")
        # Encoded before anything is produced. An entry that does not encode (a defect: the rules
        # refuse what the schema would) must not hold back every release after it: it goes to the
        # dead-letter topic with its original and the error, and its audit record says so.
        outgoing: list[tuple[str, bytes, bytes]] = []
        dead: dict[int, str] = {}
        for entry in (e for e in entries if e.event_id not in self._found):
            topic, name = self._topics[entry.kind]
            try:
                outgoing.append((topic, entry.payment_id.encode(), self._serde.encode(topic, name, entry.record)))
            except CodecError as exc:
                dead[entry.seq] = error = f"outbox entry {entry.seq} ({entry.kind}) is not a valid {name}: {exc}"
                log.error("outbox entry dead-lettered", seq=entry.seq, kind=entry.kind, error=bounded_error(error))
                outgoing.append(self._dead_letter(entry, error))
        events = _Deliveries()
        for topic, key, value in outgoing:
            produce(producer, topic, key, value, None, events)
        self._await(producer, events)
        records = _Deliveries()
        for entry in entries:
            case = self._store.case(case_id_of(entry.payment_id))
            decision = case.decision if case is not None else {}
            key, value = audit.append(
                self._chain,
                kind="dead_letter" if entry.seq in dead else entry.kind,
                subject_id=entry.payment_id,
                input_digest=str(entry.record.get("decision_digest", "")),
                rules_version=str(decision.get("rules_version", "")),
                registry_version=str(decision.get("registry_version", "")),
                recorded_at=str(entry.record.get("at") or entry.record.get("decided_at") or ""),
                body={"outbox_seq": entry.seq, "event_id": entry.event_id, "event": entry.record}
                | ({"dead_letter": bounded_error(dead[entry.seq])} if entry.seq in dead else {}),
            )
            produce(producer, self._settings.topics.audit, key, value, self._chain, records)
        self._await(producer, records)
        self._store.mark_sent([e.seq for e in entries], datetime.now(UTC).isoformat())
        self._sent += len(entries)
        for (topic, partition), offset in events.next_offsets.items():
            ends = self._ends.setdefault(topic, {})
            ends[partition] = max(ends.get(partition, 0), offset)
        self._settle()

    def _dead_letter(self, entry: OutboxEntry, error: str) -> tuple[str, bytes, bytes]:
        """The DeadLetter record of an outbox entry that does not encode: the entry's JSON as the
        original, bounded, with where it came from (the outbox and its seq)."""
        original = json.dumps(entry.record, ensure_ascii=True).encode()
        received = datetime.now(UTC).isoformat()
        record = dead_letter_json(error, original, received, source_file="workbench outbox", line=entry.seq)
        topic = self._settings.topics.dead_letter
        return topic, entry.payment_id.encode("utf-8", "replace"), self._serde.encode(topic, "DeadLetter", record)

    def _await(self, producer: Producer, deliveries: _Deliveries) -> None:
        if remaining := producer.flush(self._flush_s):
            raise RuntimeError(f"{remaining} records without a delivery report after {self._flush_s:.0f} s")
        if deliveries.errors:
            raise RuntimeError(f"not delivered: {deliveries.errors[0]} ({len(deliveries.errors)} records)")

    def _settle(self) -> None:
        """With the outbox empty, every event on the topics is an entry's marked sent: the next
        recovery may start reading after them."""
        if not self._store.unsent(1):
            self._store.ingest(positions=[(POSITIONS + t, p, o) for t, e in self._ends.items() for p, o in e.items()])
            self._found.clear()

    def _recover(self) -> None:
        if self._audit is None:
            try:
                self._audit = AuditChains(self._settings, self._serde)
            except AuditKeyError as exc:
                raise FatalError(str(exc)) from None
        self._mark_audited(self._audit)
        self._found.clear()
        for topic, name in self._topics.values():
            # Every partition: these topics have the payments topic's count (streams/topics.py).
            stored = self._store.positions(POSITIONS + topic)
            ends = self._ends[topic] = {p: stored.get(p, 0) for p in range(self._settings.partitions)}
            for partition, offset, value in self._reader.read(topic, ends.copy()):
                ends[partition] = max(ends[partition], offset + 1)
                try:
                    record = self._serde.decode(topic, name, value)
                except CodecError:
                    log.warning("unreadable record on a workbench topic", topic=topic, offset=offset)
                    continue
                self._found.add(str(record["disposition_id" if name == "Disposition" else "release_id"]))
        self._producer = self._new_producer()
        self._settle()

    def _mark_audited(self, audit: AuditChains) -> None:
        """Set the chain's tip from its last records, and mark sent the entries they audit."""
        first_unsent = next((e.seq for e in self._store.unsent(1)), None)
        count = 16
        while True:  # far enough back to cover the first unsent entry, or the whole chain
            tail = self._reader.read(self._settings.topics.audit, {self._chain: -count})
            chain = self._verified([value for _, _, value in tail])
            audited = {int(b["outbox_seq"]): str(b["event_id"]) for b in (json.loads(r["body"]) for r in chain)}
            if len(tail) < count or not chain or chain[0]["sequence"] == 0 or first_unsent is None:
                break
            if min(audited) <= first_unsent:
                break
            count *= 4
        if not chain:
            audit.start_at(self._chain)
            return
        audit.start_at(self._chain, int(chain[-1]["sequence"]) + 1, str(chain[-1]["hash"]))
        while entries := [e for e in self._store.unsent(self._batch) if e.seq <= max(audited)]:
            if wrong := [e.seq for e in entries if audited.get(e.seq) != e.event_id]:
                raise FatalError(
                    f"the casework chain and the store disagree on outbox entry {wrong[0]}: the store is not the "
                    "one the chain was written from (restored from an older backup?)"
                )
            self._store.mark_sent([e.seq for e in entries], datetime.now(UTC).isoformat())
            log.info("outbox entries found audited on recovery", count=len(entries), up_to_seq=entries[-1].seq)

    def _verified(self, values: Sequence[bytes | None]) -> list[dict[str, Any]]:
        """The chain's records read back, decoded; FatalError unless each is signed and linked."""
        _, keys = self._settings.audit_keyring()
        chain: list[dict[str, Any]] = []
        for value in values:
            try:
                rec = self._serde.decode(self._settings.topics.audit, "AuditRecord", value)
                body = json.loads(rec["body"])
            except (CodecError, ValueError) as exc:
                raise FatalError(f"an unreadable record at the end of the casework chain: {exc}") from None
            key, prev = keys.get(rec["key_id"]), chain[-1] if chain else None
            signed = key is not None and record_hash(rec, key) == rec["hash"]
            linked = prev is None or (rec["sequence"], rec["prev_hash"]) == (prev["sequence"] + 1, prev["hash"])
            if not signed or not linked:
                raise FatalError(f"the casework chain does not verify at {rec['audit_id']}: see screener audit verify")
            if not isinstance(body, dict) or "outbox_seq" not in body or "event_id" not in body:
                raise FatalError(f"casework chain record {rec['audit_id']} has no outbox seq: not the publisher's")
            chain.append(rec)
        return chain


class _Deliveries:
    """The delivery reports of one step of a batch."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.next_offsets: dict[tuple[str, int], int] = {}

    def __call__(self, err: KafkaError | None, msg: Message) -> None:
        topic, partition, offset = msg.topic(), msg.partition(), msg.offset()
        if err is not None:
            self.errors.append(f"{topic}: {err}")
        elif topic is not None and partition is not None and offset is not None:
            tp = (topic, partition)
            self.next_offsets[tp] = max(self.next_offsets.get(tp, 0), offset + 1)
