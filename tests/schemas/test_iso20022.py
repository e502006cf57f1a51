"""ISO 20022 pacs.008 / pacs.009 (COV) messages to payment events: exact mapping, source paths,
no field lost, hostile input refused, files of several messages split."""

import contextlib
import random
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from lxml import etree  # type: ignore[import-untyped]  # lxml ships no type information

from rules import parse_payment, registry_from_mapping, screen
from rules.payment import MAX_ID, MAX_LINES, source_field
from rules.payment_parsing import PaymentError
from schemas.iso20022 import is_iso20022, parse_iso20022, split_iso20022
from schemas.iso20022_fields import MAX_DEPTH, MAX_ELEMENTS
from schemas.messages import MAX_ERROR, MAX_MESSAGE_BYTES, AccountMapping, Adapted, MessageError

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = Path(__file__).parent / "messages" / "iso20022"
OPS_MESSAGES = ROOT / "ops" / "samples" / "messages"
GOOD = sorted(p for p in MESSAGES.glob("*.xml") if "_bad_" not in p.name) + sorted(OPS_MESSAGES.glob("pacs*.xml"))
PACS8 = "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"
HEAD = "urn:iso:std:iso:20022:tech:xsd:head.001.001.02"


def read(name: str) -> bytes:
    return (MESSAGES / name).read_bytes()


def adapt(name: str, **kw):
    return parse_iso20022(read(name), **kw)


def only(name: str, **kw):
    (adapted,) = adapt(name, **kw)
    assert adapted.error is None
    return adapted.payment


def payment_of(adapted: Adapted) -> dict[str, Any]:
    """The payment of a transaction that has one (one without fails the test with its error)."""
    assert adapted.payment is not None, adapted.error
    return adapted.payment


def without_sources(payment):
    return {k: v for k, v in payment.items() if k != "source_fields"}


def tx_message(tx: str, grp: str = "", ns: str = PACS8, body: str = "FIToFICstmrCdtTrf", nb: int = 1) -> bytes:
    """A bare Document around transactions given as XML text."""
    return (
        f'<Document xmlns="{ns}"><{body}><GrpHdr><MsgId>T-1</MsgId><CreDtTm>2025-06-10T10:00:00Z</CreDtTm>'
        f"<NbOfTxs>{nb}</NbOfTxs><SttlmInf><SttlmMtd>INDA</SttlmMtd></SttlmInf>{grp}</GrpHdr>{tx}</{body}></Document>"
    ).encode()


PARTIES_008 = (
    "<ChrgBr>SHAR</ChrgBr><Dbtr><Nm>Acme Export LLC</Nm></Dbtr>"
    "<DbtrAgt><FinInstnId><BICFI>HNSEDEFF</BICFI></FinInstnId></DbtrAgt>"
    "<CdtrAgt><FinInstnId><BICFI>NRTHNOKK</BICFI></FinInstnId></CdtrAgt><Cdtr><Nm>Nordic Timber AS</Nm></Cdtr>"
)


def simple_tx(e2e: str = "E2E-1", extra: str = "", amount: str = "100.00") -> str:
    return (
        f"<CdtTrfTxInf><PmtId><EndToEndId>{e2e}</EndToEndId></PmtId>"
        f'<IntrBkSttlmAmt Ccy="USD">{amount}</IntrBkSttlmAmt>{PARTIES_008}{extra}</CdtTrfTxInf>'
    )


# --- the full CBPR+ pacs.008 ----------------------------------------------------------------------


def test_sniff():
    assert is_iso20022(read("pacs008_full.xml"))
    assert is_iso20022(b"\xef\xbb\xbf \n\t<Document/>")
    assert not is_iso20022(b'{"payment_id": "P-1"}')
    assert not is_iso20022(b"{1:F01HNSEDEFFAXXX0000000000}")
    assert not is_iso20022(b"")


def test_full_pacs008_maps_every_field_exactly():
    payment = only("pacs008_full.xml", accounts=AccountMapping(accounts={"0099887766": "ACC-NESTED-OK"}))
    assert without_sources(payment) == {
        "payment_id": "3f1c2a9e-7b64-4d0e-9a51-2c8e6f4b7d10",
        "message_type": "pacs.008",
        # IntrBkSttlmDt 2025-06-11 is later than CreDtTm 2025-06-10T07:30:12Z.
        "created_at": "2025-06-11T00:00:00Z",
        "amount": "184250.75",
        "currency": "USD",
        "correspondent_account_id": "ACC-NESTED-OK",
        "purpose": "GDDS",
        "instructing_agent": {"bic": "ALPSCHZZXXX"},
        "instructed_agent": {"bic": "LHBKUS33XXX"},
        "debtor": {
            "name": "Hartwell Precision Tools GmbH",
            "country": "DE",
            "account": "DE89370400440532013000",
            "address": [
                "Treasury",
                "Königstraße 28",
                "70173 Stuttgart",
                "Baden-Württemberg",
                "DE",
                "LEI 5299000J2N45DDNE4Y28",
                "Othr DE811569869 TXID",
            ],
        },
        "creditor": {
            "name": "Fjordline Seafood Export AS",
            "country": "NO",
            "account": "NO9386011117947",
            "address": ["Bryggen 12", "5003 Bergen", "CdtrAcct Nm Fjordline Seafood Export AS Operating"],
        },
        "ultimate_debtor": {
            "name": "Hartwell Holding SE",
            "bic": "HWPTDESS",
            "country": "DE",
            "address": ["Frankfurt am Main", "DE"],
        },
        "ultimate_creditor": {"name": "Nordic Timber AS", "address": ["CtctDtls Ingrid Solberg"]},
        "debtor_agent": {
            "bic": "HNSEDEFFXXX",
            "name": "Hanseatic Commerce Bank AG",
            "address": ["Neuer Wall 10", "20354 Hamburg"],
        },
        "creditor_agent": {
            "bic": "NRTHNOKK",
            "name": "Northern Fjord Bank ASA",
            "country": "NO",
            "address": ["Bergen", "NO"],
        },
        "intermediary_agents": [
            {
                "bic": "ADCBUS33",
                "name": "Atlantic Dollar Clearing Bank NA",
                "address": ["ClrSysMmbId USABA 026009593", "IntrmyAgt1Acct 40017733"],
            },
            {
                "bic": "OMBKNOKK",
                "name": "Oslo Maritime Bank ASA",
                "country": "NO",
                "address": ["Akersgata 45", "0158 Oslo", "NO", "LEI 549300OSLOMARITIME07"],
            },
            {
                "bic": "NLSBNO22",
                "name": "Nordlys Sparebank",
                "country": "NO",
                "address": ["Tromso", "NO", "BrnchId Id TOS-01", "BrnchId Nm Nordlys Sparebank Tromso Branch"],
            },
            # The charges agent, after IntrmyAgt1-3.
            {"bic": "HNSEDEFFXXX"},
        ],
        "previous_instructing_agents": [
            {"bic": "HNSEDEFFXXX", "name": "Hanseatic Commerce Bank AG"},
            {"name": "Rhine Valley Landesbank", "country": "DE", "address": ["Mannheim", "DE"]},
        ],
        "remittance_information": [
            "Invoice HPT-2025-0612 machine tools",
            "CINV",
            "HPT-2025-0612",
            "2025-05-28",
            "RF18539007547034",
            "Hartwell Precision Tools GmbH",
            "Fjordline Seafood Export AS",
            "Delivery to the Tromso warehouse",
            "150",
            "Export of machine tools",
            "Alpine Clearing Bank AG USD vostro",
        ],
        "instructions": [
            "PHOB Call beneficiary on +47 55 00 00 00 before credit",
            "Route via Oslo Maritime Bank ASA",
        ],
    }


def test_full_pacs008_source_paths():
    payment = only("pacs008_full.xml")
    fields = payment["source_fields"]
    expected = {
        "payment_id": "CdtTrfTxInf/PmtId/UETR",
        "created_at": "CdtTrfTxInf/IntrBkSttlmDt",
        "amount": "CdtTrfTxInf/IntrBkSttlmAmt",
        "currency": "CdtTrfTxInf/IntrBkSttlmAmt/@Ccy",
        "correspondent_account_id": "GrpHdr/SttlmInf/SttlmAcct/Id/Othr/Id",
        "purpose": "CdtTrfTxInf/Purp/Cd",
        "debtor": "CdtTrfTxInf/Dbtr",
        "debtor.name": "CdtTrfTxInf/Dbtr/Nm",
        "debtor.address[0]": "CdtTrfTxInf/Dbtr/PstlAdr/Dept",
        "debtor.address[1]": "CdtTrfTxInf/Dbtr/PstlAdr/StrtNm",
        "debtor.address[2]": "CdtTrfTxInf/Dbtr/PstlAdr/PstCd",
        "debtor.address[3]": "CdtTrfTxInf/Dbtr/PstlAdr/CtrySubDvsn",
        "debtor.address[4]": "CdtTrfTxInf/Dbtr/PstlAdr/Ctry",
        "debtor.address[5]": "CdtTrfTxInf/Dbtr/Id/OrgId/LEI",
        "debtor.address[6]": "CdtTrfTxInf/Dbtr/Id/OrgId/Othr",
        "debtor.country": "CdtTrfTxInf/Dbtr/PstlAdr/Ctry",
        "debtor.account": "CdtTrfTxInf/DbtrAcct/Id/IBAN",
        "creditor.country": "CdtTrfTxInf/Cdtr/CtryOfRes",
        "creditor.address": "CdtTrfTxInf/Cdtr",
        "creditor.address[1]": "CdtTrfTxInf/Cdtr/PstlAdr/AdrLine[2]",
        "creditor.address[2]": "CdtTrfTxInf/CdtrAcct/Nm",
        "ultimate_debtor.bic": "CdtTrfTxInf/UltmtDbtr/Id/OrgId/AnyBIC",
        "ultimate_creditor.address[0]": "CdtTrfTxInf/UltmtCdtr/CtctDtls",
        "instructing_agent": "CdtTrfTxInf/InstgAgt",
        "instructing_agent.bic": "CdtTrfTxInf/InstgAgt/FinInstnId/BICFI",
        "debtor_agent.address[0]": "CdtTrfTxInf/DbtrAgt/FinInstnId/PstlAdr/AdrLine[1]",
        "intermediary_agents[0].address": "CdtTrfTxInf/IntrmyAgt1",
        "intermediary_agents[0].address[0]": "CdtTrfTxInf/IntrmyAgt1/FinInstnId/ClrSysMmbId",
        "intermediary_agents[0].address[1]": "CdtTrfTxInf/IntrmyAgt1Acct",
        "intermediary_agents[1]": "CdtTrfTxInf/IntrmyAgt2",
        "intermediary_agents[1].bic": "CdtTrfTxInf/IntrmyAgt2/FinInstnId/BICFI",
        "intermediary_agents[1].name": "CdtTrfTxInf/IntrmyAgt2/FinInstnId/Nm",
        "intermediary_agents[1].address[3]": "CdtTrfTxInf/IntrmyAgt2/FinInstnId/LEI",
        "intermediary_agents[2].country": "CdtTrfTxInf/IntrmyAgt3/BrnchId/PstlAdr/Ctry",
        "intermediary_agents[2].address[3]": "CdtTrfTxInf/IntrmyAgt3/BrnchId/Nm",
        "intermediary_agents[3]": "CdtTrfTxInf/ChrgsInf/Agt",
        "previous_instructing_agents[1].name": "CdtTrfTxInf/PrvsInstgAgt2/FinInstnId/Nm",
        "remittance_information[0]": "CdtTrfTxInf/RmtInf/Ustrd",
        "remittance_information[2]": "CdtTrfTxInf/RmtInf/Strd/RfrdDocInf/Nb",
        "remittance_information[5]": "CdtTrfTxInf/RmtInf/Strd/Invcr/Nm",
        "remittance_information[9]": "CdtTrfTxInf/RgltryRptg/Dtls/Inf",
        "remittance_information[10]": "GrpHdr/SttlmInf/SttlmAcct/Nm",
        "instructions[0]": "CdtTrfTxInf/InstrForCdtrAgt/InstrInf",
        "instructions[1]": "CdtTrfTxInf/InstrForNxtAgt/InstrInf",
    }
    assert {k: fields.get(k) for k in expected} == expected


# --- the other good samples -----------------------------------------------------------------------


def test_two_transactions_yield_two_payments_with_group_header_agents():
    first, second = adapt("pacs008_two_tx.xml", accounts=AccountMapping(bics={"HNSEDEFF": "ACC-DE-001"}))
    assert (first.label, second.label) == ("CdtTrfTxInf[1]", "CdtTrfTxInf[2]")
    one, two = first.payment, second.payment
    assert (one["payment_id"], two["payment_id"]) == ("8a2b6c1d-3e4f-4a5b-8c6d-7e8f9a0b1c2d", "HNSE-T-0007-2")
    assert two["source_fields"]["payment_id"] == "CdtTrfTxInf/PmtId/TxId"
    # CreDtTm without an offset is UTC, and later than the group's settlement date at 00:00Z.
    assert one["created_at"] == two["created_at"] == "2025-06-10T16:45:00Z"
    assert one["source_fields"]["created_at"] == "GrpHdr/CreDtTm"
    assert (two["amount"], two["currency"]) == ("9800.5", "EUR")
    for p in (one, two):
        assert p["instructing_agent"] == {"bic": "HNSEDEFF"}
        assert p["source_fields"]["instructing_agent"] == "GrpHdr/InstgAgt"
        assert p["source_fields"]["instructed_agent.bic"] == "GrpHdr/InstdAgt/FinInstnId/BICFI"
        # No settlement account: the instructing agent's BIC through the mapping.
        assert p["correspondent_account_id"] == "ACC-DE-001"
        assert p["source_fields"]["correspondent_account_id"] == "GrpHdr/InstgAgt/FinInstnId/BICFI"
    assert one["debtor"] == {
        "name": "Acme Export LLC",
        "country": "US",
        "account": "7712004455",
        "address": ["Harbor Boulevard 400", "90731 San Pedro", "CA", "US"],
    }
    assert one["source_fields"]["debtor.account"] == "CdtTrfTxInf/DbtrAcct/Id/Othr/Id"
    assert two["creditor"] == {
        "name": "Maple Leaf Lumber Inc",
        "address": ["1200 Water Street, Halifax NS B3H 4R2", "Canada"],
    }
    assert two["creditor_agent"] == {"name": "Cedar Coast Savings Bank", "country": "CA", "address": ["Halifax", "CA"]}
    assert two["remittance_information"] == ["Order 5521 part 1 of 2", "Order 5521 part 2 of 2"]
    assert two["source_fields"]["remittance_information[1]"] == "CdtTrfTxInf/RmtInf/Ustrd[2]"
    assert "direction" not in one


def test_pacs009_core_reads_institutions_as_parties():
    payment = only("pacs009_core.xml")
    assert payment["message_type"] == "pacs.009"
    assert payment["created_at"] == "2025-06-12T07:15:00Z"
    assert payment["correspondent_account_id"] == "DE44500105175407324931"
    assert payment["source_fields"]["correspondent_account_id"] == "GrpHdr/SttlmInf/SttlmAcct/Id/IBAN"
    # Identified by BIC alone: no name, and Party allows that.
    assert payment["debtor"] == {"bic": "HNSEDEFFXXX"}
    assert payment["creditor"] == {
        "bic": "NRTHNOKK",
        "name": "Northern Fjord Bank ASA",
        "account": "NRTH-USD-0001",
        "country": "NO",
        "address": ["Strandkaien 2", "5013 Bergen", "NO"],
    }
    fields = payment["source_fields"]
    assert fields["debtor.bic"] == "CdtTrfTxInf/Dbtr/FinInstnId/BICFI"
    assert fields["creditor.name"] == "CdtTrfTxInf/Cdtr/FinInstnId/Nm"
    assert fields["creditor.account"] == "CdtTrfTxInf/CdtrAcct/Id/Othr/Id"
    assert payment["intermediary_agents"] == [
        {"bic": "ADCBUS33", "name": "Atlantic Dollar Clearing Bank NA", "address": ["IntrmyAgt1Acct ADCB-NOSTRO-5531"]}
    ]
    assert payment["instructions"] == ["Treasury liquidity transfer, value today"]
    assert fields["instructions[0]"] == "CdtTrfTxInf/InstrForNxtAgt/InstrInf"
    assert "underlying" not in payment
    parse_payment(payment)


def test_pacs009_cov_carries_the_underlying_transfer():
    payment = only("pacs009_cov.xml")
    assert payment["message_type"] == "pacs.009.cov"
    # 2025-06-15T02:10:44+08:00 is later than IntrBkSttlmDt 2025-06-14 at 00:00Z.
    assert payment["created_at"] == "2025-06-14T18:10:44Z"
    assert payment["debtor"] == {"bic": "TRADHKHH", "name": "Kowloon Trade Bank Ltd"}
    assert payment["underlying"] == {
        "amount": "96500.00",
        "currency": "USD",
        "debtor": {
            "name": "Golden Crane Shipping Ltd",
            "country": "HK",
            "account": "012-345-678901",
            "address": ["Connaught Road Central 88", "Hong Kong", "HK"],
        },
        "creditor": {
            "name": "Chollima Marine Trading Corporation",
            "country": "KP",
            "account": "KP-0101-77310",
            "address": ["Pyongyang", "Chung-guyok", "KP"],
        },
        "debtor_agent": {"bic": "TRADHKHH"},
        "creditor_agent": {
            "bic": "PLBKKPPY",
            "name": "Pacific Lotus Bank Pyongyang Branch",
            "country": "KP",
            "address": ["Sungri Street", "Pyongyang", "KP"],
        },
        "intermediary_agents": [{"bic": "PLBKCNSH", "name": "Pacific Lotus Bank"}],
        # The initiating party has no field of its own: kept as remittance text.
        "remittance_information": ["Freight charter MV Eastern Star voyage 14", "Golden Crane Holdings Ltd"],
        "instructions": ["Credit in full, charges paid by ordering customer"],
    }
    fields = payment["source_fields"]
    expected = {
        "underlying": "CdtTrfTxInf/UndrlygCstmrCdtTrf",
        "underlying.amount": "CdtTrfTxInf/UndrlygCstmrCdtTrf/InstdAmt",
        "underlying.debtor.name": "CdtTrfTxInf/UndrlygCstmrCdtTrf/Dbtr/Nm",
        "underlying.creditor.address[0]": "CdtTrfTxInf/UndrlygCstmrCdtTrf/Cdtr/PstlAdr/TwnNm",
        "underlying.creditor.address[1]": "CdtTrfTxInf/UndrlygCstmrCdtTrf/Cdtr/PstlAdr/DstrctNm",
        "underlying.creditor_agent.bic": "CdtTrfTxInf/UndrlygCstmrCdtTrf/CdtrAgt/FinInstnId/BICFI",
        "underlying.intermediary_agents[0].name": "CdtTrfTxInf/UndrlygCstmrCdtTrf/IntrmyAgt1/FinInstnId/Nm",
        "underlying.remittance_information[1]": "CdtTrfTxInf/UndrlygCstmrCdtTrf/InitgPty/Nm",
        "underlying.instructions[0]": "CdtTrfTxInf/UndrlygCstmrCdtTrf/InstrForCdtrAgt/InstrInf",
    }
    assert {k: fields.get(k) for k in expected} == expected
    underlying = parse_payment(payment).underlying
    assert underlying is not None and underlying.creditor_agent is not None
    assert underlying.creditor_agent.country == "KP"


def test_later_versions_are_read_alike():
    payment = only("pacs008_v10.xml")
    assert payment["payment_id"] == "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"
    assert payment["created_at"] == "2025-07-01T14:00:00Z"
    assert payment["debtor"] == {"name": "Cafe Serra Azul Ltda", "country": "BR", "address": ["Santos", "BR"]}
    for version in ("09", "11", "12"):
        (adapted,) = parse_iso20022(
            read("pacs008_v10.xml").replace(b"pacs.008.001.10", f"pacs.008.001.{version}".encode())
        )
        assert adapted.payment is not None
        assert adapted.payment["debtor"]["name"] == "Cafe Serra Azul Ltda"


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.name)
def test_every_good_sample_maps_to_valid_payments(path):
    data = path.read_bytes()
    # The message from its XML declaration to its end tag.
    assert split_iso20022(data) == [data.rstrip()]
    for adapted in parse_iso20022(data):
        assert adapted.error is None
        assert adapted.payment is not None
        payment = parse_payment(adapted.payment)
        assert adapted.source_fields is adapted.payment["source_fields"]
        assert payment.source_fields == adapted.source_fields
        assert len(adapted.source_fields) < 1024
        assert all(len(k) <= MAX_ID and len(v) <= MAX_ID for k, v in adapted.source_fields.items())


# --- source paths point at real elements; nothing is lost -----------------------------------------


def _resolve(root, tx, path: str):
    """The element or attribute value a source path names."""
    steps = path.split("/")
    heads = {"CdtTrfTxInf": tx, "GrpHdr": root.find(".//{*}GrpHdr"), "AppHdr": root.find(".//{*}AppHdr")}
    heads["FIToFICstmrCdtTrf"] = heads["FICdtTrf"] = heads["GrpHdr"].getparent()
    node = heads[steps[0]]
    for step in steps[1:]:
        if step.startswith("@"):
            return node.get(step[1:])
        name, _, index = step.partition("[")
        matches = [c for c in node if etree.QName(c).localname == name]
        node = matches[int(index.rstrip("]")) - 1 if index else 0]
    return node


def _filled_paths(value, prefix=""):
    """Every payment path holding a value: objects, list items and leaves."""
    if isinstance(value, dict):
        for key, sub in value.items():
            if key == "source_fields":
                continue
            path = f"{prefix}.{key}" if prefix else key
            yield path
            yield from _filled_paths(sub, path)
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            yield f"{prefix}[{i}]"
            yield from _filled_paths(sub, f"{prefix}[{i}]")


def _strings(value):
    if isinstance(value, dict):
        for key, sub in value.items():
            if key != "source_fields":
                yield from _strings(sub)
    elif isinstance(value, list):
        for sub in value:
            yield from _strings(sub)
    elif isinstance(value, str):
        yield value


# The subtrees whose every text must reach the payment: parties, agents and their accounts,
# remittance, instructions and the other free text.
WATCHED = re.compile(
    r"^(Dbtr|Cdtr|UltmtDbtr|UltmtCdtr|InitgPty|\w*Agt\d?|\w*Acct|Agt|RmtInf|InstrFor\w+|RgltryRptg|Tax|RltdRmtInf"
    r"|UndrlygCstmrCdtTrf|Fr|To)$"
)


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.name)
def test_source_paths_name_existing_elements_and_no_text_is_lost(path):
    root = etree.fromstring(path.read_bytes())
    txs = root.findall(".//{*}CdtTrfTxInf")
    for tx, adapted in zip(txs, parse_iso20022(path.read_bytes()), strict=True):
        fields = adapted.source_fields
        for filled in _filled_paths(adapted.payment):
            assert filled in fields, f"{filled} has no source path"
        for key, where in fields.items():
            assert _resolve(root, tx, where) is not None, f"{key}: {where}"
        text = "\n".join(_strings(adapted.payment))
        header = root.find(".//{*}AppHdr")
        for scope in [tx, root.find(".//{*}GrpHdr"), *([header] if header is not None else [])]:
            for leaf, name in _watched_leaves(scope):
                assert leaf in text, f"{path.name}: {leaf!r} ({name}) is lost"


def _watched_leaves(scope):
    """(text, element name) of every text under a watched element of scope."""
    for el in scope.iter():
        chain = [el, *el.iterancestors()]
        chain = chain[: chain.index(scope) + 1]
        leaf = " ".join((el.text or "").split())
        if leaf and any(WATCHED.match(etree.QName(a).localname) for a in chain):
            yield leaf, etree.QName(el).localname


def test_the_watched_leaves_include_names_bics_addresses_and_identifiers():
    """The no-loss check above really walks what matters."""
    tx = etree.fromstring(read("pacs008_full.xml")).find(".//{*}CdtTrfTxInf")
    leaves = {leaf for leaf, _ in _watched_leaves(tx)}
    for leaf in ("Nordlys Sparebank Tromso Branch", "026009593", "USABA", "Ingrid Solberg", "40017733", "Mannheim"):
        assert leaf in leaves
    assert "G001" not in leaves  # PmtTpInf: a code, deliberately not mapped


# --- screening the operator samples ---------------------------------------------------------------


def test_operator_samples_screen_as_documented(rules):
    registry = registry_from_mapping(yaml.safe_load((ROOT / "ops" / "samples" / "registry.yaml").read_text()))
    expected = {
        "pacs008_clean.xml": ("pass", set()),
        "pacs009_clean.xml": ("pass", set()),
        "pacs008_dandong.xml": ("block", {"CdtTrfTxInf/IntrmyAgt1/FinInstnId/BICFI"}),
        "pacs009cov_pyongyang.xml": ("block", {"CdtTrfTxInf/UndrlygCstmrCdtTrf/CdtrAgt/FinInstnId/PstlAdr"}),
    }
    got = {}
    for path in sorted(OPS_MESSAGES.glob("pacs*.xml")):
        (adapted,) = parse_iso20022(path.read_bytes())
        assert adapted.payment is not None
        payment = parse_payment(adapted.payment)
        assert payment.correspondent_account_id == "ACC-DE-001"
        decision = screen(payment, registry, rules, payment.created_at)
        got[path.name] = (decision.decision, {h.field for h in decision.hits if h.action == "block"})
    assert got == expected


# --- transaction errors ---------------------------------------------------------------------------


def test_bad_transactions_are_reported_one_by_one_and_the_good_one_maps():
    adapted = adapt("pacs008_bad_transactions.xml")
    assert [a.label for a in adapted] == [f"CdtTrfTxInf[{i}]" for i in range(1, 6)]
    assert [a.error for a in adapted] == [
        "CdtTrfTxInf[1]: missing mandatory element IntrBkSttlmAmt",
        "CdtTrfTxInf[2]: missing mandatory element Dbtr",
        "CdtTrfTxInf[3]: IntrBkSttlmAmt '12,500.00' is not a decimal amount (up to 18 digits, 5 decimals)",
        None,
        (
            "CdtTrfTxInf[5]: PmtId/UETR 'e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b' repeats the id of CdtTrfTxInf[4]: "
            "each transaction needs its own"
        ),
    ]
    assert adapted[3].payment["debtor"] == {"name": "Good Payer GmbH"}
    assert all(a.payment is None for i, a in enumerate(adapted) if i != 3)


@pytest.mark.parametrize(
    ("drop", "error"),
    [
        ("<ChrgBr>SHAR</ChrgBr>", "missing mandatory element ChrgBr"),
        ("<Cdtr><Nm>Nordic Timber AS</Nm></Cdtr>", "missing mandatory element Cdtr"),
        ("<DbtrAgt><FinInstnId><BICFI>HNSEDEFF</BICFI></FinInstnId></DbtrAgt>", "missing mandatory element DbtrAgt"),
        ("<CdtrAgt><FinInstnId><BICFI>NRTHNOKK</BICFI></FinInstnId></CdtrAgt>", "missing mandatory element CdtrAgt"),
        ("<PmtId><EndToEndId>E2E-1</EndToEndId></PmtId>", "missing mandatory element PmtId/EndToEndId"),
    ],
)
def test_each_mandatory_pacs008_element(drop, error):
    (adapted,) = parse_iso20022(tx_message(simple_tx().replace(drop, "")))
    assert adapted.error == f"CdtTrfTxInf[1]: {error}"


def test_an_empty_mandatory_party_is_an_error():
    tx = simple_tx().replace("<Dbtr><Nm>Acme Export LLC</Nm></Dbtr>", "<Dbtr><Nm> </Nm></Dbtr>")
    (adapted,) = parse_iso20022(tx_message(tx))
    assert adapted.error == (
        "CdtTrfTxInf[1]: mandatory element Dbtr is empty: nothing in it identifies a party or institution"
    )


@pytest.mark.parametrize(
    ("amount", "ccy", "error"),
    [
        ("1e5", "USD", "IntrBkSttlmAmt '1e5' is not a decimal amount (up to 18 digits, 5 decimals)"),
        ("-5.00", "USD", "IntrBkSttlmAmt '-5.00' is not a decimal amount (up to 18 digits, 5 decimals)"),
        ("1.123456", "USD", "IntrBkSttlmAmt '1.123456' is not a decimal amount (up to 18 digits, 5 decimals)"),
        ("10.00", "usd", "IntrBkSttlmAmt has no ISO 4217 currency (Ccy='usd')"),
    ],
)
def test_amount_shape(amount, ccy, error):
    tx = simple_tx(amount=amount).replace('Ccy="USD"', f'Ccy="{ccy}"')
    (adapted,) = parse_iso20022(tx_message(tx))
    assert adapted.error == f"CdtTrfTxInf[1]: {error}"


def test_created_at_rules():
    def created(grp_date: str, cre: str, tx_date: str = ""):
        data = tx_message(simple_tx(extra=""), grp=grp_date)
        if tx_date:
            data = data.replace(
                b"</IntrBkSttlmAmt>", f"</IntrBkSttlmAmt><IntrBkSttlmDt>{tx_date}</IntrBkSttlmDt>".encode()
            )
        data = data.replace(b"<CreDtTm>2025-06-10T10:00:00Z</CreDtTm>", cre.encode())
        (adapted,) = parse_iso20022(data)
        if adapted.error:
            return adapted.error
        assert adapted.payment is not None
        return adapted.payment["created_at"]

    assert created("", "<CreDtTm>2025-06-10T10:00:00+05:30</CreDtTm>") == "2025-06-10T04:30:00Z"
    assert created("", "<CreDtTm>2025-06-10T10:00:00.123456789Z</CreDtTm>") == "2025-06-10T10:00:00.123456Z"
    assert created("", "<CreDtTm>2025-06-10T10:00:00Z</CreDtTm>", "2025-06-12") == "2025-06-12T00:00:00Z"
    # Settlement date only in the group header; the transaction's wins over it.
    grp = "<IntrBkSttlmDt>2025-06-11</IntrBkSttlmDt>"
    assert created(grp, "") == "2025-06-11T00:00:00Z"
    assert created(grp, "", "2025-06-13") == "2025-06-13T00:00:00Z"
    assert created("", "") == "CdtTrfTxInf[1]: no date: neither GrpHdr/CreDtTm nor IntrBkSttlmDt is present"
    assert created("", "<CreDtTm>10 June 2025</CreDtTm>") == (
        "CdtTrfTxInf[1]: GrpHdr/CreDtTm '10 June 2025' is not an ISO 8601 date or date-time"
    )
    assert created("", "<CreDtTm>0001-01-01T00:00:00+01:00</CreDtTm>").startswith("CdtTrfTxInf[1]: GrpHdr/CreDtTm")


def test_payment_id_falls_back_and_must_be_unique_in_the_message():
    tx1 = simple_tx("SAME").replace(
        "<EndToEndId>SAME</EndToEndId>", "<InstrId>I-1</InstrId><EndToEndId>SAME</EndToEndId>"
    )
    first, second = parse_iso20022(tx_message(tx1 + simple_tx("SAME"), nb=2))
    assert first.payment is not None and second.payment is not None
    assert first.payment["payment_id"] == "I-1"
    assert first.payment["source_fields"]["payment_id"] == "CdtTrfTxInf/PmtId/InstrId"
    assert second.payment["payment_id"] == "SAME"
    third = parse_iso20022(tx_message(simple_tx("SAME") + simple_tx("SAME"), nb=2))[1]
    assert third.error == (
        "CdtTrfTxInf[2]: PmtId/EndToEndId 'SAME' repeats the id of CdtTrfTxInf[1]: each transaction needs its own"
    )


def test_a_cover_header_without_an_underlying_transfer_is_an_error():
    data = read("pacs009_cov.xml")
    start, end = data.index(b"<UndrlygCstmrCdtTrf>"), data.index(b"</UndrlygCstmrCdtTrf>") + 21
    (adapted,) = parse_iso20022(data[:start] + data[end:])
    assert adapted.error == (
        "CdtTrfTxInf[1]: AppHdr BizSvc swift.cbprplus.cov.03 marks a cover payment, but UndrlygCstmrCdtTrf is missing"
    )
    # Without the header's word, the same transfer is a core pacs.009.
    (core,) = parse_iso20022((data[:start] + data[end:]).replace(b"swift.cbprplus.cov.03", b"swift.cbprplus.02"))
    assert core.payment is not None
    assert core.payment["message_type"] == "pacs.009"


def test_an_underlying_transfer_missing_its_creditor_is_an_error():
    data = read("pacs009_cov.xml")
    start = data.index(b"<Cdtr>", data.index(b"<UndrlygCstmrCdtTrf>"))
    end = data.index(b"</Cdtr>", start) + 7
    (adapted,) = parse_iso20022(data[:start] + data[end:])
    assert adapted.error == "CdtTrfTxInf[1]: missing mandatory element UndrlygCstmrCdtTrf/Cdtr"


def test_other_institutions_of_the_route_are_intermediaries():
    grp = "<InstgAgt><FinInstnId><BICFI>HNSEDEFF</BICFI></FinInstnId></InstgAgt>"
    data = tx_message(simple_tx(), grp=grp).replace(
        b"<SttlmMtd>INDA</SttlmMtd>",
        b"<SttlmMtd>COVE</SttlmMtd><InstgRmbrsmntAgt><FinInstnId><BICFI>ADCBUS33</BICFI></FinInstnId>"
        b"</InstgRmbrsmntAgt><InstgRmbrsmntAgtAcct><Id><Othr><Id>R-77</Id></Othr></Id></InstgRmbrsmntAgtAcct>",
    )
    header = (
        f'<Envelope><AppHdr xmlns="{HEAD}"><Fr><FIId><FinInstnId><BICFI>KKBCKPPY</BICFI></FinInstnId></FIId></Fr>'
        "<To><FIId><FinInstnId><BICFI>LHBKUS33</BICFI></FinInstnId></FIId></To><BizMsgIdr>X</BizMsgIdr>"
        "<MsgDefIdr>pacs.008.001.08</MsgDefIdr><CreDt>2025-06-10T10:00:00Z</CreDt></AppHdr>"
    ).encode()
    (adapted,) = parse_iso20022(header + data + b"</Envelope>")
    payment = adapted.payment
    assert payment is not None
    assert payment["instructing_agent"] == {"bic": "HNSEDEFF"}
    # The header's sender differs from the instructing agent: screened, not dropped.
    assert payment["intermediary_agents"] == [
        {"bic": "KKBCKPPY"},
        {"bic": "ADCBUS33", "address": ["InstgRmbrsmntAgtAcct R-77"]},
    ]
    assert payment["instructed_agent"] == {"bic": "LHBKUS33"}
    fields = payment["source_fields"]
    assert fields["intermediary_agents[0].bic"] == "AppHdr/Fr/FIId/FinInstnId/BICFI"
    assert fields["intermediary_agents[1]"] == "GrpHdr/SttlmInf/InstgRmbrsmntAgt"
    assert fields["instructed_agent"] == "AppHdr/To/FIId"
    parse_payment(payment)


def test_comments_cdata_and_whitespace_do_not_hide_text():
    name = "<Nm>Bank of <!-- split -->Dandong\n   Co.</Nm>"
    address = "<PstlAdr><AdrLine><![CDATA[Pyongyang <KP>]]></AdrLine></PstlAdr>"
    tx = simple_tx().replace("<Nm>Acme Export LLC</Nm>", name + address)
    (adapted,) = parse_iso20022(tx_message(tx))
    assert adapted.payment is not None
    assert adapted.payment["debtor"] == {"name": "Bank of Dandong Co.", "address": ["Pyongyang <KP>"]}


def test_text_beside_elements_is_kept():
    tx = simple_tx().replace("<Dbtr><Nm>Acme Export LLC</Nm></Dbtr>", "<Dbtr>Kim Chol<Nm>Acme Export LLC</Nm></Dbtr>")
    tx = tx.replace("<PmtId>", "Ri Song<PmtId>")
    (adapted,) = parse_iso20022(tx_message(tx))
    assert adapted.payment is not None
    assert adapted.payment["debtor"] == {"name": "Acme Export LLC", "address": ["Dbtr Kim Chol"]}
    assert adapted.payment["remittance_information"] == ["Ri Song"]
    assert adapted.source_fields["remittance_information[0]"] == "CdtTrfTxInf"


def test_an_element_given_twice_where_the_schema_allows_one_is_refused():
    tx = simple_tx().replace("<Cdtr><Nm>Nordic Timber AS</Nm></Cdtr>", "<Cdtr><Nm>Nordic Timber AS</Nm></Cdtr>" * 2)
    with pytest.raises(MessageError) as info:
        parse_iso20022(tx_message(tx))
    assert str(info.value) == "element Cdtr repeated in CdtTrfTxInf (line 1): the schema allows one"
    tx = simple_tx().replace("<Nm>Acme Export LLC</Nm>", "<Nm>Acme Export LLC</Nm><Nm>Kim Chol</Nm>")
    with pytest.raises(MessageError, match=r"^element Nm repeated in Dbtr \(line 1\)"):
        parse_iso20022(tx_message(tx))


def test_long_free_text_is_packed_into_the_line_limit_not_refused():
    strd = "".join(f"<AddtlRmtInf>Line {i} of the remittance advice</AddtlRmtInf>" for i in range(150))
    tx = simple_tx(extra=f"<RmtInf><Strd>{strd}</Strd></RmtInf>")
    (adapted,) = parse_iso20022(tx_message(tx))
    assert adapted.payment is not None
    lines = adapted.payment["remittance_information"]
    assert len(lines) <= MAX_LINES
    joined = " ".join(lines)
    assert all(f"Line {i} of the remittance advice" in joined for i in range(150))
    assert adapted.source_fields["remittance_information[0]"] == "CdtTrfTxInf/RmtInf/Strd"
    parse_payment(adapted.payment)


def test_a_source_map_over_the_bound_keeps_the_objects_entries():
    adr = "<PstlAdr>" + "".join(f"<AdrLine>Line {i}</AdrLine>" for i in range(60)) + "</PstlAdr>"
    agent = f"<FinInstnId><Nm>Bank</Nm>{adr}</FinInstnId>"
    agents = "".join(f"<{n}>{agent}</{n}>" for n in ("PrvsInstgAgt1", "PrvsInstgAgt2", "PrvsInstgAgt3"))
    agents += f"<InstgAgt>{agent}</InstgAgt><InstdAgt>{agent}</InstdAgt>"
    agents += "".join(f"<{n}>{agent}</{n}>" for n in ("IntrmyAgt1", "IntrmyAgt2", "IntrmyAgt3"))
    charges = f'<ChrgsInf><Amt Ccy="USD">1.00</Amt><Agt>{agent}</Agt></ChrgsInf>' * 3
    tx = (
        '<CdtTrfTxInf><PmtId><EndToEndId>E</EndToEndId></PmtId><IntrBkSttlmAmt Ccy="USD">1.00</IntrBkSttlmAmt>'
        f"<ChrgBr>SHAR</ChrgBr>{charges}{agents}<Dbtr><Nm>D</Nm>{adr}</Dbtr><DbtrAgt>{agent}</DbtrAgt>"
        f"<CdtrAgt>{agent}</CdtrAgt><Cdtr><Nm>C</Nm>{adr}</Cdtr><UltmtCdtr><Nm>U</Nm>{adr}</UltmtCdtr>"
        f"<UltmtDbtr><Nm>V</Nm>{adr}</UltmtDbtr></CdtTrfTxInf>"
    )
    (adapted,) = parse_iso20022(tx_message(tx))
    assert adapted.payment is not None
    payment = parse_payment(adapted.payment)
    # Over 1,100 entries with one per address line: the lines' entries go, the objects' stay.
    assert len(adapted.source_fields) <= 1024
    assert "debtor.address[3]" not in adapted.source_fields
    assert payment.debtor is not None
    assert len(payment.debtor.address) == 60
    assert source_field(adapted.source_fields, "debtor.address[3]") == "CdtTrfTxInf/Dbtr/PstlAdr"
    assert (
        source_field(adapted.source_fields, "intermediary_agents[4].name")
        == "CdtTrfTxInf/ChrgsInf[2]/Agt/FinInstnId/Nm"
    )


def test_oversized_fields_are_left_to_the_contract():
    tx = simple_tx().replace("Acme Export LLC", "A" * 600)
    (adapted,) = parse_iso20022(tx_message(tx))
    assert adapted.payment is not None
    with pytest.raises(PaymentError, match=r"debtor\.name: oversized field"):
        parse_payment(adapted.payment)


# --- messages refused whole -----------------------------------------------------------------------


def test_malformed_xml():
    with pytest.raises(MessageError) as info:
        adapt("pacs008_bad_malformed.xml")
    assert str(info.value) == "malformed XML: Opening and ending tag mismatch: Nm line 6 and Dbtr (line 6, column 41)"


@pytest.mark.parametrize("name", ["pacs008_bad_billion_laughs.xml", "pacs008_bad_xxe.xml"])
def test_doctype_is_refused(name):
    with pytest.raises(MessageError) as info:
        adapt(name)
    assert str(info.value) == (
        "DOCTYPE refused: an ISO 20022 message has no DTD, and entities could expand or read files"
    )


def test_an_unclosed_last_message_runs_to_the_end_of_the_file():
    data = read("pacs008_v10.xml") + b"<Document xmlns='x'><FIToFICstmrCdtTrf>"
    messages = split_iso20022(data)
    assert messages[1] == b"<Document xmlns='x'><FIToFICstmrCdtTrf>"
    with pytest.raises(MessageError, match=r"^malformed XML: "):
        parse_iso20022(messages[1])


def test_one_bad_message_in_a_file_does_not_stop_the_others():
    parts = [read("pacs008_v10.xml"), read("pacs008_bad_xxe.xml"), read("pacs008_bad_malformed.xml")]
    parts.append(read("pacs009_core.xml"))
    messages = split_iso20022(b"".join(parts))
    assert messages == [p.rstrip() for p in parts]
    outcomes = []
    for message in messages:
        try:
            outcomes.append(payment_of(parse_iso20022(message)[0])["payment_id"])
        except MessageError as exc:
            outcomes.append(str(exc)[:20])
    assert outcomes == [
        "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e",
        "DOCTYPE refused: an ",
        "malformed XML: Openi",
        "c4d5e6f7-0a1b-4c2d-9e3f-4a5b6c7d8e9f",
    ]


def test_unknown_namespace_names_the_found_and_the_accepted():
    with pytest.raises(MessageError) as info:
        adapt("pacs008_bad_version_001_02.xml")
    assert str(info.value) == (
        "unsupported message namespace urn:iso:std:iso:20022:tech:xsd:pacs.008.001.02; accepted: "
        "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08 to .12 and pacs.009.001.08 to .12"
    )


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"<Document><FIToFICstmrCdtTrf/></Document>", "unsupported message namespace (none); accepted: "),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt/></Document>',
            "unsupported message namespace urn:iso:std:iso:20022:tech:xsd:camt.053.001.08; accepted: ",
        ),
        (b'<Payment xmlns="urn:bank:internal"/>', "unknown root element <Payment> (namespace urn:bank:internal): "),
        (
            f'<Document xmlns="{PACS8}"><FICdtTrf/></Document>'.encode(),
            f"the Document ({PACS8}) holds no FIToFICstmrCdtTrf",
        ),
        (
            f'<Document xmlns="{PACS8}"><FIToFICstmrCdtTrf/></Document>'.encode(),
            "missing mandatory element FIToFICstmrCdtTrf/GrpHdr",
        ),
        (tx_message(""), "missing mandatory element FIToFICstmrCdtTrf/CdtTrfTxInf: the message holds no transaction"),
        (tx_message(simple_tx(), nb=2), "GrpHdr/NbOfTxs is '2' but the message holds 1 CdtTrfTxInf"),
        (b"", "malformed XML: Document is empty (line 1, column 1)"),
        (b"<Envelope><Document/><Document/></Envelope>", "<Envelope> holds several messages or nests them"),
        (b"<Batch><Envelope><Document/></Envelope></Batch>", "<Batch> holds several messages or nests them"),
    ],
)
def test_messages_that_cannot_be_read(data, error):
    with pytest.raises(MessageError) as info:
        parse_iso20022(data)
    assert str(info.value).startswith(error)


def test_the_header_must_be_a_business_application_header_for_this_message():
    data = read("pacs009_core.xml")
    with pytest.raises(MessageError, match=r"AppHdr MsgDefIdr 'pacs.008.001.08' does not match the Document"):
        parse_iso20022(data.replace(b"<MsgDefIdr>pacs.009.001.08", b"<MsgDefIdr>pacs.008.001.08"))
    with pytest.raises(MessageError, match=r"AppHdr namespace urn:example:hdr is not head.001.001.xx"):
        parse_iso20022(data.replace(HEAD.encode(), b"urn:example:hdr"))


def test_an_element_of_another_namespace_in_the_document_is_refused():
    tx = simple_tx().replace("<Nm>Acme Export LLC</Nm>", '<Nm xmlns="urn:other">Hidden Name</Nm>')
    with pytest.raises(MessageError, match=r"element Nm \(line 1\) is in namespace 'urn:other', not "):
        parse_iso20022(tx_message(tx))
    # SplmtryData is an open extension; its text is still kept.
    supplement = '<SplmtryData><Envlp><x:Note xmlns:x="urn:other">Hidden Name</x:Note></Envlp></SplmtryData>'
    (adapted,) = parse_iso20022(tx_message(simple_tx(extra=supplement)))
    assert adapted.payment is not None
    assert adapted.payment["remittance_information"] == ["Hidden Name"]


def test_size_depth_element_and_transaction_limits():
    big = tx_message(simple_tx(extra=f"<RmtInf><Ustrd>{'x' * MAX_MESSAGE_BYTES}</Ustrd></RmtInf>"))
    with pytest.raises(MessageError, match=rf"^oversized message: {len(big)} bytes, limit {MAX_MESSAGE_BYTES}$"):
        parse_iso20022(big)
    deep = tx_message(simple_tx(extra="<SplmtryData>" + "<a>" * MAX_DEPTH + "</a>" * MAX_DEPTH + "</SplmtryData>"))
    with pytest.raises(MessageError, match=rf"^elements nested over {MAX_DEPTH} deep \(line 1\)$"):
        parse_iso20022(deep)
    many = tx_message(simple_tx(extra="<RmtInf>" + "<Ustrd>x</Ustrd>" * MAX_ELEMENTS + "</RmtInf>"))
    with pytest.raises(MessageError, match=rf"^too many elements: over {MAX_ELEMENTS} in one message$"):
        parse_iso20022(many)
    txs = tx_message("<CdtTrfTxInf/>" * 1001, nb=1001)
    with pytest.raises(MessageError, match=r"^too many transactions: 1001, limit 1000$"):
        parse_iso20022(txs)


def test_error_texts_stay_bounded():
    tx = simple_tx(amount="9" * 5000)
    (adapted,) = parse_iso20022(tx_message(tx))
    assert adapted.error is not None
    assert len(adapted.error) <= MAX_ERROR
    with pytest.raises(MessageError) as info:
        parse_iso20022(f"<{'R' * 1000} xmlns='urn:{'n' * 1000}'/>".encode())
    assert len(str(info.value)) <= MAX_ERROR


# --- files of several messages --------------------------------------------------------------------


def test_split_concatenated_messages_byte_for_byte():
    parts = [read("pacs008_full.xml"), b"\xef\xbb\xbf" + read("pacs009_cov.xml"), read("pacs008_two_tx.xml")]
    got = split_iso20022(b"\n".join(parts))
    assert got == [parts[0].rstrip(), parts[1][3:].rstrip(), parts[2].rstrip()]
    assert [len(parse_iso20022(m)) for m in got] == [1, 1, 2]


def test_split_a_wrapper_of_envelopes_and_documents():
    def body(name: str) -> bytes:
        data = read(name)
        return data[data.index(b"?>") + 2 :]

    wrapped = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<Batch><Header><Count>3</Count></Header>'
        + body("pacs008_full.xml")
        + b"<DataPDU><Body>"
        + body("pacs009_core.xml").replace(b"<Envelope>", b"").replace(b"</Envelope>", b"")
        + b"</Body></DataPDU>"
        + body("pacs008_v10.xml")
        + b"</Batch>"
    )
    messages = split_iso20022(wrapped)
    assert [etree.QName(etree.fromstring(m)).localname for m in messages] == ["BizMsgEnvlp", "Body", "Document"]
    ids = [payment_of(a)["payment_id"] for m in messages for a in parse_iso20022(m)]
    assert ids == [
        "3f1c2a9e-7b64-4d0e-9a51-2c8e6f4b7d10",
        "c4d5e6f7-0a1b-4c2d-9e3f-4a5b6c7d8e9f",
        "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e",
    ]
    # Re-serialised with its namespaces: the same payments as from the original file.
    assert parse_iso20022(messages[0])[0].payment == parse_iso20022(read("pacs008_full.xml"))[0].payment


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"<a/> stray text <b/>", "malformed XML: text outside any element before byte 16"),
        (b"</Document>", "malformed XML: end tag without a start tag at byte 0"),
        (b"<Document attr='unterminated", "malformed XML: unterminated markup at byte 0"),
        (b"   ", "no XML element found"),
    ],
)
def test_split_refuses(data, error):
    with pytest.raises(MessageError) as info:
        split_iso20022(data)
    assert str(info.value) == error


# --- robustness -----------------------------------------------------------------------------------


def test_mutated_messages_never_crash_the_adapter():
    """Seeded, bounded mutations of every good sample: each is read, or refused with
    MessageError; each payment is valid or refused by the contract with PaymentError."""
    rng = random.Random(20250610)
    samples = [p.read_bytes() for p in GOOD]
    tags = sorted({t for s in samples for t in re.findall(rb"</?[A-Za-z][\w:]*", s)})
    refused: list[str] = []
    read_ok = 0
    for _ in range(400):
        data = bytearray(rng.choice(samples))
        for _ in range(rng.randint(1, 4)):
            pos = rng.randrange(len(data))
            roll = rng.random()
            if roll < 0.4:
                del data[pos : pos + rng.randint(1, 40)]
            elif roll < 0.7:
                data[pos:pos] = rng.choice(tags) + b">"
            else:
                data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        try:
            adapted = parse_iso20022(bytes(data))
        except MessageError as exc:
            refused.append(str(exc))
            continue
        read_ok += 1
        for a in adapted:
            assert (a.payment is None) != (a.error is None)
            if a.payment is not None:
                with contextlib.suppress(PaymentError):
                    parse_payment(a.payment)
    assert all(len(e) <= MAX_ERROR for e in refused)
    assert refused
    assert read_ok
