"""Cutting a file of ISO 20022 messages into one message each (split_iso20022), for
parse_iso20022 (schemas/iso20022.py) to read one at a time, and the sniff that tells XML input
(is_iso20022). The file is tokenised just enough to find where each top-level element starts and
ends; lxml, through the hardened parser of schemas/iso20022_xml.py, checks the rest.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from lxml import etree  # type: ignore[import-untyped]  # lxml ships no type information

from schemas.iso20022_xml import BOM, Element, elements, local, parse_root, parse_xml
from schemas.messages import MAX_MESSAGE_BYTES, MessageError

MAX_FILE_BYTES = 32 * MAX_MESSAGE_BYTES
MAX_MESSAGES = 10_000


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
