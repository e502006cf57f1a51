"""Running the service: the worker process, with a graceful SIGTERM.

On SIGTERM the screen loop stops taking batches, waits until every record of the batches in hand
is on the broker, commits their offsets and leaves its group; then Faust stops and the worker
exits 0. Payments not yet taken are screened after the restart (at-least-once).
"""

from __future__ import annotations

import asyncio
import functools
import gc
import logging.config
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import NoReturn

import faust
from confluent_kafka import KafkaException

from rules import RuleSet, native
from streams import broker_guard
from streams.app import Screener
from streams.logs import configure, get_logger
from streams.rules_watch import Look
from streams.settings import Settings
from streams.topics import BrokerDataLostError, ensure_topics

log = get_logger("screener.worker")
DRAIN_SECONDS = 7.0
# However the broker or Faust behaves (a broker gone leaves its shutdown waiting on commits and
# group leaves), the process ends this long after SIGTERM: what was not committed is screened
# again after the restart (at-least-once), so ending is always safe.
SHUTDOWN_DEADLINE_S = 9.0
# A broker not there at start is waited for, backing off up to this long between tries, for at
# most STARTUP_WAIT_S.
STARTUP_BACKOFF_MAX_S = 10.0
STARTUP_WAIT_S = 120.0


class ScreenerWorker(faust.Worker):
    """A Faust worker that drains the batch in hand before stopping."""

    screener: Screener
    _drain_task: asyncio.Future[None] | None = None

    def _on_sigterm(self) -> None:
        self.screener.state.draining = True
        log.info("SIGTERM received: finishing the batches in hand")
        deadline = threading.Timer(SHUTDOWN_DEADLINE_S, _end_now)
        deadline.daemon = True
        deadline.start()

        async def drain() -> None:
            try:
                await asyncio.wait_for(self.screener.screen_loop.closed.wait(), timeout=DRAIN_SECONDS)
            except TimeoutError:
                log.warning("batch not finished in time; its payments are screened again after restart")
            self._schedule_shutdown(signal.SIGTERM)

        self._drain_task = asyncio.ensure_future(drain())


def _end_now() -> None:
    """The shutdown deadline passed: end the process (nothing is lost, see SHUTDOWN_DEADLINE_S)."""
    log.warning("shutdown deadline reached: exiting now; uncommitted payments are screened after restart")
    sys.stderr.flush()
    os._exit(0)


def wait_for_broker(settings: Settings, sleep: Callable[[float], None] = time.sleep) -> list[str]:
    """Create the topics, retrying with a bounded backoff while the broker is not there.

    Returns the topics created. Raises the last error after STARTUP_WAIT_S.
    """
    started = time.monotonic()
    delay = 0.5
    while True:
        try:
            return ensure_topics(settings)
        except KafkaException as exc:
            waited = time.monotonic() - started
            if waited + delay > STARTUP_WAIT_S:
                raise
            log.warning("broker not reachable yet; retrying", error=str(exc)[:200], retry_in_s=delay)
            sleep(delay)
            delay = min(delay * 2, STARTUP_BACKOFF_MAX_S)


def _broker_lost_data(settings: Settings, evidence: list[str]) -> None:
    """The guard saw the broker lose its data: one line, a marker, and the process ends at once
    (nothing it still holds can be written anywhere that keeps it; see streams/broker_guard.py)."""
    marker = broker_guard.write_marker(settings, evidence)
    log.critical(
        "the broker lost its data",
        evidence=broker_guard.summary(evidence),
        marker=str(marker),
        action="worker stopped; restore the broker's data, or remove the marker to start afresh deliberately",
    )
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(broker_guard.EXIT_CODE)


def run(settings: Settings, rules: RuleSet, rules_files: Look | None = None) -> NoReturn:
    """Create the topics, then run the worker until it is stopped (never returns)."""
    logging_config = configure(settings.log_level)
    # Faust applies this when it starts; before then (waiting for the broker, refusing to start)
    # lines must be JSON too.
    logging.config.dictConfig(logging_config)
    try:
        broker_guard.refuse_if_marked(settings)
        created = wait_for_broker(settings)
    except BrokerDataLostError as exc:
        log.critical("the broker lost its data", error=str(exc))
        raise
    screener = Screener(settings, rules, logging_config=logging_config, rules_files=rules_files)
    # Neither needs Faust: the registry load and the screen loop's group join run beside Faust's
    # own start (its group join takes seconds on the embedded broker) instead of after it.
    screener.registry_view.start()
    screener.screen_loop.subscribe()
    broker_guard.DataLossGuard(settings, functools.partial(_broker_lost_data, settings)).start()
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
        rules_modules=native.state(),
    )
    worker = ScreenerWorker(screener.app, loglevel=settings.log_level, quiet=True)
    worker.screener = screener
    worker.execute_from_commandline()
