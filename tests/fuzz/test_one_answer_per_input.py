"""Fuzzing: every input to the decoder, the file screener and the worker's per-record path gets
exactly one answer (a decision or a dead-letter) and never an exception (SPEC 2.6).

Seeded and bounded (derandomized, a fixed number of examples), so CI runs the same cases every
time; the strategies mix valid payments, mutations of them and arbitrary bytes.
"""

from __future__ import annotations

import io
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ops.screen_file import FileScreener
from rules import PaymentError, parse_payment
from streams.audit import AuditChains
from streams.processing import PaymentProcessor
from streams.records import Source
from streams.serde import Serde
from streams.settings import Settings
from streams.stores import Decided
from tests.conftest import payment, registry

FUZZ = settings(
    max_examples=300,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
json_values = st.recursive(
    json_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
)
FIELDS = [*payment().keys(), "instructions", "ultimate_creditor", "intermediary_agents", "authorization"]


@st.composite
def mutated_payments(draw: Any) -> bytes:
    """A valid payment with some fields replaced by arbitrary JSON values, or removed."""
    base = payment()
    for field in draw(st.lists(st.sampled_from(FIELDS), max_size=4)):
        if draw(st.booleans()):
            base[field] = draw(json_values)
        else:
            base.pop(field, None)
    return json.dumps(base).encode()


inputs = st.one_of(
    mutated_payments(),
    st.binary(max_size=400),
    st.text(max_size=200).map(str.encode),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.sampled_from(
        [
            b"[" * 50_000,
            b'{"payment_id": "A", "payment_id": "B"}',
            json.dumps(payment(created_at="0001-01-01T00:00:00Z")).encode(),
            json.dumps(payment(created_at="9999-12-31T23:59:59-12:00")).encode(),
            b'{"amount": ' + b"9" * 5000 + b"}",
        ]
    ),
)


@FUZZ
@given(raw=inputs)
def test_decoder_answers_with_a_payment_or_a_precise_error(raw: bytes) -> None:
    error = ""
    try:
        parse_payment(raw)
    except PaymentError as exc:
        error = str(exc) or "(empty)"
    assert len(error) < 10_000


@FUZZ
@given(lines=st.lists(inputs, min_size=1, max_size=6))
def test_file_screener_answers_every_line_once(rules: Any, lines: list[bytes]) -> None:
    lines = [line.replace(b"\n", b" ").replace(b"\r", b" ") for line in lines]
    out, dead = io.StringIO(), list[dict[str, Any]]()
    # Named as JSON Lines: a file of lines is one answer per line only as JSON Lines. Unnamed, a
    # first line such as "<" makes the whole file one XML input with one answer (tested in
    # tests/fuzz/test_message_fuzz.py).
    source = "fuzz.jsonl"
    summary = FileScreener(rules, registry()).run(source, io.BytesIO(b"\n".join(lines) + b"\n"), out, dead.append)
    answered = len(out.getvalue().splitlines()) + len(dead) + summary.blank_lines
    assert answered == len(lines)


@FUZZ
@given(values=st.lists(inputs, min_size=1, max_size=4))
def test_worker_path_answers_every_record_once(rules: Any, values: list[bytes]) -> None:
    config = Settings(partitions=2)
    chains = AuditChains(config, Serde(config))
    chains.start_at(0)
    processor = PaymentProcessor(config, Serde(config), chains, rules, registry(), Decided())
    for offset, value in enumerate(values):
        [outcome] = processor.process(Source("payments", 0, offset, b"k", value, 1_750_000_000.0))
        topics = [o.topic for o in outcome.outputs]
        answered = topics.count(config.topics.decisions) + topics.count(config.topics.dead_letter)
        assert answered == 1, topics
