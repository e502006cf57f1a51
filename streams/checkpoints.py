"""Signed checkpoints of the audit trail: an anchor kept outside Kafka.

A chain can only be judged against something the broker cannot change. A checkpoint is a chain's
(sequence, hash) at a moment, signed with the audit key (HMAC-SHA256), written by `screener audit
checkpoint` to a file the bank keeps elsewhere (write-once storage). Against them, verification
tells apart:

- a truncated tail or a broker that lost its data: the chain ends before a checkpointed sequence;
- a rewritten chain: the record at a checkpointed sequence has another hash;
- retention (archived oldest records) from deletion: a chain starting after sequence 0 verifies
  when a checkpoint vouches for a record in it; records missing in the middle never do.

The file holds every checkpoint taken (a history), one JSON object per line.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from streams.settings import Settings


class CheckpointError(ValueError):
    """A checkpoint file that cannot be trusted: unreadable, or a signature that does not verify."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """One chain's tip at a moment, signed."""

    chain: str
    sequence: int
    hash: str
    taken_at: str
    key_id: str
    mac: str = ""

    def payload(self) -> bytes:
        fields = {k: v for k, v in asdict(self).items() if k != "mac"}
        return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def sign(checkpoint: Checkpoint, settings: Settings) -> Checkpoint:
    """The checkpoint signed with the active audit key."""
    key_id, keys = settings.audit_keyring()
    unsigned = Checkpoint(checkpoint.chain, checkpoint.sequence, checkpoint.hash, checkpoint.taken_at, key_id)
    mac = hmac.new(keys[key_id], unsigned.payload(), hashlib.sha256).hexdigest()
    return Checkpoint(unsigned.chain, unsigned.sequence, unsigned.hash, unsigned.taken_at, key_id, mac)


def append(path: Path, checkpoints: list[Checkpoint]) -> None:
    """Add checkpoints to the file (created if need be); earlier ones are kept."""
    with path.open("a", encoding="utf-8") as f:
        for cp in checkpoints:
            f.write(json.dumps(asdict(cp), sort_keys=True) + "\n")


def load(path: Path, settings: Settings) -> dict[str, list[Checkpoint]]:
    """Every checkpoint of the file by chain, oldest sequence first, each signature verified.

    Raises CheckpointError for an unreadable line or a signature that does not verify: a forged
    anchor would be worse than none.
    """
    _, keys = settings.audit_keyring()
    by_chain: dict[str, list[Checkpoint]] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise CheckpointError(f"cannot read {path}: {exc.strerror}") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            cp = Checkpoint(**json.loads(line))
        except (ValueError, TypeError) as exc:
            raise CheckpointError(f"{path}:{number}: not a checkpoint: {str(exc)[:200]}") from None
        key = keys.get(cp.key_id)
        expected = hmac.new(key, cp.payload(), hashlib.sha256).hexdigest() if key else ""
        if not key or not hmac.compare_digest(expected, cp.mac):
            raise CheckpointError(f"{path}:{number}: checkpoint of {cp.chain} does not verify under key {cp.key_id!r}")
        by_chain.setdefault(cp.chain, []).append(cp)
    for cps in by_chain.values():
        cps.sort(key=lambda c: c.sequence)
    return by_chain
