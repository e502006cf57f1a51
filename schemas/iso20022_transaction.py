"""One CdtTrfTxInf of a pacs.008 or pacs.009 (and a COV's UndrlygCstmrCdtTrf) as a payment, for
parse_iso20022 (schemas/iso20022.py, whose docstring gives the mapping field by field): its id,
type, instant, amount, correspondent account, parties, agents, remittance information and
instructions, each with the path of the element it came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from schemas.iso20022_fields import Line, Record, Sources, group_line, institution, leaf_lines, party
from schemas.iso20022_tree import FieldError, Node, Paths, child, children, first_with_text, own_text, require, text
from schemas.iso20022_values import Out, instant
from schemas.messages import AccountMapping

# The message element of each kind, under Document.
BODY = {"008": "FIToFICstmrCdtTrf", "009": "FICdtTrf"}
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


@dataclass
class MessageContext:
    """What a transaction is read with: its message's kind ("008", "009"), AppHdr, GrpHdr and
    message element, the account mapping, the element paths, what the AppHdr says of a cover, and
    the ids of the transactions read so far."""

    kind: str
    header: Node | None
    grp: Node
    body: Node
    accounts: AccountMapping
    paths: Paths
    cover_header: str | None
    ids: dict[str, str] = field(default_factory=dict)


def _created_at(msg: MessageContext, tx: Node) -> tuple[str, str]:
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


def _payment_id(msg: MessageContext, tx: Node, label: str) -> tuple[str, str]:
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


def transaction(msg: MessageContext, tx: Node, label: str) -> dict[str, Any]:
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
    out.value("message_type", kind, paths.of(under) if under is not None and msg.kind == "009" else BODY[msg.kind])
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


def _correspondent(msg: MessageContext, tx: Node, out: Out) -> None:
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


def _routing_agents(msg: MessageContext, tx: Node, out: Out) -> list[Record]:
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
