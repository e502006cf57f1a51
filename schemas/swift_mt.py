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
lines (swift_mt_parties.party). Lines are kept as the message wrapped them (over-long ones whole),
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

Modules: this one maps the fields to the payment; schemas/swift_mt_blocks.py splits files,
decodes the text and reads blocks 1 to 3; schemas/swift_mt_fields.py has the block 4 field tables
and value formats, schemas/swift_mt_parties.py the party and institution options.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from schemas.messages import NO_MAPPING, AccountMapping, Adapted, MessageError
from schemas.swift_mt_blocks import Header, decode, is_mt, message_type_of, split_blocks, split_mt, user_header
from schemas.swift_mt_fields import (
    MT103,
    MT202_A,
    MT202COV_B,
    Field,
    block4_fields,
    check_sequence,
    currency_amount,
    single_line,
    text_lines,
    value_date_amount,
)
from schemas.swift_mt_parties import institution, party, settlement

# is_mt and split_mt live in schemas/swift_mt_blocks.py and are re-exported from here, where
# schemas/inbound.py and the tests import them.
__all__ = ["is_mt", "parse_mt", "split_mt"]

_UETR = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")

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


def parse_mt(data: bytes, accounts: AccountMapping = NO_MAPPING) -> Adapted:
    """The payment event of one MT 103, MT 202 or MT 202 COV message."""
    blocks = split_blocks(decode(data))
    header = Header.read(blocks["1"], blocks["2"])
    user = user_header(blocks.get("3", ""))
    message_type = message_type_of(header.mt, user)
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
    out: _Out, found: dict[str, list[Field]], header: Header, user: dict[str, str], accounts: AccountMapping
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
