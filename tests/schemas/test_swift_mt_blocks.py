"""A covered bank in any party, institution or text field of a real-format MT 103, MT 202 or
MT 202 COV blocks the payment, and the hit names the tag an investigator finds in the message.

Each case starts from a clean message that passes (ops/samples/messages: the MT 103 and MT 202
samples, and the MT 202 COV sample with its North Korean parts replaced), puts one covered bank
into one field, in that field's place in the standard's order and with an option the message type
allows, and screens it end to end: parse_mt, parse_payment, then screen with the packaged rules
and ops/samples/registry.yaml. The decision must be a block citing the measure, and every hit must
name the changed field's tag (":56A:", ":57D: (sequence B)"): the rest of the message stays clean.

Covered banks: Korea Kwangson Banking Corp (KKBCKPPY; North Korean, 31 CFR 1010.659), Bank of
Dandong (DDGBCNBD, 1010.660), and any bank with an office in Pyongyang (1010.659(a)(2)).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import pytest

from ops.screen_file import load_registry_file
from rules import Decision, Registry, RuleSet, load_rules, parse_payment, screen
from schemas.swift_mt import parse_mt

SAMPLES = Path(__file__).resolve().parents[2] / "ops" / "samples"
MESSAGES = SAMPLES / "messages"
AS_OF = datetime(2025, 9, 17, 12, 0, tzinfo=UTC)

NKOREA = "31 CFR 1010.659(b)(2)"
DANDONG = "31 CFR 1010.660(b)(2)"


def _text(name: str) -> str:
    """A sample as text with LF line ends, for editing; _fin puts FIN's CRLF back."""
    data = (MESSAGES / name).read_bytes()
    assert b"\r\n" in data
    return data.decode("ascii").replace("\r\n", "\n")


def _fin(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("ascii")


def _edit(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"{old!r} must occur exactly once"
    return text.replace(old, new)


# The Pyongyang cover sample made clean: sequence A's 57A and 58A named Jade River Finance
# (JADECNSH, 70% owned by Korea Kwangson Banking Corp), sequence B's account with institution was
# an office in Pyongyang (57D) and its beneficiary a Pyongyang company with a KP account (59).
_COV = _text("mt202cov_pyongyang.fin")
_COV = _edit(_COV, ":57A:JADECNSH\n:58A:JADECNSH\n", ":57A:NRTHNOKK\n:58A:NRTHNOKK\n")
_COV = _edit(_COV, ":57D:FOREIGN TRADE SETTLEMENT OFFICE\nPYONGYANG\n", ":57A:NRTHNOKK\n")
_COV = _edit(
    _COV,
    ":59:/KP0027004466\nSUNRISE GENERAL TRADING CORPORATION\nCHOLLIMA STREET\nPYONGYANG DPRK\n",
    ":59:/NO9386011117947\nNORDIC TIMBER AS\nSTRANDGATA 5\n5013 BERGEN NORWAY\n",
)
CLEAN = {"MT103": _text("mt103_clean.fin"), "MT202": _text("mt202_clean.fin"), "MT202COV": _COV}

# Block 4 field order and options as the SWIFT MT reference guides (SR 2025) give them, written
# out here rather than taken from the adapter, so that each message below is one FIN accepts:
# "50:AFK" is 50A, 50F or 50K; "59:-AF" is 59, 59A or 59F. MT 202 COV sequence A is an MT 202's.
_ORDER = {
    "MT103": "20 13C 23B 23E 26T 32A 33B 36 50:AFK 51A 52:AD 53:ABD 54:ABD 55:ABD 56:ACD 57:ABCD 59:-AF "
    "70 71A 71F 71G 72 77B",
    "MT202": "20 21 13C 32A 52:AD 53:ABD 54:ABD 56:AD 57:ABD 58:AD 72",
    "MT202COV B": "50:AFK 52:AD 56:ACD 57:ABCD 59:-AF 70 72 33B",
}
_REPEATABLE = frozenset({"13C", "23E", "71F"})
_TAG = re.compile(r"^:([0-9]{2}[A-Z]?):", re.MULTILINE)


def _positions(sequence: str) -> dict[str, int]:
    positions: dict[str, int] = {}
    for index, spec in enumerate(_ORDER[sequence].split()):
        number, _, options = spec.partition(":")
        for option in options or [""]:
            positions[number + option.replace("-", "")] = index
    return positions


def _assert_fin_valid(message_type: str, text: str) -> None:
    """Allowed options, standard order, no repeats, and the network rules on 55a and 56a."""
    tags = _TAG.findall(text[text.index("{4:\n") : text.index("\n-}")])
    if message_type == "MT202COV":
        split = next(i for i, tag in enumerate(tags) if tag.startswith("50"))
        sequences = {"MT202": tags[:split], "MT202COV B": tags[split:]}
    else:
        sequences = {message_type: tags}
    for sequence, seq_tags in sequences.items():
        positions = _positions(sequence)
        assert all(tag in positions for tag in seq_tags), f"{sequence}: an option not allowed: {seq_tags}"
        order = [positions[tag] for tag in seq_tags]
        assert order == sorted(order), f"{sequence}: out of order: {seq_tags}"
        once = [positions[tag] for tag in seq_tags if tag not in _REPEATABLE]
        assert len(once) == len(set(once)), f"{sequence}: a field repeated: {seq_tags}"
        numbers = {tag[:2] for tag in seq_tags}
        assert "56" not in numbers or "57" in numbers, f"{sequence}: 56a without 57a"
        assert "55" not in numbers or {"53", "54"} <= numbers, f"{sequence}: 55a without 53a and 54a"


@pytest.fixture(scope="module")
def packaged_rules() -> RuleSet:
    return load_rules()


@pytest.fixture(scope="module")
def sample_registry() -> Registry:
    return load_registry_file(SAMPLES / "registry.yaml")


def _screen(message_type: str, text: str, rules: RuleSet, registry: Registry) -> Decision:
    _assert_fin_valid(message_type, text)
    adapted = parse_mt(_fin(text))
    assert adapted.error is None
    assert adapted.payment is not None
    assert adapted.payment["message_type"] == message_type
    return screen(parse_payment(adapted.payment), registry, rules, AS_OF)


@pytest.mark.parametrize("message_type", sorted(CLEAN))
def test_clean_messages_pass(message_type: str, packaged_rules: RuleSet, sample_registry: Registry) -> None:
    decision = _screen(message_type, CLEAN[message_type], packaged_rules, sample_registry)
    assert decision.decision == "pass"
    assert decision.hits == ()


class Case(NamedTuple):
    """One covered bank put into one field: `old` (unique in the clean message) becomes `new`,
    which repeats `old` around a field inserted beside it. `value`: the hit's value, where it
    shows how the text was read (a "//" continuation joined onto its line)."""

    id: str
    message_type: str
    old: str
    new: str
    tag: str
    citation: str
    value: str | None = None


_50K_103 = ":50K:/DE44500105175407324931\nACME EXPORT GMBH\nHAFENSTRASSE 12\n20457 HAMBURG\n"
_59_103 = ":59:/NO9386011117947\nNORDIC TIMBER AS\nSTRANDGATA 5\n5013 BERGEN NORWAY\n"
_50K_COV = ":50K:/DE89370400440532013000\nBRENNER INDUSTRIETECHNIK GMBH\nINDUSTRIESTRASSE 40\n50667 KOELN\n"
_59_COV = _59_103
_KWANGSON_JOINED = "/BNF/PAY VIA KOREA KWANGSON BANKING CORP"

MT103_CASES = [
    Case("50A-bic", "MT103", _50K_103, ":50A:/DE44500105175407324931\nKKBCKPPY\n", ":50A:", NKOREA),
    Case(
        "50K-bank-name",
        "MT103",
        _50K_103,
        ":50K:/DE44500105175407324931\nBANK OF DANDONG\n10 JINSHAN STREET\nDANDONG LIAONING CHINA\n",
        ":50K:",
        DANDONG,
    ),
    Case(
        "50K-bank-in-pyongyang",
        "MT103",
        _50K_103,
        ":50K:/DE44500105175407324931\nSUNGRI CREDIT BANK\nSOSONG STREET\nPYONGYANG\n",
        ":50K:",
        NKOREA,
    ),
    Case(
        "50F-structured",
        "MT103",
        _50K_103,
        ":50F:/DE44500105175407324931\n1/KOREA KWANGSON BANKING CORP\n2/SUNGRI STREET\n3/KP/PYONGYANG\n",
        ":50F:",
        NKOREA,
    ),
    Case("52A-bic", "MT103", ":52A:HNSEDEFF\n", ":52A:KKBCKPPY\n", ":52A:", NKOREA),
    Case("52D-name", "MT103", ":52A:HNSEDEFF\n", ":52D:BANK OF DANDONG\nDANDONG LIAONING CHINA\n", ":52D:", DANDONG),
    Case("53A-bic", "MT103", ":53B:/ACC-DE-001\n", ":53A:/ACC-DE-001\nDDGBCNBD\n", ":53A:", DANDONG),
    Case(
        "53D-name-pyongyang",
        "MT103",
        ":53B:/ACC-DE-001\n",
        ":53D:/ACC-DE-001\nKOREA KWANGSON BANKING CORP\nPYONGYANG\n",
        ":53D:",
        NKOREA,
    ),
    Case("54A-bic", "MT103", ":53B:/ACC-DE-001\n", ":53B:/ACC-DE-001\n:54A:KKBCKPPY\n", ":54A:", NKOREA),
    Case(
        "54D-name",
        "MT103",
        ":53B:/ACC-DE-001\n",
        ":53B:/ACC-DE-001\n:54D:BANK OF DANDONG\nDANDONG LIAONING CHINA\n",
        ":54D:",
        DANDONG,
    ),
    Case(
        "54B-location-pyongyang", "MT103", ":53B:/ACC-DE-001\n", ":53B:/ACC-DE-001\n:54B:PYONGYANG\n", ":54B:", NKOREA
    ),
    # 55a only with 53a and 54a: a clean 54A beside it.
    Case(
        "55A-bic",
        "MT103",
        ":53B:/ACC-DE-001\n",
        ":53B:/ACC-DE-001\n:54A:ALPSCHZZ\n:55A:DDGBCNBD\n",
        ":55A:",
        DANDONG,
    ),
    Case(
        "55D-name-pyongyang",
        "MT103",
        ":53B:/ACC-DE-001\n",
        ":53B:/ACC-DE-001\n:54A:ALPSCHZZ\n:55D:KOREA KWANGSON BANKING CORP\nPYONGYANG\n",
        ":55D:",
        NKOREA,
    ),
    Case("56A-bic", "MT103", ":57A:NRTHNOKK\n", ":56A:KKBCKPPY\n:57A:NRTHNOKK\n", ":56A:", NKOREA),
    Case(
        "56D-name",
        "MT103",
        ":57A:NRTHNOKK\n",
        ":56D:BANK OF DANDONG\nDANDONG LIAONING CHINA\n:57A:NRTHNOKK\n",
        ":56D:",
        DANDONG,
    ),
    Case("57A-bic", "MT103", ":57A:NRTHNOKK\n", ":57A:DDGBCNBD\n", ":57A:", DANDONG),
    Case("57B-location-pyongyang", "MT103", ":57A:NRTHNOKK\n", ":57B:PYONGYANG\n", ":57B:", NKOREA),
    Case(
        "57D-name-pyongyang",
        "MT103",
        ":57A:NRTHNOKK\n",
        ":57D:KOREA KWANGSON BANKING CORP\nPYONGYANG\n",
        ":57D:",
        NKOREA,
    ),
    Case(
        "59-bank-name-pyongyang",
        "MT103",
        _59_103,
        ":59:/NO9386011117947\nKOREA KWANGSON BANKING CORP\nSUNGRI STREET\nPYONGYANG\n",
        ":59:",
        NKOREA,
    ),
    Case(
        "59-bank-in-pyongyang",
        "MT103",
        _59_103,
        ":59:/NO9386011117947\nSUNGRI CREDIT BANK\nSOSONG STREET\nPYONGYANG\n",
        ":59:",
        NKOREA,
    ),
    Case("59A-bic", "MT103", _59_103, ":59A:/NO9386011117947\nDDGBCNBD\n", ":59A:", DANDONG),
    Case(
        "59F-structured",
        "MT103",
        _59_103,
        ":59F:/NO9386011117947\n1/BANK OF DANDONG\n2/10 JINSHAN STREET\n3/CN/DANDONG\n",
        ":59F:",
        DANDONG,
    ),
    Case(
        "70-text",
        "MT103",
        "SPRUCE LUMBER LOT 17\n",
        "PAID THROUGH BANK OF DANDONG\n",
        ":70:",
        DANDONG,
    ),
    Case(
        "72-text",
        "MT103",
        ":71A:SHA\n",
        ":71A:SHA\n:72:/BNF/KOREA KWANGSON BANKING CORP\n",
        ":72:",
        NKOREA,
    ),
    Case(
        "72-continuation",
        "MT103",
        ":71A:SHA\n",
        ":71A:SHA\n:72:/BNF/PAY VIA KOREA KWANGSON\n//BANKING CORP\n",
        ":72:",
        NKOREA,
        _KWANGSON_JOINED,
    ),
    Case("77B-text", "MT103", ":71A:SHA\n", ":71A:SHA\n:77B:/BENEFRES/CN//BANK OF DANDONG\n", ":77B:", DANDONG),
    Case(
        "77B-continuation",
        "MT103",
        ":71A:SHA\n",
        ":71A:SHA\n:77B:/ORDERRES/KP//KOREA KWANGSON\n//BANKING CORP PYONGYANG\n",
        ":77B:",
        NKOREA,
        "/ORDERRES/KP//KOREA KWANGSON BANKING CORP PYONGYANG",
    ),
]

MT202_CASES = [
    Case("52A-bic", "MT202", ":52A:ALPSCHZZ\n", ":52A:KKBCKPPY\n", ":52A:", NKOREA),
    Case("52D-name", "MT202", ":52A:ALPSCHZZ\n", ":52D:BANK OF DANDONG\nDANDONG LIAONING CHINA\n", ":52D:", DANDONG),
    Case("53A-bic", "MT202", ":53B:/ACC-NESTED-OK\n", ":53A:/ACC-NESTED-OK\nDDGBCNBD\n", ":53A:", DANDONG),
    Case(
        "53D-name-pyongyang",
        "MT202",
        ":53B:/ACC-NESTED-OK\n",
        ":53D:/ACC-NESTED-OK\nKOREA KWANGSON BANKING CORP\nPYONGYANG\n",
        ":53D:",
        NKOREA,
    ),
    Case("54A-bic", "MT202", ":53B:/ACC-NESTED-OK\n", ":53B:/ACC-NESTED-OK\n:54A:KKBCKPPY\n", ":54A:", NKOREA),
    Case(
        "54D-name",
        "MT202",
        ":53B:/ACC-NESTED-OK\n",
        ":53B:/ACC-NESTED-OK\n:54D:BANK OF DANDONG\nDANDONG LIAONING CHINA\n",
        ":54D:",
        DANDONG,
    ),
    Case("56A-bic", "MT202", ":57A:NRTHNOKK\n", ":56A:DDGBCNBD\n:57A:NRTHNOKK\n", ":56A:", DANDONG),
    Case(
        "56D-name-pyongyang",
        "MT202",
        ":57A:NRTHNOKK\n",
        ":56D:KOREA KWANGSON BANKING CORP\nPYONGYANG\n:57A:NRTHNOKK\n",
        ":56D:",
        NKOREA,
    ),
    Case("57A-bic", "MT202", ":57A:NRTHNOKK\n", ":57A:KKBCKPPY\n", ":57A:", NKOREA),
    Case("57B-location-pyongyang", "MT202", ":57A:NRTHNOKK\n", ":57B:PYONGYANG\n", ":57B:", NKOREA),
    Case("57D-name", "MT202", ":57A:NRTHNOKK\n", ":57D:BANK OF DANDONG\nDANDONG LIAONING CHINA\n", ":57D:", DANDONG),
    Case("58A-bic", "MT202", ":58A:NRTHNOKK\n", ":58A:DDGBCNBD\n", ":58A:", DANDONG),
    Case(
        "58D-name-pyongyang",
        "MT202",
        ":58A:NRTHNOKK\n",
        ":58D:/KP0027004466\nKOREA KWANGSON BANKING CORP\nSUNGRI STREET\nPYONGYANG\n",
        ":58D:",
        NKOREA,
    ),
    Case(
        "72-text",
        "MT202",
        ":72:/BNF/FX SETTLEMENT 17SEP25\n",
        ":72:/BNF/FX SETTLEMENT 17SEP25\n/INS/BANK OF DANDONG\n",
        ":72:",
        DANDONG,
    ),
    Case(
        "72-continuation",
        "MT202",
        ":72:/BNF/FX SETTLEMENT 17SEP25\n",
        ":72:/BNF/PAY VIA KOREA KWANGSON\n//BANKING CORP\n",
        ":72:",
        NKOREA,
        _KWANGSON_JOINED,
    ),
]

# Sequence A of the cover: its tags have no suffix. Sequence B (the underlying customer transfer):
# "(sequence B)" after the tag, and its 52A is the one after the 50a.
MT202COV_CASES = [
    Case("A-52A-bic", "MT202COV", ":52A:HNSEDEFF\n:53B:", ":52A:DDGBCNBD\n:53B:", ":52A:", DANDONG),
    Case("A-53A-bic", "MT202COV", ":53B:/ACC-DE-001\n", ":53A:/ACC-DE-001\nKKBCKPPY\n", ":53A:", NKOREA),
    Case("A-54A-bic", "MT202COV", ":53B:/ACC-DE-001\n", ":53B:/ACC-DE-001\n:54A:DDGBCNBD\n", ":54A:", DANDONG),
    Case(
        "A-56A-bic",
        "MT202COV",
        ":53B:/ACC-DE-001\n:57A:NRTHNOKK\n",
        ":53B:/ACC-DE-001\n:56A:KKBCKPPY\n:57A:NRTHNOKK\n",
        ":56A:",
        NKOREA,
    ),
    Case("A-57A-bic", "MT202COV", ":57A:NRTHNOKK\n:58A:", ":57A:KKBCKPPY\n:58A:", ":57A:", NKOREA),
    Case("A-58A-bic", "MT202COV", ":58A:NRTHNOKK\n", ":58A:KKBCKPPY\n", ":58A:", NKOREA),
    Case(
        "A-58D-name",
        "MT202COV",
        ":58A:NRTHNOKK\n",
        ":58D:BANK OF DANDONG\nDANDONG LIAONING CHINA\n",
        ":58D:",
        DANDONG,
    ),
    Case(
        "B-50A-bic",
        "MT202COV",
        _50K_COV,
        ":50A:/DE89370400440532013000\nDDGBCNBD\n",
        ":50A: (sequence B)",
        DANDONG,
    ),
    Case(
        "B-50K-bank-name",
        "MT202COV",
        _50K_COV,
        ":50K:/DE89370400440532013000\nBANK OF DANDONG\n10 JINSHAN STREET\nDANDONG LIAONING CHINA\n",
        ":50K: (sequence B)",
        DANDONG,
    ),
    Case(
        "B-50K-bank-in-pyongyang",
        "MT202COV",
        _50K_COV,
        ":50K:/DE89370400440532013000\nSUNGRI CREDIT BANK\nSOSONG STREET\nPYONGYANG\n",
        ":50K: (sequence B)",
        NKOREA,
    ),
    Case(
        "B-50F-structured",
        "MT202COV",
        _50K_COV,
        ":50F:/DE89370400440532013000\n1/KOREA KWANGSON BANKING CORP\n2/SUNGRI STREET\n3/KP/PYONGYANG\n",
        ":50F: (sequence B)",
        NKOREA,
    ),
    Case(
        "B-52A-bic",
        "MT202COV",
        "50667 KOELN\n:52A:HNSEDEFF\n",
        "50667 KOELN\n:52A:DDGBCNBD\n",
        ":52A: (sequence B)",
        DANDONG,
    ),
    Case(
        "B-52D-name-pyongyang",
        "MT202COV",
        "50667 KOELN\n:52A:HNSEDEFF\n",
        "50667 KOELN\n:52D:KOREA KWANGSON BANKING CORP\nPYONGYANG\n",
        ":52D: (sequence B)",
        NKOREA,
    ),
    Case(
        "B-56A-bic",
        "MT202COV",
        ":57A:NRTHNOKK\n:59:",
        ":56A:KKBCKPPY\n:57A:NRTHNOKK\n:59:",
        ":56A: (sequence B)",
        NKOREA,
    ),
    Case(
        "B-56D-name",
        "MT202COV",
        ":57A:NRTHNOKK\n:59:",
        ":56D:BANK OF DANDONG\nDANDONG LIAONING CHINA\n:57A:NRTHNOKK\n:59:",
        ":56D: (sequence B)",
        DANDONG,
    ),
    Case("B-57A-bic", "MT202COV", ":57A:NRTHNOKK\n:59:", ":57A:DDGBCNBD\n:59:", ":57A: (sequence B)", DANDONG),
    Case(
        "B-57D-name-pyongyang",
        "MT202COV",
        ":57A:NRTHNOKK\n:59:",
        ":57D:KOREA KWANGSON BANKING CORP\nPYONGYANG\n:59:",
        ":57D: (sequence B)",
        NKOREA,
    ),
    Case(
        "B-59-bank-name-pyongyang",
        "MT202COV",
        _59_COV,
        ":59:/NO9386011117947\nKOREA KWANGSON BANKING CORP\nSUNGRI STREET\nPYONGYANG\n",
        ":59: (sequence B)",
        NKOREA,
    ),
    Case(
        "B-59-bank-in-pyongyang",
        "MT202COV",
        _59_COV,
        ":59:/NO9386011117947\nSUNGRI CREDIT BANK\nSOSONG STREET\nPYONGYANG\n",
        ":59: (sequence B)",
        NKOREA,
    ),
    Case("B-59A-bic", "MT202COV", _59_COV, ":59A:/NO9386011117947\nKKBCKPPY\n", ":59A: (sequence B)", NKOREA),
    Case(
        "B-59F-structured",
        "MT202COV",
        _59_COV,
        ":59F:/NO9386011117947\n1/BANK OF DANDONG\n2/10 JINSHAN STREET\n3/CN/DANDONG\n",
        ":59F: (sequence B)",
        DANDONG,
    ),
    Case(
        "B-70-text",
        "MT202COV",
        "MACHINE TOOL SPARE PARTS\n",
        "VIA KOREA KWANGSON BANKING CORP\n",
        ":70: (sequence B)",
        NKOREA,
    ),
    Case(
        "B-72-text",
        "MT202COV",
        "MACHINE TOOL SPARE PARTS\n",
        "MACHINE TOOL SPARE PARTS\n:72:/INS/KKBCKPPY\n",
        ":72: (sequence B)",
        NKOREA,
    ),
    Case(
        "B-72-continuation",
        "MT202COV",
        "MACHINE TOOL SPARE PARTS\n",
        "MACHINE TOOL SPARE PARTS\n:72:/BNF/PAY VIA BANK OF\n//DANDONG\n",
        ":72: (sequence B)",
        DANDONG,
        "/BNF/PAY VIA BANK OF DANDONG",
    ),
]

CASES = [*MT103_CASES, *MT202_CASES, *MT202COV_CASES]

# A name wrapped inside a word, the first line filled to FIN's 35 characters, as a sender's
# software wraps it: the adapter keeps a "//" line as the message wraps it, so the engine tries
# the join both without and with a space (rules/checks/free_text._joined), and names the tag of
# the line the name starts on (77B, not the 70 before it: both are remittance lines).
MID_WORD_CASES = [
    Case(
        "MT103-72-wrapped-inside-a-word",
        "MT103",
        ":71A:SHA\n",
        ":71A:SHA\n:72:/BNF/FOR FURTHER CREDIT TO KOREA KW\n//ANGSON BANKING CORP\n",
        ":72:",
        NKOREA,
    ),
    Case(
        "MT103-77B-wrapped-inside-a-word",
        "MT103",
        ":71A:SHA\n",
        ":71A:SHA\n:77B:/BENEFRES/KP//PAYMENT VIA KOREA KW\n//ANGSON BANKING CORP\n",
        ":77B:",
        NKOREA,
    ),
    Case(
        "MT202-72-wrapped-inside-a-word",
        "MT202",
        ":72:/BNF/FX SETTLEMENT 17SEP25\n",
        ":72:/BNF/FURTHER CREDIT VIA BANK OF DAN\n//DONG\n",
        ":72:",
        DANDONG,
    ),
    Case(
        "MT202COV-B-72-wrapped-inside-a-word",
        "MT202COV",
        "MACHINE TOOL SPARE PARTS\n",
        "MACHINE TOOL SPARE PARTS\n:72:/BNF/FURTHER CREDIT VIA BANK OF DAN\n//DONG\n",
        ":72: (sequence B)",
        DANDONG,
    ),
]


def _assert_blocks(case: Case, rules: RuleSet, registry: Registry) -> None:
    text = _edit(CLEAN[case.message_type], case.old, case.new)
    lines = [_TAG.sub("", line) for line in case.new.splitlines()]
    assert all(len(line) <= 35 for line in lines), "FIN lines (past the tag) are at most 35 characters"
    decision = _screen(case.message_type, text, rules, registry)
    assert decision.decision == "block", decision.hits
    assert case.citation in decision.citations
    assert (case.tag, case.citation, "block") in {(h.field, h.citation, h.action) for h in decision.hits}
    # Nothing else in the message is a reason: every hit is on the field that was changed.
    assert {hit.field for hit in decision.hits} == {case.tag}, decision.hits
    if case.value is not None:
        assert case.value in {hit.value for hit in decision.hits}


@pytest.mark.parametrize("case", CASES, ids=[f"{c.message_type}-{c.id}" for c in CASES])
def test_covered_bank_in_field_blocks_naming_its_tag(
    case: Case, packaged_rules: RuleSet, sample_registry: Registry
) -> None:
    _assert_blocks(case, packaged_rules, sample_registry)


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in MID_WORD_CASES])
def test_name_wrapped_inside_a_word_by_a_continuation_line_blocks(
    case: Case, packaged_rules: RuleSet, sample_registry: Registry
) -> None:
    _assert_blocks(case, packaged_rules, sample_registry)


CONTINUED = [c for c in CASES if "\n//" in c.new]


@pytest.mark.parametrize("case", CONTINUED, ids=[f"{c.message_type}-{c.id}" for c in CONTINUED])
def test_the_continuation_line_is_what_completes_the_name(
    case: Case, packaged_rules: RuleSet, sample_registry: Registry
) -> None:
    """Without its "//" line the first line alone names no covered bank: the block above comes
    from the continuation being read with the line it continues."""
    cut = re.sub(r"\n//[^\n]*", "", case.new)
    decision = _screen(
        case.message_type, _edit(CLEAN[case.message_type], case.old, cut), packaged_rules, sample_registry
    )
    assert decision.decision == "pass", decision.hits
