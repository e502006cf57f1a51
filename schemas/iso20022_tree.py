"""A message's elements as the ISO 20022 adapter reads them (schemas/iso20022.py): a Tree of
Nodes built in one pass over the lxml tree (read_tree), the checks on it (check_document), lookups
and text of elements, and element paths for the source map (Paths).

The mapping reads a message through this index, not through lxml: each lxml read (find(), .text,
.getparent()) is a C call making a new string or proxy, and a transaction asks some 130 lookups
and walks its parties several times, which made a pacs.008 cost some 50 times a JSON payment
(`screener bench --formats`). The splitter (schemas/iso20022_split.py) reads lxml directly.

Texts are whitespace-normalised (runs of spaces, tabs and line breaks become one space), since the
screener compares words, not layout.
"""

from __future__ import annotations

from collections.abc import Iterable

from rules.payment import MAX_ID
from schemas.iso20022_xml import MAX_DEPTH, MAX_ELEMENTS, Element, check_limits, parse_root
from schemas.messages import MessageError

# The elements pacs.008/pacs.009 .001.08 to .12 allow more than once (maxOccurs > 1).
REPEATABLE = frozenset(
    {
        *("CdtTrfTxInf", "SplmtryData", "SvcLvl", "ChrgsInf", "InstrForCdtrAgt", "InstrForNxtAgt", "RgltryRptg"),
        *("Dtls", "Inf", "RltdRmtInf", "RmtLctnDtls", "Ustrd", "Strd", "RfrdDocInf", "LineDtls", "Id"),
        *("DscntApldAmt", "TaxAmt", "AdjstmntAmtAndRsn", "AddtlRmtInf", "Rcrd", "AdrLine", "Othr"),
    }
)


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
        check_limits(root, MAX_ELEMENTS)
        raise AssertionError("_index found a limit broken that check_limits does not")
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
