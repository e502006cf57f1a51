"""The registry agent's one duty: the audit trail of registry changes (31 CFR 1010.630(e)).

One worker (Faust's group assignment of the registry topics) takes the registry records a batch at
a time: each one validated and recorded on the registry audit chain with the registry version
after it, or dead-lettered; the batch's outputs produced together and delivery awaited once per
batch. Screening does not depend on it: every worker's view reads the topics itself
(streams/registry_view.py), and readiness does not wait for this agent.

The agent keeps a `Registry` of its own, the content its records have made, so that each audit
record names the version the view has after the same records (`screener replay --registry-from
audit` compares them). Where its group starts (after a restart or a hand-over), or wherever a
partition's offsets jump (compaction, records a consumer skipped), that registry is rebuilt by
reading the topics up to the agent's position.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

import faust
from faust.types import EventT, StreamT

from rules import Registry
from streams.audit import AuditChains, read_last_record
from streams.delivery import Outbox
from streams.logs import get_logger
from streams.metrics import Metrics
from streams.records import Source
from streams.registry_processing import RegistryProcessor
from streams.registry_read import Part
from streams.registry_view import State
from streams.settings import Settings

log = get_logger("screener.stream")

# Records the registry agent takes at once, and how long it waits to fill a batch. A batch costs
# one broker round trip for its outputs whatever its size; the wait bounds how long a single
# registry change waits for company.
BATCH_MAX = 2000
BATCH_WITHIN_S = 0.05

# Where the agent's group is on each registry partition; the registry those records make.
Positions = Callable[[], Mapping[Part, int]]
Rebuild = Callable[[Mapping[Part, int]], Registry]


def event_source(event: EventT[bytes]) -> Source:
    msg = event.message
    return Source(msg.topic, msg.partition, msg.offset, msg.key, msg.value, msg.timestamp)


class RegistryAudit:
    """The registry agent's work: audit each registry change, dead-letter bad records."""

    def __init__(
        self,
        settings: Settings,
        audit: AuditChains,
        changes: RegistryProcessor,
        outbox: Outbox,
        metrics: Metrics,
        state: State,
        rules_version: Callable[[], str],
        positions: Positions,
        rebuild: Rebuild,
        last_record: Callable[[int], Mapping[str, Any] | None] | None = None,
    ) -> None:
        self.settings = settings
        self.audit = audit
        self.changes = changes
        self.outbox = outbox
        self.metrics = metrics
        self.state = state
        self.rules_version = rules_version
        self.positions = positions
        self.rebuild = rebuild
        # The next offset of each partition the agent's registry reflects; None until known.
        self.taken: dict[Part, int] | None = None
        # Per registry topic, the offsets audited up to (shown on /readyz).
        self.audited: dict[str, int] = {}
        # What the chain holds already, "topic/partition" -> next offset, read from its tip (each
        # registry record carries it): a batch audited before a crash or a hand-over, and not
        # committed, is not audited twice. None until read.
        self.chain_position: dict[str, int] | None = None
        self.last_record = last_record or (lambda chain: read_last_record(settings, changes.serde, chain))

    def forget(self) -> None:
        """At a Faust rebalance the registry chain and the agent's position may change hands: the
        next batch re-reads the chain's tip and rebuilds the agent's registry."""
        self.audit.forget(self.changes.chain)
        self.taken = None
        self.chain_position = None

    async def consume(self, stream: StreamT[bytes]) -> None:
        """The registry agent: its stream taken in batches, each applied before the next is taken
        (Faust acknowledges a batch's events once the batch is done). It starts once this worker's
        view is loaded, so as not to compete with the load for the one Python thread."""
        await self.state.registry_ready.wait()
        # take_events is faust.Stream's; StreamT, what an agent is given, does not declare it.
        batches = cast("faust.Stream[bytes]", stream).take_events(BATCH_MAX, within=BATCH_WITHIN_S)
        async for events in batches:
            await self.apply_batch([event_source(event) for event in events])

    async def apply_batch(self, sources: Sequence[Source]) -> None:
        """Registry records in their order: each audited and applied to the agent's registry (a
        bad one dead-lettered), the batch's outputs produced together, delivery awaited once."""
        if not sources:
            return
        loop = asyncio.get_running_loop()
        chain = self.changes.chain
        # A rebalance (forget) can come during any await below: then the chain's tip and the
        # agent's position are unknown again, and both are read afresh before anything is produced.
        while True:
            await self._catch_up(sources)
            if not self.audit.known(chain):
                await loop.run_in_executor(None, self.audit.recover, chain)
            if self.chain_position is None:
                self.chain_position = await loop.run_in_executor(None, self._read_chain_position, chain)
            taken, position = self.taken, self.chain_position
            if taken is not None and position is not None and self.audit.known(chain):
                break
        # Nothing awaits between begin_batch and end_batch: every record produced (the audit
        # records as they are appended, in chain order) belongs to this batch.
        self.outbox.begin_batch(loop)
        try:
            for src in sources:
                part = f"{src.topic}/{src.partition}"
                if src.offset < position.get(part, 0):
                    self.changes.apply_only(src)  # on the chain already: its registry, not its audit
                    continue
                position[part] = src.offset + 1
                outcome, key = self.changes.process_change(src, self.rules_version(), position)
                if key is None:
                    self.metrics.dead_letters.labels(src.topic).inc()
                    log.warning("registry record dead-lettered", position=src.position)
                self.outbox.send_outputs(outcome.outputs)
        finally:
            delivered = self.outbox.end_batch()
        for src in sources:
            taken[(src.topic, src.partition)] = src.offset + 1
        await delivered
        for (topic, _), offset in taken.items():
            self.audited[topic] = max(self.audited.get(topic, 0), offset)

    def _read_chain_position(self, chain: int) -> dict[str, int]:
        """The audited offsets the chain's last record names (none on an empty chain, or one
        written before records carried them)."""
        last = self.last_record(chain)
        try:
            body = json.loads(last["body"]) if last is not None else {}
        except (TypeError, ValueError):
            return {}
        position = body.get("position") if isinstance(body, dict) else None
        if not isinstance(position, dict):
            return {}
        return {str(k): v for k, v in position.items() if isinstance(v, int)}

    async def _catch_up(self, sources: Sequence[Source]) -> None:
        """Make the agent's registry the content of the records before this batch, if it is not
        known to be (its start, a hand-over, offsets that jump)."""
        firsts: dict[Part, int] = {}
        for src in sources:
            firsts.setdefault((src.topic, src.partition), src.offset)
        taken = self.taken
        if taken is not None and all(taken.get(part) == offset for part, offset in firsts.items()):
            return
        loop = asyncio.get_running_loop()
        started = time.monotonic()
        stops = dict(taken) if taken is not None else dict(await loop.run_in_executor(None, self.positions))
        stops.update(firsts)
        self.changes.registry = await loop.run_in_executor(None, self.rebuild, stops)
        self.taken = stops
        log.info(
            "registry agent's registry rebuilt",
            up_to={f"{topic}/{p}": offset for (topic, p), offset in stops.items()},
            registry_version=self.changes.registry.version,
            seconds=round(time.monotonic() - started, 3),
        )
