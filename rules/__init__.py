"""The screening rules: matching, the registry view, the measures as data, and the engine.

Nothing in this package imports Kafka or Faust; `rules.engine.screen` is the pure heart.
"""

from rules import native

# Before any compiled module is imported: a stale one must not shadow its source (rules/native.py).
native.guard()

from rules.catalog import RuleSet, load_rules
from rules.decision import Decision, Hit, NoticeDue
from rules.engine import screen
from rules.measure_files import RulesError
from rules.payment import Payment
from rules.payment_parsing import PaymentError, parse_payment
from rules.registry import Registry, RegistryError, registry_from_mapping

__all__ = [
    "Decision",
    "Hit",
    "NoticeDue",
    "Payment",
    "PaymentError",
    "Registry",
    "RegistryError",
    "RuleSet",
    "RulesError",
    "load_rules",
    "parse_payment",
    "registry_from_mapping",
    "screen",
]
