"""A covered bank in any field of a real-format CBPR+ message blocks, and the hit names that field.

Each case starts from a clean sample (ops/samples/messages: pacs.008, pacs.009 CORE, and the
pacs.009 COV sample with its Pyongyang creditor side replaced by a Shanghai one), puts one covered
institution into one field family, keeping the element order of pacs.008.001.08 / pacs.009.001.08,
and screens the message with the packaged rules and ops/samples/registry.yaml. The block must cite
the measure and name the element an investigator finds in the message (source_fields), and every
hit must lie inside the element that was changed: the rest of the message stays clean.

Covered: Korea Kwangson Banking Corporation (KKBCKPPY, a North Korean bank: 31 CFR 1010.659),
Bank of Dandong (DDGBCNBD: 31 CFR 1010.660), and any financial institution with an office in
Pyongyang (1010.659(a)(2): a branch or office within North Korea).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree  # type: ignore[import-untyped]  # lxml ships no type information

from ops.screen_file import load_registry_file
from rules import Decision, load_rules, parse_payment, screen
from schemas.iso20022 import parse_iso20022
from schemas.messages import NO_MAPPING, AccountMapping

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "ops" / "samples" / "messages"
AS_OF = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
RULES = load_rules()
REGISTRY = load_registry_file(ROOT / "ops" / "samples" / "registry.yaml")

NKOREA = "31 CFR 1010.659(b)(2)"
DANDONG = "31 CFR 1010.660(b)(2)"
KWANGSON_BIC, KWANGSON = "KKBCKPPY", "Korea Kwangson Banking Corporation"
DANDONG_BIC, DANDONG_NAME = "DDGBCNBD", "Bank of Dandong"
# Clean agents for the route before a covered one (CBPR+: IntrmyAgt2 only after IntrmyAgt1).
CLEAN_AGENTS = ("ALPSCHZZXXX", "TRVLATWWXXX")  # Alpine Clearing Bank AG (CH), Traveller Bank Austria AG (AT)
TX = "CdtTrfTxInf"
U = "CdtTrfTxInf/UndrlygCstmrCdtTrf"

# --- Element order of pacs.008.001.08 / pacs.009.001.08 (ISO 20022 message definitions) -----------

_PREVIOUS = tuple(f"PrvsInstgAgt{i}{s}" for i in (1, 2, 3) for s in ("", "Acct"))
_INTERMEDIARIES = tuple(f"IntrmyAgt{i}{s}" for i in (1, 2, 3) for s in ("", "Acct"))
# CreditTransferTransaction39 (pacs.008): parties are PartyIdentification135.
TX_008 = (
    *("PmtId", "PmtTpInf", "IntrBkSttlmAmt", "IntrBkSttlmDt", "SttlmPrty", "SttlmTmIndctn", "SttlmTmReq"),
    *("AccptncDtTm", "PoolgAdjstmntDt", "InstdAmt", "XchgRate", "ChrgBr", "ChrgsInf", *_PREVIOUS, "InstgAgt"),
    *("InstdAgt", *_INTERMEDIARIES, "UltmtDbtr", "InitgPty", "Dbtr", "DbtrAcct", "DbtrAgt", "DbtrAgtAcct"),
    *("CdtrAgt", "CdtrAgtAcct", "Cdtr", "CdtrAcct", "UltmtCdtr", "InstrForCdtrAgt", "InstrForNxtAgt", "Purp"),
    *("RgltryRptg", "Tax", "RltdRmtInf", "RmtInf", "SplmtryData"),
)
# CreditTransferTransaction36 (pacs.009): every party is an institution (FinInstnId).
TX_009 = (
    *("PmtId", "PmtTpInf", "IntrBkSttlmAmt", "IntrBkSttlmDt", "SttlmPrty", "SttlmTmIndctn", "SttlmTmReq"),
    *(*_PREVIOUS, "InstgAgt", "InstdAgt", *_INTERMEDIARIES, "UltmtDbtr", "Dbtr", "DbtrAcct", "DbtrAgt"),
    *("DbtrAgtAcct", "CdtrAgt", "CdtrAgtAcct", "Cdtr", "CdtrAcct", "UltmtCdtr", "InstrForCdtrAgt"),
    *("InstrForNxtAgt", "Purp", "RmtInf", "UndrlygCstmrCdtTrf", "SplmtryData"),
)
ORDER: dict[str, tuple[str, ...]] = {
    # CreditTransferTransaction37, the COV's underlying customer transfer.
    "UndrlygCstmrCdtTrf": (
        *("UltmtDbtr", "InitgPty", "Dbtr", "DbtrAcct", "DbtrAgt", "DbtrAgtAcct", *_PREVIOUS, *_INTERMEDIARIES),
        *("CdtrAgt", "CdtrAgtAcct", "Cdtr", "CdtrAcct", "UltmtCdtr", "InstrForCdtrAgt", "InstrForNxtAgt"),
        *("Tax", "RmtInf", "InstdAmt"),
    ),
    "GrpHdr": (
        *("MsgId", "BtchBookg", "CreDtTm", "NbOfTxs", "CtrlSum", "TtlIntrBkSttlmAmt", "IntrBkSttlmDt"),
        *("SttlmInf", "PmtTpInf", "InstgAgt", "InstdAgt"),
    ),
    "SttlmInf": (
        *("SttlmMtd", "SttlmAcct", "ClrSys", "InstgRmbrsmntAgt", "InstgRmbrsmntAgtAcct", "InstdRmbrsmntAgt"),
        *("InstdRmbrsmntAgtAcct", "ThrdRmbrsmntAgt", "ThrdRmbrsmntAgtAcct"),
    ),
    "FinInstnId": ("BICFI", "ClrSysMmbId", "LEI", "Nm", "PstlAdr", "Othr"),
    "BrnchId": ("Id", "LEI", "Nm", "PstlAdr"),
    "PstlAdr": (
        *("AdrTp", "Dept", "SubDept", "StrtNm", "BldgNb", "BldgNm", "Flr", "PstBx", "Room", "PstCd", "TwnNm"),
        *("TwnLctnNm", "DstrctNm", "CtrySubDvsn", "Ctry", "AdrLine"),
    ),
    "RmtInf": ("Ustrd", "Strd"),
    "Strd": ("RfrdDocInf", "RfrdDocAmt", "CdtrRefInf", "Invcr", "Invcee", "TaxRmt", "GrnshmtRmt", "AddtlRmtInf"),
    "ChrgsInf": ("Amt", "Agt"),
    "InstrForCdtrAgt": ("Cd", "InstrInf"),
    "InstrForNxtAgt": ("Cd", "InstrInf"),
}
PARTY = ("Nm", "PstlAdr", "Id", "CtryOfRes", "CtctDtls")  # PartyIdentification135
INSTITUTION = ("FinInstnId", "BrnchId")  # BranchAndFinancialInstitutionIdentification6


def _local(el: etree._Element) -> str:
    name: str = etree.QName(el).localname
    return name


def _order(el: etree._Element, kind: str) -> tuple[str, ...] | None:
    name = _local(el)
    if name == "CdtTrfTxInf":
        return TX_008 if kind == "008" else TX_009
    if el.find("{*}FinInstnId") is not None:
        return INSTITUTION
    if name in ("Dbtr", "Cdtr", "UltmtDbtr", "UltmtCdtr", "InitgPty"):
        return PARTY
    return ORDER.get(name)


def _assert_schema_order(doc: etree._Element, kind: str) -> None:
    """Every element this module edits holds only children its schema type allows, in order."""
    for el in doc.iter("{*}*"):
        if (order := _order(el, kind)) is not None:
            names = [_local(c) for c in el if isinstance(c.tag, str)]
            ranks = [order.index(n) for n in names]  # ValueError: not allowed in this element
            assert ranks == sorted(ranks), f"{_local(el)} children out of schema order: {names}"


# --- Editing a sample ---------------------------------------------------------------------------


class Message:
    """A sample message being edited: `put` replaces or inserts one element in schema order."""

    def __init__(self, sample: str) -> None:
        self.envelope = etree.fromstring((SAMPLES / sample).read_bytes())
        self.doc = self.envelope.find("{*}Document")
        self.kind = "008" if ":pacs.008." in etree.QName(self.doc).namespace else "009"
        self.tx = self.doc.find("*/{*}CdtTrfTxInf")
        self.grp = self.doc.find("*/{*}GrpHdr")

    def at(self, where: str) -> etree._Element:
        """The transaction, the COV's underlying transfer, the group header or its SttlmInf."""
        found = {
            "tx": self.tx,
            "under": self.tx.find("{*}UndrlygCstmrCdtTrf"),
            "grp": self.grp,
            "sttlm": self.grp.find("{*}SttlmInf"),
        }[where]
        assert found is not None, where
        return found

    def put(self, parent: etree._Element, xml: str) -> None:
        """The element given as XML text (no namespace) in parent, replacing the one of its name or
        inserted before the first sibling the schema puts after it."""
        new = etree.fromstring(xml)
        for el in new.iter():
            el.tag = f"{{{etree.QName(parent).namespace}}}{el.tag}"
        old = parent.find(f"{{*}}{_local(new)}")
        if old is not None:
            parent.replace(old, new)
            return
        order = _order(parent, self.kind) or ()
        rank = order.index(_local(new))
        later = [c for c in parent if isinstance(c.tag, str) and order.index(_local(c)) > rank]
        if later:
            later[0].addprevious(new)
        else:
            parent.append(new)

    def drop(self, parent: etree._Element, name: str) -> None:
        old = parent.find(f"{{*}}{name}")
        assert old is not None, name
        parent.remove(old)

    def bytes(self) -> bytes:
        _assert_schema_order(self.doc, self.kind)
        etree.cleanup_namespaces(self.envelope)
        data: bytes = etree.tostring(self.envelope, xml_declaration=True, encoding="UTF-8")
        return data


def clean_cov() -> Message:
    """The COV sample with its creditor agent and creditor in Shanghai instead of Pyongyang."""
    msg = Message("pacs009cov_pyongyang.xml")
    under = msg.at("under")
    msg.put(
        under,
        "<CdtrAgt><FinInstnId><BICFI>PLBKCNSHXXX</BICFI><Nm>Pacific Lotus Bank</Nm><PstlAdr><StrtNm>Century "
        "Avenue</StrtNm><BldgNb>100</BldgNb><TwnNm>Shanghai</TwnNm><Ctry>CN</Ctry></PstlAdr></FinInstnId></CdtrAgt>",
    )
    msg.put(
        under,
        "<Cdtr><Nm>Lotus Harbour Seafood Co Ltd</Nm><PstlAdr><TwnNm>Shanghai</TwnNm><Ctry>CN</Ctry></PstlAdr></Cdtr>",
    )
    return msg


SOURCES: dict[str, Callable[[], Message]] = {
    "pacs.008": lambda: Message("pacs008_clean.xml"),
    "pacs.009": lambda: Message("pacs009_clean.xml"),
    "pacs.009.cov": clean_cov,
}


def decide(data: bytes, accounts: AccountMapping = NO_MAPPING) -> Decision:
    (adapted,) = parse_iso20022(data, accounts)
    assert adapted.error is None, adapted.error
    assert adapted.payment is not None
    return screen(parse_payment(adapted.payment), REGISTRY, RULES, AS_OF)


@pytest.mark.parametrize("source", list(SOURCES))
def test_the_clean_messages_pass(source):
    decision = decide(SOURCES[source]().bytes())
    assert decision.decision == "pass"
    assert decision.hits == ()


# --- The field families -------------------------------------------------------------------------

Edit = Callable[[Message], None]
KP_ADDRESS = "<PstlAdr><StrtNm>Sungri Street</StrtNm><TwnNm>Pyongyang</TwnNm><Ctry>KP</Ctry></PstlAdr>"
KP_TOWN = "<PstlAdr><TwnNm>Pyongyang</TwnNm></PstlAdr>"
KP_LINES = "<PstlAdr><AdrLine>Sungri Street, Central District</AdrLine><AdrLine>Pyongyang</AdrLine></PstlAdr>"
# A financial institution known by a name that names no one covered: only its address does.
OFFICE = "<Nm>Chosun Trade Settlement Office</Nm>"
# Settlement by cover through a reimbursement agent: CBPR+ then names no settlement account, and
# the account is the instructing agent's (AccountMapping.bics).
BY_SENDER = AccountMapping(bics={"HNSEDEFF": "ACC-DE-001"})


@dataclass(frozen=True)
class Case:
    id: str
    source: str
    edit: Edit
    field: str  # the element path the block names
    citation: str
    accounts: AccountMapping = NO_MAPPING


def put(xml: str, where: str = "tx") -> Edit:
    return lambda msg: msg.put(msg.at(where), xml)


def agent(tag: str, bic: str) -> str:
    return f"<{tag}><FinInstnId><BICFI>{bic}</BICFI></FinInstnId></{tag}>"


def fi(tag: str, inner: str) -> str:
    return f"<{tag}><FinInstnId>{inner}</FinInstnId></{tag}>"


def any_bic(tag: str, name: str, bic: str) -> str:
    return f"<{tag}><Nm>{name}</Nm><Id><OrgId><AnyBIC>{bic}</AnyBIC></OrgId></Id></{tag}>"


def named(tag: str, name: str) -> str:
    return f"<{tag}><Nm>{name}</Nm></{tag}>"


def instruction(tag: str, text: str) -> str:
    return f"<{tag}><InstrInf>{text}</InstrInf></{tag}>"


def route(prefix: str, n: int, bic: str, where: str = "tx") -> Edit:
    """prefix1 .. prefix<n>: the last covered, the ones before it clean."""

    def edit(msg: Message) -> None:
        for i in range(1, n):
            msg.put(msg.at(where), agent(f"{prefix}{i}", CLEAN_AGENTS[i - 1]))
        msg.put(msg.at(where), agent(f"{prefix}{n}", bic))

    return edit


def edits(*steps: Edit) -> Edit:
    def edit(msg: Message) -> None:
        for step in steps:
            step(msg)

    return edit


def drop(name: str, where: str = "tx") -> Edit:
    return lambda msg: msg.drop(msg.at(where), name)


def reimbursed(name: str, bic: str) -> Edit:
    return edits(put("<SttlmMtd>COVE</SttlmMtd>", "sttlm"), drop("SttlmAcct", "sttlm"), put(agent(name, bic), "sttlm"))


def sent_by(bic: str) -> Edit:
    def edit(msg: Message) -> None:
        msg.envelope.find("{*}AppHdr/{*}Fr/{*}FIId/{*}FinInstnId/{*}BICFI").text = bic

    return edit


def common_cases(source: str) -> list[Case]:
    """Agents, routing, addresses and free text: alike in pacs.008 and pacs.009."""
    cases = [
        Case("DbtrAgt", source, put(agent("DbtrAgt", KWANGSON_BIC)), f"{TX}/DbtrAgt/FinInstnId/BICFI", NKOREA),
        Case("CdtrAgt", source, put(agent("CdtrAgt", DANDONG_BIC)), f"{TX}/CdtrAgt/FinInstnId/BICFI", DANDONG),
        Case("InstgAgt", source, put(agent("InstgAgt", KWANGSON_BIC)), f"{TX}/InstgAgt/FinInstnId/BICFI", NKOREA),
        Case("InstdAgt", source, put(agent("InstdAgt", DANDONG_BIC)), f"{TX}/InstdAgt/FinInstnId/BICFI", DANDONG),
        # ISO 20022 (not CBPR+) may give the instructing agent in the group header instead.
        Case(
            "GrpHdr-InstgAgt",
            source,
            edits(drop("InstgAgt"), put(agent("InstgAgt", KWANGSON_BIC), "grp")),
            "GrpHdr/InstgAgt/FinInstnId/BICFI",
            NKOREA,
        ),
        # Both at once break a usage rule; the group header's must still be screened.
        Case(
            "GrpHdr-InstdAgt-beside-the-transactions",
            source,
            put(agent("InstdAgt", DANDONG_BIC), "grp"),
            "GrpHdr/InstdAgt/FinInstnId/BICFI",
            DANDONG,
        ),
        Case("AppHdr-Fr", source, sent_by(f"{KWANGSON_BIC}XXX"), "AppHdr/Fr/FIId/FinInstnId/BICFI", NKOREA),
        *(
            Case(f"{prefix}{n}", source, route(prefix, n, bic), f"{TX}/{prefix}{n}/FinInstnId/BICFI", citation)
            for prefix in ("IntrmyAgt", "PrvsInstgAgt")
            for n, bic, citation in ((1, KWANGSON_BIC, NKOREA), (2, DANDONG_BIC, DANDONG), (3, KWANGSON_BIC, NKOREA))
        ),
        Case(
            "agent-PstlAdr-structured",
            source,
            put(fi("IntrmyAgt1", OFFICE + KP_ADDRESS)),
            f"{TX}/IntrmyAgt1/FinInstnId/PstlAdr/Ctry",
            NKOREA,
        ),
        Case(
            "agent-PstlAdr-TwnNm-without-Ctry",
            source,
            put(fi("IntrmyAgt1", OFFICE + KP_TOWN)),
            f"{TX}/IntrmyAgt1/FinInstnId/PstlAdr/TwnNm",
            NKOREA,
        ),
        # Address lines are judged together: the hit names the PstlAdr holding them.
        Case(
            "agent-PstlAdr-AdrLine",
            source,
            put(fi("CdtrAgt", OFFICE + KP_LINES)),
            f"{TX}/CdtrAgt/FinInstnId/PstlAdr",
            NKOREA,
        ),
        Case(
            "agent-BrnchId-PstlAdr",
            source,
            put(
                "<IntrmyAgt1><FinInstnId><BICFI>PLBKCNSHXXX</BICFI><Nm>Pacific Lotus Bank</Nm></FinInstnId>"
                f"<BrnchId><Nm>Pyongyang Branch</Nm>{KP_ADDRESS}</BrnchId></IntrmyAgt1>"
            ),
            f"{TX}/IntrmyAgt1/BrnchId/PstlAdr/Ctry",
            NKOREA,
        ),
        Case(
            "RmtInf-Ustrd",
            source,
            put(f"<RmtInf><Ustrd>Liquidity transfer, funds for {KWANGSON}</Ustrd></RmtInf>"),
            f"{TX}/RmtInf/Ustrd",
            NKOREA,
        ),
        Case(
            "RmtInf-second-Ustrd",
            source,
            put(f"<RmtInf><Ustrd>Ref HPT-2025-0588</Ustrd><Ustrd>Beneficiary bank {DANDONG_NAME}</Ustrd></RmtInf>"),
            f"{TX}/RmtInf/Ustrd[2]",
            DANDONG,
        ),
        Case(
            "InstrForCdtrAgt",
            source,
            put(instruction("InstrForCdtrAgt", f"Credit account held with {DANDONG_NAME}")),
            f"{TX}/InstrForCdtrAgt/InstrInf",
            DANDONG,
        ),
        Case(
            "InstrForNxtAgt",
            source,
            put(instruction("InstrForNxtAgt", f"/ACC/{KWANGSON}")),
            f"{TX}/InstrForNxtAgt/InstrInf",
            NKOREA,
        ),
        *(
            Case(
                f"SttlmInf-{name}",
                source,
                reimbursed(name, bic),
                f"GrpHdr/SttlmInf/{name}/FinInstnId/BICFI",
                citation,
                accounts=BY_SENDER,
            )
            for name, bic, citation in (
                ("InstgRmbrsmntAgt", DANDONG_BIC, DANDONG),
                ("InstdRmbrsmntAgt", KWANGSON_BIC, NKOREA),
                ("ThrdRmbrsmntAgt", DANDONG_BIC, DANDONG),
            )
        ),
    ]
    return [replace(c, id=f"{source}:{c.id}") for c in cases]


HARTWELL = (
    "<Nm>Hartwell Precision Tools GmbH</Nm><PstlAdr><StrtNm>Koenigstrasse</StrtNm><BldgNb>28</BldgNb>"
    "<PstCd>70173</PstCd><TwnNm>Stuttgart</TwnNm><Ctry>DE</Ctry></PstlAdr>"
)


def pacs008(id_: str, edit: Edit, field: str, citation: str) -> Case:
    return Case(f"pacs.008:{id_}", "pacs.008", edit, field, citation)


CASES_008 = [
    *common_cases("pacs.008"),
    pacs008(
        "Dbtr-AnyBIC",
        put(f"<Dbtr>{HARTWELL}<Id><OrgId><AnyBIC>{KWANGSON_BIC}</AnyBIC></OrgId></Id></Dbtr>"),
        f"{TX}/Dbtr/Id/OrgId/AnyBIC",
        NKOREA,
    ),
    pacs008("Dbtr-Nm", put(named("Dbtr", KWANGSON)), f"{TX}/Dbtr/Nm", NKOREA),
    pacs008(
        "Cdtr-AnyBIC",
        put(any_bic("Cdtr", "Roastery Row Inc", DANDONG_BIC)),
        f"{TX}/Cdtr/Id/OrgId/AnyBIC",
        DANDONG,
    ),
    pacs008("Cdtr-Nm", put(named("Cdtr", DANDONG_NAME)), f"{TX}/Cdtr/Nm", DANDONG),
    pacs008(
        "UltmtDbtr-AnyBIC",
        put(any_bic("UltmtDbtr", "Hartwell Holding SE", KWANGSON_BIC)),
        f"{TX}/UltmtDbtr/Id/OrgId/AnyBIC",
        NKOREA,
    ),
    pacs008("UltmtDbtr-Nm", put(named("UltmtDbtr", KWANGSON)), f"{TX}/UltmtDbtr/Nm", NKOREA),
    pacs008(
        "UltmtCdtr-AnyBIC",
        put(any_bic("UltmtCdtr", "Roastery Row Holdings", DANDONG_BIC)),
        f"{TX}/UltmtCdtr/Id/OrgId/AnyBIC",
        DANDONG,
    ),
    pacs008("UltmtCdtr-Nm", put(named("UltmtCdtr", DANDONG_NAME)), f"{TX}/UltmtCdtr/Nm", DANDONG),
    pacs008("InitgPty-Nm", put(named("InitgPty", KWANGSON)), f"{TX}/InitgPty/Nm", NKOREA),
    pacs008(
        "RmtInf-Strd",
        put(
            "<RmtInf><Strd><RfrdDocInf><Tp><CdOrPrtry><Cd>CINV</Cd></CdOrPrtry></Tp><Nb>HPT-2025-0588</Nb>"
            f"</RfrdDocInf><AddtlRmtInf>Proceeds to {KWANGSON}</AddtlRmtInf></Strd></RmtInf>"
        ),
        f"{TX}/RmtInf/Strd/AddtlRmtInf",
        NKOREA,
    ),
    pacs008(
        "ChrgsInf-Agt",
        put(f'<ChrgsInf><Amt Ccy="USD">25.00</Amt>{agent("Agt", DANDONG_BIC)}</ChrgsInf>'),
        f"{TX}/ChrgsInf/Agt/FinInstnId/BICFI",
        DANDONG,
    ),
]

CASES_009 = [
    *common_cases("pacs.009"),
    Case(
        "pacs.009:Dbtr-BICFI",
        "pacs.009",
        put(fi("Dbtr", f"<BICFI>{KWANGSON_BIC}</BICFI>")),
        f"{TX}/Dbtr/FinInstnId/BICFI",
        NKOREA,
    ),
    Case("pacs.009:Dbtr-Nm", "pacs.009", put(fi("Dbtr", f"<Nm>{KWANGSON}</Nm>")), f"{TX}/Dbtr/FinInstnId/Nm", NKOREA),
    Case(
        "pacs.009:Cdtr-BICFI",
        "pacs.009",
        put(fi("Cdtr", f"<BICFI>{DANDONG_BIC}</BICFI>")),
        f"{TX}/Cdtr/FinInstnId/BICFI",
        DANDONG,
    ),
    Case(
        "pacs.009:Cdtr-Nm",
        "pacs.009",
        put(fi("Cdtr", f"<Nm>{DANDONG_NAME}</Nm>")),
        f"{TX}/Cdtr/FinInstnId/Nm",
        DANDONG,
    ),
    Case(
        "pacs.009:Cdtr-PstlAdr",
        "pacs.009",
        put(fi("Cdtr", OFFICE + KP_ADDRESS)),
        f"{TX}/Cdtr/FinInstnId/PstlAdr/Ctry",
        NKOREA,
    ),
    # ISO 20022 pacs.009 (not CBPR+ CORE) has ultimate parties, institutions like Dbtr and Cdtr.
    Case(
        "pacs.009:UltmtDbtr-BICFI",
        "pacs.009",
        put(fi("UltmtDbtr", f"<BICFI>{KWANGSON_BIC}</BICFI>")),
        f"{TX}/UltmtDbtr/FinInstnId/BICFI",
        NKOREA,
    ),
    Case(
        "pacs.009:UltmtDbtr-Nm",
        "pacs.009",
        put(fi("UltmtDbtr", f"<Nm>{KWANGSON}</Nm>")),
        f"{TX}/UltmtDbtr/FinInstnId/Nm",
        NKOREA,
    ),
    Case(
        "pacs.009:UltmtCdtr-BICFI",
        "pacs.009",
        put(fi("UltmtCdtr", f"<BICFI>{DANDONG_BIC}</BICFI>")),
        f"{TX}/UltmtCdtr/FinInstnId/BICFI",
        DANDONG,
    ),
    Case(
        "pacs.009:UltmtCdtr-Nm",
        "pacs.009",
        put(fi("UltmtCdtr", f"<Nm>{DANDONG_NAME}</Nm>")),
        f"{TX}/UltmtCdtr/FinInstnId/Nm",
        DANDONG,
    ),
]
# A pacs.009's ultimate parties are institutions too (FinInstnId): known only by an address in
# Pyongyang, they block like its debtor and creditor (rules/checks/parties.py institution_role).
ULTIMATE_009 = [
    Case(
        f"pacs.009:{tag}-PstlAdr",
        "pacs.009",
        put(fi(tag, OFFICE + KP_ADDRESS)),
        f"{TX}/{tag}/FinInstnId/PstlAdr/Ctry",
        NKOREA,
    )
    for tag in ("UltmtDbtr", "UltmtCdtr")
]


def cov(id_: str, edit: Edit, field: str, citation: str) -> Case:
    return Case(f"pacs.009.cov:{id_}", "pacs.009.cov", edit, field, citation)


def under(xml: str) -> Edit:
    return put(xml, "under")


CASES_COV = [
    cov("UndrlygCstmrCdtTrf-Dbtr-Nm", under(named("Dbtr", KWANGSON)), f"{U}/Dbtr/Nm", NKOREA),
    cov(
        "UndrlygCstmrCdtTrf-Dbtr-AnyBIC",
        under(any_bic("Dbtr", "Baltic Logistics Trading OU", KWANGSON_BIC)),
        f"{U}/Dbtr/Id/OrgId/AnyBIC",
        NKOREA,
    ),
    cov("UndrlygCstmrCdtTrf-Cdtr-Nm", under(named("Cdtr", DANDONG_NAME)), f"{U}/Cdtr/Nm", DANDONG),
    cov(
        "UndrlygCstmrCdtTrf-Cdtr-AnyBIC",
        under(any_bic("Cdtr", "Lotus Harbour Seafood Co Ltd", DANDONG_BIC)),
        f"{U}/Cdtr/Id/OrgId/AnyBIC",
        DANDONG,
    ),
    cov("UndrlygCstmrCdtTrf-UltmtDbtr-Nm", under(named("UltmtDbtr", KWANGSON)), f"{U}/UltmtDbtr/Nm", NKOREA),
    cov("UndrlygCstmrCdtTrf-UltmtCdtr-Nm", under(named("UltmtCdtr", DANDONG_NAME)), f"{U}/UltmtCdtr/Nm", DANDONG),
    cov("UndrlygCstmrCdtTrf-DbtrAgt", under(agent("DbtrAgt", KWANGSON_BIC)), f"{U}/DbtrAgt/FinInstnId/BICFI", NKOREA),
    cov("UndrlygCstmrCdtTrf-CdtrAgt", under(agent("CdtrAgt", KWANGSON_BIC)), f"{U}/CdtrAgt/FinInstnId/BICFI", NKOREA),
    cov(
        "UndrlygCstmrCdtTrf-CdtrAgt-PstlAdr-structured",
        under(fi("CdtrAgt", "<Nm>Pacific Lotus Bank</Nm>" + KP_ADDRESS)),
        f"{U}/CdtrAgt/FinInstnId/PstlAdr/Ctry",
        NKOREA,
    ),
    cov(
        "UndrlygCstmrCdtTrf-CdtrAgt-PstlAdr-AdrLine",
        under(fi("CdtrAgt", "<Nm>Pacific Lotus Bank</Nm>" + KP_LINES)),
        f"{U}/CdtrAgt/FinInstnId/PstlAdr",
        NKOREA,
    ),
    cov(
        "UndrlygCstmrCdtTrf-IntrmyAgt1",
        under(agent("IntrmyAgt1", DANDONG_BIC)),
        f"{U}/IntrmyAgt1/FinInstnId/BICFI",
        DANDONG,
    ),
    cov(
        "UndrlygCstmrCdtTrf-IntrmyAgt2",
        route("IntrmyAgt", 2, KWANGSON_BIC, "under"),
        f"{U}/IntrmyAgt2/FinInstnId/BICFI",
        NKOREA,
    ),
    cov(
        "UndrlygCstmrCdtTrf-PrvsInstgAgt1",
        route("PrvsInstgAgt", 1, DANDONG_BIC, "under"),
        f"{U}/PrvsInstgAgt1/FinInstnId/BICFI",
        DANDONG,
    ),
    cov(
        "UndrlygCstmrCdtTrf-RmtInf-Ustrd",
        under(f"<RmtInf><Ustrd>Contract TF-2025-31, pay through {DANDONG_NAME}</Ustrd></RmtInf>"),
        f"{U}/RmtInf/Ustrd",
        DANDONG,
    ),
    cov(
        "UndrlygCstmrCdtTrf-RmtInf-Strd",
        under(f"<RmtInf><Strd><AddtlRmtInf>Settlement via {KWANGSON}</AddtlRmtInf></Strd></RmtInf>"),
        f"{U}/RmtInf/Strd/AddtlRmtInf",
        NKOREA,
    ),
    cov(
        "UndrlygCstmrCdtTrf-InstrForCdtrAgt",
        under(instruction("InstrForCdtrAgt", f"Credit via {KWANGSON}")),
        f"{U}/InstrForCdtrAgt/InstrInf",
        NKOREA,
    ),
    cov(
        "UndrlygCstmrCdtTrf-InstrForNxtAgt",
        under(instruction("InstrForNxtAgt", f"/INT/{DANDONG_NAME}")),
        f"{U}/InstrForNxtAgt/InstrInf",
        DANDONG,
    ),
    # The interbank leg of the COV.
    cov("Dbtr-BICFI", put(fi("Dbtr", f"<BICFI>{KWANGSON_BIC}</BICFI>")), f"{TX}/Dbtr/FinInstnId/BICFI", NKOREA),
    cov("Cdtr-BICFI", put(fi("Cdtr", f"<BICFI>{DANDONG_BIC}</BICFI>")), f"{TX}/Cdtr/FinInstnId/BICFI", DANDONG),
    cov("IntrmyAgt1", put(agent("IntrmyAgt1", KWANGSON_BIC)), f"{TX}/IntrmyAgt1/FinInstnId/BICFI", NKOREA),
]
# The interbank debtor and creditor of a COV are institutions (FinInstnId) when the underlying
# transfer is given apart: known only by an address in Pyongyang, they block.
INTERBANK_COV = [
    cov(f"{tag}-PstlAdr", put(fi(tag, OFFICE + KP_ADDRESS)), f"{TX}/{tag}/FinInstnId/PstlAdr/Ctry", NKOREA)
    for tag in ("Dbtr", "Cdtr")
]

CASES = [*CASES_008, *CASES_009, *ULTIMATE_009, *CASES_COV, *INTERBANK_COV]


def build(case: Case) -> bytes:
    msg = SOURCES[case.source]()
    case.edit(msg)
    return msg.bytes()


def _scope(case: Case) -> str:
    """The element the case changed: the agent or party of its field, else the field itself."""
    steps = case.field.split("/")
    for mark in ("FinInstnId", "BrnchId", "Id", "Nm", "PstlAdr", "FIId"):
        if mark in steps[1:]:
            return "/".join(steps[: steps.index(mark, 1)])
    return case.field


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_a_covered_bank_in_the_field_blocks_naming_it(case):
    decision = decide(build(case), case.accounts)
    assert decision.decision == "block", decision.hits
    assert case.citation in decision.citations, decision.hits
    fields = {h.field for h in decision.hits if h.action == "block" and h.citation == case.citation}
    assert case.field in fields, decision.hits
    # Nothing else in the message is covered: every hit lies in the element that was changed.
    scope = _scope(case)
    assert all(h.field == scope or h.field.startswith(scope + "/") for h in decision.hits), decision.hits


def test_a_block_only_in_the_cov_underlying_transfer_names_the_underlying_element():
    msg = clean_cov()
    msg.put(msg.at("under"), agent("CdtrAgt", KWANGSON_BIC))
    decision = decide(msg.bytes())
    assert decision.decision == "block"
    assert decision.citations == (NKOREA,)
    # Not the interbank CdtrAgt of the same name (CdtTrfTxInf/CdtrAgt: LHBKUS33XXX).
    assert {h.field for h in decision.hits} == {f"{U}/CdtrAgt/FinInstnId/BICFI"}
    # The interbank leg alone, as a pacs.009 CORE, is clean: the block is the underlying transfer's.
    msg.drop(msg.tx, "UndrlygCstmrCdtTrf")
    msg.envelope.find("{*}AppHdr/{*}BizSvc").text = "swift.cbprplus.02"
    assert decide(msg.bytes()).decision == "pass"


def test_the_pyongyang_cov_sample_blocks_on_its_underlying_creditor_agent():
    data = (SAMPLES / "pacs009cov_pyongyang.xml").read_bytes()
    decision = decide(data)
    assert decision.decision == "block"
    assert decision.citations == (NKOREA,)
    # The branch's address is two AdrLine: the hit names the PstlAdr that holds them.
    assert f"{U}/CdtrAgt/FinInstnId/PstlAdr" in {h.field for h in decision.hits if h.action == "block"}
    assert all(h.field.startswith(U + "/") for h in decision.hits), decision.hits
