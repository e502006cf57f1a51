"""The store's two SQL engines: SQLite (the default, a file) and PostgreSQL (the production option).

ops/workbench/store.py writes each statement once, with `?` placeholders and clauses both engines
accept (INSERT ... ON CONFLICT DO NOTHING); a Db here connects, turns what differs into the
engine's form, and opens write transactions that serialise actions on a case. A `postgresql://`
URL selects PostgreSQL (psycopg is imported only then); anything else is a SQLite path.

A store has one writer: the workbench process is the single writer of its audit chain, so
`writer_lock` takes an exclusive lock for the process's life and refuses a second one.

(About 310 lines: everything that differs between the two engines, in one place, so that
store.py stays free of either.)
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from streams.settings import mask_url_credentials

if TYPE_CHECKING:
    import psycopg
    from psycopg.rows import DictRow

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
MEMORY = ":memory:"
CONNECT_TIMEOUT_S = 10
# One advisory lock key per database: the workbench's, whatever else shares the server.
_ADVISORY_KEY = int.from_bytes(hashlib.sha256(b"screener.workbench.writer").digest()[:8], "big", signed=True)

SCHEMA_VERSION = 1

# The store's tables, written once: the column types in braces are the engine's (Db.types).
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cases (
    case_id TEXT PRIMARY KEY,
    payment_id TEXT NOT NULL UNIQUE,
    decision TEXT NOT NULL,            -- the decision's canonical JSON (its wire form, SPEC 1.3)
    decision_digest TEXT NOT NULL,     -- sha256 of that text, as the audit trail's body
    screened_at TEXT NOT NULL,
    severity TEXT NOT NULL,            -- high: four eyes apply; medium: otherwise
    four_eyes TEXT NOT NULL,           -- JSON list of the hits that need a second person
    state TEXT NOT NULL,
    pending TEXT,                      -- JSON of the proposal waiting for approval
    account_id TEXT NOT NULL DEFAULT '',
    search TEXT NOT NULL DEFAULT '',   -- lower-cased text a queue search looks in
    opened_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT ''    -- topic/partition@offset the decision was read at
);
CREATE INDEX IF NOT EXISTS cases_by_state ON cases (state, screened_at);
CREATE TABLE IF NOT EXISTS dispositions (
    seq {seq},
    disposition_id TEXT NOT NULL UNIQUE,
    case_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    at TEXT NOT NULL,
    record TEXT NOT NULL               -- the Disposition event (schemas/screener.Disposition.avsc)
);
CREATE INDEX IF NOT EXISTS dispositions_by_case ON dispositions (case_id, seq);
CREATE TABLE IF NOT EXISTS releases (
    case_id TEXT PRIMARY KEY,          -- one per held payment, by construction
    release_id TEXT NOT NULL UNIQUE,
    record TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    seq {seq},
    kind TEXT NOT NULL,                -- disposition or release
    event_id TEXT NOT NULL,
    payment_id TEXT NOT NULL,
    record TEXT NOT NULL,
    sent_at TEXT
);
CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox (sent_at, seq);
CREATE TABLE IF NOT EXISTS payments (
    payment_id TEXT PRIMARY KEY,
    raw {bytes} NOT NULL,
    source TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS dead_letters (
    seq {seq},
    source TEXT NOT NULL UNIQUE,           -- topic/partition@offset of the record the feed could not read
    record TEXT NOT NULL               -- the DeadLetter record (schemas/screener.DeadLetter.avsc) as JSON
);
CREATE TABLE IF NOT EXISTS positions (
    topic TEXT NOT NULL,
    partition {int64} NOT NULL,
    next_offset {int64} NOT NULL,
    PRIMARY KEY (topic, partition)
);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,
    user_name TEXT NOT NULL,
    csrf TEXT NOT NULL,
    created_at {real} NOT NULL,
    expires_at {real} NOT NULL
);
"""


class StoreError(Exception):
    """The store cannot be opened: unreachable, refused, or held by another workbench."""


class StoreInUseError(StoreError):
    """Another workbench process already writes to this store."""


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


def is_postgres(target: Path | str) -> bool:
    return isinstance(target, str) and target.startswith(POSTGRES_SCHEMES)


def describe(target: Path | str) -> str:
    """The store's name for logs and errors: a URL's user and password masked."""
    return mask_url_credentials(str(target)) if is_postgres(target) else str(target)


class Db(ABC):
    """One connection and the engine's spelling of what differs between the two."""

    # Column types of the schema's template (store.py), by role.
    types: dict[str, str]
    find: str  # (haystack, needle) -> 1-based position, 0 when absent
    for_update: str  # the suffix that locks a row read inside a write transaction

    @abstractmethod
    def execute(self, sql: str, args: Sequence[Any] = ()) -> Cursor: ...

    @abstractmethod
    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    @abstractmethod
    def script(self, sql: str) -> None:
        """Statements without parameters, run as one transaction."""

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def _begin(self) -> None: ...

    @contextmanager
    def write(self) -> Iterator[Db]:
        self._begin()
        try:
            yield self
        except BaseException:
            self.execute("ROLLBACK")
            raise
        self.execute("COMMIT")

    def one(self, sql: str, args: Sequence[Any] = ()) -> Any:
        return self.execute(sql, args).fetchone()

    def rows(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        return self.execute(sql, args).fetchall()


class SqliteDb(Db):
    types = {  # noqa: RUF012 (read only)
        "seq": "INTEGER PRIMARY KEY AUTOINCREMENT",
        "int64": "INTEGER",
        "bytes": "BLOB",
        "real": "REAL",
    }
    find = "instr"
    for_update = ""  # BEGIN IMMEDIATE already holds the database's write lock

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        if self.path != MEMORY:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.raw = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self.raw.row_factory = sqlite3.Row
            self.raw.execute("PRAGMA journal_mode=WAL")
            self.raw.execute("PRAGMA synchronous=FULL")  # a recorded disposition survives a power cut
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the workbench store {self.path}: {exc}") from None

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Cursor:
        return self.raw.execute(sql, args)

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.raw.executemany(sql, rows)

    def script(self, sql: str) -> None:
        try:
            self.raw.executescript(f"BEGIN IMMEDIATE;\n{sql}\nCOMMIT;")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot set up the workbench store {self.path}: {exc}") from None

    def close(self) -> None:
        self.raw.close()

    def _begin(self) -> None:
        # The write lock from the start: a reader that upgrades later could be refused (SQLITE_BUSY).
        self.raw.execute("BEGIN IMMEDIATE")


class PostgresDb(Db):
    types = {  # noqa: RUF012 (read only)
        "seq": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
        "int64": "BIGINT",  # Kafka offsets are 64-bit
        "bytes": "BYTEA",
        "real": "DOUBLE PRECISION",
    }
    find = "strpos"
    # The case row stays locked until the transaction ends: a second action on it waits and is
    # then judged against the first's result, as under SQLite's database-wide write lock.
    for_update = " FOR UPDATE"

    def __init__(self, url: str) -> None:
        self.url = url
        self.raw: psycopg.Connection[DictRow] = _pg_connect(url)

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Cursor:
        return self.raw.execute(_pg(sql), args)

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.raw.cursor() as cur:
            cur.executemany(_pg(sql), rows)

    def script(self, sql: str) -> None:
        import psycopg

        # Without parameters, psycopg sends the text as one simple query: several statements, one
        # transaction (two workbenches starting at once cannot both half-create the tables).
        try:
            self.raw.execute(f"BEGIN;\n{sql}\nCOMMIT;")
        except psycopg.Error as exc:
            self.raw.rollback()
            raise StoreError(f"cannot set up the workbench store {describe(self.url)}: {exc}") from None

    def close(self) -> None:
        self.raw.close()

    def _begin(self) -> None:
        self.raw.execute("BEGIN")


def open_db(target: Path | str) -> Db:
    return PostgresDb(str(target)) if is_postgres(target) else SqliteDb(target)


def _pg(sql: str) -> str:
    # The store's statements hold no `?` or `%` of their own (no LIKE, no literal question mark).
    return sql.replace("?", "%s")


def _pg_connect(url: str) -> psycopg.Connection[DictRow]:
    """A connection in autocommit mode (transactions are begun explicitly, as with SQLite).
    A password comes from the URL or libpq's own PGPASSWORD and ~/.pgpass."""
    import psycopg
    from psycopg.rows import dict_row

    extra: dict[str, Any] = {} if "connect_timeout" in url else {"connect_timeout": CONNECT_TIMEOUT_S}
    try:
        return psycopg.connect(url, autocommit=True, row_factory=dict_row, **extra)
    except psycopg.Error as exc:
        # libpq's messages name the host and user, never the password; the URL is masked anyway.
        raise StoreError(f"cannot connect to the workbench store {describe(url)}: {exc}") from None


class WriterLock:
    """Held for the workbench process's life: released by `release` or when the process ends."""

    def __init__(self, release: Callable[[], None] | None = None) -> None:
        self._release = release

    def release(self) -> None:
        release, self._release = self._release, None
        if release is not None:
            with suppress(Exception):
                release()


def writer_lock(target: Path | str) -> WriterLock:
    """The store's single-writer lock, taken at once or StoreInUseError. SQLite: an flock on
    `<db>.lock` (a file of its own, so SQLite's locks on the database are untouched); PostgreSQL:
    a session advisory lock, held by a connection of its own so it outlives store transactions."""
    if is_postgres(target):
        conn = _pg_connect(str(target))
        row = conn.execute("SELECT pg_try_advisory_lock(%s) AS held", (_ADVISORY_KEY,)).fetchone()
        if not (row and row["held"]):
            conn.close()
            raise StoreInUseError(f"another workbench is running on the store {describe(target)}")
        return WriterLock(conn.close)
    if str(target) == MEMORY:
        return WriterLock()
    path = Path(f"{target}.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise StoreInUseError(f"another workbench is running on the store {target} (it holds {path})") from None
    return WriterLock(lambda: os.close(fd))
