"""XML and element-level reading for the ISO 20022 adapter (schemas/iso20022.py): hardened
parsing and splitting, element paths for the source map, and the parties, institutions, postal
addresses and free-text lines of a message, each value with the path of the element it came from.

A "line" here is (text, element path). Texts are whitespace-normalised (runs of spaces, tabs and
line breaks become one space), since the screener compares words, not layout.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from typing import Any

from lxml import etree  # type: ignore[import-untyped]  # lxml ships no type information

from rules.payment import MAX_ID, MAX_LINE, MAX_LINES
from schemas.messages import MAX_MESSAGE_BYTES, MessageError

# An lxml element; lxml has no type stubs, so the alias only documents intent.
Element = Any
Line = tuple[str, str]
# Payment path relative to one object ("" is the object itself, "name", "address[0]") -> element path.
Sources = dict[str, str]
Record = tuple[dict[str, Any], Sources]


# --- Reading XML safely ---------------------------------------------------------------------------

# A CBPR+ message is a few kB, one transaction of 50-150 elements, about 15 levels deep: these
# bounds leave room for a batch (schemas/iso20022.py MAX_TRANSACTIONS) and stop a hostile message
# before it costs memory or time.
MAX_DEPTH = 64
MAX_ELEMENTS = 50_000
BOM = b"\xef\xbb\xbf"
_DOCTYPE = "DOCTYPE refused: an ISO 20022 message has no DTD, and entities could expand or read files"
_LINE_NOTE = re.compile(r",? line (\d+), column (\d+)$")
# Markup tokens, enough to find where each top-level element starts and ends; lxml checks the rest.
_TOKEN = re.compile(
    rb"""<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|<!DOCTYPE(?:[^\[>]|\[.*?\])*>|<![^>]*>|</[^>]*>"""
    rb"""|<(?:[^>"']|"[^"]*"|'[^']*')*>""",
    re.DOTALL,
)
_DECLARATION = re.compile(rb"<\?xml\s")
_TAG_NAME = re.compile(rb"</?([^\s/>]*)")
_PROLOG_DOCTYPE = re.compile(rb"(?:\s|\xef\xbb\xbf|<\?.*?\?>|<!--.*?-->)*<!DOCTYPE", re.DOTALL)
# The elements pacs.008/pacs.009 .001.08 to .12 allow more than once (maxOccurs > 1).
REPEATABLE = frozenset(
    {
        *("CdtTrfTxInf", "SplmtryData", "SvcLvl", "ChrgsInf", "InstrForCdtrAgt", "InstrForNxtAgt", "RgltryRptg"),
        *("Dtls", "Inf", "RltdRmtInf", "RmtLctnDtls", "Ustrd", "Strd", "RfrdDocInf", "LineDtls", "Id"),
        *("DscntApldAmt", "TaxAmt", "AdjstmntAmtAndRsn", "AddtlRmtInf", "Rcrd", "AdrLine", "Othr"),
    }
)


def local(el: Element) -> str:
    # The tag is "{namespace}name" or "name": string slicing is several times cheaper than
    # etree.QName, and this runs for every element of every message.
    return str(el.tag).rpartition("}")[2]


def _namespace_prefix(el: Element) -> str:
    """ "{namespace}" of el's tag, or "" for no namespace."""
    tag = str(el.tag)
    return tag[: tag.index("}") + 1] if tag.startswith("{") else ""


def elements(el: Element | None) -> list[Element]:
    """The child elements (comments and processing instructions are removed by the parser; the
    check keeps anything else that is not an element out)."""
    return [] if el is None else [c for c in el if isinstance(c.tag, str)]


def child(el: Element | None, *names: str) -> Element | None:
    """The first element at this path of local names, in el's namespace."""
    if el is None:
        return None
    prefix = _namespace_prefix(el)
    for name in names:
        if el is None:
            return None
        el = el.find(prefix + name)
    return el


def children(el: Element | None, name: str) -> list[Element]:
    return [c for c in elements(el) if local(c) == name]


def text(el: Element | None) -> str:
    """All the text inside el, whitespace-normalised ("" for none)."""
    return "" if el is None else " ".join("".join(str(t) for t in el.itertext()).split())


def own_text(el: Element) -> str:
    """el's own text and the text between its children: mixed content is invalid in these
    schemas, but text a message carries is never dropped."""
    parts = [el.text or "", *(c.tail or "" for c in el)]
    return " ".join("".join(str(p) for p in parts).split())


def _parser() -> Any:
    # No entity is ever expanded and nothing is fetched; a DOCTYPE is then refused outright.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_xml(data: bytes, limit: int, max_elements: int | None = MAX_ELEMENTS) -> Element:
    """The root element of data, or MessageError: oversized (checked before parsing), malformed,
    with a DOCTYPE, nested over MAX_DEPTH or with over max_elements elements."""
    if len(data) > limit:
        raise MessageError(f"oversized message: {len(data)} bytes, limit {limit}")
    if _PROLOG_DOCTYPE.match(data):
        # Refused before libxml2 reads the DTD at all, whatever its entities would do.
        raise MessageError(_DOCTYPE)
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        msg = str(exc.msg or exc)
        where = _LINE_NOTE.search(msg)
        note = f"line {where[1]}, column {where[2]}" if where else f"line {exc.lineno}"
        raise MessageError(f"malformed XML: {_LINE_NOTE.sub('', msg)} ({note})") from None
    if root.getroottree().docinfo.doctype:
        raise MessageError(_DOCTYPE)
    count = 0
    stack = [(root, 1)]
    while stack:
        el, depth = stack.pop()
        count += 1
        if max_elements is not None and count > max_elements:
            raise MessageError(f"too many elements: over {max_elements} in one message")
        if depth > MAX_DEPTH:
            raise MessageError(f"elements nested over {MAX_DEPTH} deep (line {el.sourceline})")
        stack.extend((c, depth + 1) for c in elements(el))
    return root


def check_document(doc: Element, ns: str) -> None:
    """Every element of the Document is in its namespace, and none the schemas allow once is
    repeated (SplmtryData, an open extension, aside). A foreign element would be skipped by every
    lookup, and of two debtors one reader takes the first, another the last: either way text
    would go unscreened, so the message is refused rather than read on a guess."""
    stack = [doc]
    while stack:
        el = stack.pop()
        found = etree.QName(el).namespace
        if found != ns:
            raise MessageError(f"element {local(el)} (line {el.sourceline}) is in namespace {found!r}, not {ns}")
        if local(el) == "SplmtryData":
            continue
        kids = elements(el)
        seen: set[str] = set()
        for c in kids:
            name = local(c)
            if name in seen and name not in REPEATABLE:
                raise MessageError(
                    f"element {name} repeated in {local(el)} (line {c.sourceline}): the schema allows one"
                )
            seen.add(name)
        stack.extend(kids)


def _tokens(data: bytes) -> Iterator[tuple[int, int, bytes, bool]]:
    """(start, end, markup, whether non-blank text precedes it) for each piece of markup; a last
    empty token reports text after the final element."""
    pos = 0
    while (lt := data.find(b"<", pos)) >= 0:
        token = _TOKEN.match(data, lt)
        if token is None:
            raise MessageError(f"malformed XML: unterminated markup at byte {lt}")
        yield lt, token.end(), token.group(), bool(data[pos:lt].replace(BOM, b"").strip())
        pos = token.end()
    yield len(data), len(data), b"", bool(data[pos:].replace(BOM, b"").strip())


def top_level(data: bytes) -> list[tuple[int, int]]:
    """Byte spans of the top-level elements of data, each from the XML declaration before it.

    End tags are matched by name, closing any elements left open inside (and one matching no open
    element is skipped), so a malformed message still ends at its root's end tag: it is cut out
    whole, for parse_iso20022 to refuse it alone. A last element never closed runs to the end."""
    spans: list[tuple[int, int]] = []
    open_names: list[bytes] = []
    start, declared = 0, None
    for lt, end, tag, loose_text in _tokens(data):
        if not open_names and (loose_text or tag.startswith(b"<![CDATA[")):
            raise MessageError(f"malformed XML: text outside any element before byte {lt}")
        if tag.startswith((b"<!", b"<?")) or not tag:
            # A message starts at its XML declaration, or at a DOCTYPE, which parse_xml then
            # refuses for that message alone.
            if not open_names and declared is None and (_DECLARATION.match(tag) or tag.startswith(b"<!DOCTYPE")):
                declared = lt
            continue
        named = _TAG_NAME.match(tag)
        name = named[1] if named else b""
        if tag.startswith(b"</"):
            if not open_names:
                raise MessageError(f"malformed XML: end tag without a start tag at byte {lt}")
            if name in open_names:
                del open_names[len(open_names) - 1 - open_names[::-1].index(name) :]
        else:
            if not open_names:
                start = lt if declared is None else declared
            if not tag.endswith(b"/>"):
                open_names.append(name)
        if not open_names:
            spans.append((start, end))
            declared = None
    if open_names:
        spans.append((start, len(data)))
    return spans


def messages_in(root: Element) -> list[Element]:
    """The messages under root: each envelope (the parent of a Document beside an AppHdr), else
    each bare Document; a Document inside another (in SplmtryData) is part of that one."""
    found: list[Element] = []
    for doc in root.iter("{*}Document"):
        if not any(local(a) == "Document" for a in doc.iterancestors()):
            parent = doc.getparent()
            found.append(parent if parent is not None and children(parent, "AppHdr") else doc)
    return found


def _one_message(data: bytes) -> bool:
    """Whether data is one well-formed document holding exactly one message as its root (or as the
    only Document of an envelope root); anything else takes the splitting path."""
    if _PROLOG_DOCTYPE.match(data):
        return False
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError:
        return False
    if root.getroottree().docinfo.doctype:
        return False
    found = messages_in(root)
    return len(found) == 1 and found[0] is root


def split_file(data: bytes, limit: int, max_messages: int) -> list[bytes]:
    """The messages of a file (schemas/iso20022.py split_iso20022 says which forms)."""
    if len(data) <= MAX_MESSAGE_BYTES and _one_message(data):
        # The common case, one message as a record or file: one parse instead of a tokenising
        # pass and a parse per top-level element (`screener bench --formats`).
        return [data[data.find(b"<") :].rstrip(b" \t\r\n")]
    out: list[bytes] = []
    for start, end in top_level(data):
        chunk = data[start:end]
        try:
            root = parse_xml(chunk, limit, None)
        except MessageError:
            # Unreadable: passed on as it is, for parse_iso20022 to say why; the others go on.
            out.append(chunk)
            continue
        found = messages_in(root)
        whole = not found or found[0] is root or (local(found[0]) == "Document" and found[0].getparent() is root)
        if len(found) <= 1 and whole:
            out.append(chunk)
        else:
            out.extend(etree.tostring(el, encoding="UTF-8", xml_declaration=True) for el in found)
        if len(out) > max_messages:
            raise MessageError(f"too many messages in one file: over {max_messages}")
    if not out:
        raise MessageError("no XML element found")
    return out


# --- Source paths ---------------------------------------------------------------------------------


def cap(path: str) -> str:
    """A source path within the contract's bound: the nearest ancestor path that fits."""
    while len(path) > MAX_ID and "/" in path:
        path = path.rsplit("/", 1)[0]
    return path[:MAX_ID]


def common(paths: Iterable[str]) -> str:
    """The deepest element containing all these paths (their common leading steps)."""
    split = [p.split("/") for p in paths]
    if not split:
        return ""
    out: list[str] = []
    for steps in zip(*split, strict=False):
        if any(s != steps[0] for s in steps):
            break
        out.append(steps[0])
    return "/".join(out) or split[0][0]


class Paths:
    """Element paths relative to named roots ("CdtTrfTxInf/IntrmyAgt2/FinInstnId/BICFI",
    "GrpHdr/InstgAgt"), with an XPath index ("Ustrd[2]") where an element repeats."""

    def __init__(self) -> None:
        self._roots: dict[Element, str] = {}
        self._steps: dict[Element, str] = {}

    def root(self, el: Element, label: str) -> None:
        self._roots[el] = label

    def of(self, el: Element) -> str:
        steps: list[str] = []
        node = el
        while node is not None and node not in self._roots:
            steps.append(self._step(node))
            node = node.getparent()
        if node is not None:
            steps.append(self._roots[node])
        return cap("/".join(reversed(steps)))

    def _step(self, el: Element) -> str:
        step = self._steps.get(el)
        if step is None:
            parent = el.getparent()
            siblings = elements(parent) if parent is not None else [el]
            counts: dict[str, int] = {}
            for s in siblings:
                counts[s.tag] = counts.get(s.tag, 0) + 1
            seen: dict[str, int] = {}
            for s in siblings:
                seen[s.tag] = seen.get(s.tag, 0) + 1
                self._steps[s] = local(s) + (f"[{seen[s.tag]}]" if counts[s.tag] > 1 else "")
            step = self._steps[el]
        return step


# --- Parties, institutions, addresses, free text --------------------------------------------------

# PostalAddress24 (and 27, from .001.10 on): the structured elements, grouped the way an address
# is written, one line per group. AdrLine and Ctry are read separately; AdrTp is a type code.
ADDRESS_GROUPS: tuple[tuple[str, ...], ...] = (
    ("Dept", "SubDept"),
    ("StrtNm", "BldgNb"),
    ("BldgNm", "Flr", "Room"),
    ("PstBx",),
    ("PstCd", "TwnNm"),
    ("TwnLctnNm", "DstrctNm"),
    ("CtrySubDvsn",),
)
_ADDRESS_KNOWN = frozenset({n for group in ADDRESS_GROUPS for n in group} | {"AdrTp", "AdrLine", "Ctry"})
# Containers whose children are read one by one rather than as one labelled line, and the ones
# whose children's names are clear without them ("LEI", not "OrgId LEI").
_RECURSE = frozenset({"FinInstnId", "Id", "OrgId", "PrvtId", "BrnchId"})
_BARE_PARENTS = frozenset({"FinInstnId", "Id", "OrgId", "PrvtId"})


def leaf_lines(el: Element | None, paths: Paths) -> list[Line]:
    """One line per element with text in el's subtree (el included), in document order."""
    if el is None:
        return []
    out: list[Line] = []
    for node in el.iter():
        if isinstance(node.tag, str) and (t := own_text(node)):
            out.append((t, paths.of(node)))
    return out


def group_line(el: Element, label: str, paths: Paths) -> Line | None:
    """All the text of el's subtree as one line after a label ("ClrSysMmbId USABA 021000021")."""
    texts = [t for node in el.iter() if isinstance(node.tag, str) and (t := own_text(node))]
    return (f"{label} {' '.join(texts)}", paths.of(el)) if texts else None


def leftover_lines(root: Element, consumed: set[Element], paths: Paths, prefix: str = "") -> list[Line]:
    """Labelled lines for the text under root that no field of the contract holds (LEI, clearing
    member id, other identifiers, branch, contact details, birth place): kept with the party or
    institution so nothing it says is lost."""
    around = {a for e in consumed for a in e.iterancestors()}
    out: list[Line] = []

    def label(el: Element) -> str:
        parent = el.getparent()
        bare = el is root or parent is root or local(parent) in _BARE_PARENTS
        return f"{prefix} {local(el) if bare else f'{local(parent)} {local(el)}'}".strip()

    def walk(el: Element) -> None:
        # A container's own text is invalid (mixed content) but kept all the same.
        if own := own_text(el):
            out.append((f"{label(el)} {own}", paths.of(el)))
        for c in elements(el):
            if c in consumed:
                continue
            if c in around or (local(c) in _RECURSE and elements(c)):
                walk(c)
            elif (line := group_line(c, label(c), paths)) is not None:
                out.append(line)

    walk(root)
    return out


def postal_address(adr: Element | None, paths: Paths) -> tuple[list[Line], Line | None]:
    """Address lines (structured groups, other elements of later versions, AdrLine, then the
    country code last, as an address is written) and the country (Ctry) with its path."""
    if adr is None:
        return [], None
    out: list[Line] = []
    for group in ADDRESS_GROUPS:
        present = [(e, t) for e in (child(adr, n) for n in group) if e is not None and (t := text(e))]
        if present:
            out.append((" ".join(t for _, t in present), paths.of(present[0][0])))
    for c in elements(adr):
        if local(c) not in _ADDRESS_KNOWN and (line := group_line(c, local(c), paths)) is not None:
            out.append(line)
    out.extend((t, paths.of(e)) for e in children(adr, "AdrLine") if (t := text(e)))
    if own := own_text(adr):  # text beside the elements: invalid, kept all the same
        out.append((own, paths.of(adr)))
    ctry = child(adr, "Ctry")
    country = (text(ctry), paths.of(ctry)) if ctry is not None and text(ctry) else None
    if country is not None:
        out.append(country)
    return out, country


def fit(lines: list[Line]) -> list[Line]:
    """At most MAX_LINES lines: beyond that, consecutive lines are joined (up to MAX_LINE
    characters each), so a long structured remittance is screened whole rather than refused."""
    if len(lines) <= MAX_LINES:
        return lines
    out: list[list[Line]] = [[]]
    size = 0
    for line in lines:
        if out[-1] and size + 1 + len(line[0]) > MAX_LINE:
            out.append([])
            size = 0
        size += len(line[0]) + (1 if out[-1] else 0)
        out[-1].append(line)
    return [(" ".join(t for t, _ in chunk), common(p for _, p in chunk)) for chunk in out]


def put_lines(obj: dict[str, Any], src: Sources, key: str, lines: list[Line], home: str = "") -> None:
    """obj[key] = the lines' texts, each line's path in src, and for the list the element holding
    them all (within home, the object's own element, when lines come from beside it too)."""
    lines = fit(lines)
    if not lines:
        return
    obj[key] = [t for t, _ in lines]
    whole = common(p for _, p in lines)
    src[key] = whole if not home or whole == home or whole.startswith(home + "/") else home
    for i, (_, path) in enumerate(lines):
        src[f"{key}[{i}]"] = path


def _put(obj: dict[str, Any], src: Sources, key: str, el: Element | None, paths: Paths) -> Element | None:
    if el is not None and (t := text(el)):
        obj[key] = t
        src[key] = paths.of(el)
        return el
    return None


def _account(acct: Element | None, obj: dict[str, Any], src: Sources, paths: Paths) -> list[Line]:
    """A party's account: the IBAN or other identifier as `account`; its name, proxy and the rest
    as labelled lines ("CdtrAcct Nm ..."), since an account name can name someone else."""
    if acct is None:
        return []
    ident = child(acct, "Id", "IBAN")
    if ident is None or not text(ident):
        ident = child(acct, "Id", "Othr", "Id")
    used = _put(obj, src, "account", ident, paths)
    return leftover_lines(acct, {used} if used is not None else set(), paths, prefix=local(acct))


def institution(el: Element, acct: Element | None, paths: Paths, *, as_party: bool = False) -> Record:
    """BranchAndFinancialInstitutionIdentification6/8: BICFI, Nm, the postal address (the
    branch's, when given, sets the country: a branch is where it is), other identifiers and the
    agent's account as labelled address lines. With as_party (the debtor or creditor of a
    pacs.009), the account is read as a party's. An empty record when nothing identifies it."""
    fin = child(el, "FinInstnId")
    obj: dict[str, Any] = {}
    src: Sources = {"": paths.of(el)}
    consumed: set[Element] = set()
    for key, name in (("bic", "BICFI"), ("name", "Nm")):
        if (used := _put(obj, src, key, child(fin, name), paths)) is not None:
            consumed.add(used)
    lines: list[Line] = []
    country: Line | None = None
    for adr in (child(fin, "PstlAdr"), child(el, "BrnchId", "PstlAdr")):
        if adr is not None:
            consumed.add(adr)
            adr_lines, adr_country = postal_address(adr, paths)
            lines += adr_lines
            country = adr_country or country
    lines += leftover_lines(el, consumed, paths)
    if as_party:
        lines += _account(acct, obj, src, paths)
    elif acct is not None and (line := group_line(acct, local(acct), paths)) is not None:
        lines.append(line)
    if country is not None:
        obj["country"], src["country"] = country
    put_lines(obj, src, "address", lines, src[""])
    return obj, src


def party(el: Element, acct: Element | None, paths: Paths) -> Record:
    """PartyIdentification135/272: Nm, PstlAdr, Id/OrgId/AnyBIC as `bic`, CtryOfRes as the
    country when the address has none, the account; other identifiers and contact details as
    labelled address lines."""
    obj: dict[str, Any] = {}
    src: Sources = {"": paths.of(el)}
    consumed: set[Element] = set()
    for key, e in (("name", child(el, "Nm")), ("bic", child(el, "Id", "OrgId", "AnyBIC"))):
        if (used := _put(obj, src, key, e, paths)) is not None:
            consumed.add(used)
    adr = child(el, "PstlAdr")
    lines, country = postal_address(adr, paths)
    if adr is not None:
        consumed.add(adr)
    residence = child(el, "CtryOfRes")
    if country is None and residence is not None and text(residence):
        country = (text(residence), paths.of(residence))
        consumed.add(residence)
    if country is not None:
        obj["country"], src["country"] = country
    lines += leftover_lines(el, consumed, paths)
    lines += _account(acct, obj, src, paths)
    put_lines(obj, src, "address", lines, src[""])
    return obj, src


# --- Transaction values ---------------------------------------------------------------------------

_AMOUNT = re.compile(r"^\d{1,18}(\.\d{1,5})?$")
_CCY = re.compile(r"^[A-Z]{3}$")
_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_LISTS = frozenset({"intermediary_agents", "previous_instructing_agents"})


class FieldError(ValueError):
    """Why one transaction yields no payment: a mandatory element missing, a value unreadable."""


def first_with_text(*els: Element | None) -> Element | None:
    # lxml elements are falsy when childless: never choose one with `or`.
    return next((e for e in els if e is not None and text(e)), None)


def require(el: Element, names: tuple[str, ...], where: str) -> None:
    for name in names:
        if child(el, *name.split("/")) is None:
            raise FieldError(f"missing mandatory element {where}{name}")


def amount(el: Element, name: str) -> tuple[str, str]:
    """An ActiveCurrencyAndAmount as decimal text (never a float) and its currency."""
    value, ccy = text(el), str(el.get("Ccy") or "")
    if not _AMOUNT.match(value):
        raise FieldError(f"{name} {value[:40]!r} is not a decimal amount (up to 18 digits, 5 decimals)")
    if not _CCY.match(ccy):
        raise FieldError(f"{name} has no ISO 4217 currency (Ccy={ccy[:12]!r})")
    return value, ccy


def instant(el: Element, name: str) -> datetime:
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

    def amount(self, el: Element, path: str, name: str) -> None:
        value, ccy = amount(el, name)
        self.value("amount", value, path)
        self.value("currency", ccy, path + "/@Ccy")
