"""The rules in force in one worker, and the one place they change: between two batches of the
screen loop.

Every part that needs the rules (the payment processor, the registry agent's records, the
dead-letters, `/readyz`) reads them from one `RulesInForce`. A new RuleSet, built off the event
loop by the watcher (streams/rules_watch.py), is only *offered*; the screen loop puts it in force
at its swap point (`RulesSwitch.switch`), where no batch is being screened, so every payment of a
batch is screened under one RuleSet and its decision names that RuleSet's version. At the same
point the change, or a refused update, is written to the audit chain of every payments partition
the worker owns (31 CFR 1010.630(e) record keeping): in each chain every later decision is under
the version the record names.
"""

from __future__ import annotations

import asyncio
import gc
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from rules import Registry, RuleSet
from streams.audit import AuditChains
from streams.delivery import Outbox
from streams.logs import get_logger
from streams.metrics import Metrics

log = get_logger("screener.rules")

CHANGE_KIND = "rules_change"
REFUSED_KIND = "rules_refused"
# What /readyz shows of a refusal's reason: enough to say which file and field, bounded.
MAX_REASON_CHARS = 1000


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


@dataclass(frozen=True, slots=True)
class FileState:
    """One watched file as a look found it: `sha256` is empty when it is missing or unreadable
    (`problem` then says which)."""

    role: str
    path: str
    sha256: str
    mtime: str | None
    problem: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        out: dict[str, str | None] = {"role": self.role, "path": self.path, "sha256": self.sha256, "mtime": self.mtime}
        if self.problem is not None:
            out["problem"] = self.problem
        return out


@dataclass(frozen=True, slots=True)
class Update:
    """A look at the watched paths that gave content other than the content in force: what was
    found, what made it (`cause`), and either the RuleSet built from it or why none was."""

    digest: str
    files: tuple[FileState, ...]
    cause: str
    by: str
    detected_at: str
    rules: RuleSet | None = None
    error: str | None = None
    load_seconds: float = 0.0

    def body(self) -> dict[str, object]:
        return {
            "cause": self.cause,
            "by": self.by,
            "detected_at": self.detected_at,
            "digest": self.digest,
            "files": [f.as_dict() for f in self.files],
        }


@dataclass
class RulesInForce:
    """The holder: the RuleSet in force, an update waiting for the swap point, the last refusal."""

    rules: RuleSet
    _waiting: deque[Update] = field(default_factory=deque, init=False, repr=False)
    last_change: dict[str, object] | None = None
    last_refusal: dict[str, object] | None = None

    @property
    def version(self) -> str:
        return self.rules.version

    def current_version(self) -> str:
        """The version in force, as a callable for parts that must read it late."""
        return self.rules.version

    @property
    def pending(self) -> RuleSet | None:
        """The RuleSet the next swap puts in force (the latest offered), if any."""
        return next((u.rules for u in reversed(self._waiting) if u.rules is not None), None)

    def offer(self, update: Update) -> None:
        """Queue a loaded RuleSet for the next swap point, or a refusal for the audit trail.

        A later RuleSet supersedes one not yet in force: only what was in force is recorded as
        'before'. Refusals stay queued in order, so the trail records every one."""
        if update.rules is not None:
            self._waiting = deque(u for u in self._waiting if u.rules is None)
        else:
            self.last_refusal = {"at": update.detected_at, "error": update.error} | update.body()
        self._waiting.append(update)

    def take(self) -> list[Update]:
        """Everything waiting for the swap point, oldest first (the screen loop's call)."""
        taken = list(self._waiting)
        self._waiting.clear()
        return taken

    def has_waiting(self) -> bool:
        return bool(self._waiting)

    def readiness(self) -> Mapping[str, object]:
        """What /readyz shows of the rules: the version every new decision is made under, the
        last change put in force, a version loaded and waiting for the swap, the last refusal."""
        pending = self.pending
        return {
            "rules_version": self.version,
            "rules_pending": pending.version if pending is not None else None,
            "rules_last_change": self.last_change,
            "rules_last_refusal": self.last_refusal,
        }


class RulesSwitch:
    """The swap point, called by the screen loop between batches (a ports.RulesSwitcher)."""

    def __init__(
        self, holder: RulesInForce, audit: AuditChains, outbox: Outbox, registry: Registry, metrics: Metrics
    ) -> None:
        self.holder = holder
        self.audit = audit
        self.outbox = outbox
        self.registry = registry
        self.metrics = metrics
        self.metrics.rules_version.labels(holder.version).set(1)

    def switch(self, chains: list[int]) -> asyncio.Future[None] | None:
        """Put a waiting RuleSet in force and record it, and any refusal, on each of `chains`
        (the payments partitions whose chains this worker writes); the future is done once those
        records are on the broker. None when nothing was waiting."""
        if not self.holder.has_waiting():
            return None
        self.outbox.begin_batch(asyncio.get_running_loop())
        try:
            for update in self.holder.take():
                if update.rules is None:
                    self._record_refusal(update, chains)
                else:
                    self._put_in_force(update, update.rules, chains)
        finally:
            delivered = self.outbox.end_batch()
        return delivered

    def _put_in_force(self, update: Update, rules: RuleSet, chains: list[int]) -> None:
        holder = self.holder
        before = holder.version
        holder.rules = rules
        at = now_iso()
        holder.last_change = {"at": at, "before": before, "after": rules.version} | update.body()
        body = holder.last_change | {"load_seconds": round(update.load_seconds, 3)}
        self._record(chains, CHANGE_KIND, rules.version, update.digest, rules.version, at, body)
        self.metrics.rules_updates.labels("applied").inc()
        self.metrics.rules_version.clear()
        self.metrics.rules_version.labels(rules.version).set(1)
        # The worker froze the first RuleSet out of the garbage collector (streams/worker.py); the
        # new one is frozen too, or full collections walking its indexes stall screening. A
        # RuleSet holds no reference cycles, so the old one is freed by reference counting.
        gc.freeze()
        log.info(
            "rules put in force",
            before=before,
            after=rules.version,
            cause=update.cause,
            digest=update.digest,
            chains=chains,
        )

    def _record_refusal(self, update: Update, chains: list[int]) -> None:
        at = now_iso()
        body = update.body() | {"in_force": self.holder.version, "error": update.error, "recorded_at": at}
        self._record(chains, REFUSED_KIND, update.digest, update.digest, self.holder.version, at, body)

    def _record(
        self, chains: list[int], kind: str, subject_id: str, digest: str, version: str, at: str, body: dict[str, Any]
    ) -> None:
        """One audit record of a rules change or refusal on each chain."""
        for chain in chains:
            self.audit.append(
                chain,
                kind=kind,
                subject_id=subject_id,
                input_digest=digest,
                rules_version=version,
                registry_version=self.registry.version,
                recorded_at=at,
                body=body,
            )
