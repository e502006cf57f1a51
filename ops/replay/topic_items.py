"""Payment records from the `payments` topic as replay items, read as the worker reads them.

A record is a JSON event, an Avro event (single-object or Confluent wire format), or an ISO 20022
or MT message holding one or more transactions (schemas/inbound.py): each transaction is an item;
what cannot be read is a bad input with the record's position (SPEC 2.6).
"""

from __future__ import annotations

from collections.abc import Iterator

from ops.file_inputs import BadInput, Item
from ops.replay.kafka_sources import TopicRecord
from rules.payment_parsing import PaymentError, parse_payment
from schemas.codec import CodecError
from schemas.inbound import MESSAGE_FORMATS, bounded_errors, input_format, message_payments, read_messages
from schemas.messages import NO_MAPPING, AccountMapping
from streams.serde import Serde

MAX_ERRORS_PER_RECORD = 20


def record_items(record: TopicRecord, serde: Serde, accounts: AccountMapping = NO_MAPPING) -> Iterator[Item | BadInput]:
    raw = record.value
    where = record.position
    if not raw:
        yield BadInput(where, record.offset, b"", "empty record: no payment")
        return
    fmt = input_format(raw)
    if fmt == "json":
        yield Item(where, record.offset, raw)
        return
    if fmt in MESSAGE_FORMATS:
        errors: list[str] = []
        for message in read_messages(raw, fmt, accounts):
            payments, bad = message_payments(message)
            errors.extend(bad)
            for payment, _adapted in payments:
                yield Item(where, record.offset, message.data, payment)
        for error in bounded_errors(errors, MAX_ERRORS_PER_RECORD, "transactions or messages of this record"):
            yield BadInput(where, record.offset, raw, error)
        return
    try:
        payment = parse_payment(serde.decode(record.topic, "Payment", raw))
    except (CodecError, PaymentError) as exc:
        yield BadInput(where, record.offset, raw, str(exc))
        return
    yield Item(where, record.offset, raw, payment)
