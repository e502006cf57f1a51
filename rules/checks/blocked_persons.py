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
from rules.sanctions import BlockedPerson
from rules.similarity import POSSIBLE_MATCH, STRONG_MATCH

RULE = "blocked_person"
POSSIBLE = "possible_match"


def _describe(person: BlockedPerson) -> str:
    kind = "entity owned 50 percent or more by blocked persons" if person.owned_by else f"blocked {person.type}"
    return f"{person.name} ({kind}, {person.authority})"


@dataclass(frozen=True, slots=True)
class PersonMatch:
    """A listed person a name matches, and whether the match is strong enough to act on."""

    person: BlockedPerson
    listed: str
    score: float
    strong: bool
    contradicted: bool


def person_matches(rules: RuleSet, name: str, country: str | None) -> list[PersonMatch]:
    """Memoised _person_matches (a pure function of name, country and the rule set)."""
    matches: list[PersonMatch] = rules.memo(("person", name, country), lambda: _person_matches(rules, name, country))
    return matches


def _person_matches(rules: RuleSet, name: str, country: str | None) -> list[PersonMatch]:
    """Listed persons the name matches (best variant each), after look-alike suppression.

    Strong means a score of STRONG_MATCH or more with no country in the payment that the listed
    person is not known in.
    """
    best: dict[str, tuple[float, BlockedPerson, str]] = {}
    for hit in rules.sanctions.index.search(name, POSSIBLE_MATCH):
        person = hit.name.payload
        if person.id not in best or hit.score > best[person.id][0]:
            best[person.id] = (hit.score, person, hit.name.form.original)
    out: list[PersonMatch] = []
    for score, person, listed in best.values():
        if suppressed_by_look_alike(rules, name, score) is not None:
            continue
        contradicted = bool(country and person.countries and country not in person.countries)
        out.append(PersonMatch(person, listed, score, score >= STRONG_MATCH and not contradicted, contradicted))
    return out


def _screen_name(facts: Facts, field: str, name: str, country: str | None) -> list[Hit]:
    hits: list[Hit] = []
    who = f"{field.split('.', maxsplit=1)[0]} {name!r}"
    for match in person_matches(facts.rules, name, country):
        person, score, listed = match.person, match.score, match.listed
        if match.strong and not facts.authorised:
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
        if match.strong:
            why = (
                f"the payment carries authorization {facts.authorization_text()!r}, which an analyst "
                "must confirm is an OFAC licence covering it"
            )
        elif match.contradicted and score >= STRONG_MATCH:
            why = f"but the party's country {country} is not among the listed person's ({', '.join(person.countries)})"
        else:
            why = "too weak to act on alone"
        rule = RULE if score >= STRONG_MATCH else POSSIBLE
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


def blocked_person_hits(facts: Facts) -> list[Hit]:
    """Every blocked-person hit for the payment."""
    payment = facts.payment
    hits: list[Hit] = []
    for path, party in payment.parties():
        hits.extend(_screen_name(facts, f"{path}.name", party.name, party.country))
    for path, inst in payment.institutions():
        if inst.name:
            hits.extend(_screen_name(facts, f"{path}.name", inst.name, inst.country))
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
