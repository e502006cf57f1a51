"""What the workbench screens with: the rules in force, the registry as it sees it, and the callables
the web layer is given (ops/workbench/context.py: ScreenFn, PaymentView, RegistryLookup).

Screening is `screener screen`'s (ops/screen_file.py's FileScreener over the same input reader), so
a payment pasted into the workbench decides exactly as it would offline, at the clock's instant.
A payment read from the topic may be Avro (`screener produce` encodes JSON events): it is decoded
to its JSON form first, the worker's decode (streams/serde.py).

The registry is either a file (`--registry FILE`, fixed) or this process's own view of the
compacted registry topics (streams/registry_view.py): loaded on its thread, then followed, its
changes applied here under one lock between two screenings, so every screening sees one version.
"""

from __future__ import annotations

import functools
import io
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any

from ops.screen_file import FileScreener, load_registry_file
from ops.workbench.context import utc_now
from ops.workbench.listed_entries import ListedEntries
from rules import Registry, RuleSet
from rules.payment import Payment
from rules.payment_parsing import PaymentError, parse_payment
from schemas.codec import CodecError, bounded_error, dead_letter_json, sniff
from schemas.inbound import MESSAGE_FORMATS, input_format, message_payments, read_messages
from schemas.messages import NO_MAPPING, AccountMapping
from streams.logs import get_logger
from streams.metrics import Metrics
from streams.registry_view import RegistryView, State
from streams.serde import Serde
from streams.settings import Settings

log = get_logger("screener.workbench")

# A pasted payment is one payment or a few, not a file: the web layer's body limit is the first
# bound, this the second (the engine's time per byte is what it protects).
MAX_SCREEN_BYTES = 4 << 20
# As the worker (streams/processing.py): a record holds one message, a few joined at most.
MAX_MESSAGES_PER_RECORD = 100
# How long a screening waits for the registry view's first load before it answers without one.
REGISTRY_WAIT_S = 5.0
# How soon a registry reader that failed (topics missing, broker away) starts again.
READER_RETRY_S = 5.0


def typed_payments(
    data: bytes, serde: Serde, topic: str, accounts: AccountMapping = NO_MAPPING
) -> tuple[list[Payment], list[str]]:
    """The payments a record holds, validated, and why the others cannot be read: the worker's walk
    (JSON, Avro, or each transaction of an ISO 20022 or MT message)."""
    fmt = input_format(data)
    if fmt in MESSAGE_FORMATS:
        payments: list[Payment] = []
        errors: list[str] = []
        for message in islice(read_messages(data, fmt, accounts), MAX_MESSAGES_PER_RECORD):
            found, bad = message_payments(message)
            payments += [p for p, _adapted in found]
            errors += bad
        return payments, errors
    try:
        return [parse_payment(data if fmt == "json" else serde.decode(topic, "Payment", data))], []
    except (CodecError, PaymentError) as exc:
        return [], [str(exc)]


@dataclass
class RegistrySource:
    """The registry the workbench screens against and looks records up in.

    From a file, `registry` is fixed. From the topics, `make_view` builds a
    streams.registry_view.RegistryView over a fresh Registry: the view applies records straight
    to it while it loads, and only then is it put in `registry`, under `lock`; afterwards the view
    queues changes and `refresh` applies them under the same lock, which screenings and lookups
    hold. A reader that fails (the topics not there yet, the broker gone) is started again from
    the topics' beginning into another fresh registry, swapped in once it too is loaded."""

    registry: Registry
    make_view: Callable[[Registry], RegistryView] | None = None
    lock: threading.RLock = field(default_factory=threading.RLock)
    loaded: threading.Event = field(default_factory=threading.Event)
    error: str | None = None
    view: RegistryView | None = field(default=None, init=False, repr=False)
    thread: threading.Thread | None = field(default=None, init=False, repr=False)
    stopping: threading.Event = field(default_factory=threading.Event, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.make_view is None:
            self.loaded.set()

    def start(self) -> None:
        """Load and follow the registry topics on a thread of their own (a file needs nothing)."""
        if self.make_view is None or self.thread is not None:
            return
        self.thread = threading.Thread(
            target=self._read, args=(self.make_view,), name="workbench-registry", daemon=True
        )
        self.thread.start()

    def _read(self, make_view: Callable[[Registry], RegistryView]) -> None:
        while not self.stopping.is_set():
            fresh = Registry()
            view = make_view(fresh)
            with self.lock:
                self.view = view

            def swap(view: RegistryView = view, fresh: Registry = fresh) -> None:
                with self.lock:
                    view.apply_pending()
                    self.registry, self.error = fresh, None
                self.loaded.set()

            try:
                view.read(swap)
                return  # stopped
            except Exception as exc:  # noqa: BLE001 - reported by status(); lookups go on with the registry in place
                self.error = bounded_error(f"{type(exc).__name__}: {exc}")[:300]
                log.error("workbench registry reader failed", error=self.error, retry_s=READER_RETRY_S)
            self.stopping.wait(READER_RETRY_S)

    def stop(self, timeout: float = 5.0) -> None:
        self.stopping.set()
        with self.lock:
            view = self.view
        if view is not None:
            view.stop()
        if self.thread is not None:
            self.thread.join(timeout)

    def refresh(self) -> None:
        """Apply the changes the loaded view has queued since the last call (caller holds `lock`)."""
        if self.view is not None and self.view.loaded and self.view.registry is self.registry:
            self.view.apply_pending()

    def status(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source": "file" if self.make_view is None else "topics", "loaded": self.loaded.is_set()}
        if self.view is not None:
            out["progress"] = self.view.state.registry_report()
        if self.error is not None:
            out["error"] = self.error
        return out


@dataclass
class Screening:
    """The web layer's callables over one rule set and one registry source."""

    rules: RuleSet
    source: RegistrySource
    serde: Serde
    payments_topic: str
    accounts: AccountMapping = NO_MAPPING
    clock: Callable[[], datetime] = utc_now

    def screen(self, data: bytes) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(decisions in wire form, dead-letters) for a payment in any format `screener screen`
        reads, or an Avro payment record. Never raises: what cannot be screened is a dead-letter."""
        dead: list[dict[str, Any]] = []
        instant = self.clock()
        received = instant.isoformat()
        if len(data) > MAX_SCREEN_BYTES:
            return [], [_dead(f"input too large: {len(data):,} bytes, limit {MAX_SCREEN_BYTES:,}", data, received)]
        text = self._as_input(data)
        if isinstance(text, str):
            return [], [_dead(text, data, received)]
        if not self.source.loaded.wait(REGISTRY_WAIT_S):
            return [], [_dead("the registry is still loading from its topics: try again shortly", data, received)]
        out = io.StringIO()
        try:
            with self.source.lock:
                self.source.refresh()
                screener = FileScreener(self.rules, self.source.registry, as_of=instant, accounts=self.accounts)
                screener.run("workbench", io.BytesIO(text), out, dead.append)
        except Exception as exc:  # noqa: BLE001 - a defect on one input is a dead-letter, as in the worker (SPEC 2.6)
            dead.append(_dead(f"cannot be screened: {type(exc).__name__}: {exc}", data, received))
        decisions = [json.loads(line) for line in out.getvalue().splitlines() if line]
        if not decisions and not dead:  # blank lines only: nothing was screened, and the caller is told
            dead.append(_dead("no payment in the input", data, received))
        return decisions, dead

    def _as_input(self, data: bytes) -> bytes | str:
        """Avro payment bytes as the JSON event they encode (the other formats as they are), or
        why they cannot be read."""
        if sniff(data) not in ("single_object", "confluent") or input_format(data) != "other":
            return data
        try:
            return json.dumps(self.serde.decode(self.payments_topic, "Payment", data), ensure_ascii=False).encode()
        except (CodecError, TypeError, ValueError) as exc:
            return str(exc)

    def payment_view(self, data: bytes) -> Mapping[str, Any] | str:
        """A stored payment's fields for display: the typed payment's JSON form, or, for a message
        of several transactions, each one's under `payments`; an error text when none is readable."""
        payments, errors = typed_payments(data, self.serde, self.payments_topic, self.accounts)
        shown = [p.model_dump(mode="json", exclude_none=True, exclude_defaults=True) for p in payments]
        if len(shown) == 1:
            return shown[0]
        if shown:
            return {"payments": shown}
        return bounded_error("cannot read the payment: " + ("; ".join(errors[:3]) or "no payment found"))

    def account_record(self, account_id: str) -> Mapping[str, Any] | None:
        with self.source.lock:
            self.source.refresh()
            account = self.source.registry.account(account_id)
        return None if account is None else account.model_dump(mode="json")

    def institution_record(self, bic: str) -> Mapping[str, Any] | None:
        with self.source.lock:
            self.source.refresh()
            record = self.source.registry.institution_by_bic(bic)
        return None if record is None else record.model_dump(mode="json")

    @functools.cached_property
    def _listed(self) -> ListedEntries:
        return ListedEntries(self.rules.sanctions)

    def listed_entry(self, key: str) -> Mapping[str, Any] | None:
        """The sanctions list entry a hit cites (ListedEntryLookup), from the rules in force."""
        return self._listed.lookup(key)

    def versions(self) -> Mapping[str, str]:
        with self.source.lock:
            self.source.refresh()
            registry_version = self.source.registry.version
        return {"rules_version": self.rules.version, "registry_version": registry_version}

    def special_measure_sections(self) -> frozenset[str]:
        """The sections whose measure files are of kind special_measure (31 CFR 1010.651-661):
        a clear of a hold under one of them needs a second person (rules/casework.py)."""
        return frozenset(m.section for m in self.rules.measures)


def _dead(error: str, data: bytes, received_at: str) -> dict[str, Any]:
    return dead_letter_json(error, data, received_at, source_file="workbench")


def registry_source(settings: Settings, serde: Serde, registry_file: Path | None = None) -> RegistrySource:
    """A registry file's fixed registry (InputError when it cannot be used), or a view of the
    registry topics, not started."""
    if registry_file is not None:
        return RegistrySource(load_registry_file(registry_file))

    def make_view(registry: Registry) -> RegistryView:
        return RegistryView(settings, serde, registry, Metrics(), State())

    return RegistrySource(Registry(), make_view)
