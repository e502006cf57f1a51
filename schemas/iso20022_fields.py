"""Parties, institutions, postal addresses and free-text lines of an ISO 20022 message, for the
adapter (schemas/iso20022.py): each value with the path of the element it came from. The message
is read through its element index (schemas/iso20022_tree.py), parsed by schemas/iso20022_xml.py.

A "line" here is (text, element path). Texts are whitespace-normalised (runs of spaces, tabs and
line breaks become one space), since the screener compares words, not layout.
"""

from __future__ import annotations

from typing import Any

from rules.payment import MAX_LINE, MAX_LINES
from schemas.iso20022_tree import Node, Paths, Tree, child, children, common, own_text, text
from schemas.iso20022_xml import MAX_DEPTH, MAX_ELEMENTS

# MAX_DEPTH and MAX_ELEMENTS, the limits a message is read under, are re-exported from here as
# before the parsing moved to schemas/iso20022_xml.py.
__all__ = [
    "ADDRESS_GROUPS",
    "MAX_DEPTH",
    "MAX_ELEMENTS",
    "Line",
    "Record",
    "Sources",
    "fit",
    "group_line",
    "institution",
    "leaf_lines",
    "leftover_lines",
    "party",
    "postal_address",
    "put_lines",
]

Line = tuple[str, str]
# Payment path relative to one object ("" is the object itself, "name", "address[0]") -> element path.
Sources = dict[str, str]
Record = tuple[dict[str, Any], Sources]

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
