"""Transaction values of an ISO 20022 message (an amount and its currency, a date or date-time)
and Out, the payment (or a COV's underlying transfer) being built with the element path of each
value, for schemas/iso20022_transaction.py.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from schemas.iso20022_fields import Line, Record, Sources, put_lines
from schemas.iso20022_tree import FieldError, Node, common, text

_AMOUNT = re.compile(r"^\d{1,18}(\.\d{1,5})?$")
_CCY = re.compile(r"^[A-Z]{3}$")
_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_LISTS = frozenset({"intermediary_agents", "previous_instructing_agents"})


def amount(el: Node, name: str) -> tuple[str, str]:
    """An ActiveCurrencyAndAmount as decimal text (never a float) and its currency."""
    value, ccy = text(el), str(el.el.get("Ccy") or "")
    if not _AMOUNT.match(value):
        raise FieldError(f"{name} {value[:40]!r} is not a decimal amount (up to 18 digits, 5 decimals)")
    if not _CCY.match(ccy):
        raise FieldError(f"{name} has no ISO 4217 currency (Ccy={ccy[:12]!r})")
    return value, ccy


def instant(el: Node, name: str) -> datetime:
    """An ISODate (at 00:00Z) or ISODateTime, in UTC."""
    value = text(el)
    try:
        if _DATE.match(value):
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        if (m := _DATETIME.match(value)) is None:
            raise ValueError(value)
        # CBPR+ requires an offset; a time without one is read as UTC. Python keeps 6 fraction digits.
        return datetime.fromisoformat(m[1] + (f".{m[2][:6]}" if m[2] else "") + (m[3] or "Z")).astimezone(UTC)
    except (ValueError, OverflowError):
        raise FieldError(f"{name} {value[:40]!r} is not an ISO 8601 date or date-time") from None


class Out:
    """A payment, or its underlying transfer, being built: values with their element paths, in a
    source map shared with the payment (keys under `prefix`)."""

    def __init__(self, sources: Sources, prefix: str = "") -> None:
        self.data: dict[str, Any] = {}
        self.sources = sources
        self.prefix = prefix

    def value(self, key: str, value: str, path: str) -> None:
        self.data[key] = value
        self.sources[self.prefix + key] = path

    def record(self, key: str, rec: Record) -> None:
        base = key
        if key in _LISTS:
            items = self.data.setdefault(key, [])
            base = f"{key}[{len(items)}]"
            items.append(rec[0])
            whole = self.prefix + key
            self.sources[whole] = common([self.sources.get(whole, rec[1][""]), rec[1][""]])
        else:
            self.data[key] = rec[0]
        for sub, path in rec[1].items():
            self.sources[self.prefix + base + (f".{sub}" if sub else "")] = path

    def lines(self, key: str, lines: list[Line]) -> None:
        src: Sources = {}
        put_lines(self.data, src, key, lines)
        self.sources.update((self.prefix + k, p) for k, p in src.items())

    def amount(self, el: Node, path: str, name: str) -> None:
        value, ccy = amount(el, name)
        self.value("amount", value, path)
        self.value("currency", ccy, path + "/@Ccy")
