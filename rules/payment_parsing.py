"""Parsing a payment event (SPEC 1.1) from JSON: strict decoding (a repeated key is an error, SPEC
2.6; so are too deep nesting and over-long numbers), validation against the models
(rules/payment.py) and the one precise message that says why an input is not a payment.

A payment that does not meet the contract is never screened on a guess: parse_payment raises
PaymentError with one precise message, and the caller dead-letters the input.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from pydantic import ValidationError

from rules.payment import MESSAGE_TYPES, Payment


class PaymentError(ValueError):
    """Input that is not a valid payment event; the message says exactly why."""


def _describe(exc: ValidationError) -> str:
    parts: list[str] = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in err["loc"])
        loc = loc.replace(".[", "[")
        kind = err["type"]
        if kind == "missing":
            msg = "required field is missing"
        elif kind == "extra_forbidden":
            msg = "unknown field (not in the payment contract, SPEC 1.1)"
        elif loc.endswith("amount") and isinstance(err.get("input"), float | int):
            msg = 'must be a decimal string such as "1250.00", never a JSON number'
        elif kind == "literal_error" and loc == "message_type":
            msg = f"unknown message_type {err.get('input')!r}; expected one of {', '.join(MESSAGE_TYPES)}"
        elif kind == "string_too_long":
            limit = err.get("ctx", {}).get("max_length")
            msg = f"oversized field: {len(str(err.get('input', '')))} characters, limit {limit}"
        elif kind == "too_long":
            msg = f"too many items, limit {err.get('ctx', {}).get('max_length')}"
        else:
            msg = err["msg"].removeprefix("Value error, ")
        parts.append(f"{loc or 'payment'}: {msg}" if loc else msg)
    return "; ".join(parts)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are all different: a repeated key is an evasion (one reader takes
    the first, another the last), never resolved silently (SPEC 2.6)."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        dupes = sorted(k for k, n in Counter(k for k, _ in pairs).items() if n > 1)
        raise PaymentError(f"duplicate JSON key {', '.join(repr(k[:64]) for k in dupes[:5])}")
    return obj


# One decoder for every payment: json.loads with a hook builds a new one per call.
_DECODER = json.JSONDecoder(object_pairs_hook=_unique_keys)


def _json_object(data: bytes | str) -> Any:
    """The JSON value of data, rejecting repeated keys, too deep nesting and over-long numbers."""
    try:
        # Bytes as json.loads reads them: UTF-8, -16 or -32 by their first bytes (RFC 8259 section 8.1).
        text = data.decode(json.detect_encoding(data), "surrogatepass") if isinstance(data, bytes) else data
        return _DECODER.decode(text)
    except RecursionError:
        raise PaymentError("not valid JSON: nested too deeply") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PaymentError(f"not valid JSON: {exc}") from None
    except ValueError as exc:  # int() of a number over sys.get_int_max_str_digits() digits
        raise PaymentError(f"not valid JSON: {str(exc)[:120]}") from None


def parse_payment(data: bytes | str | dict[str, Any]) -> Payment:
    """Validate a payment event from JSON text or a decoded mapping."""
    value = data if isinstance(data, dict) else _json_object(data)
    try:
        return Payment.model_validate(value)
    except ValidationError as exc:
        if any(e["type"] == "model_type" and not e["loc"] for e in exc.errors()):
            raise PaymentError("a payment event must be a JSON object") from None
        raise PaymentError(_describe(exc)) from None
