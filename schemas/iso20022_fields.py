"""XML and element-level reading for the ISO 20022 adapter (schemas/iso20022.py): hardened
parsing, an index of a message's elements, element paths for the source map, and the parties,
institutions, postal addresses and free-text lines of a message, each value with the path of the
element it came from.

A "line" here is (text, element path). Texts are whitespace-normalised (runs of spaces, tabs and
line breaks become one space), since the screener compares words, not layout.

The mapping reads a message as a Tree of Nodes built in one pass over the lxml tree (read_tree),
not through lxml: each lxml read (find(), .text, .getparent()) is a C call making a new string or
proxy, and a transaction asks some 130 lookups and walks its parties several times, which made a
pacs.008 cost some 50 times a JSON payment (`screener bench --formats`). The splitter
(schemas/iso20022.py) reads lxml directly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from lxml import etree  # type: ignore[import-untyped]  # lxml ships no type information

from rules.payment import MAX_ID, MAX_LINE, MAX_LINES
from schemas.messages import MessageError

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
# Each alternative matches in one way only (a declaration or comment cannot be read as two), so
# a prolog of many of them is matched in linear time.
_PROLOG_DOCTYPE = re.compile(
    rb"(?:\s|\xef\xbb\xbf|<\?(?:[^?]|\?(?!>))*\?>|<!--(?:[^-]|-(?!->))*-->)*<!DOCTYPE", re.DOTALL
)
# The elements pacs.008/pacs.009 .001.08 to .12 allow more than once (maxOccurs > 1).
REPEATABLE = frozenset(
    {
        *("CdtTrfTxInf", "SplmtryData", "SvcLvl", "ChrgsInf", "InstrForCdtrAgt", "InstrForNxtAgt", "RgltryRptg"),
        *("Dtls", "Inf", "RltdRmtInf", "RmtLctnDtls", "Ustrd", "Strd", "RfrdDocInf", "LineDtls", "Id"),
        *("DscntApldAmt", "TaxAmt", "AdjstmntAmtAndRsn", "AddtlRmtInf", "Rcrd", "AdrLine", "Othr"),
    }
)


def _doctype_first(data: bytes) -> bool:
    """Whether data opens (after white space, a BOM, comments and processing instructions) with a
    DOCTYPE."""
    # Where it fails, the pattern backtracks through the whole message (some 30-70 us a message);
    # without "<!DOCTYPE" anywhere it cannot match, and a substring search says so at once.
    return b"<!DOCTYPE" in data and _PROLOG_DOCTYPE.match(data) is not None


def local(el: Element) -> str:
    # The tag is "{namespace}name" or "name": string slicing is several times cheaper than
    # etree.QName, and this runs for every element the splitter looks at.
    return str(el.tag).rpartition("}")[2]


def elements(el: Element) -> list[Element]:
    """The child elements (comments and processing instructions are removed by the parser; the
    check keeps anything else that is not an element out)."""
    return [c for c in el if isinstance(c.tag, str)]


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


def parse_root(data: bytes, limit: int) -> Element:
    """The root element of data, or MessageError: oversized (checked before parsing), malformed or
    with a DOCTYPE."""
    if len(data) > limit:
        raise MessageError(f"oversized message: {len(data)} bytes, limit {limit}")
    if _doctype_first(data):
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
    return root


def _limits(root: Element, max_elements: int | None) -> None:
    """MessageError for an element nested over MAX_DEPTH or over max_elements elements. The walk
    order (last child first) decides which element an error names, so read_tree, which finds a
    breach faster, leaves the naming to this walk."""
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


def parse_xml(data: bytes, limit: int, max_elements: int | None = MAX_ELEMENTS) -> Element:
    """The root element of data, or MessageError: oversized (checked before parsing), malformed,
    with a DOCTYPE, nested over MAX_DEPTH or with over max_elements elements."""
    root = parse_root(data, limit)
    _limits(root, max_elements)
    return root


class Node:
    """One element of a message, as the mapping reads it: read from lxml once (the parser leaves
    only elements: comments and processing instructions removed, CDATA merged into text, entities
    refused), so that lookups are dict reads instead of lxml calls. Built by _index."""

    __slots__ = ("_all", "_own", "el", "end", "first", "index", "kids", "name", "ns", "tail", "text")
    el: Element  # the lxml element, for sourceline in errors and attributes
    ns: str | None  # the namespace, None for none (as etree.QName has it)
    name: str  # the local name
    text: str  # the text before the first child ("" for none)
    tail: str  # the text after the element, up to its next sibling
    kids: list[Node]  # the child elements, in order
    first: dict[str, Node]  # local name -> the first child of that name in the element's namespace
    index: int  # position in document order (Tree.order)
    end: int  # index just past the last descendant: Tree.order[index:end] is the subtree
    _own: str | None  # own_text(), once asked
    _all: str | None  # text(), once asked


# Shared by the leaves, saving two objects for most elements: _index adds children only to an
# element lxml says has some, which gets its own.
_NO_KIDS: list[Node] = []
_NO_FIRST: dict[str, Node] = {}
# "{namespace}name" -> (namespace, name): a message has a few dozen tag names, the same in every
# message of a kind. Bounded, since a hostile message may bring thousands.
_NAMES: dict[str, tuple[str | None, str]] = {}
_MAX_NAMES = 4096


class Tree:
    """A message's elements in document order and each one's parent (Nodes hold no reference up,
    so that a tree is freed as soon as it is read rather than by the cyclic garbage collector).
    For check_document and Paths, what _index saw: elements in another namespace than their
    parent's (foreign), parents with two children of one name the schemas allow once (repeated),
    and parents with two children of one tag or one foreign (indexed: their children's path steps
    need an index, "Ustrd[2]")."""

    __slots__ = ("foreign", "indexed", "order", "parents", "repeated")

    def __init__(self) -> None:
        self.order: list[Node] = []
        self.parents: list[Node | None] = []
        self.foreign: list[Node] = []
        self.repeated: list[Node] = []
        self.indexed: set[Node] = set()

    def subtree(self, node: Node) -> list[Node]:
        """node and its descendants, in document order (as lxml's iter())."""
        return self.order[node.index : node.end]


def _split_tag(tag: str) -> tuple[str | None, str]:
    """(namespace, local name) of an lxml tag, remembered in _NAMES."""
    if len(_NAMES) > _MAX_NAMES:
        _NAMES.clear()
    ns, _, name = tag[1:].partition("}") if tag[0] == "{" else (None, "", tag)
    _NAMES[tag] = ns, name
    return ns, name


def _index(root: Element) -> Tree | None:
    """The Tree of root in one pass, or None when it breaks MAX_DEPTH or MAX_ELEMENTS."""
    tree = Tree()
    order, parents, indexed = tree.order, tree.parents, tree.indexed
    ancestors: list[Node] = []  # the open elements around the next one
    left: list[int] = []  # how many children each of those still has to come
    new = Node.__new__
    for index, el in enumerate(root.iter()):
        # Filled here rather than by Node.__init__: a call per element is a good part of the cost.
        node = new(Node)
        tag: str = el.tag
        node.ns, node.name = ns, name = _NAMES.get(tag) or _split_tag(tag)
        node.el, node.text, node.tail = el, el.text or "", el.tail or ""
        node.index, node.end = index, index + 1
        node._own = node._all = None
        size = len(el)
        node.kids, node.first = ([], {}) if size else (_NO_KIDS, _NO_FIRST)
        order.append(node)
        if index >= MAX_ELEMENTS:
            return None
        parent = ancestors[-1] if ancestors else None
        parents.append(parent)
        if parent is not None:
            parent.kids.append(node)
            left[-1] -= 1
            if ns != parent.ns:
                tree.foreign.append(node)
                indexed.add(parent)
            elif name not in parent.first:
                parent.first[name] = node
            else:
                indexed.add(parent)
                if name not in REPEATABLE:
                    tree.repeated.append(parent)
        if size:
            ancestors.append(node)
            left.append(size)
            if len(ancestors) >= MAX_DEPTH:  # its children are one level deeper
                return None
        else:
            while left and not left[-1]:
                left.pop()
                ancestors.pop().end = index + 1
    return tree


def read_tree(data: bytes, limit: int) -> Tree:
    """The Tree of data, or MessageError as parse_xml(data, limit) gives it."""
    root = parse_root(data, limit)
    tree = _index(root)
    if tree is None:
        _limits(root, MAX_ELEMENTS)
        raise AssertionError("_index found a limit broken that _limits does not")
    return tree


def check_document(tree: Tree, doc: Node, ns: str) -> None:
    """Every element of the Document is in its namespace, and none the schemas allow once is
    repeated (SplmtryData, an open extension, aside). A foreign element would be skipped by every
    lookup, and of two debtors one reader takes the first, another the last: either way text
    would go unscreened, so the message is refused rather than read on a guess."""
    if not any(doc.index < s.index < doc.end for s in tree.foreign) and not any(
        doc.index <= s.index < doc.end for s in tree.repeated
    ):
        return  # the common case: _index saw nothing foreign or repeated in the Document
    # What it saw may yet be allowed (inside SplmtryData): walked in the original order (last child
    # first), so that an error names the same element it always has.
    stack = [doc]
    while stack:
        el = stack.pop()
        if el.ns != ns:
            raise MessageError(f"element {el.name} (line {el.el.sourceline}) is in namespace {el.ns!r}, not {ns}")
        if el.name == "SplmtryData":
            continue
        seen: set[str] = set()
        for c in el.kids:
            if c.name in seen and c.name not in REPEATABLE:
                raise MessageError(
                    f"element {c.name} repeated in {el.name} (line {c.el.sourceline}): the schema allows one"
                )
            seen.add(c.name)
        stack.extend(el.kids)


# --- Reading elements -----------------------------------------------------------------------------


def child(node: Node | None, *names: str) -> Node | None:
    """The first element at this path of local names, in node's namespace (as lxml's find())."""
    for name in names:
        if node is None:
            return None
        node = node.first.get(name)
    return node


def children(node: Node | None, name: str) -> list[Node]:
    """The child elements of this local name, in any namespace."""
    return [] if node is None else [c for c in node.kids if c.name == name]


def _raw_text(node: Node) -> str:
    return node.text + "".join(_raw_text(c) + c.tail for c in node.kids) if node.kids else node.text


def text(node: Node | None) -> str:
    """All the text inside node (as lxml's itertext()), whitespace-normalised ("" for none)."""
    if node is None:
        return ""
    if node._all is None:  # asked of most elements more than once
        node._all = " ".join(_raw_text(node).split())
    return node._all


def own_text(node: Node) -> str:
    """node's own text and the text between its children: mixed content is invalid in these
    schemas, but text a message carries is never dropped."""
    if node._own is None:
        raw = node.text + "".join([c.tail for c in node.kids]) if node.kids else node.text
        node._own = " ".join(raw.split())
    return node._own


class FieldError(ValueError):
    """Why one transaction yields no payment: a mandatory element missing, a value unreadable."""


def first_with_text(*els: Node | None) -> Node | None:
    return next((e for e in els if e is not None and text(e)), None)


def require(el: Node, names: tuple[str, ...], where: str) -> None:
    for name in names:
        if child(el, *name.split("/")) is None:
            raise FieldError(f"missing mandatory element {where}{name}")


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
    # The steps all share are those the least and the greatest step lists (as compared) share.
    low, high = min(split), max(split)
    n = 0
    while n < len(low) and n < len(high) and low[n] == high[n]:
        n += 1
    return "/".join(low[:n]) or split[0][0]


class Paths:
    """Element paths relative to named roots ("CdtTrfTxInf/IntrmyAgt2/FinInstnId/BICFI",
    "GrpHdr/InstgAgt"), with an XPath index ("Ustrd[2]") where an element repeats; and the
    message's Tree, which the readers below walk."""

    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        self._roots: dict[Node, str] = {}
        # Full (uncapped) paths already worked out: an element's path is its parent's plus a step,
        # and most paths are asked for several times (a line, its object, the list holding both).
        self._known: dict[Node, str] = {}
        self._steps: dict[Node, str] = {}  # the steps of children of Tree.indexed elements

    def root(self, node: Node, label: str) -> None:
        self._roots[node] = label
        self._known.clear()  # a path worked out before may have passed through this element

    def of(self, node: Node) -> str:
        path = self._known.get(node) or self._path(node)
        return path if len(path) <= MAX_ID else cap(path)

    def _path(self, node: Node) -> str:
        path = self._roots.get(node)
        if path is None:
            parent = self.tree.parents[node.index]
            step = node.name if parent not in self.tree.indexed else self._steps.get(node) or self._step(parent, node)
            path = step if parent is None else f"{self._known.get(parent) or self._path(parent)}/{step}"
        self._known[node] = path
        return path

    def _step(self, parent: Node, node: Node) -> str:
        """Sets the steps of node and its siblings (each sibling's index needs them all)."""
        counts: dict[tuple[str | None, str], int] = {}
        for s in parent.kids:
            counts[s.ns, s.name] = counts.get((s.ns, s.name), 0) + 1
        seen: dict[tuple[str | None, str], int] = {}
        for s in parent.kids:
            tag = s.ns, s.name
            seen[tag] = seen.get(tag, 0) + 1
            self._steps[s] = s.name + (f"[{seen[tag]}]" if counts[tag] > 1 else "")
        return self._steps[node]


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


def leaf_lines(el: Node | None, paths: Paths) -> list[Line]:
    """One line per element with text in el's subtree (el included), in document order."""
    if el is None:
        return []
    return [(t, paths.of(node)) for node in paths.tree.subtree(el) if (t := own_text(node))]


def group_line(el: Node, label: str, paths: Paths) -> Line | None:
    """All the text of el's subtree as one line after a label ("ClrSysMmbId USABA 021000021")."""
    texts = [t for node in paths.tree.subtree(el) if (t := own_text(node))]
    return (f"{label} {' '.join(texts)}", paths.of(el)) if texts else None


def leftover_lines(root: Node, consumed: set[Node], paths: Paths, prefix: str = "") -> list[Line]:
    """Labelled lines for the text under root that no field of the contract holds (LEI, clearing
    member id, other identifiers, branch, contact details, birth place): kept with the party or
    institution so nothing it says is lost."""
    tree = paths.tree
    # The ancestors of consumed elements below root, walked into to skip those (one already in
    # the set has its ancestors there too).
    around: set[Node] = set()
    for e in consumed:
        a = tree.parents[e.index]
        while a is not None and a is not root and a not in around:
            around.add(a)
            a = tree.parents[a.index]
    out: list[Line] = []
    # Depth first, in document order, on a stack rather than by a nested recursive function: such
    # a function refers to itself, a cycle that held the whole tree until the garbage collector ran.
    stack: list[tuple[Node, bool]] = [(root, True)]  # (element, whether its children are read one by one)
    while stack:
        el, into = stack.pop()
        if not into:
            if (line := group_line(el, _label(el, root, prefix, tree), paths)) is not None:
                out.append(line)
            continue
        # A container's own text is invalid (mixed content) but kept all the same.
        if own := own_text(el):
            out.append((f"{_label(el, root, prefix, tree)} {own}", paths.of(el)))
        kids = [(c, c in around or (c.name in _RECURSE and bool(c.kids))) for c in el.kids if c not in consumed]
        stack.extend(reversed(kids))
    return out


def _label(el: Node, root: Node, prefix: str, tree: Tree) -> str:
    """A leftover line's label: the element's name, after its parent's unless that is the party
    or a container whose children's names are clear alone."""
    parent = tree.parents[el.index]
    if el is root or parent is None or parent is root or parent.name in _BARE_PARENTS:
        return f"{prefix} {el.name}".strip()
    return f"{prefix} {parent.name} {el.name}".strip()


def postal_address(adr: Node | None, paths: Paths) -> tuple[list[Line], Line | None]:
    """Address lines (structured groups, other elements of later versions, AdrLine, then the
    country code last, as an address is written) and the country (Ctry) with its path."""
    if adr is None:
        return [], None
    out: list[Line] = []
    first = adr.first
    for group in ADDRESS_GROUPS:
        present = [(e, t) for n in group if (e := first.get(n)) is not None and (t := text(e))]
        if present:
            out.append((" ".join(t for _, t in present), paths.of(present[0][0])))
    out.extend(
        line for c in adr.kids if c.name not in _ADDRESS_KNOWN and (line := group_line(c, c.name, paths)) is not None
    )
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


def _put(obj: dict[str, Any], src: Sources, key: str, el: Node | None, paths: Paths) -> Node | None:
    if el is not None and (t := text(el)):
        obj[key] = t
        src[key] = paths.of(el)
        return el
    return None


def _account(acct: Node | None, obj: dict[str, Any], src: Sources, paths: Paths) -> list[Line]:
    """A party's account: the IBAN or other identifier as `account`; its name, proxy and the rest
    as labelled lines ("CdtrAcct Nm ..."), since an account name can name someone else."""
    if acct is None:
        return []
    ident = child(acct, "Id", "IBAN")
    if ident is None or not text(ident):
        ident = child(acct, "Id", "Othr", "Id")
    used = _put(obj, src, "account", ident, paths)
    return leftover_lines(acct, {used} if used is not None else set(), paths, prefix=acct.name)


def institution(el: Node, acct: Node | None, paths: Paths, *, as_party: bool = False) -> Record:
    """BranchAndFinancialInstitutionIdentification6/8: BICFI, Nm, the postal address (the
    branch's, when given, sets the country: a branch is where it is), other identifiers and the
    agent's account as labelled address lines. With as_party (the debtor or creditor of a
    pacs.009), the account is read as a party's. An empty record when nothing identifies it."""
    fin = child(el, "FinInstnId")
    obj: dict[str, Any] = {}
    src: Sources = {"": paths.of(el)}
    consumed: set[Node] = set()
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
    elif acct is not None and (line := group_line(acct, acct.name, paths)) is not None:
        lines.append(line)
    if country is not None:
        obj["country"], src["country"] = country
    put_lines(obj, src, "address", lines, src[""])
    return obj, src


def party(el: Node, acct: Node | None, paths: Paths) -> Record:
    """PartyIdentification135/272: Nm, PstlAdr, Id/OrgId/AnyBIC as `bic`, CtryOfRes as the
    country when the address has none, the account; other identifiers and contact details as
    labelled address lines."""
    obj: dict[str, Any] = {}
    src: Sources = {"": paths.of(el)}
    consumed: set[Node] = set()
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
