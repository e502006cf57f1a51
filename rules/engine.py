"""The screening engine: one pure function from a payment to a decision.

`screen(payment, registry, rules, as_of)` reads nothing but its arguments, writes nothing, and
returns the same decision for the same inputs. Date-dependent rules use the payment's
`created_at` in the bank's time zone (SPEC 1.1); `as_of` is the instant of screening, recorded
as `screened_at`. The checks are in rules/checks/, one module per family of SPEC 2.2.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from rules.catalog import RuleSet
from rules.checks.account_rules import account_rule_hits
from rules.checks.blocked_persons import blocked_person_hits
from rules.checks.facts import Facts
from rules.checks.special_measures import special_measure_hits
from rules.decision import Decision, Hit, action_strength, strongest
from rules.payment import Payment, source_field
from rules.registry import Registry


def _dedupe(hits: list[Hit]) -> list[Hit]:
    """One hit per (rule, citation, field): the strongest action, then the highest score."""
    best: dict[tuple[str, str, str], Hit] = {}
    for hit in hits:
        key = (hit.rule, hit.citation, hit.field)
        old = best.get(key)
        if old is None or (action_strength(hit.action), hit.score) > (action_strength(old.action), old.score):
            best[key] = hit
    return sorted(best.values(), key=lambda h: (-action_strength(h.action), h.citation, h.field, h.rule))


# An unexpected failure's message is cut here: a dead-letter's error text stays bounded.
MAX_ERROR_TEXT = 300


def screening_error(exc: BaseException) -> str:
    """The dead-letter error for a payment whose screening raised (SPEC 2.6): bounded text."""
    message = str(exc)
    if len(message) > MAX_ERROR_TEXT:
        message = message[:MAX_ERROR_TEXT] + f"... ({len(message)} characters)"
    return f"screening failed: {type(exc).__name__}: {message}"


def screen(payment: Payment, registry: Registry, rules: RuleSet, as_of: datetime) -> Decision:
    """Screen one payment against the registry and the rules (SPEC 2)."""
    account_id = payment.correspondent_account_id
    facts = Facts(
        payment=payment,
        account=registry.account(account_id) if account_id else None,
        day=payment.created_at.astimezone(rules.tz).date(),
        registry=registry,
        rules=rules,
    )
    measure_hits, notices = special_measure_hits(facts)
    hits = _dedupe([*measure_hits, *account_rule_hits(facts), *blocked_person_hits(facts)])
    if payment.source_fields:
        # A payment adapted from an ISO 20022 or MT message: each hit names the element or tag
        # an investigator finds in the original message.
        hits = _dedupe([replace(h, field=source_field(payment.source_fields, h.field)) for h in hits])
    return Decision(
        payment_id=payment.payment_id,
        decision=strongest([h.action for h in hits]),
        hits=tuple(hits),
        citations=tuple(sorted({h.citation for h in hits})),
        rules_version=rules.version,
        registry_version=registry.version,
        screened_at=as_of,
        notices=tuple(notices),
    )
