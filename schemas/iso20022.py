"""ISO 20022 pacs.008 and pacs.009 (core and COV) messages, as SWIFT CBPR+ profiles them, to
payment events (SPEC 1.1, schemas/messages.py): one payment per CdtTrfTxInf.

Sources: ISO 20022 Message Definition Report "Payments Clearing and Settlement" (pacs.008.001.08,
pacs.009.001.08, and their versions to .001.12); SWIFT CBPR+ Usage Guidelines on MyStandards
(pacs.008 FIToFICustomerCreditTransfer, pacs.009 FinancialInstitutionCreditTransfer CORE and COV,
head.001.001.02 Business Application Header).

Accepted (parse_iso20022, one message): a `Document` root in namespace
urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08 to .12 or pacs.009.001.08 to .12 (what is read is
alike in all: BICFI, AnyBIC, PostalAddress24/27) holding FIToFICstmrCdtTrf or FICdtTrf, or an
envelope root of any name (Envelope, BizMsgEnvlp, RequestPayload) holding that Document and at most
one AppHdr (head.001.001.xx). MessageError, naming what was found, for: another message or version
(pacs.008.001.02), no namespace, a DOCTYPE (entity expansion, XXE), over MAX_MESSAGE_BYTES,
MAX_DEPTH, MAX_ELEMENTS or MAX_TRANSACTIONS, an element of another namespace in the Document, an
element the schema allows once given twice (which one would a reader take?), an AppHdr MsgDefIdr of
another message, a wrong NbOfTxs. This is no XSD validation (the SWIFT interface does that): text
misplaced under an identifier or code element is not read. split_iso20022 cuts a file of several
messages into one each.

Mapped, per transaction; source_fields maps each filled payment path to its element path, rooted
at "CdtTrfTxInf", "GrpHdr", "AppHdr" or the message element, a repeated element indexed ("Ustrd[2]"):
- payment_id: PmtId/UETR, else TxId, InstrId, EndToEndId (one repeated in the message is an error
  for the later transaction). message_type: pacs.008, pacs.009, or pacs.009.cov when the transaction
  has UndrlygCstmrCdtTrf (an AppHdr saying COV, MsgDefIdr or BizSvc, without one is an error).
- created_at: the later of GrpHdr/CreDtTm (UTC when it has no offset) and IntrBkSttlmDt
  (transaction, else group header) at 00:00Z, written in UTC. amount/currency: IntrBkSttlmAmt and
  @Ccy. purpose: Purp/Cd or Prtry. direction: not set (the message does not say).
- correspondent_account_id: AccountMapping of GrpHdr/SttlmInf/SttlmAcct/Id (IBAN or Othr/Id), else
  of the instructing agent's BIC (transaction, group header, AppHdr Fr).
- Parties Dbtr, Cdtr, UltmtDbtr, UltmtCdtr (in a pacs.009 all four are institutions, FinInstnId:
  a party with a BIC, maybe no name); DbtrAcct/CdtrAcct IBAN or Othr/Id as `account`.
- Institutions DbtrAgt, CdtrAgt; InstgAgt/InstdAgt (transaction, else group header, else AppHdr
  Fr/To); IntrmyAgt1-3 and PrvsInstgAgt1-3 in order. intermediary_agents also holds, after
  IntrmyAgt1-3, the institutions funds or charges pass through: the settlement reimbursement agents
  (GrpHdr/SttlmInf, MT 53/54/55), ChrgsInf/Agt, a GrpHdr InstgAgt/InstdAgt other than the
  transaction's (the usage rules allow only one of the two), and an AppHdr Fr/To whose BIC is not
  the instructing/instructed agent's. An institution with no text at all is left out.
- Postal addresses: one line per written group (Dept SubDept; StrtNm BldgNb; BldgNm Flr Room;
  PstBx; PstCd TwnNm; TwnLctnNm DstrctNm; CtrySubDvsn; later versions' other elements, labelled),
  each AdrLine, then the Ctry code. country: Ctry (a branch address, BrnchId/PstlAdr, wins: a branch
  is where it is), else a party's CtryOfRes.
- Text with no field of its own in the contract (ClrSysMmbId, LEI, FinInstnId/Othr, BrnchId Id/Nm,
  OrgId/PrvtId identifiers, birth place, CtctDtls, an account's name or proxy, an agent's own
  account such as IntrmyAgt1Acct) becomes labelled address lines of its party or institution
  ("ClrSysMmbId USABA 021000021"): place-screened and shown to investigators, not name-screened.
- remittance_information: every text element of RmtInf (each Ustrd, each Strd leaf), then the text
  of any transaction element not read by name here (InitgPty, RgltryRptg, Tax, RltdRmtInf,
  SplmtryData, later versions' additions), SttlmAcct/Nm and the message's SplmtryData.
  instructions: InstrForCdtrAgt and InstrForNxtAgt, Cd and InstrInf, one line each.
- COV: UndrlygCstmrCdtTrf as `underlying` the same way, InstdAmt as its amount; its paths are
  "underlying.*" -> "CdtTrfTxInf/UndrlygCstmrCdtTrf/...".

Not mapped, as naming nobody: GrpHdr MsgId, BtchBookg, NbOfTxs (checked), CtrlSum,
TtlIntrBkSttlmAmt, SttlmMtd, ClrSys, PmtTpInf (codes, and 35-character Prtry codes); the PmtId ids
not chosen; ChrgBr, ChrgsInf/Amt, the interbank leg's InstdAmt and XchgRate, SttlmPrty,
SttlmTmIndctn, SttlmTmReq, AccptncDtTm, PoolgAdjstmntDt; AdrTp; the rest of the AppHdr.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from lxml import etree  # type: ignore[import-untyped]  # lxml ships no type information

from schemas.iso20022_fields import (
    BOM,
    Element,
    FieldError,
    Line,
    Node,
    Paths,
    Record,
    Sources,
    Tree,
    check_document,
    child,
    children,
    common,
    elements,
    first_with_text,
    group_line,
    institution,
    leaf_lines,
    local,
    own_text,
    parse_root,
    parse_xml,
    party,
    put_lines,
    read_tree,
    require,
    text,
)
from schemas.messages import MAX_ERROR, MAX_MESSAGE_BYTES, NO_MAPPING, AccountMapping, Adapted, MessageError

_PACS = "urn:iso:std:iso:20022:tech:xsd:pacs."
ACCEPTED: dict[str, str] = {f"{_PACS}{kind}.001.{v:02d}": kind for kind in ("008", "009") for v in range(8, 13)}
_ACCEPTED_TEXT = f"{_PACS}008.001.08 to .12 and pacs.009.001.08 to .12"
_HEAD = "urn:iso:std:iso:20022:tech:xsd:head.001.001."
_BODY = {"008": "FIToFICstmrCdtTrf", "009": "FICdtTrf"}
MAX_TRANSACTIONS = 1_000
MAX_FILE_BYTES = 32 * MAX_MESSAGE_BYTES
MAX_MESSAGES = 10_000
MAX_SOURCES = 1024
# Mandatory in CreditTransferTransaction39 (pacs.008.001.08), 36 (pacs.009) and 37 (the COV's
# underlying transfer). CBPR+ also requires UETR and IntrBkSttlmDt; without them the id falls back
# and the date comes from CreDtTm, so neither is fatal here.
_MANDATORY = {
    "008": ("PmtId/EndToEndId", "IntrBkSttlmAmt", "ChrgBr", "Dbtr", "DbtrAgt", "CdtrAgt", "Cdtr"),
    "009": ("PmtId/EndToEndId", "IntrBkSttlmAmt", "Dbtr", "Cdtr"),
    "cov": ("Dbtr", "DbtrAgt", "CdtrAgt", "Cdtr"),
}
_PARTIES = (
    ("debtor", "Dbtr"),
    ("creditor", "Cdtr"),
    ("ultimate_debtor", "UltmtDbtr"),
    ("ultimate_creditor", "UltmtCdtr"),
)
_INSTRUCTIONS = ("InstrForCdtrAgt", "InstrForNxtAgt")
_ROUTE = tuple(f"{a}{i}{s}" for a in ("IntrmyAgt", "PrvsInstgAgt") for i in (1, 2, 3) for s in ("", "Acct"))
# Transaction elements read by name, or skipped as naming nobody; any other's text is kept.
_READ = frozenset(
    {
        *("PmtId", "PmtTpInf", "IntrBkSttlmAmt", "IntrBkSttlmDt", "SttlmPrty", "SttlmTmIndctn", "SttlmTmReq"),
        *("AccptncDtTm", "PoolgAdjstmntDt", "InstdAmt", "XchgRate", "ChrgBr", "ChrgsInf", "InstgAgt", "InstdAgt"),
        *("UltmtDbtr", "Dbtr", "DbtrAcct", "DbtrAgt", "DbtrAgtAcct", "CdtrAgt", "CdtrAgtAcct", "Cdtr", "CdtrAcct"),
        *("UltmtCdtr", "Purp", "RmtInf", "UndrlygCstmrCdtTrf", *_INSTRUCTIONS, *_ROUTE),
    }
)
_LINE_KEY = re.compile(r"(address|remittance_information|instructions)\[\d+\]$")


def is_iso20022(data: bytes) -> bool:
    """A cheap sniff: the first byte after a UTF-8 BOM and whitespace is "<"."""
    start = len(BOM) if data.startswith(BOM) else 0
    return data[start : start + 4096].lstrip()[:1] == b"<"


def split_iso20022(data: bytes) -> list[bytes]:
    """The messages of a file, each as bytes parse_iso20022 accepts.

    Accepted: one message (a Document, or an envelope of AppHdr + Document); several of those
    concatenated, each optionally after its own BOM and XML declaration (returned byte for byte,
    declaration included); or wrapper elements at any depth around envelopes or Documents (a batch
    element, a SWIFT SAA DataPDU whose Body holds AppHdr + Document): each envelope (the parent of a
    Document beside an AppHdr), else each bare Document, is re-serialised as UTF-8 with the
    namespace declarations it needs (comments dropped). A message that cannot be read (malformed,
    with a DOCTYPE, no Document) is cut out as it is, for parse_iso20022 to refuse alone; only text
    outside any element, a stray end tag, unterminated markup, more than MAX_FILE_BYTES or
    MAX_MESSAGES refuse the whole file. Each message is then held to MAX_MESSAGE_BYTES by
    parse_iso20022."""
    if len(data) > MAX_FILE_BYTES:
        raise MessageError(f"oversized file: {len(data)} bytes, limit {MAX_FILE_BYTES}")
    if len(data) <= MAX_MESSAGE_BYTES and _one_message(data):
        # The common case, one message as a record or file: one parse instead of a tokenising
        # pass and a parse per top-level element (`screener bench --formats`).
        return [data[data.find(b"<") :].rstrip(b" \t\r\n")]
    out: list[bytes] = []
    for start, end in _top_level(data):
        chunk = data[start:end]
        try:
            root = parse_xml(chunk, MAX_FILE_BYTES, None)
        except MessageError:
            # Unreadable: passed on as it is, for parse_iso20022 to say why; the others go on.
            out.append(chunk)
            continue
        found = _messages_in(root)
        whole = not found or found[0] is root or (local(found[0]) == "Document" and found[0].getparent() is root)
        if len(found) <= 1 and whole:
            out.append(chunk)
        else:
            out.extend(etree.tostring(el, encoding="UTF-8", xml_declaration=True) for el in found)
        if len(out) > MAX_MESSAGES:
            raise MessageError(f"too many messages in one file: over {MAX_MESSAGES}")
    if not out:
        raise MessageError("no XML element found")
    return out


def parse_iso20022(data: bytes, accounts: AccountMapping = NO_MAPPING) -> list[Adapted]:
    """One Adapted per CdtTrfTxInf of one message, in order; MessageError for a message that
    cannot be read at all."""
    msg, txs = _message(read_tree(data, MAX_MESSAGE_BYTES), accounts)
    out: list[Adapted] = []
    for i, tx in enumerate(txs, 1):
        label = f"CdtTrfTxInf[{i}]"
        try:
            payment = _transaction(msg, tx, label)
        except FieldError as exc:
            error = f"{label}: {exc}"
            out.append(Adapted(label, error=error if len(error) <= MAX_ERROR else error[: MAX_ERROR - 3] + "..."))
            continue
        out.append(Adapted(label, payment=payment, source_fields=payment["source_fields"]))
    return out


@dataclass
class _Message:
    kind: str
    header: Node | None
    grp: Node
    body: Node
    accounts: AccountMapping
    paths: Paths
    cover_header: str | None
    ids: dict[str, str] = field(default_factory=dict)


def _locate(tree: Tree) -> tuple[Node, Node | None]:
    """The Document and the AppHdr beside it, if any."""
    root = tree.order[0]
    if root.name == "Document":
        return root, None
    docs, headers = children(root, "Document"), children(root, "AppHdr")
    if len(docs) > 1 or (not docs and any(n.name == "Document" for n in tree.order[1:])):
        raise MessageError(f"<{root.name}> holds several messages or nests them: split it first (split_iso20022)")
    if not docs or len(headers) > 1:
        raise MessageError(
            f"unknown root element <{root.name}> (namespace {root.ns or 'none'}): "
            f"expected a Document ({_ACCEPTED_TEXT}), alone or with one AppHdr in an envelope"
        )
    return docs[0], (headers[0] if headers else None)


def _cover_header(header: Node, kind: str, ns: str) -> str | None:
    """What the AppHdr says of a cover payment (CBPR+: MsgDefIdr "pacs.009.001.08" with BizSvc
    "swift.cbprplus.cov.xx"; some systems write "pacs.009.001.08COV")."""
    if not str(header.ns or "").startswith(_HEAD):
        raise MessageError(f"AppHdr namespace {header.ns or '(none)'} is not head.001.001.xx")
    definition, service = text(child(header, "MsgDefIdr")), text(child(header, "BizSvc"))
    if definition and not definition.lower().startswith(f"pacs.{kind}"):
        raise MessageError(f"AppHdr MsgDefIdr {definition[:40]!r} does not match the Document ({ns})")
    if definition.upper().endswith("COV"):
        return f"AppHdr MsgDefIdr {definition}"
    return f"AppHdr BizSvc {service}" if ".cov" in service.lower() else None


def _message(tree: Tree, accounts: AccountMapping) -> tuple[_Message, list[Node]]:
    doc, header = _locate(tree)
    ns = str(doc.ns or "")
    kind = ACCEPTED.get(ns)
    if kind is None:
        raise MessageError(f"unsupported message namespace {ns or '(none)'}; accepted: {_ACCEPTED_TEXT}")
    check_document(tree, doc, ns)
    cover = _cover_header(header, kind, ns) if header is not None else None
    body = child(doc, _BODY[kind])
    if body is None:
        raise MessageError(f"the Document ({ns}) holds no {_BODY[kind]}")
    grp = child(body, "GrpHdr")
    if grp is None:
        raise MessageError(f"missing mandatory element {_BODY[kind]}/GrpHdr")
    txs = children(body, "CdtTrfTxInf")
    if not txs:
        raise MessageError(f"missing mandatory element {_BODY[kind]}/CdtTrfTxInf: the message holds no transaction")
    if len(txs) > MAX_TRANSACTIONS:
        raise MessageError(f"too many transactions: {len(txs)}, limit {MAX_TRANSACTIONS}")
    declared = text(child(grp, "NbOfTxs"))
    # ASCII digits only: str.isdigit() also takes superscripts ("²"), which int() refuses.
    # Compared as text: int() refuses over 4,300 digits, and no count needs them.
    if declared and (not (declared.isascii() and declared.isdigit()) or (declared.lstrip("0") or "0") != str(len(txs))):
        raise MessageError(f"GrpHdr/NbOfTxs is {declared[:20]!r} but the message holds {len(txs)} CdtTrfTxInf")
    paths = Paths(tree)
    for el, label in ((header, "AppHdr"), (grp, "GrpHdr"), (body, _BODY[kind])):
        if el is not None:
            paths.root(el, label)
    return _Message(kind, header, grp, body, accounts, paths, cover), txs


def _created_at(msg: _Message, tx: Node) -> tuple[str, str]:
    found: list[tuple[datetime, str]] = []
    created = child(msg.grp, "CreDtTm")
    if created is not None:
        found.append((instant(created, "GrpHdr/CreDtTm"), msg.paths.of(created)))
    settled = first_with_text(child(tx, "IntrBkSttlmDt"), child(msg.grp, "IntrBkSttlmDt"))
    if settled is not None:
        found.append((instant(settled, "IntrBkSttlmDt"), msg.paths.of(settled)))
    if not found:
        raise FieldError("no date: neither GrpHdr/CreDtTm nor IntrBkSttlmDt is present")
    when, path = max(found, key=lambda f: f[0])
    return when.isoformat().replace("+00:00", "Z"), path


def _payment_id(msg: _Message, tx: Node, label: str) -> tuple[str, str]:
    for name in ("UETR", "TxId", "InstrId", "EndToEndId"):
        el = child(tx, "PmtId", name)
        if el is not None and (value := text(el)):
            first = msg.ids.setdefault(value, label)
            if first != label:
                raise FieldError(
                    f"PmtId/{name} {value[:60]!r} repeats the id of {first}: each transaction needs its own"
                )
            return value, msg.paths.of(el)
    raise FieldError("missing mandatory element PmtId/EndToEndId")


def _transaction(msg: _Message, tx: Node, label: str) -> dict[str, Any]:
    paths = msg.paths
    paths.root(tx, "CdtTrfTxInf")
    require(tx, _MANDATORY[msg.kind], "")
    under = child(tx, "UndrlygCstmrCdtTrf")
    if msg.kind == "009" and msg.cover_header and under is None:
        raise FieldError(f"{msg.cover_header[:80]} marks a cover payment, but UndrlygCstmrCdtTrf is missing")
    sources: Sources = {}
    out = Out(sources)
    out.value("payment_id", *_payment_id(msg, tx, label))
    kind = "pacs.008" if msg.kind == "008" else "pacs.009.cov" if under is not None else "pacs.009"
    out.value("message_type", kind, paths.of(under) if under is not None and msg.kind == "009" else _BODY[msg.kind])
    out.value("created_at", *_created_at(msg, tx))
    interbank = child(tx, "IntrBkSttlmAmt")
    assert interbank is not None  # mandatory in every kind: require() above
    out.amount(interbank, paths.of(interbank), "IntrBkSttlmAmt")
    _correspondent(msg, tx, out)
    purpose = first_with_text(child(tx, "Purp", "Cd"), child(tx, "Purp", "Prtry"))
    if purpose is not None:
        out.value("purpose", text(purpose), paths.of(purpose))
    extra = _routing_agents(msg, tx, out)
    settlement = child(msg.grp, "SttlmInf")
    notes = leaf_lines(child(settlement, "SttlmAcct", "Nm"), paths)
    for supplement in children(msg.body, "SplmtryData"):
        notes += leaf_lines(supplement, paths)
    _fill(out, tx, paths, msg.kind == "009", _MANDATORY[msg.kind], "", extra, notes)
    if under is not None:
        where = "UndrlygCstmrCdtTrf/"
        require(under, _MANDATORY["cov"], where)
        sub = Out(sources, "underlying.")
        if (instructed := child(under, "InstdAmt")) is not None:
            sub.amount(instructed, paths.of(instructed), where + "InstdAmt")
        _fill(sub, under, paths, False, _MANDATORY["cov"], where, [], [])
        out.data["underlying"] = sub.data
        sources["underlying"] = paths.of(under)
    if len(sources) > MAX_SOURCES:
        # Keep the objects' entries: source_field() falls back from a line to its object.
        for key in [k for k in sources if _LINE_KEY.search(k)]:
            del sources[key]
    out.data["source_fields"] = sources
    return out.data


def _correspondent(msg: _Message, tx: Node, out: Out) -> None:
    settlement = child(msg.grp, "SttlmInf")
    account = first_with_text(
        child(settlement, "SttlmAcct", "Id", "IBAN"), child(settlement, "SttlmAcct", "Id", "Othr", "Id")
    )
    sender = first_with_text(
        child(tx, "InstgAgt", "FinInstnId", "BICFI"),
        child(msg.grp, "InstgAgt", "FinInstnId", "BICFI"),
        child(msg.header, "Fr", "FIId", "FinInstnId", "BICFI"),
    )
    account_id = msg.accounts.account_id(text(account) or None, text(sender).upper() or None)
    source = account if account is not None else sender  # not None when there is an account_id
    if account_id and source is not None:
        out.value("correspondent_account_id", account_id, msg.paths.of(source))


def _bic11(rec: Record | None) -> str:
    bic = str(rec[0].get("bic", "")).upper() if rec is not None else ""
    return bic + "XXX" if len(bic) == 8 else bic


def _same(a: Record, b: Record | None) -> bool:
    """The same institution given twice (a BIC with or without its XXX branch code)."""
    return b is not None and _bic11(a) == _bic11(b) and {**a[0], "bic": ""} == {**b[0], "bic": ""}


def _routing_agents(msg: _Message, tx: Node, out: Out) -> list[Record]:
    """Sets the instructing and instructed agents; returns the other institutions funds or charges
    pass through, for intermediary_agents after IntrmyAgt1-3."""
    paths, extra = msg.paths, []
    for key, name, hdr in (("instructing_agent", "InstgAgt", "Fr"), ("instructed_agent", "InstdAgt", "To")):
        found = [institution(el, None, paths) for el in (child(tx, name), child(msg.grp, name)) if el is not None]
        chosen = next((rec for rec in found if rec[0]), None)
        fi = child(msg.header, hdr, "FIId")
        header = institution(fi, None, paths) if fi is not None else None
        if chosen is None:
            chosen, header = header, None
        if chosen is not None and chosen[0]:
            out.record(key, chosen)
        # A group header agent beside the transaction's (the schema's usage rule forbids both, but
        # a reader must not drop one unscreened) is screened with the intermediaries.
        extra += [rec for rec in found if rec[0] and rec is not chosen and not _same(rec, chosen)]
        if header is not None and _bic11(header) != _bic11(chosen):
            extra.append(header)
    settlement = child(msg.grp, "SttlmInf")
    for name in ("InstgRmbrsmntAgt", "InstdRmbrsmntAgt", "ThrdRmbrsmntAgt"):
        if (el := child(settlement, name)) is not None:
            extra.append(institution(el, child(settlement, name + "Acct"), paths))
    extra += [institution(agt, None, paths) for ci in children(tx, "ChrgsInf") if (agt := child(ci, "Agt")) is not None]
    return extra


def _put(out: Out, key: str, rec: Record, mandatory: bool, name: str) -> None:
    if rec[0]:
        out.record(key, rec)
    elif mandatory:
        raise FieldError(f"mandatory element {name} is empty: nothing in it identifies a party or institution")


def _fill(
    out: Out,
    tx: Node,
    paths: Paths,
    institutions_as_parties: bool,
    mandatory: tuple[str, ...],
    where: str,
    extra_agents: list[Record],
    notes: list[Line],
) -> None:
    """Parties, agents and free text of a transaction or of a COV's underlying transfer."""
    for key, name in _PARTIES:
        if (el := child(tx, name)) is not None:
            acct = child(tx, name + "Acct")
            # In a pacs.009 UltmtDbtr/UltmtCdtr are institutions (FinInstnId) as much as Dbtr/Cdtr:
            # read as parties, their BIC and name would become labelled address lines.
            rec = institution(el, acct, paths, as_party=True) if institutions_as_parties else party(el, acct, paths)
            _put(out, key, rec, name in mandatory, where + name)
    for key, name in (("debtor_agent", "DbtrAgt"), ("creditor_agent", "CdtrAgt")):
        if (el := child(tx, name)) is not None:
            _put(out, key, institution(el, child(tx, name + "Acct"), paths), name in mandatory, where + name)
    for key, prefix, more in (
        ("intermediary_agents", "IntrmyAgt", extra_agents),
        ("previous_instructing_agents", "PrvsInstgAgt", []),
    ):
        route = [(child(tx, f"{prefix}{i}"), child(tx, f"{prefix}{i}Acct")) for i in (1, 2, 3)]
        for rec in [institution(el, acct, paths) for el, acct in route if el is not None] + more:
            if rec[0]:
                out.record(key, rec)
    remittance = leaf_lines(child(tx, "RmtInf"), paths)
    if own := own_text(tx):  # text between the transaction's elements: invalid, kept all the same
        remittance.append((own, paths.of(tx)))
    for el in tx.kids:
        if el.name not in _READ:
            remittance += leaf_lines(el, paths)
    out.lines("remittance_information", remittance + notes)
    instructions: list[Line] = []
    for el in tx.kids:
        if el.name in _INSTRUCTIONS and (line := group_line(el, "", paths)) is not None:
            at = first_with_text(child(el, "InstrInf"), child(el, "Cd"))
            instructions.append((line[0].strip(), paths.of(at) if at is not None else line[1]))
    out.lines("instructions", instructions)


# --- Transaction values ---------------------------------------------------------------------------

_AMOUNT = re.compile(r"^\d{1,18}(\.\d{1,5})?$")
_CCY = re.compile(r"^[A-Z]{3}$")
_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_LISTS = frozenset({"intermediary_agents", "previous_instructing_agents"})


def amount(el: Node, name: str) -> tuple[str, str]:
    """An ActiveCurrencyAndAmount as decimal text (never a float) and its currency."""
    value, ccy = text(el), str(el.el.get("Ccy") or "")
    if not _AMOUNT.match(value):
        raise FieldError(f"{name} {value[:40]!r} is not a decimal amount (up to 18 digits, 5 decimals)")
    if not _CCY.match(ccy):
        raise FieldError(f"{name} has no ISO 4217 currency (Ccy={ccy[:12]!r})")
    return value, ccy


def instant(el: Node, name: str) -> datetime:
    """An ISODate (at 00:00Z) or ISODateTime, in UTC."""
    value = text(el)
    try:
        if _DATE.match(value):
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        if (m := _DATETIME.match(value)) is None:
            raise ValueError(value)
        # CBPR+ requires an offset; a time without one is read as UTC. Python keeps 6 fraction digits.
        return datetime.fromisoformat(m[1] + (f".{m[2][:6]}" if m[2] else "") + (m[3] or "Z")).astimezone(UTC)
    except (ValueError, OverflowError):
        raise FieldError(f"{name} {value[:40]!r} is not an ISO 8601 date or date-time") from None


class Out:
    """A payment, or its underlying transfer, being built: values with their element paths, in a
    source map shared with the payment (keys under `prefix`)."""

    def __init__(self, sources: Sources, prefix: str = "") -> None:
        self.data: dict[str, Any] = {}
        self.sources = sources
        self.prefix = prefix

    def value(self, key: str, value: str, path: str) -> None:
        self.data[key] = value
        self.sources[self.prefix + key] = path

    def record(self, key: str, rec: Record) -> None:
        base = key
        if key in _LISTS:
            items = self.data.setdefault(key, [])
            base = f"{key}[{len(items)}]"
            items.append(rec[0])
            whole = self.prefix + key
            self.sources[whole] = common([self.sources.get(whole, rec[1][""]), rec[1][""]])
        else:
            self.data[key] = rec[0]
        for sub, path in rec[1].items():
            self.sources[self.prefix + base + (f".{sub}" if sub else "")] = path

    def lines(self, key: str, lines: list[Line]) -> None:
        src: Sources = {}
        put_lines(self.data, src, key, lines)
        self.sources.update((self.prefix + k, p) for k, p in src.items())

    def amount(self, el: Node, path: str, name: str) -> None:
        value, ccy = amount(el, name)
        self.value("amount", value, path)
        self.value("currency", ccy, path + "/@Ccy")


# --- Splitting files ------------------------------------------------------------------------------

# Markup tokens, enough to find where each top-level element starts and ends; lxml checks the rest.
# Every alternative matches a given start in at most one way (no nested quantifiers over
# overlapping classes), so a hostile file cannot make the match backtrack exponentially; and a
# construct whose terminator the file never holds is left out of the pattern (_token_pattern), so
# each opening of it does not scan to the end of the file again.
_CONSTRUCTS = (
    (b"-->", rb"<!--.*?-->"),
    (b"]]>", rb"<!\[CDATA\[.*?\]\]>"),
    (b"?>", rb"<\?.*?\?>"),
)
_CLOSINGS = ((b"<!--", b"-->"), (b"<![CDATA[", b"]]>"), (b"<?", b"?>"))
_MARKUP = rb"""<!DOCTYPE[^\[>]*(?:\[[^\]]*\][^\[>]*)*>|<![^>]*>|</[^>]*>|<(?:[^>"']|"[^"]*"|'[^']*')*>"""


@functools.cache
def _token_pattern(present: tuple[bool, ...]) -> re.Pattern[bytes]:
    kept = [pattern for (_, pattern), there in zip(_CONSTRUCTS, present, strict=True) if there]
    return re.compile(b"|".join([*kept, _MARKUP]), re.DOTALL)


_DECLARATION = re.compile(rb"<\?xml\s")
_TAG_NAME = re.compile(rb"</?([^\s/>]*)")


def _tokens(data: bytes) -> Iterator[tuple[int, int, bytes, bool]]:
    """(start, end, markup, whether non-blank text precedes it) for each piece of markup; a last
    empty token reports text after the final element."""
    pattern = _token_pattern(tuple(end in data for end, _ in _CONSTRUCTS))
    pos = 0
    while (lt := data.find(b"<", pos)) >= 0:
        token = pattern.match(data, lt)
        if token is None:
            raise MessageError(f"malformed XML: unterminated markup at byte {lt}")
        markup = token.group()
        for opening, closing in _CLOSINGS:
            # A "<?" with no "?>" anywhere after it is read by the general markup alternative;
            # as a token it would swallow the start tag after it, and a message would be lost.
            if markup.startswith(opening) and not markup.endswith(closing):
                closed_by = closing.decode()
                raise MessageError(f"malformed XML: {opening.decode()} at byte {lt} is never closed by {closed_by}")
        yield lt, token.end(), markup, bool(data[pos:lt].replace(BOM, b"").strip())
        pos = token.end()
    yield len(data), len(data), b"", bool(data[pos:].replace(BOM, b"").strip())


# Nesting the splitter follows: a message's own limit (MAX_DEPTH, checked when it is parsed) plus
# any wrappers around it, with room to spare; deeper, the file is refused whole.
SPLIT_MAX_DEPTH = 1000


def _close(open_names: list[bytes], open_count: dict[bytes, int], name: bytes) -> None:
    """Close the innermost open element of that name and any left open inside it; an end tag
    matching none is skipped. The match is usually the last element, so the scan from the end
    stops at once."""
    if not open_count.get(name):
        return
    index = len(open_names) - 1
    while open_names[index] != name:
        index -= 1
    for closed in open_names[index:]:
        open_count[closed] -= 1
    del open_names[index:]


def _top_level(data: bytes) -> list[tuple[int, int]]:  # noqa: PLR0912 - one state machine over the tokens
    """Byte spans of the top-level elements of data, each from the XML declaration before it.

    End tags are matched by name, closing any elements left open inside (and one matching no open
    element is skipped), so a malformed message still ends at its root's end tag: it is cut out
    whole, for parse_iso20022 to refuse it alone. A last element never closed runs to the end."""
    spans: list[tuple[int, int]] = []
    open_names: list[bytes] = []
    # How many of each name are open: an end tag matching none is skipped without a scan.
    open_count: dict[bytes, int] = {}
    start, declared, stray = 0, None, False
    for lt, end, tag, loose_text in _tokens(data):
        if not open_names and (loose_text or tag.startswith(b"<![CDATA[")):
            raise MessageError(f"malformed XML: text outside any element before byte {lt}")
        if tag.startswith((b"<!", b"<?")) or not tag:
            # A message starts at its XML declaration, or at a DOCTYPE, which parse_xml then
            # refuses for that message alone.
            # So does any other processing instruction outside an element: what it holds (a
            # message swallowed by a stray "<?" up to a later "?>") stays in a message, to be
            # read or refused, never cut out of every message.
            if not open_names and declared is None and tag.startswith((b"<!DOCTYPE", b"<?")):
                declared = lt
                stray = stray or not _DECLARATION.match(tag)
            continue
        named = _TAG_NAME.match(tag)
        name = named[1] if named else b""
        if tag.startswith(b"</"):
            if not open_names:
                raise MessageError(f"malformed XML: end tag without a start tag at byte {lt}")
            _close(open_names, open_count, name)
        else:
            if not open_names:
                start = lt if declared is None else declared
            if not tag.endswith(b"/>"):
                if len(open_names) >= SPLIT_MAX_DEPTH:
                    raise MessageError(f"malformed XML: elements nested over {SPLIT_MAX_DEPTH} deep (byte {lt})")
                open_names.append(name)
                open_count[name] = open_count.get(name, 0) + 1
        if not open_names:
            spans.append((start, end))
            declared, stray = None, False
    if open_names:
        spans.append((start, len(data)))
    elif declared is not None and stray:
        spans.append((declared, len(data)))  # an instruction with no element after it: refused
    return spans


def _messages_in(root: Element) -> list[Element]:
    """The messages under root: each envelope (the parent of a Document beside an AppHdr), else
    each bare Document; a Document inside another (in SplmtryData) is part of that one."""
    found: list[Element] = []
    for doc in root.iter("{*}Document"):
        if not any(local(a) == "Document" for a in doc.iterancestors()):
            parent = doc.getparent()
            found.append(parent if parent is not None and any(local(c) == "AppHdr" for c in elements(parent)) else doc)
    return found


def _one_message(data: bytes) -> bool:
    """Whether data is one well-formed document holding exactly one message as its root (or as the
    only Document of an envelope root); anything else (a DOCTYPE, malformed XML) takes the splitting
    path."""
    try:
        root = parse_root(data, MAX_MESSAGE_BYTES)
    except MessageError:
        return False
    found = _messages_in(root)
    return len(found) == 1 and found[0] is root
