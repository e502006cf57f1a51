"""The workbench's state: cases, their dispositions, what is still to be sent, sessions.

An embedded SQLite file is the default (`$SCREENER_DATA_DIR/workbench.sqlite`): it survives
restarts, and the feed's positions are stored in the same transactions as the cases they opened,
so a restart resumes the topics exactly where the store stops. Every action is decided
(rules/casework.py) and recorded inside one write transaction (BEGIN IMMEDIATE): two people
acting on one case at once are serialised, and the second is judged against the first's result.
What an action must send (the disposition, the release) goes into an outbox in that same
transaction; the publisher (ops/workbench/publisher.py) sends it and marks it sent, so nothing
recorded is lost and nothing is sent that was not recorded.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rules.casework import Action, Case, Proposal, Refused, State, Step, decide

SCHEMA_VERSION = 1

_SCHEMA = """
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
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
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
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,                -- disposition or release
    event_id TEXT NOT NULL,
    payment_id TEXT NOT NULL,
    record TEXT NOT NULL,
    sent_at TEXT
);
CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox (sent_at, seq);
CREATE TABLE IF NOT EXISTS payments (
    payment_id TEXT PRIMARY KEY,
    raw BLOB NOT NULL,
    source TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS positions (
    topic TEXT NOT NULL,
    partition INTEGER NOT NULL,
    next_offset INTEGER NOT NULL,
    PRIMARY KEY (topic, partition)
);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,
    user_name TEXT NOT NULL,
    csrf TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL
);
"""


def case_id_of(payment_id: str) -> str:
    """A short, URL-safe, stable id for a payment's case (payment ids may hold any character)."""
    return hashlib.sha256(payment_id.encode("utf-8", "surrogatepass")).hexdigest()[:20]


@dataclass(frozen=True, slots=True)
class CaseRow:
    case_id: str
    payment_id: str
    decision: dict[str, Any]
    decision_digest: str
    screened_at: str
    severity: str
    four_eyes: tuple[str, ...]
    state: State
    pending: Proposal | None
    account_id: str
    opened_at: str
    updated_at: str
    source: str

    def as_case(self) -> Case:
        return Case(self.payment_id, self.four_eyes, self.state, self.pending)


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    seq: int
    kind: str
    event_id: str
    payment_id: str
    record: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Session:
    user_name: str
    csrf: str
    expires_at: float


@dataclass(frozen=True, slots=True)
class NewCase:
    """A review decision read from the decisions topic, ready to open a case."""

    payment_id: str
    decision_json: str
    screened_at: str
    four_eyes: tuple[str, ...]
    account_id: str
    search: str
    source: str


# Built by the caller from the case and the accepted step: (disposition record, release record).
RecordBuilder = Callable[[CaseRow, Action, Step], tuple[dict[str, Any], dict[str, Any] | None]]


class Store:
    """The SQLite store. Thread-safe: one connection, one lock (the workbench is small and local)."""

    def __init__(self, path: Path | str) -> None:
        self._path = str(path)
        if self._path != ":memory:":
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")  # a recorded disposition survives a power cut
            self._db.executescript(_SCHEMA)
            self._db.execute(
                "INSERT OR IGNORE INTO meta (name, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- the feed -----------------------------------------------------------------------------

    def ingest(
        self,
        cases: Sequence[NewCase] = (),
        payments: Sequence[tuple[str, bytes, str]] = (),
        settled: Sequence[str] = (),
        positions: Sequence[tuple[str, int, int]] = (),
        now: str = "",
    ) -> int:
        """One batch from the topics, in one transaction: new cases (a payment already cased is
        left as it is: a decision read again is the same decision), payments' raw bytes, the
        payments whose decision needs no case (their bytes are dropped), and the positions after
        the batch. Returns the number of cases opened."""
        opened = 0
        with self._write() as db:
            for raw_id, raw, source in payments:
                db.execute(
                    "INSERT OR IGNORE INTO payments (payment_id, raw, source) VALUES (?, ?, ?)", (raw_id, raw, source)
                )
            for c in cases:
                digest = hashlib.sha256(c.decision_json.encode("utf-8", "surrogatepass")).hexdigest()
                cur = db.execute(
                    "INSERT OR IGNORE INTO cases (case_id, payment_id, decision, decision_digest, screened_at, "
                    "severity, four_eyes, state, pending, account_id, search, opened_at, updated_at, source) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?)",
                    (
                        case_id_of(c.payment_id),
                        c.payment_id,
                        c.decision_json,
                        digest,
                        c.screened_at,
                        "high" if c.four_eyes else "medium",
                        json.dumps(list(c.four_eyes)),
                        State.OPEN.value,
                        c.account_id,
                        c.search.lower(),
                        now or c.screened_at,
                        now or c.screened_at,
                        c.source,
                    ),
                )
                opened += cur.rowcount
            db.executemany(
                "DELETE FROM payments WHERE payment_id = ? AND payment_id NOT IN (SELECT payment_id FROM cases)",
                [(p,) for p in settled],
            )
            db.executemany(
                "INSERT INTO positions (topic, partition, next_offset) VALUES (?, ?, ?) "
                "ON CONFLICT (topic, partition) DO UPDATE SET next_offset = excluded.next_offset",
                positions,
            )
        return opened

    def positions(self, topic: str) -> dict[int, int]:
        with self._lock:
            rows = self._db.execute("SELECT partition, next_offset FROM positions WHERE topic = ?", (topic,))
            return {int(r["partition"]): int(r["next_offset"]) for r in rows}

    def payment(self, payment_id: str) -> tuple[bytes, str] | None:
        with self._lock:
            row = self._db.execute("SELECT raw, source FROM payments WHERE payment_id = ?", (payment_id,)).fetchone()
        return None if row is None else (bytes(row["raw"]), str(row["source"]))

    # -- cases --------------------------------------------------------------------------------

    def case(self, case_id: str) -> CaseRow | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM cases WHERE case_id = ?", (case_id,)).fetchone()
        return None if row is None else _case_row(row)

    def queue(
        self,
        states: Sequence[State] = (State.OPEN, State.ESCALATED, State.PENDING_APPROVAL),
        severity: str | None = None,
        search: str = "",
        limit: int = 100,
        offset: int = 0,
    ) -> list[CaseRow]:
        """Cases in the given states, oldest decision first (the longest-held payment on top)."""
        sql = f"SELECT * FROM cases WHERE state IN ({','.join('?' * len(states))})"  # noqa: S608 (placeholders only)
        args: list[Any] = [s.value for s in states]
        if severity:
            sql += " AND severity = ?"
            args.append(severity)
        if search.strip():
            sql += " AND instr(search, ?) > 0"
            args.append(search.strip().lower()[:200])
        sql += " ORDER BY screened_at, case_id LIMIT ? OFFSET ?"
        args += [max(1, min(limit, 1000)), max(0, offset)]
        with self._lock:
            return [_case_row(r) for r in self._db.execute(sql, args)]

    def open_summary(self) -> tuple[int, str | None, dict[str, int]]:
        """(open cases, the oldest open case's screened_at, open cases by state)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT state, count(*) AS n, min(screened_at) AS oldest FROM cases "
                "WHERE state NOT IN ('released', 'stopped') GROUP BY state"
            ).fetchall()
        by_state = {str(r["state"]): int(r["n"]) for r in rows}
        oldest = min((str(r["oldest"]) for r in rows), default=None)
        return sum(by_state.values()), oldest, by_state

    def dispositions_by(self) -> dict[tuple[str, str], int]:
        """How many dispositions of each kind each person has made (for the metrics)."""
        with self._lock:
            rows = self._db.execute("SELECT kind, actor, count(*) AS n FROM dispositions GROUP BY kind, actor")
            return {(str(r["kind"]), str(r["actor"])): int(r["n"]) for r in rows}

    def history(self, case_id: str) -> list[dict[str, Any]]:
        """The case's dispositions in the order they were recorded."""
        with self._lock:
            rows = self._db.execute("SELECT record FROM dispositions WHERE case_id = ? ORDER BY seq", (case_id,))
            return [json.loads(r["record"]) for r in rows]

    def release(self, case_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT record FROM releases WHERE case_id = ?", (case_id,)).fetchone()
        return None if row is None else dict(json.loads(row["record"]))

    def act(self, case_id: str, action: Action, build: RecordBuilder, now: str) -> tuple[CaseRow, Step]:
        """Decide the action on the case as it is inside the transaction and record the result:
        the case's new state, the disposition, the release if the case closed, and their outbox
        entries. Raises Refused (nothing recorded) when the rules do not allow it."""
        with self._write() as db:
            row = db.execute("SELECT * FROM cases WHERE case_id = ?", (case_id,)).fetchone()
            if row is None:
                raise Refused("no_case", "no held payment has this case id")
            before = _case_row(row)
            if db.execute("SELECT 1 FROM dispositions WHERE disposition_id = ?", (action.disposition_id,)).fetchone():
                raise Refused("duplicate", "this disposition was already recorded")
            step = decide(before.as_case(), action)
            disposition, release = build(before, action, step)
            pending = step.case.pending
            db.execute(
                "UPDATE cases SET state = ?, pending = ?, updated_at = ? WHERE case_id = ?",
                (step.case.state.value, _proposal_json(pending), now, case_id),
            )
            db.execute(
                "INSERT INTO dispositions (disposition_id, case_id, kind, actor, at, record) VALUES (?, ?, ?, ?, ?, ?)",
                (action.disposition_id, case_id, action.kind.value, action.actor, now, json.dumps(disposition)),
            )
            _outbox(db, "disposition", action.disposition_id, before.payment_id, disposition)
            if release is not None:
                db.execute(
                    "INSERT INTO releases (case_id, release_id, record) VALUES (?, ?, ?)",
                    (case_id, release["release_id"], json.dumps(release)),
                )
                _outbox(db, "release", str(release["release_id"]), before.payment_id, release)
        after = self.case(case_id)
        if after is None:  # pragma: no cover - the row was just updated under the lock
            raise RuntimeError("case vanished")
        return after, step

    # -- the outbox ---------------------------------------------------------------------------

    def unsent(self, limit: int = 500) -> list[OutboxEntry]:
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, kind, event_id, payment_id, record FROM outbox WHERE sent_at IS NULL ORDER BY seq LIMIT ?",
                (limit,),
            ).fetchall()
        return [
            OutboxEntry(
                int(r["seq"]), str(r["kind"]), str(r["event_id"]), str(r["payment_id"]), json.loads(r["record"])
            )
            for r in rows
        ]

    def mark_sent(self, seqs: Sequence[int], at: str) -> None:
        with self._write() as db:
            db.executemany("UPDATE outbox SET sent_at = ? WHERE seq = ?", [(at, s) for s in seqs])

    # -- sessions -----------------------------------------------------------------------------

    def put_session(self, token_hash: str, user_name: str, csrf: str, created_at: float, expires_at: float) -> None:
        with self._write() as db:
            db.execute("DELETE FROM sessions WHERE expires_at < ?", (created_at,))
            db.execute(
                "INSERT INTO sessions (token_hash, user_name, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                (token_hash, user_name, csrf, created_at, expires_at),
            )

    def session(self, token_hash: str, now: float) -> Session | None:
        with self._lock:
            row = self._db.execute(
                "SELECT user_name, csrf, expires_at FROM sessions WHERE token_hash = ? AND expires_at >= ?",
                (token_hash, now),
            ).fetchone()
        return None if row is None else Session(str(row["user_name"]), str(row["csrf"]), float(row["expires_at"]))

    def drop_session(self, token_hash: str) -> None:
        with self._write() as db:
            db.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash,))


def _outbox(db: sqlite3.Connection, kind: str, event_id: str, payment_id: str, record: dict[str, Any]) -> None:
    db.execute(
        "INSERT INTO outbox (kind, event_id, payment_id, record) VALUES (?, ?, ?, ?)",
        (kind, event_id, payment_id, json.dumps(record)),
    )


def _proposal_json(p: Proposal | None) -> str | None:
    if p is None:
        return None
    return json.dumps(
        {"disposition_id": p.disposition_id, "actor": p.actor, "reason": p.reason, "returns_to": p.returns_to.value}
    )


def _case_row(row: sqlite3.Row) -> CaseRow:
    pending = None
    if row["pending"]:
        p = json.loads(row["pending"])
        pending = Proposal(str(p["disposition_id"]), str(p["actor"]), str(p["reason"]), State(p["returns_to"]))
    return CaseRow(
        case_id=str(row["case_id"]),
        payment_id=str(row["payment_id"]),
        decision=json.loads(row["decision"]),
        decision_digest=str(row["decision_digest"]),
        screened_at=str(row["screened_at"]),
        severity=str(row["severity"]),
        four_eyes=tuple(json.loads(row["four_eyes"])),
        state=State(row["state"]),
        pending=pending,
        account_id=str(row["account_id"]),
        opened_at=str(row["opened_at"]),
        updated_at=str(row["updated_at"]),
        source=str(row["source"]),
    )
