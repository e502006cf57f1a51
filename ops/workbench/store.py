"""The workbench's state: cases, their dispositions, what is still to be sent, sessions.

An embedded SQLite file is the default (`$SCREENER_DATA_DIR/workbench.sqlite`), PostgreSQL the
production option (a `postgresql://` URL); the statements here are written once for both, and
ops/workbench/store_sql.py holds what differs. The store survives restarts, and the feed's
positions are stored in the same transactions as the cases they opened, so a restart resumes the
topics exactly where the store stops. Every action is decided (rules/casework.py) and recorded
inside one write transaction that locks the case (SQLite: BEGIN IMMEDIATE; PostgreSQL: the case
row FOR UPDATE): two people acting on one case at once are serialised, and the second is judged
against the first's result.
What an action must send (the disposition, the release) goes into an outbox in that same
transaction; the publisher (ops/workbench/publisher.py) sends it and marks it sent, so nothing
recorded is lost and nothing is sent that was not recorded.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ops.workbench.store_rows import (
    CaseRow,
    NewCase,
    OutboxEntry,
    RecordBuilder,
    Session,
    case_id_of,
    case_row,
    proposal_json,
)
from ops.workbench.store_sql import SCHEMA, SCHEMA_VERSION, Db, open_db
from rules.casework import Action, Refused, State, Step, decide

# The records are imported from here by the rest of the workbench.
__all__ = ["CaseRow", "NewCase", "OutboxEntry", "RecordBuilder", "Session", "Store", "case_id_of"]


class Store:
    """The store on a SQLite path or a `postgresql://` URL. Thread-safe: one connection, one lock
    (one workbench process is the store's only writer, see store_sql.writer_lock)."""

    def __init__(self, path: Path | str) -> None:
        self._db: Db = open_db(path)
        self._lock = threading.RLock()
        with self._lock:
            self._db.script(SCHEMA.format_map(self._db.types))
            self._db.execute(
                "INSERT INTO meta (name, value) VALUES ('schema_version', ?) ON CONFLICT DO NOTHING",
                (str(SCHEMA_VERSION),),
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _write(self) -> Iterator[Db]:
        with self._lock, self._db.write() as db:
            yield db

    # -- the feed -----------------------------------------------------------------------------

    def ingest(
        self,
        cases: Sequence[NewCase] = (),
        payments: Sequence[tuple[str, bytes, str]] = (),
        settled: Sequence[str] = (),
        positions: Sequence[tuple[str, int, int]] = (),
        now: str = "",
        dead_letters: Sequence[tuple[str, dict[str, Any]]] = (),
    ) -> int:
        """One batch from the topics, in one transaction: new cases (a payment already cased is
        left as it is: a decision read again is the same decision), payments' raw bytes, the
        payments whose decision needs no case (their bytes are dropped), the records that could
        not be read (dead-letters, by source position), and the positions after the batch.
        Returns the number of cases opened."""
        opened = 0
        with self._write() as db:
            for raw_id, raw, source in payments:
                db.execute(
                    "INSERT INTO payments (payment_id, raw, source) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    (raw_id, raw, source),
                )
            for c in cases:
                digest = hashlib.sha256(c.decision_json.encode("utf-8", "surrogatepass")).hexdigest()
                cur = db.execute(
                    "INSERT INTO cases (case_id, payment_id, decision, decision_digest, screened_at, "
                    "severity, four_eyes, state, pending, account_id, search, opened_at, updated_at, source) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
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
            db.execute_many(
                "DELETE FROM payments WHERE payment_id = ? AND payment_id NOT IN (SELECT payment_id FROM cases)",
                [(p,) for p in settled],
            )
            db.execute_many(
                "INSERT INTO dead_letters (source, record) VALUES (?, ?) ON CONFLICT DO NOTHING",
                [(source, json.dumps(record)) for source, record in dead_letters],
            )
            db.execute_many(
                "INSERT INTO positions (topic, partition, next_offset) VALUES (?, ?, ?) "
                "ON CONFLICT (topic, partition) DO UPDATE SET next_offset = excluded.next_offset",
                positions,
            )
        return opened

    def dead_letters(self, limit: int = 100) -> list[dict[str, Any]]:
        """The latest records the feed could not read, newest first."""
        with self._lock:
            rows = self._db.rows("SELECT record FROM dead_letters ORDER BY seq DESC LIMIT ?", (limit,))
        return [dict(json.loads(r["record"])) for r in rows]

    def dead_letter_count(self) -> int:
        with self._lock:
            return int(self._db.one("SELECT count(*) AS n FROM dead_letters")["n"])

    def positions(self, topic: str) -> dict[int, int]:
        with self._lock:
            rows = self._db.rows("SELECT partition, next_offset FROM positions WHERE topic = ?", (topic,))
            return {int(r["partition"]): int(r["next_offset"]) for r in rows}

    def payment(self, payment_id: str) -> tuple[bytes, str] | None:
        with self._lock:
            row = self._db.one("SELECT raw, source FROM payments WHERE payment_id = ?", (payment_id,))
        return None if row is None else (bytes(row["raw"]), str(row["source"]))

    # -- cases --------------------------------------------------------------------------------

    def case(self, case_id: str) -> CaseRow | None:
        with self._lock:
            row = self._db.one("SELECT * FROM cases WHERE case_id = ?", (case_id,))
        return None if row is None else case_row(row)

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
            sql += f" AND {self._db.find}(search, ?) > 0"
            args.append(search.strip().lower()[:200])
        sql += " ORDER BY screened_at, case_id LIMIT ? OFFSET ?"
        args += [max(1, min(limit, 1000)), max(0, offset)]
        with self._lock:
            return [case_row(r) for r in self._db.rows(sql, args)]

    def open_summary(self) -> tuple[int, str | None, dict[str, int]]:
        """(open cases, the oldest open case's screened_at, open cases by state)."""
        with self._lock:
            rows = self._db.rows(
                "SELECT state, count(*) AS n, min(screened_at) AS oldest FROM cases "
                "WHERE state NOT IN ('released', 'stopped') GROUP BY state"
            )
        by_state = {str(r["state"]): int(r["n"]) for r in rows}
        oldest = min((str(r["oldest"]) for r in rows), default=None)
        return sum(by_state.values()), oldest, by_state

    def closed_summary(self) -> dict[str, int]:
        """Closed cases by outcome: released and stopped (for the metrics)."""
        with self._lock:
            rows = self._db.rows(
                "SELECT state, count(*) AS n FROM cases WHERE state IN ('released', 'stopped') GROUP BY state"
            )
        return {str(r["state"]): int(r["n"]) for r in rows}

    def dispositions_by(self) -> dict[tuple[str, str], int]:
        """How many dispositions of each kind each person has made (for the metrics)."""
        with self._lock:
            rows = self._db.rows("SELECT kind, actor, count(*) AS n FROM dispositions GROUP BY kind, actor")
            return {(str(r["kind"]), str(r["actor"])): int(r["n"]) for r in rows}

    def history(self, case_id: str) -> list[dict[str, Any]]:
        """The case's dispositions in the order they were recorded."""
        with self._lock:
            rows = self._db.rows("SELECT record FROM dispositions WHERE case_id = ? ORDER BY seq", (case_id,))
            return [json.loads(r["record"]) for r in rows]

    def release(self, case_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.one("SELECT record FROM releases WHERE case_id = ?", (case_id,))
        return None if row is None else dict(json.loads(row["record"]))

    def act(self, case_id: str, action: Action, build: RecordBuilder, now: str) -> tuple[CaseRow, Step]:
        """Decide the action on the case as it is inside the transaction and record the result:
        the case's new state, the disposition, the release if the case closed, and their outbox
        entries. Raises Refused (nothing recorded) when the rules do not allow it."""
        with self._write() as db:
            row = db.one(f"SELECT * FROM cases WHERE case_id = ?{db.for_update}", (case_id,))  # noqa: S608 (a constant)
            if row is None:
                raise Refused("no_case", "no held payment has this case id")
            before = case_row(row)
            if db.one("SELECT 1 FROM dispositions WHERE disposition_id = ?", (action.disposition_id,)):
                raise Refused("duplicate", "this disposition was already recorded")
            step = decide(before.as_case(), action)
            disposition, release = build(before, action, step)
            pending = step.case.pending
            db.execute(
                "UPDATE cases SET state = ?, pending = ?, updated_at = ? WHERE case_id = ?",
                (step.case.state.value, proposal_json(pending), now, case_id),
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
            rows = self._db.rows(
                "SELECT seq, kind, event_id, payment_id, record FROM outbox WHERE sent_at IS NULL ORDER BY seq LIMIT ?",
                (limit,),
            )
        return [
            OutboxEntry(
                int(r["seq"]), str(r["kind"]), str(r["event_id"]), str(r["payment_id"]), json.loads(r["record"])
            )
            for r in rows
        ]

    def mark_sent(self, seqs: Sequence[int], at: str) -> None:
        with self._write() as db:
            db.execute_many("UPDATE outbox SET sent_at = ? WHERE seq = ?", [(at, s) for s in seqs])

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
            row = self._db.one(
                "SELECT user_name, csrf, expires_at FROM sessions WHERE token_hash = ? AND expires_at >= ?",
                (token_hash, now),
            )
        return None if row is None else Session(str(row["user_name"]), str(row["csrf"]), float(row["expires_at"]))

    def drop_session(self, token_hash: str) -> None:
        with self._write() as db:
            db.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash,))


def _outbox(db: Db, kind: str, event_id: str, payment_id: str, record: dict[str, Any]) -> None:
    db.execute(
        "INSERT INTO outbox (kind, event_id, payment_id, record) VALUES (?, ?, ?, ?)",
        (kind, event_id, payment_id, json.dumps(record)),
    )
