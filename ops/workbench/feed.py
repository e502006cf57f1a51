"""The workbench's feed: keeps the store in step with `screening.decisions` and `payments`.

One librdkafka consumer is assigned every partition of both topics: no group is joined and nothing
is committed, because the positions live in the store, written in the same SQLite transaction as
the cases and payments a batch produced (Store.ingest). A restart resumes exactly after the last
batch stored; a partition without a stored position is read from its beginning.

A `review` decision opens a case; a `block` or `pass` decision settles its payment (the stored
bytes are dropped). A payment's raw bytes are kept under its id so the analyst sees what was held,
and its account is known when the case opens. The decisions partitions are assigned only once the
payments partitions have been read to their end (or after PAYMENTS_FIRST_S), so that, reading a
backlog, a decision rarely comes before its payment.

A record that cannot be read never stops the feed: it is counted, logged by its position and a
bounded reason (never its content: names and account numbers stay out of the logs), and passed;
the worker has already dead-lettered a bad payment.

(About 350 lines: the read loop, the order of assignment and the progress it reports belong
together; reading one record is in feed_records.py, the consumer's configuration in feed_kafka.py.)
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Collection, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, KafkaException, TopicPartition

from ops.workbench.context import utc_now
from ops.workbench.feed_kafka import ConsumerFactory, FeedConsumer, feed_config, kafka_consumer
from ops.workbench.feed_records import MAX_REASON_CHARS, Skip, case_of_review, decision_payment_id, source_of
from ops.workbench.screening import typed_payments
from ops.workbench.store import NewCase, Store
from schemas.codec import CodecError, dead_letter_json
from schemas.inbound import MESSAGE_FORMATS, input_format
from schemas.messages import NO_MAPPING, AccountMapping
from streams.logs import get_logger
from streams.ports import Record
from streams.registry_read import is_eof
from streams.serde import Serde
from streams.settings import Settings

log = get_logger("screener.workbench.feed")

# A batch: what librdkafka has fetched, up to this many records or this long a wait.
BATCH_MAX = 500
BATCH_S = 0.2
# How long the decisions wait for the payments backlog to be read before they are read anyway.
PAYMENTS_FIRST_S = 30.0
# Waits before trying again: topics not there yet, the broker away, the store refusing a batch.
RETRY_S = 2.0
LAG_EVERY_S = 1.0
# Ids whose decision settled them, so a payment read after its decision is not kept (bounded: a
# payment that late and that old is rare, and its bytes are only kept, never shown).
RECENTLY_SETTLED = 100_000

Part = tuple[str, int]


@dataclass
class Progress:
    """What the feed has done, for /readyz and the metrics."""

    records_read: int = 0
    cases_opened: int = 0
    settled: int = 0
    payments_read: int = 0
    batches: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    read_errors: int = 0
    assigned: bool = False
    payments_first: bool = False
    caught_up: bool = False
    lag: int | None = None
    last_batch_at: str | None = None
    error: str | None = None
    running: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"skipped": dict(self.skipped)}


@dataclass
class _Batch:
    cases: list[NewCase] = field(default_factory=list)
    payments: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    settled: list[str] = field(default_factory=list)
    # (source position, dead-letter record): what could not be read, kept with its original bytes.
    dead_letters: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


class Feed:
    """Reads the two topics into the store, batch by batch, on its own thread."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        special_measure_sections: Collection[str],
        *,
        serde: Serde | None = None,
        accounts: AccountMapping = NO_MAPPING,
        make_consumer: ConsumerFactory = kafka_consumer,
        clock: Callable[[], datetime] = utc_now,
        batch_max: int = BATCH_MAX,
        batch_s: float = BATCH_S,
        stop: threading.Event | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.sections = frozenset(special_measure_sections)
        self.serde = serde or Serde(settings)
        self.accounts = accounts
        self.make_consumer = make_consumer
        self.clock = clock
        self.batch_max, self.batch_s = batch_max, batch_s
        self.payments_topic = settings.topics.payments
        self.decisions_topic = settings.topics.decisions
        self.progress = Progress()
        self._lock = threading.Lock()
        # Set by stop(), or by the caller's own event (a process-wide shutdown).
        self._stop = stop or threading.Event()
        self._thread: threading.Thread | None = None
        self._next: dict[Part, int] = {}
        self._at_end: dict[Part, bool] = {}
        self._held: list[TopicPartition] = []
        self._held_since = 0.0
        self._lag_at = 0.0
        self._settled_ids: OrderedDict[str, None] = OrderedDict()

    # -- running ----------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self.run, name="workbench-feed", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def status(self) -> dict[str, Any]:
        with self._lock:
            return self.progress.as_dict()

    def run(self) -> None:
        """Until stopped: assign (waiting for the topics), then read batch after batch."""
        consumer = self.make_consumer(feed_config(self.settings))
        self._set(running=True)
        log.info("workbench feed started", topics=[self.payments_topic, self.decisions_topic])
        try:
            while not self._stop.is_set():
                try:
                    if not self.progress.assigned and not self._assign(consumer):
                        self._stop.wait(RETRY_S)
                        continue
                    self.step(consumer)
                except Exception as exc:  # noqa: BLE001 - the broker, the store, a defect: reported, then tried again
                    # Read again from what the store holds: nothing is lost or stored twice. The
                    # text of an error that is neither the broker's nor the store's is not logged
                    # (it could quote a record).
                    known = isinstance(exc, KafkaException | sqlite3.Error)
                    error = type(exc).__name__ + (f": {str(exc)[:MAX_REASON_CHARS]}" if known else "")
                    log.error("workbench feed read failed", error=error, retry_s=RETRY_S)
                    self._set(assigned=False, caught_up=False, error=error)
                    self._stop.wait(RETRY_S)
        finally:
            consumer.close()
            self._set(running=False, caught_up=False)
            log.info("workbench feed stopped", **{k: v for k, v in self.status().items() if k != "error"})

    def _set(self, **values: Any) -> None:
        with self._lock:
            for name, value in values.items():
                setattr(self.progress, name, value)

    def _assign(self, consumer: FeedConsumer) -> bool:
        """Assign the payments partitions from the store's positions; the decisions follow once
        the payments have been read to their end (`step`). False while a topic is missing."""
        topics = consumer.list_topics(timeout=10).topics
        parts: dict[str, list[int]] = {}
        for topic in (self.payments_topic, self.decisions_topic):
            meta = topics.get(topic)
            if meta is None or meta.error is not None or not meta.partitions:
                log.warning("workbench feed waiting for a topic", topic=topic)
                return False
            parts[topic] = sorted(meta.partitions)
        self._next, self._at_end = {}, {}
        assign: dict[str, list[TopicPartition]] = {}
        for topic, partitions in parts.items():
            stored = self.store.positions(topic)
            assign[topic] = [TopicPartition(topic, p, stored.get(p, OFFSET_BEGINNING)) for p in partitions]
            self._next |= {(topic, p): stored[p] for p in partitions if p in stored}
        self._at_end = {(self.payments_topic, p): False for p in parts[self.payments_topic]}
        consumer.assign(assign[self.payments_topic])
        self._held, self._held_since = assign[self.decisions_topic], time.monotonic()
        self._set(assigned=True, payments_first=True, caught_up=False, error=None)
        log.info("workbench feed assigned", partitions={t: len(p) for t, p in parts.items()}, resumed=len(self._next))
        return True

    def step(self, consumer: FeedConsumer) -> int:
        """One batch: read, decode, store in one transaction. Returns the records read."""
        batch, read = _Batch(), 0
        positions: dict[Part, int] = {}
        payments: list[Record] = []
        decisions: list[Record] = []
        for msg in consumer.consume(self.batch_max, self.batch_s):
            topic, partition, offset = msg.topic(), msg.partition(), msg.offset()
            if is_eof(msg) and topic is not None and partition is not None:
                self._at_end[(topic, partition)] = True
                continue
            if msg.error() is not None or topic is None or partition is None or offset is None:
                # librdkafka retries what can be retried; the feed reads on.
                log.warning("workbench feed read error", topic=topic, error=str(msg.error())[:MAX_REASON_CHARS])
                with self._lock:
                    self.progress.read_errors += 1
                continue
            read += 1
            self._at_end[(topic, partition)] = False
            self._next[(topic, partition)] = positions[(topic, partition)] = offset + 1
            (payments if topic == self.payments_topic else decisions).append(msg)
        # Payments first: a decision finds its payment's bytes when both are in one batch.
        for msg in payments:
            self._guarded(msg, batch, lambda m: self._payment(m, batch))
        for msg in decisions:
            self._guarded(msg, batch, lambda m: self._decision(m, batch))
        opened = 0
        if positions:
            stored = [(pid, raw, src) for pid, (raw, src) in batch.payments.items() if pid not in self._settled_ids]
            opened = self.store.ingest(
                batch.cases,
                stored,
                batch.settled,
                [(t, p, o) for (t, p), o in positions.items()],
                now=self.clock().isoformat(),
                dead_letters=batch.dead_letters,
            )
            self._remember_settled(batch.settled)
            with self._lock:
                p = self.progress
                p.records_read += read
                p.cases_opened += opened
                p.settled += len(batch.settled)
                p.payments_read += len(stored)
                p.batches += 1
                p.last_batch_at = self.clock().isoformat()
        self._after_batch(consumer)
        return read

    def _after_batch(self, consumer: FeedConsumer) -> None:
        if self._held:
            backlog_read = all(at_end for (t, _), at_end in self._at_end.items() if t == self.payments_topic)
            if backlog_read or time.monotonic() - self._held_since > PAYMENTS_FIRST_S:
                consumer.incremental_assign(self._held)
                self._at_end |= {(tp.topic, tp.partition): False for tp in self._held}
                self._held = []
                self._set(payments_first=False)
        caught_up = not self._held and all(self._at_end.values())
        if time.monotonic() - self._lag_at >= LAG_EVERY_S or caught_up != self.progress.caught_up:
            self._lag_at = time.monotonic()
            self._set(caught_up=caught_up, lag=self._lag(consumer))

    def _lag(self, consumer: FeedConsumer) -> int | None:
        """Records on the broker not yet read, from librdkafka's cached watermarks (a hint: the
        embedded broker's high watermark can be low; `caught_up` is the end-of-partition truth)."""
        total = 0
        for (topic, partition), at_end in self._at_end.items():
            if at_end:
                continue
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=0.1, cached=True)
            if high < 0:
                return None
            total += max(0, high - max(low, self._next.get((topic, partition), low)))
        return total

    def _guarded(self, msg: Record, batch: _Batch, handle: Callable[[Record], None]) -> None:
        try:
            handle(msg)
        except Skip as exc:
            self._skipped(msg, batch, str(exc))
        except CodecError as exc:
            self._skipped(msg, batch, str(exc)[:MAX_REASON_CHARS])
        except Exception as exc:  # noqa: BLE001 - one record's defect must not stop the feed (SPEC 2.6)
            self._skipped(msg, batch, f"cannot be read: {type(exc).__name__}")

    def _skipped(self, msg: Record, batch: _Batch, reason: str) -> None:
        """Passed over: counted, logged without its content, and kept as a dead-letter in the store
        (stored with the batch's positions, so exactly once) with its bounded original bytes."""
        topic = msg.topic() or ""
        where = {"source_topic": topic, "source_partition": msg.partition(), "source_offset": msg.offset()}
        received = self.clock().isoformat()
        batch.dead_letters.append((source_of(msg), dead_letter_json(reason, msg.value(), received, **where)))
        with self._lock:
            self.progress.skipped[topic] += 1
        log.warning(
            "workbench feed record skipped", topic=topic, partition=msg.partition(), offset=msg.offset(), reason=reason
        )

    # -- records ----------------------------------------------------------------------------

    def _payment(self, msg: Record, batch: _Batch) -> None:
        raw = msg.value()
        if not raw:
            raise Skip("empty value")
        ids: list[str] = []
        key = msg.key()
        if key:
            with contextlib.suppress(UnicodeDecodeError):
                ids.append(key.decode("utf-8"))
        if not ids or input_format(raw) in MESSAGE_FORMATS:
            # A message of several transactions is kept under each one's id.
            payments, _errors = typed_payments(raw, self.serde, self.payments_topic, self.accounts)
            ids += [p.payment_id for p in payments]
        if not ids:
            raise Skip("no payment id: neither a key nor a readable payment")
        source = source_of(msg)
        for payment_id in dict.fromkeys(ids):
            batch.payments[payment_id] = (raw, source)

    def _decision(self, msg: Record, batch: _Batch) -> None:
        wire = self.serde.decode(self.decisions_topic, "Decision", msg.value())
        payment_id = decision_payment_id(wire)
        if wire["decision"] != "review":
            batch.settled.append(payment_id)
            return
        account_id = self._account_of(payment_id, batch)
        batch.cases.append(case_of_review(wire, account_id, self.sections, source_of(msg)))

    def _account_of(self, payment_id: str, batch: _Batch) -> str:
        """The held payment's correspondent account, from its stored bytes ('' when unknown)."""
        kept = batch.payments.get(payment_id) or self.store.payment(payment_id)
        if kept is None:
            return ""
        payments, _errors = typed_payments(kept[0], self.serde, self.payments_topic, self.accounts)
        found = next((p for p in payments if p.payment_id == payment_id), None)
        return (found.correspondent_account_id or "") if found is not None else ""

    def _remember_settled(self, ids: Iterable[str]) -> None:
        for payment_id in ids:
            self._settled_ids[payment_id] = None
            self._settled_ids.move_to_end(payment_id)
        while len(self._settled_ids) > RECENTLY_SETTLED:
            self._settled_ids.popitem(last=False)
