"""Screening a replay's payments on every core, in input order.

Replay is batch work, not latency-bound: payments go to a pool of processes in chunks, each process
parses and screens with the same pure function the worker uses (rules.engine.screen), and the
results come back in input order. The processes are forked once the rules and registries are
loaded, so each one shares them (copy-on-write) instead of loading the list again. At most a few
chunks per process are in flight, so memory stays bounded whatever the input's size.
"""

from __future__ import annotations

import gc
import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from multiprocessing.pool import AsyncResult
from typing import Any

import orjson

from ops.file_inputs import BadInput, Item
from ops.replay.compare import Change, compare
from ops.replay.lookback import Row, wanted
from rules.catalog import RuleSet
from rules.engine import screen, screening_error
from rules.payment import Payment
from rules.payment_parsing import PaymentError, parse_payment
from rules.registry import Registry

CHUNK = 200
IN_FLIGHT_PER_JOB = 3


@dataclass(frozen=True, slots=True)
class Replayed:
    """One payment screened again and compared, its output lines made (in the screening process, so
    the process that writes has little left to do); or why it could not be screened (`error`,
    with its bytes)."""

    source: str
    line: int | None
    payment_id: str | None
    change: Change | None = None
    decision_line: bytes | None = None
    diff_line: bytes | None = None
    row: Row | None = None
    registry_version: str | None = None
    error: str | None = None
    raw: bytes = b""
    facts: dict[str, Any] | None = None
    # No registry is known for it: not a decision that changed, an input the replay lacks.
    no_registry: bool = False


def _line(value: Mapping[str, Any]) -> bytes:
    return orjson.dumps(value) + b"\n"


def facts(payment: Payment) -> dict[str, Any]:
    """What a lookback report shows of a payment besides its hits."""

    def name(party: Any) -> str:
        return str(party.name) if party is not None and party.name else ""

    return {
        "created_at": payment.created_at.isoformat(),
        "amount": str(payment.amount) if payment.amount is not None else "",
        "currency": payment.currency or "",
        "message_type": payment.message_type,
        "correspondent_account_id": payment.correspondent_account_id or "",
        "debtor": name(payment.debtor),
        "creditor": name(payment.creditor),
    }


class NoRegistryError(Exception):
    """No registry is known for a payment (none given, none kept for its recorded version)."""


@dataclass(frozen=True)
class Context:
    """What every screening process holds: the rules, the registries and the screening instant.

    A payment is screened against `registry` when one was given; otherwise against the registry
    its recorded decision names (`registries` by version, `recorded_registry` by payment), so a
    lookback changes nothing but the rules (SPEC 2.3).
    """

    rules: RuleSet
    as_of: datetime
    recorded: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    registry: Registry | None = None
    registries: Mapping[str, Registry] | None = None
    recorded_registry: Mapping[str, str] | None = None

    def registry_for(self, payment_id: str) -> Registry:
        if self.registry is not None:
            return self.registry
        version = (self.recorded_registry or {}).get(payment_id)
        found = (self.registries or {}).get(version) if version else None
        if found is None:
            why = f"registry {version} is not kept here" if version else "it has no recorded decision"
            raise NoRegistryError(f"no registry for this payment ({why}): give one with --registry")
        return found

    def screen_one(self, item: Item | BadInput) -> Replayed:
        if isinstance(item, BadInput):
            return Replayed(item.source, item.line, None, error=item.error, raw=item.raw)
        payment = item.payment
        if payment is None:
            try:
                payment = parse_payment(item.raw)
            except PaymentError as exc:
                return Replayed(item.source, item.line, None, error=str(exc), raw=item.raw)
        payment_id = payment.payment_id
        decision: dict[str, Any] | None = None
        error: str | None = None
        try:
            decision = screen(payment, self.registry_for(payment_id), self.rules, self.as_of).to_dict()
        except NoRegistryError as exc:
            return Replayed(item.source, item.line, payment_id, error=str(exc), raw=item.raw, no_registry=True)
        except Exception as exc:  # noqa: BLE001 - one payment's failure must not stop the run (SPEC 2.6)
            error = screening_error(exc)
        change = compare(payment_id, self.recorded.get(payment_id), decision)
        where = {"source": item.source, "line": item.line}
        about = facts(payment)
        return Replayed(
            item.source,
            item.line,
            payment_id,
            change,
            _line(decision) if decision is not None else None,
            _line(change.to_dict(decision) | where),
            Row(change, about, f"{item.source}:{item.line}") if decision and wanted(change) else None,
            decision["registry_version"] if decision is not None else None,
            error,
            item.raw if error is not None else b"",
            about,
        )

    def screen_chunk(self, chunk: list[Item | BadInput]) -> list[Replayed]:
        return [self.screen_one(item) for item in chunk]


# The context of the pool's processes: set before they are forked, inherited, never pickled.
_CONTEXT: Context | None = None


def _screen_chunk(chunk: list[Item | BadInput]) -> list[Replayed]:
    if _CONTEXT is None:  # pragma: no cover - only if the pool were started without fork
        raise RuntimeError("replay process started without its context")
    return _CONTEXT.screen_chunk(chunk)


def _chunks(items: Iterable[Item | BadInput], size: int) -> Iterator[list[Item | BadInput]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def replay_items(context: Context, items: Iterable[Item | BadInput], jobs: int) -> Iterator[Replayed]:
    """Every item screened, in input order, on `jobs` processes (1: in this process)."""
    # The rules and registries are long-lived and large: out of the collector's sight, as in the
    # worker (streams/worker.py), so that collections cost per payment and not per listed name;
    # and in the forked processes their pages stay shared (a collection would write to them).
    gc.freeze()
    try:
        yield from _replayed(context, items, jobs)
    finally:
        gc.unfreeze()


def _replayed(context: Context, items: Iterable[Item | BadInput], jobs: int) -> Iterator[Replayed]:
    if jobs <= 1:
        for chunk in _chunks(items, CHUNK):
            yield from context.screen_chunk(chunk)
        return
    global _CONTEXT  # noqa: PLW0603 - handed to the forked processes through their memory
    _CONTEXT = context
    try:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            pending: deque[AsyncResult[list[Replayed]]] = deque()
            for chunk in _chunks(items, CHUNK):
                pending.append(pool.apply_async(_screen_chunk, (chunk,)))
                if len(pending) >= jobs * IN_FLIGHT_PER_JOB:
                    yield from pending.popleft().get()
            while pending:
                yield from pending.popleft().get()
    finally:
        _CONTEXT = None
