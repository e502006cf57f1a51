"""Running the service: the worker process, with a graceful SIGTERM.

On SIGTERM the screen loop stops taking batches, waits until every record of the batches in hand
is on the broker, commits their offsets and leaves its group; then Faust stops and the worker
exits 0. Payments not yet taken are screened after the restart (at-least-once).
"""

from __future__ import annotations

import asyncio
import gc
import signal
from typing import Any

import faust

from rules import RuleSet
from streams.app import Screener
from streams.logs import configure, get_logger
from streams.settings import Settings
from streams.topics import ensure_topics

log = get_logger("screener.worker")
DRAIN_SECONDS = 7.0


class ScreenerWorker(faust.Worker):
    """A Faust worker that drains the batch in hand before stopping."""

    screener: Screener
    _drain_task: asyncio.Future[None] | None = None

    def _on_sigterm(self) -> None:
        self.screener.state.draining = True
        log.info("SIGTERM received: finishing the batches in hand")

        async def drain() -> None:
            try:
                await asyncio.wait_for(self.screener.screen_loop.closed.wait(), timeout=DRAIN_SECONDS)
            except TimeoutError:
                log.warning("batch not finished in time; its payments are screened again after restart")
            self._schedule_shutdown(signal.SIGTERM)

        self._drain_task = asyncio.ensure_future(drain())


def build(settings: Settings, rules: RuleSet) -> Screener:
    logging_config = configure(settings.log_level)
    return Screener(settings, rules, logging_config=logging_config)


def run(settings: Settings, rules: RuleSet) -> Any:
    """Create the topics, then run the worker until it is stopped (never returns)."""
    created = ensure_topics(settings)
    screener = build(settings, rules)
    # The rules' name indexes are hundreds of thousands of long-lived objects; a full collection
    # walking them stalled screening for 300-600 ms at a time (README, "Performance"). Frozen,
    # they are left out of every collection.
    gc.collect()
    gc.freeze()
    log.info(
        "starting worker",
        app_id=settings.app_id,
        bootstrap_servers=settings.bootstrap_servers,
        topics_created=created,
        rules_version=rules.version,
        partitions=settings.partitions,
    )
    worker = ScreenerWorker(screener.app, loglevel=settings.log_level, quiet=True)
    worker.screener = screener
    return worker.execute_from_commandline()
