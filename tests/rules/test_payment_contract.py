"""The payment event contract (SPEC 1.1): what is rejected, and with which message."""

import json

import pytest

from rules import PaymentError, parse_payment
from tests.conftest import payment


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"payment_id": "x"', "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (json.dumps(payment(payment_id=None)).encode(), "payment_id: required field is missing"),
        (json.dumps(payment(amount=12.5)).encode(), "amount: must be a decimal string"),
        (json.dumps(payment(amount="12,50")).encode(), "amount"),
        (json.dumps(payment(message_type="MT999")).encode(), "unknown message_type 'MT999'"),
        (
            json.dumps(payment(creditor_agent={})).encode(),
            "creditor_agent: institution has no identifying field",
        ),
        (
            json.dumps(payment(creditor={"name": "x" * 600})).encode(),
            "creditor.name: oversized field: 600 characters, limit 512",
        ),
        (json.dumps(payment(created_at="2025-06-10")).encode(), "RFC 3339"),
        (json.dumps(payment(created_at="2025-06-10T10:00:00")).encode(), "created_at"),
        (
            json.dumps(payment(intermediary_agents=[{"bic": "NOTABIC"}])).encode(),
            "intermediary_agents[0].bic",
        ),
        (
            json.dumps(payment(remitance_information=["typo"])).encode(),
            "remitance_information: unknown field",
        ),
        (json.dumps(payment(remittance_information=["x"] * 65)).encode(), "too many items"),
    ],
)
def test_bad_input_is_rejected_with_a_precise_message(raw, message):
    with pytest.raises(PaymentError) as err:
        parse_payment(raw)
    assert message in str(err.value)


def test_null_lists_are_empty_lists_and_bics_are_normalised():
    p = parse_payment(
        payment(intermediary_agents=None, remittance_information=None, creditor_agent={"bic": "kkbc kp py"})
        | {"previous_instructing_agents": None}
    )
    assert p.intermediary_agents == [] and p.previous_instructing_agents == []
    assert p.creditor_agent is not None and p.creditor_agent.bic == "KKBCKPPY"


def test_every_message_type_of_the_contract_is_accepted():
    for kind in ("pacs.008", "pacs.009", "pacs.009.cov", "MT103", "MT202", "MT202COV", "other"):
        assert parse_payment(payment(message_type=kind)).message_type == kind


@pytest.mark.parametrize("created_at", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59-12:00", "1969-12-31T23:59:59Z"])
def test_created_at_out_of_range_is_rejected_at_the_edge(created_at):
    with pytest.raises(PaymentError, match=r"created_at: .* is out of range"):
        parse_payment(payment(created_at=created_at))


def test_duplicate_keys_are_rejected_not_resolved_either_way():
    raw = (
        b'{"payment_id": "DUP", "message_type": "MT103", "created_at": "2025-06-10T10:00:00Z",'
        b' "creditor": {"name": "Korea Kwangson Banking Corp", "name": "Nordic Timber AS"}}'
    )
    with pytest.raises(PaymentError, match="duplicate JSON key 'name'"):
        parse_payment(raw)


def test_nesting_beyond_any_reader_is_rejected_with_a_precise_error():
    with pytest.raises(PaymentError, match="nested too deeply"):
        parse_payment(b"[" * 200_000 + b"]" * 200_000)


def test_a_number_of_thousands_of_digits_is_rejected_with_a_precise_error():
    raw = b'{"payment_id": "X", "message_type": "MT103", "created_at": "2025-06-10T10:00:00Z", "amount": ' + b"9" * 5000
    with pytest.raises(PaymentError, match="not valid JSON: Exceeds the limit"):
        parse_payment(raw + b"}")
