"""Hardened XML parsing for the ISO 20022 adapter (schemas/iso20022.py) and its file splitter
(schemas/iso20022_split.py): a size limit checked before parsing, a DOCTYPE refused before libxml2
reads it (no entity is ever expanded, nothing fetched), comments and processing instructions
dropped, and limits on nesting depth and element count.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree  # type: ignore[import-untyped]  # lxml ships no type information

from schemas.messages import MessageError

# An lxml element; lxml has no type stubs, so the alias only documents intent.
Element = Any

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


def check_limits(root: Element, max_elements: int | None) -> None:
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
    check_limits(root, max_elements)
    return root
