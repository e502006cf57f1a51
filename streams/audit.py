"""The audit trail (SPEC 2.5): append-only records, hash-chained per audit partition, keyed.

Each record carries its chain, sequence number, the previous record's hash and its own hash, an
HMAC-SHA256 over every other field under a key only the service holds (SCREENER_AUDIT_KEYS; the
record names its key_id, so keys can be rotated). A removed, reordered or altered record breaks
the chain, and a record written by anyone without the key, however well chained, does not verify.
The trail is also an input (the decided store is rebuilt from it), so the worker verifies what it
loads and trusts nothing past a break.
One writer per chain: the worker owning the matching payments partition; for the registry chain
(partition N), the owner of the registry topics; for the casework chain (partition N+1, see
streams/topics.py), the analyst workbench alone, which records there each disposition and release
(kinds `disposition` and `release`) in this same record format. On every (re)assignment the
writer reads the chain's tip from the topic itself, so a replay after a crash extends the chain
instead of forking it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from streams.decision_record import canonical_json
from streams.serde import Serde
from streams.settings import Settings

GENESIS = "0" * 64


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def record_hash(record: dict[str, Any], key: bytes) -> str:
    """HMAC-SHA256 under key over every field but `hash`, in canonical JSON.

    The record's fields are strings and integers, whose canonical_json text is canonical()'s, byte
    for byte (tests/streams/test_audit_canonical.py): records written before verify as before."""
    body = canonical_json({k: v for k, v in record.items() if k != "hash"}).encode()
    return hmac.new(key, body, hashlib.sha256).hexdigest()


@dataclass
class Tip:
    sequence: int
    last_hash: str


class AuditChains:
    """The chains this worker writes: their tips, and the records that extend them."""

    def __init__(
        self, settings: Settings, serde: Serde, sink: Callable[[int, bytes, bytes], None] | None = None
    ) -> None:
        self._settings = settings
        self._serde = serde
        # Raises AuditKeyError without a key: no trail is written that anyone could forge.
        self._key_id, self._keys = settings.audit_keyring()
        self._tips: dict[int, Tip] = {}
        # Called with each record as it is appended: records must reach the topic in sequence
        # order, so nothing may run between extending the chain and producing the record.
        self._sink = sink

    def forget(self, partition: int | None = None) -> None:
        """Drop one chain's tip, or every tip (on rebalance): the chain's next writer re-reads it
        from the topic."""
        if partition is None:
            self._tips.clear()
        else:
            self._tips.pop(partition, None)

    def start_at(self, partition: int, sequence: int = 0, last_hash: str = GENESIS) -> None:
        """Set a chain's tip directly (a new chain, or one whose tip is known)."""
        self._tips[partition] = Tip(sequence, last_hash)

    def known(self, partition: int) -> bool:
        return partition in self._tips

    def recover(self, partition: int) -> None:
        """Read the chain's last record from the audit topic (blocking; run it in an executor)."""
        last = read_last_record(self._settings, self._serde, partition)
        if last is None:
            self._tips[partition] = Tip(0, GENESIS)
        else:
            self._tips[partition] = Tip(int(last["sequence"]) + 1, str(last["hash"]))

    def append(
        self,
        partition: int,
        *,
        kind: str,
        subject_id: str,
        input_digest: str,
        rules_version: str,
        registry_version: str,
        recorded_at: str,
        body: dict[str, Any] | None = None,
        body_json: str | None = None,
    ) -> tuple[bytes, bytes]:
        """The next record of a chain as (key, value) bytes; the tip moves on at once.

        The body is given as a dict, or already as canonical JSON (canonical(body)).
        """
        tip = self._tips[partition]
        chain = f"{self._settings.topics.audit}/{partition}"
        record: dict[str, Any] = {
            "audit_id": f"{chain}:{tip.sequence}",
            "kind": kind,
            "subject_id": subject_id,
            "chain": chain,
            "sequence": tip.sequence,
            "prev_hash": tip.last_hash,
            "hash": "",
            "key_id": self._key_id,
            "input_digest": input_digest,
            "rules_version": rules_version,
            "registry_version": registry_version,
            "recorded_at": recorded_at,
            "body": body_json if body_json is not None else canonical(body),
        }
        record["hash"] = record_hash(record, self._keys[self._key_id])
        value = self._serde.encode(self._settings.topics.audit, "AuditRecord", record)
        self._tips[partition] = Tip(tip.sequence + 1, record["hash"])
        if self._sink is not None:
            self._sink(partition, chain.encode(), value)
        return chain.encode(), value


def read_last_record(settings: Settings, serde: Serde, partition: int) -> dict[str, Any] | None:
    """The last record of one audit partition, or None when it is empty."""
    from streams.kafka_io import read_to_end

    last = read_to_end(settings, settings.topics.audit, partition)
    if last is None:
        return None
    return serde.decode(settings.topics.audit, "AuditRecord", last.value())
