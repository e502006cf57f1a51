"""`screener produce`: every valid line is sent, every bad one reported; no line stops the file."""

import io
import json

from confluent_kafka import KafkaError, KafkaException

import ops.kafka_commands
from ops.kafka_commands import produce_payments
from streams.settings import Settings
from tests.conftest import payment

LIMIT = 250_000  # the fake topic's largest record


class FakeSender:
    def __init__(self, settings):
        self.sent = 0
        self.errors: list[str] = []
        self.records: list[tuple[bytes | None, bytes]] = []

    def send(self, topic, key, value, partition=None):
        if len(value) > LIMIT:
            raise KafkaException(KafkaError(KafkaError.MSG_SIZE_TOO_LARGE))
        self.sent += 1
        self.records.append((key, value))

    def flush(self, timeout=30.0):
        pass


def test_deep_nesting_huge_numbers_and_oversized_lines_do_not_stop_the_file(monkeypatch):
    senders: list[FakeSender] = []

    def sender(settings):
        senders.append(FakeSender(settings))
        return senders[-1]

    monkeypatch.setattr(ops.kafka_commands, "ensure_topics", lambda settings: None)
    monkeypatch.setattr(ops.kafka_commands, "Sender", sender)
    good = [json.dumps(payment(payment_id=f"OK-{i}")).encode() for i in range(50)]
    bad = [
        b"[" * 100_000 + b"]" * 100_000,  # deeper than any JSON parser's recursion
        b'{"payment_id": "BIG", "amount": ' + b"9" * 5000 + b"}",  # a 5,000-digit number
        b'{"payment_id": "HUGE", "x": "' + b"a" * (LIMIT + 10) + b'"}',  # too large for the topic
    ]
    lines = good[:10] + bad[:2] + good[10:30] + bad[2:] + good[30:]
    sent, raw, errors = produce_payments(Settings(), io.BytesIO(b"\n".join(lines) + b"\n"), None, raw=False)
    keys = [k for k, _ in senders[0].records]
    assert [k for k in keys if k and k.startswith(b"OK-")] == [f"OK-{i}".encode() for i in range(50)]
    assert sent == 52 and raw == 3  # the two unreadable lines are sent as they are, for the dead-letter topic
    assert len(errors) == 1 and errors[0].startswith("line 33: not sent")
