"""A sanctions list entry as the workbench shows it under a hit: found by the hit's citation
(`OFAC SDN List, entry 12345; E.O. 13382`), or, for an entity blocked under OFAC's 50 Percent Rule
(which names no entry), by its name; bounded, since hits come from topics and an SDN entry may have
dozens of aliases.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from rules.names import normalize_name
from rules.sanctions import BlockedPerson, SanctionsList

# A listed entry as shown under a hit: hits come from topics, so the key is bounded before it is
# read, and so is what is shown of an entry (an SDN entry may have dozens of aliases).
MAX_LISTED_KEY_CHARS = 500
MAX_LISTED_ITEMS = 25
MAX_LISTED_CHARS = 2_000
# A blocked-person hit's citation (rules/sanctions.py BlockedPerson.citation):
# "OFAC <list name>, entry <id>; <authority>". The id ends at the first ";", comma or space.
_ENTRY_CITATION = re.compile(r"\s*OFAC\s+(?P<list>[^,;]{1,80}?)\s*,\s*entry\s+(?P<id>[^\s,;]{1,120})\s*(?:[;,]|$)")


class ListedEntries:
    """The entries of a sanctions list by id, and the entities the OFAC 50 Percent Rule blocks by
    name, for ListedEntryLookup (ops/workbench/context.py). Built once, on first use."""

    def __init__(self, sanctions: SanctionsList) -> None:
        self.sanctions = sanctions

    @functools.cached_property
    def _by_id(self) -> dict[str, BlockedPerson]:
        out: dict[str, BlockedPerson] = {}
        for person in self.sanctions.persons:
            out.setdefault(person.id, person)
        return out

    @functools.cached_property
    def _owned_by_name(self) -> dict[str, BlockedPerson | None]:
        out: dict[str, BlockedPerson | None] = {}
        for person in self.sanctions.persons:
            if person.owned_by:
                key = normalize_name(person.name)
                out[key] = None if key in out else person  # two of one name: ambiguous, none shown
        return out

    def lookup(self, key: str) -> Mapping[str, Any] | None:
        """The entry a hit's citation names (`OFAC SDN List, entry 12345; E.O. 13382`), or the entity
        blocked under the 50 Percent Rule of that name, as display fields; None for anything else
        (CFR citations, unknown ids, a list name that is not the entry's). Never raises."""
        if not isinstance(key, str) or not key.strip() or len(key) > MAX_LISTED_KEY_CHARS:
            return None
        person: BlockedPerson | None
        cited = _ENTRY_CITATION.match(key)
        if cited is not None:
            person = self._by_id.get(cited.group("id"))
            if person is None or person.list_name.casefold() != cited.group("list").casefold():
                return None
        else:
            try:
                name = normalize_name(key)
            except Exception:  # noqa: BLE001 - any string is a key here: one that cannot be read names nothing
                return None
            person = self._owned_by_name.get(name) if name else None
        return None if person is None else self._view(person)

    def _view(self, person: BlockedPerson) -> dict[str, Any]:
        """id, list, name, type, aliases, countries, programs, authority, remarks, bics, source, and
        for an entity blocked under the 50 Percent Rule its `owners` (id, name, list); each list at
        most MAX_LISTED_ITEMS long, with how many more there are in `more` (e.g. {"aliases": 12})."""
        more: dict[str, int] = {}

        def items(name: str, values: tuple[str, ...]) -> list[str]:
            if len(values) > MAX_LISTED_ITEMS:
                more[name] = len(values) - MAX_LISTED_ITEMS
            return [_bounded(v) for v in values[:MAX_LISTED_ITEMS]]

        out: dict[str, Any] = {
            "id": _bounded(person.id),
            "list": _bounded(person.list_name),
            "name": _bounded(person.name),
            "type": _bounded(person.type),
            "aliases": items("aliases", person.aliases),
            "countries": items("countries", person.countries),
            "programs": items("programs", person.programs),
            "authority": _bounded(person.authority),
            "remarks": _bounded(person.remarks),
            "bics": items("bics", person.bics),
            "source": _bounded(self.sanctions.source),
        }
        if person.owned_by:
            out["owners"] = [
                {
                    "id": _bounded(owner_id),
                    "name": _bounded(owner.name) if (owner := self._by_id.get(owner_id)) else "",
                    "list": _bounded(owner.list_name) if owner else "",
                }
                for owner_id in items("owners", person.owned_by)
            ]
        out["more"] = more
        return out


def _bounded(value: str) -> str:
    return value if len(value) <= MAX_LISTED_CHARS else value[:MAX_LISTED_CHARS] + " …(cut)"
