"""Parse cost per message by input format (`screener bench --formats`): the microseconds from a
record's bytes to a validated payment, for ISO 20022 and MT messages beside the JSON contract,
measured in the same run (ratio to JSON reported).

Each format is timed on the sample messages in ops/samples/messages (CBPR+ pacs.008, pacs.009
and COV; MT103, MT202 and MT202COV) and the JSON payments of ops/samples/payments.jsonl, each
repeated until the run lasts long enough to measure; the best of several rounds is kept, since
a shared machine only ever adds time.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rules import parse_payment
from schemas.inbound import MESSAGE_FORMATS, input_format, read_messages

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
ROUNDS = 5


def _json(data: bytes) -> int:
    parse_payment(data)
    return 1


def _message(data: bytes) -> int:
    count = 0
    fmt = input_format(data)
    for message in read_messages(data, fmt):
        for item in message.adapted:
            if item.payment is not None:
                parse_payment(item.payment)
                count += 1
    return count


def _kind(data: bytes) -> str:
    """The message type of a sample ("pacs.009.cov", "MT202COV")."""
    for message in read_messages(data, input_format(data)):
        for item in message.adapted:
            if item.payment is not None:
                return str(item.payment["message_type"])
    return "unreadable"


def _best_us(parse: Callable[[bytes], int], records: list[bytes], quick: bool) -> tuple[float, int]:
    """Best microseconds per payment over ROUNDS, and payments per message."""
    repeat = max(1, (200 if quick else 2000) // len(records))
    best = float("inf")
    payments = 0
    for _ in range(ROUNDS):
        payments = 0
        started = time.perf_counter()
        for _ in range(repeat):
            for data in records:
                payments += parse(data)
        best = min(best, (time.perf_counter() - started) / payments * 1e6)
    return best, payments // (repeat * len(records))


def run(quick: bool = False) -> dict[str, Any]:
    """Figures per format, with each one's ratio to the JSON contract."""
    lines = [line for line in (SAMPLES / "payments.jsonl").read_bytes().splitlines() if line.strip()]
    by_kind: dict[str, list[bytes]] = defaultdict(list)
    for path in sorted((SAMPLES / "messages").iterdir()):
        data = path.read_bytes()
        if input_format(data) in MESSAGE_FORMATS:
            by_kind[_kind(data)].append(data)
    json_us, _ = _best_us(_json, lines, quick)
    figures: dict[str, Any] = {
        "json": {"us_per_payment": round(json_us, 1), "ratio_to_json": 1.0, "samples": len(lines)}
    }
    for kind, records in sorted(by_kind.items()):
        us, per_message = _best_us(_message, records, quick)
        figures[kind] = {
            "us_per_payment": round(us, 1),
            "ratio_to_json": round(us / json_us, 1),
            "samples": len(records),
            "bytes_per_message": round(sum(map(len, records)) / len(records)),
            "payments_per_message": per_message,
        }
    return {"parse_cost": figures, "rounds": ROUNDS, "quick": quick}
