"""Running the service: the worker process, with a graceful SIGTERM.

On SIGTERM the worker stops taking batches, finishes the one in hand, then lets Faust stop: the
producer is flushed and the offsets of processed payments committed before it exits 0. A batch
not started is left unacknowledged and screened after the restart (at-least-once).
"""

from __future__ import annotations

import asyncio
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
        log.info("SIGTERM received: finishing the batch in hand")

        async def drain() -> None:
            try:
                await asyncio.wait_for(self.screener.state.idle.wait(), timeout=DRAIN_SECONDS)
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
