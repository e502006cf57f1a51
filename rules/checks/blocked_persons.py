"""Blocked persons (OFAC, seed 002): parties, institutions and free text against the list in force.

A strong name match blocks, unless the payment places the party in a country where the listed
person is not known to be (then it is a possible match) or carries an authorization (an OFAC
licence must be checked by a person: review). A weaker match, or a name found only in the
remittance text, is a possible match for review.
"""

from __future__ import annotations

from rules.checks.coverage import _suppressed_by_look_alike
from rules.checks.facts import Facts
from rules.decision import Hit
from rules.sanctions import BlockedPerson
from rules.similarity import POSSIBLE_MATCH, STRONG_MATCH

RULE = "blocked_person"
POSSIBLE = "possible_match"


def _describe(person: BlockedPerson) -> str:
    kind = "entity owned 50 percent or more by blocked persons" if person.owned_by else f"blocked {person.type}"
    return f"{person.name} ({kind}, {person.authority})"


def _screen_name(facts: Facts, field: str, name: str, country: str | None) -> list[Hit]:
    best: dict[str, tuple[float, BlockedPerson, str]] = {}
    for hit in facts.rules.sanctions.index.search(name, POSSIBLE_MATCH):
        person = hit.name.payload
        if person.id not in best or hit.score > best[person.id][0]:
            best[person.id] = (hit.score, person, hit.name.form.original)
    hits: list[Hit] = []
    for score, person, listed in best.values():
        if _suppressed_by_look_alike(facts.rules, name, score) is not None:
            continue
        contradicted = bool(country and person.countries and country not in person.countries)
        who = f"{field.split('.')[0]} {name!r}"
        if score >= STRONG_MATCH and not contradicted and not facts.authorised:
            hits.append(Hit(RULE, person.citation, "block", field, name, person.name, score,
                            f"{who} matches {_describe(person)} as {listed!r} (score {score:g}); "
                            "dealings in blocked property are prohibited."))
            continue
        if score >= STRONG_MATCH and facts.authorised:
            why = (f"the payment carries authorization {facts.authorization_text()!r}, which an analyst "
                   "must confirm is an OFAC licence covering it")
        elif score >= STRONG_MATCH:
            why = f"but the party's country {country} is not among the listed person's ({', '.join(person.countries)})"
        else:
            why = "too weak to act on alone"
        rule = RULE if score >= STRONG_MATCH else POSSIBLE
        hits.append(Hit(rule, person.citation, "review", field, name, person.name, score,
                        f"{who} matches {_describe(person)} as {listed!r} (score {score:g}), {why}."))
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
            hits.append(Hit(POSSIBLE, person.citation, "review", f"remittance_information[{i}]", line,
                            person.name, POSSIBLE_MATCH,
                            f"The remittance text names {_describe(person)}; a name in free text is "
                            "reviewed, not blocked."))
    return hits
