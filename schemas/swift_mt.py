"""SWIFT FIN MT 103, MT 202 and MT 202 COV messages as payment events (SPEC 1.1).

No parser on PyPI fits: `swiftlib` extracts blocks by regular expression and silently takes a
message without its block 4 terminator as having no text block, returns the first of repeated
fields and reads no 50F/59F lines nor MT 202 COV sequence B; `mt103` (GPL, last release 2020) and
`pacs008-loader-mt103` (alpha, which skips 53a-56a, 70 and 72) read MT 103 only; `swiftmess3` and
`pasmp` were last released in 2020. This is a small strict parser: what it cannot read exactly, it
refuses with a MessageError that says why.

Grammar accepted (SWIFT "Standards MT General Information" for blocks and field formats, the
Category 1 and 2 message reference guides for MT 103 and MT 202 / MT 202 COV, SR 2025):

    file     = { blank | "$" } message { { blank | "$" } message } { blank | "$" }   (split_mt)
    message  = block1 block2 [block3] block4 [block5] [blockS]                        (parse_mt)
    block1   = "{1:F01" LT-address session(4!n) sequence(6!n) "}"
    block2   = "{2:I" MT(3!n) LT-address [priority S|U|N [monitoring 1|2|3 [obsolescence 3!n]]] "}"
             | "{2:O" MT(3!n) input-time(HHMM) MIR output-date(YYMMDD) output-time(HHMM) [priority] "}"
               where MIR = input-date(YYMMDD) LT-address session(4!n) sequence(6!n)
    block3   = "{3:" { "{" tag(3!n) ":" value "}" } "}"      ({108:}, {119:COV}, {121:UETR}, ...)
    block4   = "{4:" CRLF { ":" tag(2!n[letter]) ":" line { CRLF line } CRLF } "-}"
    block5/S = "{5:" / "{S:" { "{" tag ":" value "}" } "}"   (trailers: checksum, MAC; not read)
    LT-address = BIC8, the logical terminal letter, branch code (3!c): 12 characters.

Text is UTF-8, read strictly: FIN's character set is a subset of ASCII, so undecodable bytes are
an error, not a guess at latin-1. Line ends are CRLF, or LF alone; a bare CR or another control
character is refused (it could hide or overwrite text on an investigator's screen). No line of a
field may start with ":", so such a line that is no well-formed tag is refused, never merged.

Fields, each at most once unless marked *, in this order (swift_mt_fields has the tables):
    MT 103:  20 13C* 23B 23E* 26T 32A 33B 36 50A/F/K 51A 52A/D 53A/B/D 54A/B/D 55A/B/D 56A/C/D
             57A/B/C/D 59/59A/59F 70 71A 71F* 71G 72 77B;  mandatory 20 23B 32A 50a 59a 71A.
    MT 202:  20 21 13C* 32A 52A/D 53A/B/D 54A/B/D 56A/D 57A/B/D 58A/D 72;  mandatory 20 21 32A 58a.
    MT 202 COV ({119:COV} in block 3): those as sequence A, then sequence B from its first 50a:
             50A/F/K 52A/D 56A/C/D 57A/B/C/D 59/59A/59F 70 72 33B;  mandatory 50a 59a.
A plain MT 202 with a 50a is refused, never read as a cover. Options: A = [/party identifier]
and BIC; B = [/party identifier] and [location]; C = /party identifier only; D, K and 59 =
[/party identifier or account] then name and address lines (4*35x); F = structured numbered
lines (swift_mt_fields.party). Lines are kept as the message wrapped them (over-long ones whole),
a "//" continuation line of 72 and 77B too: the engine reads a name wrapped across lines, with
and without a space at the wrap ("KOREA KW" + "//ANGSON BANKING CORP"), which a join here would
fix one way. An
institution has no account in the contract: its identifier line ("/C/123", "//FW021000021", a
clearing code that may be a bank's only identifier) is kept as an address line, screened as text.

Mapping to the payment (SPEC 1.1, rules.payment.Payment):
- message_type MT103, MT202 or MT202COV; direction is not set (a message does not say it).
- payment_id: the UETR ({3:}{121:}), else "<sender BIC>:<:20:>", because the sender's reference
  :20: is unique only per sender. An MT 202 COV carries the UETR of its MT 103 (SWIFT gpi).
- created_at: the 32A value date at 00:00Z; for an output message (block 2 "O") the later of that
  and the MIR's input date and time. FIN gives that time in the sender's local time without an
  offset; it is read as UTC, at most hours off, only on the value date itself.
- amount and currency: 32A. 33B (instructed amount) is checked but has no contract field in an
  MT 103; in MT 202 COV sequence B it is the underlying transfer's amount. 71F and 71G are
  checked too.
- Sender and receiver: for an input message block 1 holds the sender's LT address and block 2
  the receiver's; for an output message block 2's MIR holds the sender's and block 1 the
  receiver's. They become instructing_agent and instructed_agent (BIC8, or BIC11 unless the
  branch is XXX).
- correspondent_account_id: AccountMapping.account_id of the 53a account line (53B, or the
  /account line of 53A/53D), else of the sender's BIC.
- MT 103 and sequence B: 50a debtor, 52a debtor_agent, 57a creditor_agent, 59a creditor, 70
  remittance_information (MT 103 77B regulatory reporting too), 23E and 72 instructions.
- MT 202 sequence A: 52a debtor and 58a creditor (banks as parties, by BIC alone if need be),
  57a creditor_agent, 72 instructions.
- intermediary_agents: 56a first (ISO 20022's IntrmyAgt1, as the pacs adapters number it), then
  the reimbursement institutions the money passes through, 53a, 54a and (MT 103) 55a. 51A (the
  sending institution of a FileAct MT 103) is previous_instructing_agents[0].
- Sequence B of an MT 202 COV is payment["underlying"]; its sources read ":50K: (sequence B)".
- Not mapped: 13C, 21, 23B, 26T, 36, 71A (codes and references, no party or text), block 3
  beyond 119 and 121, the trailers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any, Literal

from schemas.messages import MAX_MESSAGE_BYTES, NO_MAPPING, AccountMapping, Adapted, MessageError
from schemas.swift_mt_fields import (
    BIC,
    MT103,
    MT202_A,
    MT202COV_B,
    Field,
    block4_fields,
    check_sequence,
    currency_amount,
    institution,
    party,
    settlement,
    single_line,
    text_lines,
    value_date_amount,
)

_BOM = b"\xef\xbb\xbf"
_AROUND = b" \t\r\n$"
_MESSAGE_START = re.compile(rb"\{1:")
_HEADER_BLOCK = re.compile(r"\{([12]):([^{}]*)\}")
_TAGGED_BLOCK = re.compile(r"\{([35S]):((?:\{[^{}]*\})*)\}")
_ANY_BLOCK = re.compile(r"\{([0-9A-Z]):")
_BLOCK_ORDER = "12345S"
_BLOCK3_FIELD = re.compile(r"\{([0-9]{3}):([^{}]*)\}")
_BLOCK1 = re.compile(r"F01([A-Z0-9]{12})[0-9]{4}[0-9]{6}")
_INPUT = re.compile(r"I([0-9]{3})([A-Z0-9]{12})(?:[SUN](?:[123](?:[0-9]{3})?)?)?")
_OUTPUT = re.compile(r"O([0-9]{3})([0-9]{4})([0-9]{6})([A-Z0-9]{12})[0-9]{4}[0-9]{6}[0-9]{6}[0-9]{4}[SUN]?")
_UETR = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
# Line feed and tab aside, C0 controls and DEL; after CRLF -> LF this includes a bare CR.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

Kind = Literal["party", "institution", "agent", "settlement", "text"]
# (field, how it reads, payment key), in the order the payment lists them.
_MT103_MAP: tuple[tuple[str, Kind, str], ...] = (
    ("50a", "party", "debtor"),
    ("51A", "agent", "previous_instructing_agents"),
    ("52a", "institution", "debtor_agent"),
    ("56a", "agent", "intermediary_agents"),
    ("53a", "settlement", "intermediary_agents"),
    ("54a", "agent", "intermediary_agents"),
    ("55a", "agent", "intermediary_agents"),
    ("57a", "institution", "creditor_agent"),
    ("59a", "party", "creditor"),
    ("70", "text", "remittance_information"),
    ("77B", "text", "remittance_information"),
    ("23E", "text", "instructions"),
    ("72", "text", "instructions"),
)
_MT202_MAP: tuple[tuple[str, Kind, str], ...] = (
    ("52a", "party", "debtor"),
    ("56a", "agent", "intermediary_agents"),
    ("53a", "settlement", "intermediary_agents"),
    ("54a", "agent", "intermediary_agents"),
    ("57a", "institution", "creditor_agent"),
    ("58a", "party", "creditor"),
    ("72", "text", "instructions"),
)
_COV_B_MAP: tuple[tuple[str, Kind, str], ...] = (
    ("50a", "party", "debtor"),
    ("52a", "institution", "debtor_agent"),
    ("56a", "agent", "intermediary_agents"),
    ("57a", "institution", "creditor_agent"),
    ("59a", "party", "creditor"),
    ("70", "text", "remittance_information"),
    ("72", "text", "instructions"),
)


def is_mt(data: bytes) -> bool:
    """Whether data looks like FIN MT: its first bytes past a BOM and blanks are "{1:"."""
    return data.lstrip().removeprefix(_BOM).lstrip().startswith(b"{1:")


def split_mt(data: bytes) -> list[bytes]:
    """Each message of a file of one or more, separated by blanks or "$". FIN text cannot hold a
    brace, so every "{1:" opens a message. Text before the first is returned as a message of its
    own, for parse_mt to refuse, rather than dropped."""
    data = data.removeprefix(_BOM)
    starts = [m.start() for m in _MESSAGE_START.finditer(data)]
    bounds = [0, *starts, len(data)] if starts[:1] != [0] else [*starts, len(data)]
    chunks = [data[start:end] for start, end in pairwise(bounds)]
    return [stripped for chunk in chunks if (stripped := _strip_separators(chunk))]


def _strip_separators(chunk: bytes) -> bytes:
    """A chunk without the separators around it: blanks, "$", and byte-order marks (files joined
    by tools that each wrote one keep it at the head of every message). Linear, unlike a pattern
    anchored at the end, which retries at every blank of a long run inside the message."""
    while True:
        stripped = chunk.strip(_AROUND).removeprefix(_BOM).removesuffix(_BOM)
        if stripped == chunk:
            return chunk
        chunk = stripped


def parse_mt(data: bytes, accounts: AccountMapping = NO_MAPPING) -> Adapted:
    """The payment event of one MT 103, MT 202 or MT 202 COV message."""
    blocks = _blocks(_decode(data))
    header = _Header.read(blocks["1"], blocks["2"])
    user = _user_header(blocks.get("3", ""))
    message_type = _message_type(header.mt, user)
    fields = block4_fields(blocks["4"])
    sources: dict[str, str] = {"message_type": "{2:} message type"}
    out = _Out({"message_type": message_type}, sources)
    if message_type == "MT103":
        found = check_sequence(fields, MT103, "MT103")
        _apply(out, found, _MT103_MAP)
        for name in ("33B", "71F", "71G"):
            for field in found.get(name, []):
                currency_amount(single_line(field), field.label)
    else:
        cover = message_type == "MT202COV"
        # Sequence B opens with its mandatory 50a; a plain MT 202 has none, so all of its fields
        # are held to sequence A and a 50a there is refused, never read as a sequence B.
        split = next((i for i, f in enumerate(fields) if f.number == "50"), len(fields)) if cover else len(fields)
        if cover and split == len(fields):
            raise MessageError("MT202COV: mandatory field :50a: of sequence B is missing")
        found = check_sequence(fields[:split], MT202_A, "MT202COV sequence A" if cover else "MT202")
        _apply(out, found, _MT202_MAP)
        if cover:
            _cover(out, fields[split:])
    _common(out, found, header, user, accounts)
    return Adapted(label="message", payment=out.record, source_fields=sources)


def _decode(data: bytes) -> str:
    if len(data) > MAX_MESSAGE_BYTES:
        raise MessageError(f"message of {len(data)} bytes is over the limit of {MAX_MESSAGE_BYTES} bytes")
    data = data.lstrip().removeprefix(_BOM).strip(_AROUND)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MessageError(
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start} (FIN text is ASCII)"
        ) from None
    text = text.replace("\r\n", "\n")
    bad = _CONTROL.search(text)
    if bad is not None:
        char = bad.group()
        what = "a carriage return without a line feed" if char == "\r" else f"control character U+{ord(char):04X}"
        raise MessageError(f"{what} on line {text.count(chr(10), 0, bad.start()) + 1}: FIN text has none")
    return text


def _blocks(text: str) -> dict[str, str]:
    """The blocks of one message, by key, each present at most once and in order."""
    blocks: dict[str, str] = {}
    pos = 0
    while pos < len(text):
        start = _ANY_BLOCK.match(text, pos)
        if start is None:
            raise MessageError(
                f"unexpected text {text[pos : pos + 24]!r} at character {pos}: expected a block such as "
                "{4: (one message per parse_mt; split_mt splits a file)"
            )
        key = start.group(1)
        if key not in _BLOCK_ORDER:
            raise MessageError(f"unknown block {{{key}:")
        if key == "1" and "4" in blocks:
            raise MessageError(
                f"a second message starts at character {pos}: parse_mt reads one, split_mt splits a file"
            )
        if key in blocks or any(_BLOCK_ORDER.index(key) < _BLOCK_ORDER.index(k) for k in blocks):
            raise MessageError(f"block {{{key}: repeated or out of order")
        if key == "4":
            end = text.find("\n-}", start.end())
            if end < 0:
                raise MessageError('block 4 has no terminator: its text must end with a line "-}"')
            blocks[key], pos = text[start.end() : end], end + 3
            continue
        m = (_HEADER_BLOCK if key in "12" else _TAGGED_BLOCK).match(text, pos)
        if m is None:
            raise MessageError(f"block {{{key}: is malformed or not closed with '}}'")
        blocks[key], pos = m.group(2), m.end()
    for key, what in (("1", "basic header"), ("2", "application header"), ("4", "text block")):
        if key not in blocks:
            raise MessageError(f"no block {key} ({what})")
    return blocks


def _lt_bic(address: str, where: str) -> str:
    """The BIC of a 12-character LT address: BIC8, terminal letter, branch code (XXX: none)."""
    bic = address[:8] + ("" if address[9:] == "XXX" else address[9:])
    if not BIC.fullmatch(bic):
        raise MessageError(f"{where}: LT address {address!r} holds no BIC")
    return bic


@dataclass(frozen=True, slots=True)
class _Header:
    mt: str
    sender: str
    receiver: str
    sender_source: str
    receiver_source: str
    input_at: datetime | None

    @classmethod
    def read(cls, block1: str, block2: str) -> _Header:
        basic = _BLOCK1.fullmatch(block1)
        if basic is None:
            raise MessageError(f"block 1 {block1[:40]!r} is not a FIN basic header (F01, LT address, 4!n, 6!n)")
        if (sent := _INPUT.fullmatch(block2)) is not None:
            return cls(
                sent.group(1),
                _lt_bic(basic.group(1), "block 1"),
                _lt_bic(sent.group(2), "block 2"),
                "block 1 sender",
                "block 2 receiver",
                None,
            )
        if (got := _OUTPUT.fullmatch(block2)) is None:
            raise MessageError(f"block 2 {block2[:60]!r} is not an input (I) or output (O) application header")
        stamp = got.group(3) + got.group(2)
        try:
            input_at = datetime.strptime(stamp, "%y%m%d%H%M").replace(tzinfo=UTC)
        except ValueError:
            raise MessageError(f"block 2: input date and time {stamp!r} are not YYMMDDHHMM") from None
        sender = _lt_bic(got.group(4), "block 2 MIR")
        receiver = _lt_bic(basic.group(1), "block 1")
        return cls(got.group(1), sender, receiver, "block 2 sender (MIR)", "block 1 receiver", input_at)


def _user_header(body: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    matches = list(_BLOCK3_FIELD.finditer(body))
    if "".join(m.group(0) for m in matches) != body:
        raise MessageError(f"block 3 {body[:60]!r} is not a list of {{nnn:value}} fields")
    for m in matches:
        if m.group(1) in fields:
            raise MessageError(f"block 3: field {{{m.group(1)}:}} occurs twice")
        fields[m.group(1)] = m.group(2)
    return fields


def _message_type(mt: str, user: dict[str, str]) -> str:
    flag = user.get("119")
    if mt == "103" and flag in (None, "STP", "REMIT"):
        return "MT103"
    if mt == "202" and flag in (None, "COV"):
        return "MT202COV" if flag else "MT202"
    if mt in ("103", "202"):
        raise MessageError(f"MT{mt} with validation flag {{119:{flag}}} is not accepted")
    raise MessageError(f"message type MT{mt} is not accepted: only MT103, MT202 and MT202COV are screened")


class _Out:
    """The payment (or its sequence B) being built, and the source map shared by both."""

    def __init__(self, record: dict[str, Any], sources: dict[str, str], prefix: str = "", note: str = "") -> None:
        self.record = record
        self.sources = sources
        self.prefix = prefix
        self.note = note
        self.settlement: tuple[str, str] | None = None

    def put(self, key: str, value: Any, source: str) -> None:
        self.record[key] = value
        self._source(key, value, source)

    def append(self, key: str, value: Any, source: str) -> None:
        items = self.record.setdefault(key, [])
        self._source(f"{key}[{len(items)}]", value, source)
        items.append(value)

    def _source(self, path: str, value: Any, source: str) -> None:
        path = self.prefix + path
        self.sources[path] = source
        if isinstance(value, dict):
            for key, item in value.items():
                if isinstance(item, list):
                    self.sources.update({f"{path}.{key}[{i}]": source for i in range(len(item))})
                else:
                    self.sources[f"{path}.{key}"] = source


def _apply(out: _Out, found: dict[str, list[Field]], table: tuple[tuple[str, Kind, str], ...]) -> None:
    for name, kind, key in table:
        for field in found.get(name, []):
            source = field.label + out.note
            if kind == "party":
                out.put(key, party(field), source)
            elif kind == "institution":
                out.put(key, institution(field), source)
            elif kind == "agent":
                out.append(key, institution(field), source)
            elif kind == "settlement":
                agent, account = settlement(field)
                if account is not None:
                    out.settlement = account, source
                if agent is not None:
                    out.append(key, agent, source)
            else:
                for line in text_lines(field):
                    out.append(key, line, source)


def _cover(out: _Out, fields: list[Field]) -> None:
    """MT 202 COV sequence B: the customer transfer the cover pays for, as payment["underlying"]."""
    found = check_sequence(fields, MT202COV_B, "MT202COV sequence B")
    under = _Out({}, out.sources, prefix="underlying.", note=" (sequence B)")
    _apply(under, found, _COV_B_MAP)
    for field in found.get("33B", []):
        currency, value = currency_amount(single_line(field), field.label)
        under.put("currency", currency, field.label + under.note)
        under.put("amount", value, field.label + under.note)
    # Its fields' sources are in place already; only the record itself needs one.
    out.record["underlying"] = under.record
    out.sources["underlying"] = "block 4 sequence B"


def _common(
    out: _Out, found: dict[str, list[Field]], header: _Header, user: dict[str, str], accounts: AccountMapping
) -> None:
    """The fields every accepted message has: identity, instant, amount, sender and receiver."""
    reference = single_line(found["20"][0])
    uetr = user.get("121")
    if uetr is not None:
        if not _UETR.fullmatch(uetr.lower()):
            raise MessageError(f"block 3: {{121:{uetr[:40]}}} is not a UETR (a version 4 UUID)")
        out.put("payment_id", uetr.lower(), "{3:}{121:}")
    else:
        out.put("payment_id", f"{header.sender}:{reference}", ":20:")
    value_date, currency, value = value_date_amount(found["32A"][0])
    created, created_source = value_date, ":32A:"
    if header.input_at is not None and header.input_at > value_date:
        created, created_source = header.input_at, "block 2 input time (MIR)"
    out.put("created_at", created.strftime("%Y-%m-%dT%H:%M:%SZ"), created_source)
    out.put("amount", value, ":32A:")
    out.put("currency", currency, ":32A:")
    out.put("instructing_agent", {"bic": header.sender}, header.sender_source)
    out.put("instructed_agent", {"bic": header.receiver}, header.receiver_source)
    account, account_source = out.settlement or (None, header.sender_source)
    account_id = accounts.account_id(account, header.sender)
    if account_id is not None:
        out.put("correspondent_account_id", account_id, account_source)
    out.record["source_fields"] = out.sources
