"""`screener workbench serve`: the store, the registry, the feed and the publisher, run together
behind the web layer until SIGTERM or SIGINT.

The web layer (ops/workbench/web.py) runs on the event loop; everything that waits on a broker runs
on threads of its own (the registry view, the feed, the publisher), so a slow broker never holds
a page. Shutdown runs in the reverse order of start: no new request, then the feed, then the
publisher (which sends what is pending first), then the registry reader, and the store last.

The store is a SQLite file by default, or a PostgreSQL database (`--db postgresql://...`). One
workbench process writes to a store: the publisher is the single writer of the casework audit
chain, and two would fork it. The store's writer lock is taken before anything else opens and
released after the store closes; a second workbench on the same store refuses to start.
"""

from __future__ import annotations

import asyncio
import logging.config
import signal
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from ops.workbench.context import WebOptions, WorkbenchContext, utc_now
from ops.workbench.feed import Feed
from ops.workbench.publisher import Publisher
from ops.workbench.screening import Screening, registry_source
from ops.workbench.store import Store
from ops.workbench.store_sql import describe, is_postgres, writer_lock
from rules import RuleSet
from rules.regulation_text import cited_text
from schemas.messages import NO_MAPPING, AccountMapping
from streams.logs import configure, get_logger
from streams.serde import Serde
from streams.settings import Settings

log = get_logger("screener.workbench")

DB_NAME = "workbench.sqlite"
# Bounds on shutdown: requests in flight get this long to finish, the feed its batch in hand, the
# publisher the sending of what is pending (what it cannot send waits in the outbox).
REQUESTS_STOP_S = 5.0
FEED_STOP_S = 10.0
PUBLISHER_STOP_S = 20.0


@dataclass(frozen=True, slots=True)
class ServeOptions:
    """What `screener workbench serve` is told besides the settings."""

    users: Any  # ops.workbench.auth.Users
    host: str = "127.0.0.1"
    port: int = 8080
    db: Path | str | None = None  # a SQLite path or a postgresql:// URL
    registry_file: Path | None = None
    secure_cookies: bool = False
    trusted_user_header: str | None = None


def default_db(settings: Settings) -> Path:
    return settings.data_dir / DB_NAME


def store_target(db: Path | str | None, settings: Settings) -> Path | str:
    """A `postgresql://` URL as given; anything else is a SQLite path."""
    if db is None or db == "":
        return default_db(settings)
    return db if is_postgres(db) else Path(db)


class Workbench:
    """The workbench's parts, built (not started) from the settings, the rules and the options."""

    def __init__(
        self, settings: Settings, rules: RuleSet, options: ServeOptions, accounts: AccountMapping = NO_MAPPING
    ) -> None:
        self.settings, self.options = settings, options
        serde = Serde(settings)
        self.registry = registry_source(settings, serde, options.registry_file)  # a bad file: before the store opens
        self.db = store_target(options.db, settings)
        self.writer = writer_lock(self.db)  # StoreInUseError: another workbench runs on this store
        store: Store | None = None
        try:
            self.store = store = Store(self.db)
            self.screening = Screening(rules, self.registry, serde, settings.topics.payments, accounts, utc_now)
            self.feed = Feed(settings, store, self.screening.special_measure_sections(), serde=serde, accounts=accounts)
            self.publisher = Publisher(settings, store, serde=serde)
        except BaseException:
            if store is not None:
                store.close()
            self.writer.release()
            raise

    def context(self) -> WorkbenchContext:
        s = self.screening
        return WorkbenchContext(
            store=self.store,
            users=self.options.users,
            screen=s.screen,
            account_record=s.account_record,
            institution_record=s.institution_record,
            payment_view=s.payment_view,
            cited_text=cited_text,
            listed_entry=s.listed_entry,
            wake_publisher=self.publisher.wake,
            clock=utc_now,
            options=WebOptions(
                secure_cookies=self.options.secure_cookies, trusted_user_header=self.options.trusted_user_header
            ),
            versions=s.versions,
            status=self.status,
        )

    def start(self) -> None:
        self.registry.start()
        self.feed.start()
        self.publisher.start()

    def stop(self) -> None:
        self.feed.stop(FEED_STOP_S)
        self.publisher.stop(PUBLISHER_STOP_S)
        self.registry.stop()
        try:
            self.store.close()
        finally:
            self.writer.release()

    def status(self) -> dict[str, Any]:
        """Ready once the registry is loaded and the feed reads its topics; `caught_up` says the
        queue holds every review decided so far. Positions and counts only: no names, no ids."""
        feed, registry = self.feed.status(), self.registry.status()
        publisher = asdict(self.publisher.status())
        ready = bool(registry["loaded"] and feed["running"] and feed["assigned"] and not publisher["fatal"])
        return {
            "ready": ready,
            "caught_up": feed["caught_up"],
            "feed": feed,
            "registry": registry,
            "publisher": publisher,
        }


def run_workbench(
    settings: Settings, rules: RuleSet, options: ServeOptions, accounts: AccountMapping = NO_MAPPING
) -> None:
    """Serve until SIGTERM or SIGINT, then stop every part (blocking)."""
    logging.config.dictConfig(configure(settings.log_level))
    workbench = Workbench(settings, rules, options, accounts)
    try:
        asyncio.run(_serve(workbench))
    finally:
        workbench.stop()
        log.info("workbench stopped")


async def _serve(workbench: Workbench) -> None:
    from ops.workbench.web import make_app

    options = workbench.options
    # No access log: a request line can carry a queue search, which may be a person's name.
    runner = web.AppRunner(make_app(workbench.context()), access_log=None, shutdown_timeout=REQUESTS_STOP_S)
    await runner.setup()
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    try:
        await web.TCPSite(runner, options.host, options.port, shutdown_timeout=REQUESTS_STOP_S).start()
        workbench.start()
        log.info(
            "workbench serving",
            addresses=[_address(a) for a in runner.addresses],
            db=describe(workbench.db),
            registry="file" if options.registry_file else "topics",
            rules_version=workbench.screening.rules.version,
        )
        await stopping.wait()
        log.info("workbench stopping")
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        await runner.cleanup()


def _address(address: Any) -> str:
    """host:port of a listening socket's address ((host, port) for IPv4, four items for IPv6)."""
    if isinstance(address, tuple) and len(address) >= 2:
        host = str(address[0])
        return f"[{host}]:{address[1]}" if ":" in host else f"{host}:{address[1]}"
    return str(address)
