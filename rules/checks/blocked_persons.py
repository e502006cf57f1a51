"""Blocked persons (OFAC, seed 002): parties, institutions and free text against the list in force.

A strong name match blocks, unless the payment places the party in a country where the listed
person is not known to be (then it is a possible match) or carries an authorization (an OFAC
licence must be checked by a person: review). A weaker match, or a name found only in the
remittance text, is a possible match for review.
"""

from __future__ import annotations

from dataclasses import dataclass

from rules.catalog import RuleSet
from rules.checks.facts import Facts
from rules.checks.name_evidence import suppressed_by_look_alike
from rules.decision import Hit
from rules.name_index import search_key
from rules.sanctions import BlockedPerson
from rules.similarity import POSSIBLE_MATCH, Comparison

RULE = "blocked_person"
POSSIBLE = "possible_match"


def _describe(person: BlockedPerson) -> str:
    if person.owned_by:
        kind = "entity owned 50 percent or more by blocked persons"
    elif person.blocks:
        kind = f"blocked {person.type}"
    else:
        kind = f"{person.type} on the {person.list_name}"
    return f"{person.name} ({kind}, {person.list_name} entry {person.id}, {person.authority})"


NON_SDN = (
    "the entry is on OFAC's Consolidated (non-SDN) list, whose programs restrict particular "
    "dealings rather than block property: an analyst decides whether this payment is one of them"
)


@dataclass(frozen=True, slots=True)
class PersonMatch:
    """A listed person a name matches, and whether the match is strong enough to act on."""

    person: BlockedPerson
    listed: str
    score: float
    strong: bool
    contradicted: bool
    comparison: Comparison


def person_matches(rules: RuleSet, name: str, country: str | None) -> list[PersonMatch]:
    """Memoised _person_matches (a pure function of name, country and the rule set)."""
    key = ("person", name, country)
    matches: list[PersonMatch] = rules.memo(key, lambda: _person_matches(rules, name, country))
    return matches


# A listed person a name matches: (score, person, listed variant, comparison).
_NameMatch = tuple[float, BlockedPerson, str, Comparison]


def _name_matches(rules: RuleSet, name: str) -> tuple[_NameMatch, ...]:
    """Listed persons the name matches (best variant each), after look-alike suppression.

    Memoised apart from the country, which does not enter the search: the same counterparty
    written with another country (or none) costs no second search. Keyed by search_key(name):
    both searches here (the list, and the look-alikes in suppressed_by_look_alike) are
    NameIndex.search, and a match carries the listed name, never the query's spelling.
    """
    # The raw name first (a hit costs no key to build), then its search_key on a miss.
    found: tuple[_NameMatch, ...] = rules.memo(
        ("person name", name),
        lambda: rules.memo(("person name form", search_key(name)), lambda: tuple(_search_name(rules, name))),
    )
    return found


def _search_name(rules: RuleSet, name: str) -> list[_NameMatch]:
    best: dict[str, tuple[tuple[bool, float], BlockedPerson, str, Comparison]] = {}
    for hit in rules.sanctions.index.search(name, POSSIBLE_MATCH):
        comparison = hit.comparison
        if not (comparison.strong or comparison.possible):
            continue
        person = hit.name.payload
        rank = (comparison.strong, hit.score)
        if person.id not in best or rank > best[person.id][0]:
            best[person.id] = (rank, person, hit.name.form.original, comparison)
    return [
        (score, person, listed, comparison)
        for (_, score), person, listed, comparison in best.values()
        if suppressed_by_look_alike(rules, name, score) is None
    ]


def _person_matches(rules: RuleSet, name: str, country: str | None) -> list[PersonMatch]:
    """Listed persons the name matches (best variant each), after look-alike suppression.

    Strong means the name policy's strong match (rules/similarity.py: the listed name is there)
    with no country in the payment that the listed person is not known in; the others are
    possible matches.
    """
    out: list[PersonMatch] = []
    for score, person, listed, comparison in _name_matches(rules, name):
        contradicted = bool(country and person.countries and country not in person.countries)
        out.append(PersonMatch(person, listed, score, comparison.strong and not contradicted, contradicted, comparison))
    return out


def _screen_name(facts: Facts, field: str, name: str, country: str | None) -> list[Hit]:
    hits: list[Hit] = []
    who = f"{field.split('.', maxsplit=1)[0]} {name!r}"
    for match in person_matches(facts.rules, name, country):
        person, score, listed = match.person, match.score, match.listed
        if match.strong and person.blocks and not facts.authorised:
            hits.append(
                Hit(
                    RULE,
                    person.citation,
                    "block",
                    field,
                    name,
                    person.name,
                    score,
                    f"{who} matches {_describe(person)} as {listed!r} (score {score:g}); "
                    "dealings in blocked property are prohibited.",
                )
            )
            continue
        if match.strong and not person.blocks:
            why = NON_SDN
        elif match.strong:
            why = (
                f"the payment carries authorization {facts.authorization_text()!r}, which an analyst "
                "must confirm is an OFAC licence covering it"
            )
        elif match.contradicted and match.comparison.strong:
            why = f"but the party's country {country} is not among the listed person's ({', '.join(person.countries)})"
        else:
            why = f"a possible match ({match.comparison.rule}), not the listed name itself: too weak to act on alone"
        rule = RULE if match.comparison.strong else POSSIBLE
        hits.append(
            Hit(
                rule,
                person.citation,
                "review",
                field,
                name,
                person.name,
                score,
                f"{who} matches {_describe(person)} as {listed!r} (score {score:g}), {why}.",
            )
        )
    return hits


def _screen_bic(facts: Facts, field: str, bic: str) -> list[Hit]:
    """A BIC the list gives for a listed institution (OFAC remarks "SWIFT/BIC ..."): the same
    institution, any branch, whatever name the payment gives it."""
    hits: list[Hit] = []
    for person in facts.rules.sanctions.with_bic(bic):
        listed = next((b for b in person.bics if b[:8] == bic[:8]), bic)
        acts = person.blocks and not facts.authorised
        if acts:
            why = "dealings in blocked property are prohibited"
        elif person.blocks:
            why = f"but the payment carries authorization {facts.authorization_text()!r}, which an analyst must confirm"
        else:
            why = NON_SDN
        hits.append(
            Hit(
                RULE,
                person.citation,
                "block" if acts else "review",
                field,
                bic,
                person.name,
                100.0,
                f"BIC {bic} identifies {_describe(person)}, listed with SWIFT/BIC {listed}; {why}.",
            )
        )
    return hits


def blocked_person_hits(facts: Facts) -> list[Hit]:
    """Every blocked-person hit for the payment."""
    payment = facts.payment
    hits: list[Hit] = []
    for path, party in payment.parties():
        if party.name:
            hits.extend(_screen_name(facts, f"{path}.name", party.name, party.country))
        if party.bic:
            hits.extend(_screen_bic(facts, f"{path}.bic", party.bic))
    for path, inst in payment.institutions():
        if inst.name:
            hits.extend(_screen_name(facts, f"{path}.name", inst.name, inst.country))
        if inst.bic:
            hits.extend(_screen_bic(facts, f"{path}.bic", inst.bic))
    for i, line in enumerate(payment.remittance_information):
        for named in facts.rules.sanctions.index.find_in_text(line):
            person = named.payload
            hits.append(
                Hit(
                    POSSIBLE,
                    person.citation,
                    "review",
                    f"remittance_information[{i}]",
                    line,
                    person.name,
                    POSSIBLE_MATCH,
                    f"The remittance text names {_describe(person)}; a name in free text is reviewed, not blocked.",
                )
            )
    return hits
