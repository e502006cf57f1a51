"""Where an address or a name places an institution: country and place names found in text.

1010.659(a)(2) and 1010.661(a)(1) cover "any branch or office within North Korea [Iran] of any
foreign financial institution", so an institution's address is evidence under the paragraph that
covers the place it names. Three tiers of names, weakest last:

- country:     a country's own names (ISO 3166-1 through pycountry, and rules/lists/place_names.yaml);
- place:       a city or region named in rules/lists/place_names.yaml or in a measure file's
               `jurisdiction_names`;
- subdivision: an ISO 3166-2 subdivision (pycountry) of a jurisdiction under special measures,
               when no other country has one of that name.

A country-level name always counts. A place or subdivision counts only when nothing names another
country: "Tehran Street, Seoul, South Korea" is in Korea.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pycountry
import yaml

from rules.data_files import LISTS_DIR
from rules.names import text_tokens

PLACE_NAMES = LISTS_DIR / "place_names.yaml"
Tier = Literal["country", "place", "subdivision"]
# Subdivision names shorter than this are too often ordinary words or names ("Mon", "Chin").
_MIN_SUBDIVISION = 5


@dataclass(frozen=True, slots=True)
class PlaceMatch:
    """A name in a text that locates it in a country."""

    country: str
    tier: Tier
    name: str


class PlaceIndex:
    """Token sequences of place names, found leftmost-longest in text."""

    def __init__(self, entries: Iterable[tuple[str, str, Tier]]) -> None:
        self._by_first: dict[str, list[tuple[tuple[str, ...], str, Tier, str]]] = {}
        seen: set[tuple[tuple[str, ...], str]] = set()
        for name, country, tier in entries:
            tokens = text_tokens(name)
            if not tokens or (tokens, country) in seen:
                continue
            seen.add((tokens, country))
            self._by_first.setdefault(tokens[0], []).append((tokens, country, tier, name))
        for options in self._by_first.values():
            options.sort(key=lambda o: -len(o[0]))

    def find(self, text: str) -> list[PlaceMatch]:
        """Place names in text, longest first at each position, never overlapping."""
        tokens = text_tokens(text)
        out: list[PlaceMatch] = []
        i = 0
        while i < len(tokens):
            for seq, country, tier, name in self._by_first.get(tokens[i], ()):
                if tokens[i : i + len(seq)] == seq:
                    out.append(PlaceMatch(country, tier, name))
                    i += len(seq)
                    break
            else:
                i += 1
        return out

    def names_of(self, countries: set[str]) -> set[tuple[str, ...]]:
        """Token forms of every country- or place-level name of these countries."""
        return {
            seq
            for options in self._by_first.values()
            for seq, country, tier, _ in options
            if country in countries and tier != "subdivision"
        }

    def exact(self, tokens: tuple[str, ...]) -> PlaceMatch | None:
        """The place named by exactly these tokens, if any."""
        for seq, country, tier, name in self._by_first.get(tokens[0], ()) if tokens else ():
            if seq == tokens:
                return PlaceMatch(country, tier, name)
        return None

    def locate(self, texts: Iterable[str], country: str | None = None) -> list[PlaceMatch]:
        """Where texts (address lines, a name) place an institution, given its country field:
        each place once, in the order first named.

        The country is the field's, else the last country-level name (an address ends with its
        country: "Jalan Burma, George Town, Penang, Malaysia" is in Malaysia). Names of places in
        another country are dropped.
        """
        found = list(dict.fromkeys(m for text in texts for m in self.find(text)))
        countries = [m.country for m in found if m.tier == "country"]
        home = country or (countries[-1] if countries else None)
        return [m for m in found if home is None or m.country == home]


def _country_names() -> Iterable[tuple[str, str]]:
    for c in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            value = getattr(c, attr, None)
            if value:
                yield str(value), str(c.alpha_2)


def _subdivisions(countries: set[str]) -> Iterable[tuple[str, str]]:
    """ISO 3166-2 names of the given countries' subdivisions that no other country shares."""
    owners: dict[tuple[str, ...], set[str]] = {}
    names: dict[tuple[str, ...], str] = {}
    for sub in pycountry.subdivisions:
        key = text_tokens(str(sub.name))
        owners.setdefault(key, set()).add(str(sub.country_code))
        names.setdefault(key, str(sub.name))
    for key, where in owners.items():
        if len(where) == 1 and (code := next(iter(where))) in countries and len("".join(key)) >= _MIN_SUBDIVISION:
            yield names[key], code


def build_place_index(covered: Mapping[str, Iterable[str]], extra: Path = PLACE_NAMES) -> PlaceIndex:
    """The place index for the jurisdictions under special measures.

    covered maps each covered country to the measure files' jurisdiction names for it; those
    that are not a country's name are places.
    """
    countries = dict(_country_names())
    data = yaml.safe_load(extra.read_text(encoding="utf-8"))
    entries: list[tuple[str, str, Tier]] = [(name, code, "country") for name, code in countries.items()]
    for entry in data["entries"]:
        code = entry["code"]
        entries.extend((name, code, "country") for name in entry.get("names", []))
        entries.extend((name, code, "place") for name in entry.get("places", []))
    country_forms = {text_tokens(name) for name, _, tier in entries if tier == "country"}
    for code, names in covered.items():
        for name in names:
            tier: Tier = "country" if text_tokens(name) in country_forms else "place"
            entries.append((name, code, tier))
    entries.extend((name, code, "subdivision") for name, code in _subdivisions(set(covered)))
    return PlaceIndex(entries)
