"""Input as producers have it: the format of a record or file told from its content, and the
messages in it adapted to payment events.

The `payments` topic, `screener screen --input` and `screener produce` all read through here, so
a producer sends ISO 20022 XML, SWIFT MT or our JSON contract as it has them:

- `<` (after any byte-order mark and white space): ISO 20022 XML, one message or several
  (schemas/iso20022.py);
- `{1:`: SWIFT FIN MT, one message or several (schemas/swift_mt.py);
- `{`: a JSON payment event (SPEC 1.1), validated by rules.payment_parsing.parse_payment;
- anything else: left to the Avro decoders of the stream (streams/serde.py), which name what
  they found if it is not Avro either.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from rules.payment import Payment
from rules.payment_parsing import PaymentError, parse_payment
from schemas.iso20022 import parse_iso20022, split_iso20022
from schemas.messages import NO_MAPPING, AccountMapping, Adapted, MessageError
from schemas.swift_mt import parse_mt, split_mt

Format = Literal["iso20022", "mt", "json", "other"]
MESSAGE_FORMATS: tuple[Format, ...] = ("iso20022", "mt")
_LEADING = b"\xef\xbb\xbf \t\r\n"


def input_format(data: bytes) -> Format:
    """The format of a record or file, from its first bytes."""
    head = data[:64].lstrip(_LEADING)
    if head.startswith(b"<"):
        return "iso20022"
    if head.lstrip(b"$" + _LEADING).startswith(b"{1:"):  # "$" separates MT messages, first one too
        return "mt"
    if head.startswith(b"{"):
        return "json"
    return "other"


@dataclass(frozen=True, slots=True)
class Message:
    """One message of a record or file: where it starts, its bytes, and its transactions adapted
    (or why it cannot be read: `error`)."""

    offset: int
    data: bytes
    adapted: tuple[Adapted, ...] = ()
    error: str | None = None


def split_messages(data: bytes, fmt: Format) -> list[tuple[int, bytes]]:
    """(byte offset, bytes) of each message in data; MessageError when the whole cannot be split."""
    parts = split_iso20022(data) if fmt == "iso20022" else split_mt(data)
    out: list[tuple[int, bytes]] = []
    position = 0
    for part in parts:
        found = data.find(part, position)
        offset = found if found >= 0 else position
        out.append((offset, part))
        position = offset + len(part) if found >= 0 else position
    return out


def adapt_one(data: bytes, fmt: Format, accounts: AccountMapping = NO_MAPPING) -> tuple[Adapted, ...]:
    """The transactions of one message; MessageError when it cannot be read at all."""
    if fmt == "iso20022":
        return tuple(parse_iso20022(data, accounts))
    if fmt == "mt":
        return (parse_mt(data, accounts),)
    raise MessageError(f"not an ISO 20022 or MT message ({fmt})")


def read_messages(data: bytes, fmt: Format, accounts: AccountMapping = NO_MAPPING) -> Iterator[Message]:
    """Every message in data with its transactions; a message that cannot be read, or data that
    cannot be split into messages, comes out with its error and its bytes, never dropped."""
    try:
        parts = split_messages(data, fmt)
    except MessageError as exc:
        yield Message(0, data, error=str(exc))
        return
    if not parts:
        yield Message(0, data, error=f"no {'ISO 20022' if fmt == 'iso20022' else 'MT'} message found")
        return
    for offset, part in parts:
        try:
            yield Message(offset, part, adapt_one(part, fmt, accounts))
        except MessageError as exc:
            yield Message(offset, part, error=str(exc))
        except Exception as exc:  # noqa: BLE001 - an adapter's defect on one message must not stop the run (SPEC 2.6)
            yield Message(offset, part, error=str(MessageError(f"message cannot be read: {type(exc).__name__}: {exc}")))


def message_payments(message: Message, where: str = "") -> tuple[list[tuple[Payment, dict[str, Any]]], list[str]]:
    """The transactions of one message as validated payments (each with its adapted JSON form,
    the input of its idempotency digest), and why each of the others cannot be screened, every
    error led by `where` (which message of a record). The one walk both the file screener and the
    worker take, so a message reads the same offline and on the topic."""
    if message.error is not None:
        return [], [where + message.error]
    payments: list[tuple[Payment, dict[str, Any]]] = []
    errors: list[str] = []
    for item in message.adapted:
        if item.payment is None:
            errors.append(where + (item.error or f"{item.label}: cannot be read"))  # the adapter names it
            continue
        try:
            payments.append((parse_payment(item.payment), item.payment))
        except PaymentError as exc:
            errors.append(f"{where}{item.label}: {exc}")
    return payments, errors


def bounded_errors(errors: list[str], limit: int, what: str) -> list[str]:
    """The errors as they are, or, past `limit`, one naming how many and the first five: each
    dead-letter carries the input's bytes, so a message of a thousand unreadable transactions
    gives one dead-letter, not a thousand copies."""
    if len(errors) <= limit:
        return errors
    return [f"{len(errors)} {what} cannot be screened; the first: {'; '.join(errors[:5])}"]
