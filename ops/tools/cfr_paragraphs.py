"""Write rules/regulation/cfr_31_1010.json: 31 CFR 1010.600-1010.670 split into sections and paragraphs.

The analyst's view of a hit shows the regulation text of the paragraph the hit cites
(rules/regulation_text.py). The screener must not read the project's seed files at run or test time,
so this tool turns the seed (the eCFR's text of 31 CFR part 1010 subpart F, as copied from the eCFR
web page) into a data file committed with the rules:

    python -m ops.tools.cfr_paragraphs /work/shared/seeds/003_2127b94086e82a4e.txt \\
        rules/regulation/cfr_31_1010.json

The seed is plain text, one paragraph a line; the eCFR's italics are lost, so a paragraph's level is
decided from its label and the labels around it. The CFR's levels (1 CFR 21.11) are: (a) lowercase
letter, (1) arabic number, (i) lowercase roman, (A) uppercase letter, (1) italic number, (i) italic
roman. A label such as (i), (v) or (x) may be a letter or a roman
numeral, and (1) or (ii) may sit at either of two levels: the reading that continues the deepest
open level is taken, unless the label after it could then not be placed (a letter (i) after (h)
is followed by (j), a roman (i) by (ii) or by its parent's next sibling).

A line may carry several labels: "(iii)(A) Obtaining ..." (a paragraph without text of its own
before its first child) and "(b) Heading—(1) Heading. (i) Text" (paragraph headings run in, the
first child following on the same line).

(About 320 lines: one parser of one text; the rules that decide a label's level depend on one
another and are read together.)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The eCFR page's own text above the regulation: its "collapse" control, not regulation text.
_ECFR_HEADER = re.compile(r"^Collapse to view only\b")
_SECTION = re.compile(r"^§\s*(?P<number>\d+\.\d+)\s*-\s*(?P<heading>.*)$")
# A section's amendment history, e.g. "[81 FR 18493, Mar. 31, 2016]": the Federal Register source,
# kept apart from the paragraphs.
_HISTORY = re.compile(r"^\[\d+ FR \d+.*\]$")
_NOTE = re.compile(r"^Note \d+ to paragraph (?P<paragraph>(?:\([0-9A-Za-z]+\))+):")
_LEADING_LABELS = re.compile(r"^(?P<labels>(?:\([0-9A-Za-z]{1,5}\))+)\s*")
_LABEL = re.compile(r"\(([0-9A-Za-z]{1,5})\)")
# A run-in heading ends with a period or an em dash, and its first child follows on the same line.
# The heading is one short phrase: a sentence break before the label means the label is a reference
# in running text, not a paragraph.
_RUN_IN_CHILD = re.compile(r"^(?P<heading>[^—]{1,200}?(?:\.\s+|—\s*))(?P<label>\([0-9A-Za-z]{1,5}\))\s+")

_ROMAN = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100}
# The numbering of each level, outermost first; the italic levels 5 and 6 read as 2 and 3 in plain text.
_LEVEL_KINDS = ("lower", "arabic", "roman", "upper", "arabic", "roman")
_SECOND_LABELS = {"lower": "b", "arabic": "2", "roman": "ii", "upper": "B"}
_FIRST_LABELS = frozenset({"a", "1", "i", "A"})


class SeedError(ValueError):
    """The seed's structure is not what the CFR's paragraph convention allows."""


def _letter_ordinal(label: str, alphabet: str) -> int | None:
    # After (z) the CFR doubles letters: (aa), (bb), ...
    if not label or any(ch not in alphabet for ch in label) or len(set(label)) != 1:
        return None
    return alphabet.index(label[0]) + 1 + 26 * (len(label) - 1)


def _roman_ordinal(label: str) -> int | None:
    if not label or any(ch not in _ROMAN for ch in label):
        return None
    total = 0
    for here, after in zip(label, [*label[1:], ""], strict=True):
        value = _ROMAN[here]
        total += -value if after and _ROMAN[after] > value else value
    # Only the canonical spelling counts, so "iiii" or "vx" is no roman numeral.
    return total if _to_roman(total) == label else None


def _to_roman(number: int) -> str:
    out = []
    for value, letters in ((100, "c"), (90, "xc"), (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv")):
        while number >= value:
            out.append(letters)
            number -= value
    return "".join(out) + "i" * number


def ordinal(label: str, level: int) -> int | None:
    """The position of `label` in the numbering of `level` (1-6), or None if that level does not
    number that way."""
    kind = _LEVEL_KINDS[level - 1]
    if kind == "lower":
        return _letter_ordinal(label, "abcdefghijklmnopqrstuvwxyz")
    if kind == "arabic":
        return int(label) if label.isdigit() and not label.startswith("0") else None
    if kind == "roman":
        return _roman_ordinal(label)
    return _letter_ordinal(label, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _placements(stack: list[str], label: str) -> list[int]:
    """The depths (0-based) at which `label` may follow the open paragraphs `stack`, deepest first:
    the next sibling of an open paragraph, or the first child of the innermost one."""
    depths = []
    for depth in range(min(len(stack), len(_LEVEL_KINDS) - 1), -1, -1):
        here = ordinal(label, depth + 1)
        if here is None:
            continue
        if depth == len(stack):
            if here == 1:
                depths.append(depth)
        elif ordinal(stack[depth], depth + 1) == here - 1:
            depths.append(depth)
    return depths


@dataclass
class _Item:
    """A labelled paragraph as the seed gives it, before its level is known."""

    label: str
    text: str


@dataclass
class Section:
    number: str
    heading: str
    intro: list[str] = field(default_factory=list)
    items: list[_Item] = field(default_factory=list)
    blocks: list[str] = field(default_factory=list)
    history: str = ""
    paragraphs: dict[str, list[str]] = field(default_factory=dict)
    # The full designation of each item, in the order of `items`.
    keys: list[str] = field(default_factory=list)
    # Unlabelled text after paragraphs: (the paragraph a note names, or None), the index of the item
    # before it, the text.
    notes: list[tuple[str | None, int, str]] = field(default_factory=list)
    # Unlabelled text after a paragraph (a note) belongs to the paragraph the note names, or else to
    # the paragraph before it.
    note_target: str | None = None


def split_labels(block: str) -> list[_Item]:
    """A paragraph line as labelled items: "(a) Heading—(1) Text" is (a) "Heading—" and (1) "Text"."""
    items: list[_Item] = []
    rest = block
    while found := _LEADING_LABELS.match(rest):
        labels = _LABEL.findall(found.group("labels"))
        rest = rest[found.end() :]
        items.extend(_Item(label, "") for label in labels)
        run_in = _RUN_IN_CHILD.match(rest)
        if run_in is None or ". " in run_in.group("heading").rstrip():
            break
        child = run_in.group("label")[1:-1]
        if child not in _FIRST_LABELS:
            break
        items[-1].text = run_in.group("heading").strip()
        rest = rest[run_in.end("heading") :]
    if items:
        items[-1].text = rest.strip()
    return items


def assign_levels(section: Section, warnings: list[str]) -> None:
    """Place each item of the section in the paragraph tree and key it by its full designation."""
    stack: list[str] = []
    labels = [item.label for item in section.items]
    for index, item in enumerate(section.items):
        depths = _placements(stack, item.label)
        if not depths:
            raise SeedError(f"§ {section.number}: ({item.label}) cannot follow {_key(stack) or 'the heading'}")
        chosen = depths[0]
        if len(depths) > 1:
            after = labels[index + 1] if index + 1 < len(labels) else None
            fitting = [d for d in depths if after is None or _placements([*stack[:d], item.label], after)]
            chosen = fitting[0] if fitting else depths[0]
            if after is None and item.label in _FIRST_LABELS:
                # A first child alone breaks the drafting convention, so the last label of a
                # section continues the level it can.
                chosen = depths[-1]
            warnings.append(
                f"§ {section.number}: ({item.label}) after {_key(stack)} read at level {chosen + 1}"
                f" of {[d + 1 for d in depths]} (next label: {after})"
            )
        stack = [*stack[:chosen], item.label]
        key = _key(stack)
        if key in section.paragraphs:
            raise SeedError(f"§ {section.number}: paragraph {key} twice")
        section.paragraphs[key] = [item.text] if item.text else []
        section.keys.append(key)


def _key(stack: list[str]) -> str:
    return "".join(f"({label})" for label in stack)


def parse_seed(text: str, warnings: list[str]) -> tuple[str, dict[str, Section]]:
    """The eCFR page header line (if any) and the sections of the seed, by section number."""
    blocks = [line.strip() for line in text.splitlines() if line.strip()]
    header = blocks.pop(0) if blocks and _ECFR_HEADER.match(blocks[0]) else ""
    sections: dict[str, Section] = {}
    current: Section | None = None
    for index, block in enumerate(blocks):
        following = blocks[index + 1] if index + 1 < len(blocks) else ""
        if heading := _SECTION.match(block):
            current = Section(heading.group("number"), heading.group("heading").strip())
            if current.number in sections:
                raise SeedError(f"§ {current.number} twice")
            sections[current.number] = current
        elif _SECTION.match(following) and not block.startswith("(") and block[-1] not in ".:;,]":
            # An undesignated center heading (the eCFR's subject group) above the next sections: the
            # seed places § 1010.600 under the first group, so the groups are not kept at all.
            continue
        elif current is None:
            raise SeedError(f"text before the first section: {block[:80]!r}")
        else:
            _add_block(current, block)
    for section in sections.values():
        assign_levels(section, warnings)
        for target, item_index, block in section.notes:
            key = target or section.keys[item_index]
            if key not in section.paragraphs:
                raise SeedError(f"§ {section.number}: a note to paragraph {key}, which is not there")
            section.paragraphs[key].append(block)
        warnings.extend(_lone_children(section))
    return header, sections


def _add_block(section: Section, block: str) -> None:
    if _HISTORY.match(block):
        section.history = block
        return
    section.blocks.append(block)
    if items := split_labels(block):
        section.items.extend(items)
        section.note_target = None
        return
    if note := _NOTE.match(block):
        section.note_target = note.group("paragraph")
    if not section.items:
        section.intro.append(block)
    else:
        section.notes.append((section.note_target, len(section.items) - 1, block))


def _lone_children(section: Section) -> list[str]:
    """Paragraphs with a (1), (i), (A) or (a) and no second child: the drafting convention has none,
    so each one is worth a look."""
    out = []
    for key in section.paragraphs:
        if not key.endswith(tuple(f"({label})" for label in _FIRST_LABELS)):
            continue
        parent = key[: key.rindex("(")]
        second = f"{parent}({_second(key.count('('))})"
        if second not in section.paragraphs:
            out.append(f"§ {section.number}: {key} has no sibling {second}")
    return out


def _second(level: int) -> str:
    return _SECOND_LABELS[_LEVEL_KINDS[level - 1]]


def _section_number_key(number: str) -> tuple[int, ...]:
    return tuple(int(part) for part in number.split("."))


def build(seed: Path, warnings: list[str]) -> dict[str, Any]:
    """The data file's content (see the module docstring)."""
    raw = seed.read_bytes()
    header, sections = parse_seed(raw.decode("utf-8"), warnings)
    numbers = sorted(sections, key=_section_number_key)
    return {
        "source": (
            "eCFR (Electronic Code of Federal Regulations), Title 31, Subtitle B, Chapter X, Part 1010, "
            f"Subpart F, §§ {numbers[0]}-{numbers[-1]}: the text of the eCFR web page as copied to the "
            f"project seed {seed.name}; the copy carries no retrieval or 'up to date as of' date. "
            "US government work, public domain."
        ),
        "source_header": header,
        "source_date": None,
        "seed_file": seed.name,
        "seed_sha256": hashlib.sha256(raw).hexdigest(),
        "generator": "python -m ops.tools.cfr_paragraphs",
        "sections": {number: _section_data(sections[number]) for number in numbers},
    }


def _section_data(section: Section) -> dict[str, Any]:
    return {
        "heading": section.heading,
        "intro": "\n\n".join(section.intro),
        "paragraphs": {key: "\n\n".join(parts) for key, parts in section.paragraphs.items()},
        "text": "\n\n".join(section.blocks),
        "history": section.history,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("seed", type=Path, help="the seed text of 31 CFR 1010.605-1010.670")
    parser.add_argument("out", type=Path, help="the JSON file to write (rules/regulation/cfr_31_1010.json)")
    args = parser.parse_args(argv)
    warnings: list[str] = []
    try:
        data = build(args.seed, warnings)
    except SeedError as error:
        print(f"{args.seed}: {error}", file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    for warning in warnings:
        print(f"note: {warning}", file=sys.stderr)
    count = sum(len(section["paragraphs"]) for section in data["sections"].values())
    print(f"{len(data['sections'])} sections, {count} paragraphs -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
