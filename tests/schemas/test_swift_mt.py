"""schemas.swift_mt: SWIFT FIN MT 103 / 202 / 202COV messages as payment events."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from rules import RuleSet, registry_from_mapping, screen
from rules.payment import source_field
from rules.payment_parsing import PaymentError, parse_payment
from schemas.messages import MAX_MESSAGE_BYTES, AccountMapping, MessageError
from schemas.swift_mt import is_mt, parse_mt, split_mt

SAMPLES = Path(__file__).parent / "messages" / "mt"
OPS = Path(__file__).parents[2] / "ops" / "samples" / "messages"
GOOD = ["mt103_full.fin", "mt103_structured_lf.fin", "mt202.fin", "mt202cov.fin"]
OPS_GOOD = sorted(p.name for p in OPS.glob("mt*.fin"))


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def adapt(data: bytes, accounts: AccountMapping | None = None) -> dict[str, Any]:
    adapted = parse_mt(data) if accounts is None else parse_mt(data, accounts)
    assert adapted.label == "message"
    assert adapted.error is None
    assert adapted.payment is not None
    assert adapted.payment["source_fields"] is adapted.source_fields
    return adapted.payment


def without_sources(payment: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payment.items() if k != "source_fields"}


def mutate(name: str, old: str, new: str | bytes) -> bytes:
    data = sample(name)
    assert old.encode() in data, old
    return data.replace(old.encode(), new if isinstance(new, bytes) else new.encode(), 1)


def test_mt103_maps_every_party_institution_and_text_field() -> None:
    assert without_sources(adapt(sample("mt103_full.fin"))) == {
        "message_type": "MT103",
        "payment_id": "6f1c2e9a-3b7d-4c21-9a5e-2d8f4b7c1e03",
        "created_at": "2025-09-16T00:00:00Z",
        "amount": "1250.00",
        "currency": "USD",
        "correspondent_account_id": "ACC-DE-001",
        "debtor": {
            "name": "ACME EXPORT GMBH",
            "account": "DE44500105175407324931",
            "address": ["HAFENSTRASSE 12", "20457 HAMBURG", "GERMANY"],
        },
        "debtor_agent": {"bic": "HNSEDEFFXXX"},
        # 53B is the settlement account alone: an account, not an institution on the way.
        "intermediary_agents": [{"bic": "ALPSCHZZ", "address": ["/C/9988776655"]}],
        "creditor_agent": {"bic": "NRTHNOKK"},
        "creditor": {
            "name": "NORDIC TIMBER AS",
            "account": "NO9386011117947",
            "address": ["STRANDGATA 5", "5013 BERGEN", "NORWAY"],
        },
        "remittance_information": ["/INV/2025-0916-17", "TIMBER DELIVERY AUGUST 2025"],
        "instructions": [
            "PHOB/+47 55 21 00 00",
            # A "//" continuation line as the message wraps it: the engine reads across the wrap.
            "/INS/PLEASE ADVISE BENEFICIARY BY",
            "//PHONE BEFORE CREDIT",
            "/BNF/REF NT-4471",
        ],
        "instructing_agent": {"bic": "HNSEDEFF"},
        "instructed_agent": {"bic": "FCNBUS33"},
    }


def test_mt103_source_tags() -> None:
    fields = adapt(sample("mt103_full.fin"))["source_fields"]
    assert {k: fields[k] for k in ("debtor", "debtor.name", "debtor.address[1]", "debtor.account")} == dict.fromkeys(
        ("debtor", "debtor.name", "debtor.address[1]", "debtor.account"), ":50K:"
    )
    assert fields["intermediary_agents[0]"] == ":56A:"
    assert fields["intermediary_agents[0].bic"] == ":56A:"
    assert fields["creditor.address[2]"] == ":59:"
    assert fields["remittance_information[0]"] == ":70:"
    assert fields["instructions[0]"] == ":23E:"
    assert fields["instructions[1]"] == ":72:"
    assert fields["payment_id"] == "{3:}{121:}"
    assert fields["correspondent_account_id"] == ":53B:"
    assert fields["instructing_agent"] == "block 1 sender"
    assert fields["instructed_agent.bic"] == "block 2 receiver"
    assert fields["amount"] == fields["created_at"] == ":32A:"
    assert source_field(fields, "creditor_agent.bic") == ":57A:"


def test_mt103_structured_50f_59f_from_an_output_message_with_lf_line_ends() -> None:
    data = sample("mt103_structured_lf.fin")
    assert b"\r" not in data
    payment = adapt(data)
    assert without_sources(payment) == {
        "message_type": "MT103",
        # No UETR: the sender's reference, unique only per sender, prefixed with the sender (MIR).
        "payment_id": "OAKBGB2L:OAK-7731-0916",
        # Input 16 Sep 2025 14:02 is later than the 15 Sep value date.
        "created_at": "2025-09-16T14:02:00Z",
        "amount": "98000",
        "currency": "GBP",
        "debtor": {
            "name": "BRIGHTWATER MARINE SUPPLIES LIMITED",
            "country": "GB",
            "account": "GB29NWBK60161331926819",
            # 4/ date of birth and 6/ customer number (completed by 8/) are kept as text.
            "address": ["14 QUAYSIDE ROAD", "SOUTHAMPTON SO14 2AQ", "4/19820311", "6/GB/COMPANIESHOUSE/04567781"],
        },
        "creditor": {
            "name": "HAN RIVER SHIPPING CO LTD",
            "country": "KR",
            "account": "KR1234567890123",
            "address": ["88 JUNGANG-DAERO", "BUSAN"],
        },
        "instructing_agent": {"bic": "OAKBGB2L"},
        "instructed_agent": {"bic": "FCNBUS33"},
    }
    fields = payment["source_fields"]
    assert fields["debtor.country"] == fields["debtor.address[3]"] == ":50F:"
    assert fields["creditor.name"] == ":59F:"
    assert fields["payment_id"] == ":20:"
    assert fields["created_at"] == "block 2 input time (MIR)"
    assert fields["instructing_agent"] == "block 2 sender (MIR)"
    assert fields["instructed_agent"] == "block 1 receiver"


def test_output_message_value_date_after_input_time_is_the_instant() -> None:
    data = mutate("mt103_structured_lf.fin", ":32A:250915GBP", ":32A:250918GBP")
    payment = adapt(data)
    assert payment["created_at"] == "2025-09-18T00:00:00Z"
    assert payment["source_fields"]["created_at"] == ":32A:"


def test_mt202_banks_as_parties() -> None:
    payment = adapt(sample("mt202.fin"))
    assert without_sources(payment) == {
        "message_type": "MT202",
        "payment_id": "0b6a7c0e-5d4f-4f3a-8e2b-91c7d3a5f610",
        "created_at": "2025-09-16T00:00:00Z",
        "amount": "2500000.00",
        "currency": "USD",
        "correspondent_account_id": "ACC-NESTED-OK",
        "debtor": {"bic": "ALPSCHZZ"},
        "intermediary_agents": [{"bic": "HNSEDEFF"}, {"bic": "ALPSCHZZ"}],
        "creditor_agent": {"bic": "GRNBUS33", "address": ["//FW021000021"]},
        "creditor": {
            "name": "NORTHERN FJORD BANK ASA",
            "account": "NO9386011117947",
            "address": ["FJORDVEIEN 1", "0250 OSLO"],
        },
        "instructions": ["/BNF/FX SETTLEMENT 16SEP25"],
        "instructing_agent": {"bic": "ALPSCHZZ"},
        "instructed_agent": {"bic": "FCNBUS33"},
    }
    fields = payment["source_fields"]
    # 56a first (pacs IntrmyAgt1), then the sender's correspondent 53a.
    assert fields["intermediary_agents[0]"] == ":56A:"
    assert fields["intermediary_agents[1].bic"] == ":53A:"
    assert fields["correspondent_account_id"] == ":53A:"
    assert fields["creditor_agent.address[0]"] == ":57A:"
    assert fields["debtor.bic"] == ":52A:"
    assert fields["creditor.account"] == ":58D:"


def test_mt202cov_sequence_b_is_the_underlying_transfer() -> None:
    payment = adapt(sample("mt202cov.fin"))
    assert payment["message_type"] == "MT202COV"
    assert payment["debtor"] == {"bic": "PLBKCNSH"}
    assert payment["creditor_agent"] == {"bic": "JADECNSH"}
    assert payment["creditor"] == {"bic": "KKBCKPPY"}
    assert "correspondent_account_id" not in payment
    assert payment["underlying"] == {
        "debtor": {
            "name": "DALIAN HARBOUR TRADING CO LTD",
            "account": "CN6212345678901234",
            "address": ["18 ZHONGSHAN ROAD", "DALIAN LIAONING"],
        },
        "debtor_agent": {"bic": "PLBKCNSH"},
        "intermediary_agents": [{"name": "JADE RIVER FINANCE", "address": ["SHANGHAI"]}],
        "creditor_agent": {"bic": "KKBCKPPY"},
        "creditor": {
            "name": "KORYO GENERAL TRADING CORPORATION",
            "account": "KP0012345678",
            "address": ["SOSONG STREET", "PYONGYANG"],
        },
        "remittance_information": ["CONTRACT KG-2025-11 MACHINE PARTS"],
        "instructions": ["/ACC/CREDIT BENEFICIARY IN FULL"],
        "amount": "48250.00",
        "currency": "USD",
    }
    fields = payment["source_fields"]
    assert fields["underlying.debtor.name"] == ":50K: (sequence B)"
    assert fields["underlying.creditor.address[1]"] == ":59: (sequence B)"
    assert fields["underlying.intermediary_agents[0]"] == ":56D: (sequence B)"
    assert fields["underlying.amount"] == ":33B: (sequence B)"
    assert fields["underlying.instructions[0]"] == ":72: (sequence B)"
    assert fields["creditor_agent"] == ":57A:"
    parsed = parse_payment(payment)
    assert parsed.underlying is not None
    assert parsed.underlying.creditor is not None
    assert parsed.underlying.creditor.address == ["SOSONG STREET", "PYONGYANG"]


@pytest.mark.parametrize("path", [SAMPLES / n for n in GOOD] + [OPS / n for n in OPS_GOOD], ids=lambda p: p.name)
def test_every_sample_is_a_valid_payment(path: Path) -> None:
    payment = parse_payment(adapt(path.read_bytes()))
    assert payment.message_type in ("MT103", "MT202", "MT202COV")
    assert payment.source_fields


def _field_lines(data: bytes) -> Iterator[tuple[str, str]]:
    text = data.decode().replace("\r\n", "\n")
    tag = ""
    for line in text[text.index("{4:\n") + 4 : text.index("\n-}")].split("\n"):
        m = re.fullmatch(r":(\w+):(.*)", line)
        if m:
            tag = m.group(1)
        yield tag, m.group(2) if m else line


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


@pytest.mark.parametrize("path", [SAMPLES / n for n in GOOD] + [OPS / n for n in OPS_GOOD], ids=lambda p: p.name)
def test_no_field_lost(path: Path) -> None:
    """Every line of every party, institution and free-text field reaches the payment: each part
    between slashes ("/INS/...", "3/GB/TOWN", "//FW...") is in some value of it."""
    data = path.read_bytes()
    haystack = "\n".join(_strings(without_sources(adapt(data))))
    checked = 0
    for tag, line in _field_lines(data):
        if tag[:2] in {str(n) for n in range(50, 60)} | {"70", "72", "77"} or tag == "23E":
            content = re.sub(r"^\d/", "", line) if tag.endswith("F") else line
            for part in content.split("/"):
                assert part.strip() in haystack, (tag, line)
            checked += 1
    assert checked >= 4


def _leaves(value: Any, path: str = "") -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _leaves(item, f"{path}[{i}]")
    else:
        yield path


def _resolve(payment: dict[str, Any], path: str) -> Any:
    value: Any = payment
    for part in path.split("."):
        m = re.fullmatch(r"([a-z_]+)(?:\[(\d+)\])?", part)
        assert m is not None, path
        value = value[m.group(1)]
        if m.group(2) is not None:
            value = value[int(m.group(2))]
    return value


@pytest.mark.parametrize("name", GOOD)
def test_source_map_is_accurate(name: str) -> None:
    """Every source entry names a field the payment has, and every value has a source."""
    payment = adapt(sample(name))
    fields = payment["source_fields"]
    for path in fields:
        _resolve(payment, path)
    for leaf in _leaves(without_sources(payment)):
        assert source_field(fields, leaf) != leaf, leaf


def test_split_a_file_of_two_messages() -> None:
    messages = split_mt(sample("two_messages.fin"))
    assert messages == [sample("mt103_full.fin"), sample("mt202.fin")]
    assert [adapt(m)["message_type"] for m in messages] == ["MT103", "MT202"]


def test_split_separators_bom_and_leading_text() -> None:
    one, two = sample("mt103_full.fin"), sample("mt202.fin")
    assert split_mt(b"\xef\xbb\xbf" + one + b"$" + two + b"$\n") == [one, two]
    assert split_mt(one + two) == [one, two]
    assert split_mt(b" \r\n$ ") == []
    # Text before the first message is never dropped: parse_mt refuses it.
    chunks = split_mt(b"junk\r\n" + one)
    assert chunks == [b"junk", one]
    with pytest.raises(MessageError, match="unexpected text"):
        parse_mt(chunks[0])


def test_is_mt() -> None:
    assert is_mt(sample("mt103_full.fin"))
    assert is_mt(b"\xef\xbb\xbf \r\n{1:F01")
    assert not is_mt(b'{"payment_id": "P-1"}')
    assert not is_mt(b"<?xml version='1.0'?><Document/>")
    assert not is_mt(b"")


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("bad_no_terminator.fin", 'block 4 has no terminator: its text must end with a line "-}"'),
        ("bad_amount.fin", "field :32A: amount '12,5X' is not a SWIFT amount"),
        ("bad_mt940.fin", "message type MT940 is not accepted: only MT103, MT202 and MT202COV are screened"),
        ("bad_missing_32a.fin", "MT103: mandatory field :32A: is missing"),
        ("bad_duplicate_59.fin", "MT103: field :59: (line 21) repeats :59: (line 16); :59a: may occur once"),
    ],
)
def test_bad_samples_are_refused(name: str, error: str) -> None:
    with pytest.raises(MessageError) as exc:
        parse_mt(sample(name))
    assert str(exc.value).startswith(error)


def test_oversized_message_is_refused_before_parsing() -> None:
    data = mutate("mt103_full.fin", ":70:", ":70:" + "X" * MAX_MESSAGE_BYTES)
    with pytest.raises(MessageError, match=r"over the limit of 1048576 bytes"):
        parse_mt(data)


@pytest.mark.parametrize(
    ("name", "old", "new", "error"),
    [
        ("mt103_full.fin", "ACME", b"ACM\xff", "not UTF-8 text: byte 0xff"),
        ("mt103_full.fin", "HAFENSTRASSE 12", "HAFENSTRASSE\r12", "a carriage return without a line feed on line 9"),
        ("mt103_full.fin", "NORDIC", "NOR\x00DIC", "control character U+0000"),
        ("mt103_full.fin", ":50K:", ":50k:", "block 4 line 6: ':50k:/DE44500105175407324931' starts with ':'"),
        ("mt103_full.fin", ":20:HCB", "HCB", "block 4 line 1: text 'HCB2509160001' before the first field"),
        (
            "mt103_full.fin",
            ":71A:SHA",
            ":71A:SHA\r\n:58A:NRTHNOKK",
            "MT103: field :58A: (block 4 line 24) is not allowed here",
        ),
        (
            "mt103_full.fin",
            ":57A:NRTHNOKK",
            ":70:EARLY\r\n:57A:NRTHNOKK",
            "MT103: field :57A: (line 16) is out of the standard's order",
        ),
        ("mt103_full.fin", ":59:/NO", ":59A:NRTHNOKK\r\n:59:/NO", "MT103: field :59: (line 17) repeats :59A:"),
        (
            "mt103_full.fin",
            "250916USD1250,00",
            "250231USD1250,00",
            "field :32A: date '250231' is not a valid date (YYMMDD)",
        ),
        ("mt103_full.fin", "250916USD1250,00", "250916USD1250.00", "field :32A: amount '1250.00'"),
        ("mt103_full.fin", "250916USD1250,00", "250916USD1234567890123,45", "is not a SWIFT amount"),
        ("mt103_full.fin", "250916USD1250,00", "250916US1250,00", "field :32A: currency 'US1'"),
        ("mt103_full.fin", ":33B:USD1250,00", ":33B:USD1250", "field :33B: amount '1250'"),
        ("mt103_full.fin", "ALPSCHZZ", "ALPS-CHZZ", "field :56A: 'ALPS-CHZZ' is not a BIC"),
        ("mt103_full.fin", "ALPSCHZZ", "ALPSCHZZ\r\nHNSEDEFF", "field :56A: option A is an optional /party"),
        ("mt103_full.fin", ":20:HCB2509160001", ":20:HCB\r\n2509160001", "field :20: must be one line, found 2"),
        ("mt103_full.fin", ":70:/INV/2025-0916-17\r\nTIMBER", ":70:\r\nTIMBER", None),
        (
            "mt103_full.fin",
            ":70:/INV/2025-0916-17\r\nTIMBER DELIVERY AUGUST 2025",
            ":70:",
            "field :70: (line 21) is empty",
        ),
        (
            "mt103_full.fin",
            ":50K:/DE44500105175407324931\r\nACME EXPORT GMBH\r\nHAFENSTRASSE 12\r\n20457 HAMBURG\r\nGERMANY",
            ":50K:/DE44500105175407324931",
            "field :50K: has a party identifier but no name line",
        ),
        ("mt103_full.fin", "{1:F01HNSEDEFFAXXX0123456789}", "", "no block 1 (basic header)"),
        ("mt103_full.fin", "{2:I103FCNBUS33XXXXN}", "", "no block 2 (application header)"),
        ("mt103_full.fin", "{1:F01HNSEDEFFAXXX0123456789}", "{1:A01HNSEDEFFAXXX0123456789}", "block 1 'A01"),
        ("mt103_full.fin", "{1:F01HNSEDEFFAXXX0123456789}", "{1:F01HNSEDEFFAXXX0123456789", "block {1: is malformed"),
        (
            "mt103_full.fin",
            "{2:I103FCNBUS33XXXXN}",
            "{2:I103FCNBUS33XXXXN}{1:F01HNSEDEFFAXXX0123456789}",
            "block {1: repeated or out of order",
        ),
        (
            "mt103_full.fin",
            "{108:MT103REF0001}",
            "{121:6f1c2e9a-3b7d-4c21-9a5e-2d8f4b7c1e03}",
            "block 3: field {121:} occurs twice",
        ),
        ("mt103_full.fin", "6f1c2e9a-3b7d-4c21", "6f1c2e9a-3b7d-1c21", "block 3: {121:6f1c2e9a-3b7d-1c21"),
        ("mt103_full.fin", "{108:MT103REF0001}", "{119:COV}", "MT103 with validation flag {119:COV} is not accepted"),
        ("mt202.fin", "{3:{121:", "{3:{119:STP}{121:", "MT202 with validation flag {119:STP} is not accepted"),
        (
            "mt202.fin",
            ":72:/BNF",
            ":50K:SOMEONE\r\n:72:/BNF",
            "MT202: field :50K: (block 4 line 14) is not allowed here",
        ),
        ("mt202.fin", ":58D:", ":59:", "MT202: field :59: (block 4 line 10) is not allowed"),
        ("mt202cov.fin", ":50K:", ":70:", "MT202COV: mandatory field :50a: of sequence B is missing"),
        (
            "mt202cov.fin",
            ":59:/KP0012345678\r\nKORYO GENERAL TRADING CORPORATION\r\nSOSONG STREET\r\nPYONGYANG\r\n",
            "",
            "MT202COV sequence B: mandatory field :59a: is missing",
        ),
        (
            "mt202cov.fin",
            ":70:CONTRACT",
            ":59A:KKBCKPPY\r\n:70:CONTRACT",
            "MT202COV sequence B: field :59A: (line 19) repeats :59: (line 15)",
        ),
        (
            "mt202cov.fin",
            "-}",
            "-}{1:F01PLBKCNSHAXXX0000654321}",
            "a second message starts at character 529: parse_mt reads one, split_mt splits a file",
        ),
        (
            "mt103_structured_lf.fin",
            "3/KR/BUSAN",
            "4/19700101",
            "field :59F: '4/19700101' is not a numbered line (1, 2, 3/text)",
        ),
        (
            "mt103_structured_lf.fin",
            "2/14 QUAYSIDE ROAD",
            "QUAYSIDE ROAD",
            "field :50F: 'QUAYSIDE ROAD' is not a numbered",
        ),
        (
            "mt103_structured_lf.fin",
            "3/GB/SOUTH",
            "3/GBR/SOUTH",
            "field :50F: line 3/ must open with an ISO country code",
        ),
        ("mt103_structured_lf.fin", "1/HAN RIVER SHIPPING\n1/CO LTD\n", "", "field :59F: has no name line (1/)"),
        ("mt103_structured_lf.fin", "O1031402250916", "O1031472250916", "block 2: input date and time '2509161472'"),
    ],
)
def test_unreadable_messages_are_refused_precisely(name: str, old: str, new: str | bytes, error: str | None) -> None:
    data = mutate(name, old, new)
    if error is None:  # a control case: the change alone is acceptable
        adapt(data)
        return
    with pytest.raises(MessageError) as exc:
        parse_mt(data)
    assert error in str(exc.value)
    assert len(str(exc.value)) <= 300


def test_long_lines_are_kept_whole() -> None:
    name = "KIM TRADING AND SHIPPING COMPANY OF PYONGYANG AND NAMPO LIMITED"
    payment = adapt(mutate("mt103_full.fin", "NORDIC TIMBER AS", name))
    assert payment["creditor"]["name"] == name


def test_account_mapping() -> None:
    mapped = adapt(sample("mt103_full.fin"), AccountMapping(accounts={"ACC-DE-001": "ACCT-42"}))
    assert mapped["correspondent_account_id"] == "ACCT-42"
    # No settlement account in the message: the sender's BIC names the account.
    by_bic = adapt(sample("mt103_structured_lf.fin"), AccountMapping(bics={"OAKBGB2L": "ACC-OLDCERT-001"}))
    assert by_bic["correspondent_account_id"] == "ACC-OLDCERT-001"
    assert by_bic["source_fields"]["correspondent_account_id"] == "block 2 sender (MIR)"
    assert "correspondent_account_id" not in adapt(sample("mt103_structured_lf.fin"))


@pytest.mark.parametrize(
    ("field", "account", "agent"),
    [
        (":53B:/ACC-DE-001\r\nNEW YORK", "ACC-DE-001", {"address": ["NEW YORK"]}),
        (
            ":53D:/D/ACC-DE-001\r\nHANSEATIC COMMERCE BANK AG\r\nNEW YORK BRANCH",
            "ACC-DE-001",
            {"name": "HANSEATIC COMMERCE BANK AG", "address": ["NEW YORK BRANCH"]},
        ),
        (":53A://CH012345\r\nALPSCHZZ", None, {"bic": "ALPSCHZZ", "address": ["//CH012345"]}),
    ],
)
def test_sender_correspondent_53a(field: str, account: str | None, agent: dict[str, Any]) -> None:
    payment = adapt(mutate("mt103_full.fin", ":53B:/ACC-DE-001", field))
    assert payment.get("correspondent_account_id") == account
    assert payment["intermediary_agents"] == [{"bic": "ALPSCHZZ", "address": ["/C/9988776655"]}, agent]
    assert payment["source_fields"]["intermediary_agents[1]"] == field[:5]


def test_clearing_code_only_institution_is_screened_as_text() -> None:
    payment = adapt(mutate("mt103_full.fin", ":57A:NRTHNOKK", ":57C://FW021000021"))
    assert payment["creditor_agent"] == {"address": ["//FW021000021"]}
    parse_payment(payment)


def test_50f_identifier_continued_by_line_8() -> None:
    old = "/GB29NWBK60161331926819\n1/BRIGHTWATER MARINE SUPPLIES\n1/LIMITED\n2/14 QUAYSIDE ROAD"
    new = "CCPT/KP/PD12\n1/KIM CHOL\n3/KP/PYONGYANG\n5/KP/PYONGYANG\n8/3456"
    debtor = adapt(mutate("mt103_structured_lf.fin", old, new))["debtor"]
    assert debtor["name"] == "KIM CHOL"
    assert debtor["country"] == "KP"
    assert debtor["address"][:3] == ["CCPT/KP/PD123456", "PYONGYANG", "5/KP/PYONGYANG"]
    assert "account" not in debtor


def test_ops_samples_screen_as_intended(rules: RuleSet) -> None:
    registry = registry_from_mapping(yaml.safe_load((OPS.parent / "registry.yaml").read_text()))
    at = datetime(2025, 9, 17, 12, tzinfo=UTC)
    decisions = {
        name: screen(parse_payment(adapt((OPS / name).read_bytes())), registry, rules, at) for name in OPS_GOOD
    }
    assert {name: d.decision for name, d in decisions.items()} == {
        "mt103_clean.fin": "pass",
        "mt103_dandong.fin": "block",
        "mt103_review_name.fin": "review",
        "mt202_clean.fin": "pass",
        "mt202cov_pyongyang.fin": "block",
    }
    dandong = decisions["mt103_dandong.fin"].hits
    assert [(h.citation, h.field, h.value) for h in dandong] == [("31 CFR 1010.660(b)(2)", ":56A:", "DDGBCNBD")]
    assert ":57D: (sequence B)" in {h.field for h in decisions["mt202cov_pyongyang.fin"].hits}


def test_unicode_digits_are_not_digits() -> None:
    with pytest.raises(MessageError, match="is not a SWIFT amount"):
        parse_mt(mutate("mt103_full.fin", "USD1250,00", "USD\u0661\u0662,00"))


@pytest.mark.parametrize("seed", range(4))
def test_mangled_messages_give_an_answer_never_a_crash(seed: int) -> None:
    """Bytes deleted, repeated or replaced anywhere: a payment or a MessageError, nothing else."""
    rng = random.Random(seed)
    alphabet = b"{}:-/$\r\n ,0123456789ABCDEFKXZ\xff"
    errors: list[str | None] = []
    for _ in range(250):
        data = bytearray(sample(rng.choice([*GOOD, "two_messages.fin"])))
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(data))
            action = rng.randrange(3)
            if action == 0:
                del data[at : at + rng.randint(1, 8)]
            elif action == 1:
                data[at:at] = data[at : at + rng.randint(1, 40)]
            else:
                data[at] = rng.choice(alphabet)
        errors.extend(_answer(message) for message in split_mt(bytes(data)))
    assert all(0 < len(error) <= 300 for error in errors if error)


def _answer(message: bytes) -> str | None:
    """The error of a message that cannot be read or is no valid payment; None for a payment."""
    try:
        parse_payment(parse_mt(message).payment or {})
    except (MessageError, PaymentError) as exc:
        return str(exc)
    return None
