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

Modules: this one reads the message (envelope, AppHdr, Document, GrpHdr);
schemas/iso20022_transaction.py maps each transaction, with schemas/iso20022_fields.py (parties,
institutions, addresses, free text) and schemas/iso20022_values.py (amounts, dates, the payment
being built); schemas/iso20022_tree.py indexes the elements and gives their paths;
schemas/iso20022_xml.py parses hardened; schemas/iso20022_split.py cuts a file into messages.
"""

from __future__ import annotations

from schemas.iso20022_split import is_iso20022, split_iso20022
from schemas.iso20022_transaction import BODY, MessageContext, transaction
from schemas.iso20022_tree import FieldError, Node, Paths, Tree, check_document, child, children, read_tree, text
from schemas.messages import MAX_ERROR, MAX_MESSAGE_BYTES, NO_MAPPING, AccountMapping, Adapted, MessageError

# is_iso20022 and split_iso20022 live in schemas/iso20022_split.py and are re-exported from here,
# where schemas/inbound.py and the tests import them.
__all__ = ["ACCEPTED", "MAX_TRANSACTIONS", "is_iso20022", "parse_iso20022", "split_iso20022"]

_PACS = "urn:iso:std:iso:20022:tech:xsd:pacs."
ACCEPTED: dict[str, str] = {f"{_PACS}{kind}.001.{v:02d}": kind for kind in ("008", "009") for v in range(8, 13)}
_ACCEPTED_TEXT = f"{_PACS}008.001.08 to .12 and pacs.009.001.08 to .12"
_HEAD = "urn:iso:std:iso:20022:tech:xsd:head.001.001."
MAX_TRANSACTIONS = 1_000


def parse_iso20022(data: bytes, accounts: AccountMapping = NO_MAPPING) -> list[Adapted]:
    """One Adapted per CdtTrfTxInf of one message, in order; MessageError for a message that
    cannot be read at all."""
    msg, txs = _message(read_tree(data, MAX_MESSAGE_BYTES), accounts)
    out: list[Adapted] = []
    for i, tx in enumerate(txs, 1):
        label = f"CdtTrfTxInf[{i}]"
        try:
            payment = transaction(msg, tx, label)
        except FieldError as exc:
            error = f"{label}: {exc}"
            out.append(Adapted(label, error=error if len(error) <= MAX_ERROR else error[: MAX_ERROR - 3] + "..."))
            continue
        out.append(Adapted(label, payment=payment, source_fields=payment["source_fields"]))
    return out


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


def _message(tree: Tree, accounts: AccountMapping) -> tuple[MessageContext, list[Node]]:
    doc, header = _locate(tree)
    ns = str(doc.ns or "")
    kind = ACCEPTED.get(ns)
    if kind is None:
        raise MessageError(f"unsupported message namespace {ns or '(none)'}; accepted: {_ACCEPTED_TEXT}")
    check_document(tree, doc, ns)
    cover = _cover_header(header, kind, ns) if header is not None else None
    body = child(doc, BODY[kind])
    if body is None:
        raise MessageError(f"the Document ({ns}) holds no {BODY[kind]}")
    grp = child(body, "GrpHdr")
    if grp is None:
        raise MessageError(f"missing mandatory element {BODY[kind]}/GrpHdr")
    txs = children(body, "CdtTrfTxInf")
    if not txs:
        raise MessageError(f"missing mandatory element {BODY[kind]}/CdtTrfTxInf: the message holds no transaction")
    if len(txs) > MAX_TRANSACTIONS:
        raise MessageError(f"too many transactions: {len(txs)}, limit {MAX_TRANSACTIONS}")
    declared = text(child(grp, "NbOfTxs"))
    # ASCII digits only: str.isdigit() also takes superscripts ("²"), which int() refuses.
    # Compared as text: int() refuses over 4,300 digits, and no count needs them.
    if declared and (not (declared.isascii() and declared.isdigit()) or (declared.lstrip("0") or "0") != str(len(txs))):
        raise MessageError(f"GrpHdr/NbOfTxs is {declared[:20]!r} but the message holds {len(txs)} CdtTrfTxInf")
    paths = Paths(tree)
    for el, label in ((header, "AppHdr"), (grp, "GrpHdr"), (body, BODY[kind])):
        if el is not None:
            paths.root(el, label)
    return MessageContext(kind, header, grp, body, accounts, paths, cover), txs
