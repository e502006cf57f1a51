"""Parties that are financial institutions, and what a party's account says.

SPEC 2.2, indirect use: "a party that is itself a financial institution (the debtor and creditor
of a pacs.009 / MT202, or any party identified as a bank by BIC, registry or name)" is screened
with every institution check, not only against the listed names. 1010.659(a)(2) and
1010.661(a)(1) reach non-bank financial institutions too (1010.605(f)(1)(iv): dealers in foreign
exchange, money transmitters), so an Iranian exchange house as originator is covered.

A party's account number says where the account is held: an IBAN's country code (ISO 13616) is
the country of the institution that services it, so an IBAN of a covered jurisdiction places an
institution of the payment there (1010.659(a)(2), 1010.661(a)(1): a branch or office within it).
"""

from __future__ import annotations

import re

import schwifty
from schwifty.exceptions import SchwiftyException

from rules.bic import try_parse_bic
from rules.catalog import RuleSet
from rules.checks.coverage import institution_evidence
from rules.checks.evidence import Evidence, identified, jurisdiction_measures
from rules.checks.name_evidence import name_evidence
from rules.financial_institutions import InstitutionKind, kind_from_name
from rules.payment import Institution, Party, Payment
from rules.registry import Registry

# The parties of these messages are financial institutions (ISO 20022 pacs.009 Dbtr, Cdtr,
# UltmtDbtr and UltmtCdtr are FinInstnId; MT202 fields 52a and 58a).
INSTITUTION_TRANSFERS: frozenset[str] = frozenset({"pacs.009", "MT202"})
# So are a cover payment's, when the customer transfer it covers is given apart (`underlying`);
# without it, a producer may have put that transfer's customers in the debtor and creditor.
COVER_TRANSFERS: frozenset[str] = frozenset({"pacs.009.cov", "MT202COV"})
INSTITUTION_PARTIES = frozenset({"debtor", "creditor", "ultimate_debtor", "ultimate_creditor"})


def institution_role(payment: Payment, path: str) -> str | None:
    """Why the party at path is a financial institution by its place in the message, or None."""
    if path not in INSTITUTION_PARTIES:
        return None
    kind = payment.message_type
    if kind in INSTITUTION_TRANSFERS or (kind in COVER_TRANSFERS and payment.underlying is not None):
        return f"the {path} of a {kind} is a financial institution"
    return None


_IBAN_SHAPE = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$")


def party_institution(
    registry: Registry, role: str | None, party: Party
) -> tuple[Institution, InstitutionKind | None, str] | None:
    """The party as an institution when it is one: (institution, its kind, why it is read so);
    `role` says why its place in the message makes it one (institution_role)."""
    account_bic = try_parse_bic(party.account)
    bic = party.bic or (account_bic.value if account_bic else None)
    kind = kind_from_name(party.name) if party.name else None
    if role is not None:
        why = role
    elif bic:
        why = f"the party is identified by BIC {bic}"
    elif kind is not None:
        why = f"its name reads as a {'bank' if kind == 'bank' else 'non-bank financial institution'}'s"
    elif party.name and registry.institutions_by_name(party.name):
        why = "the registry holds an institution of that name"
    else:
        return None
    inst = Institution.model_construct(bic=bic, name=party.name, country=party.country, address=list(party.address))
    return inst, kind, why


def party_evidence(rules: RuleSet, registry: Registry, role: str | None, path: str, party: Party) -> list[Evidence]:
    """Every special-measure evidence about one party: as an institution when it is one, else by
    its name; and its account. Memoised: the same counterparties recur in payment after payment."""
    key = (
        "party",
        registry.version,
        role,
        path,
        party.name,
        party.country,
        party.bic,
        party.account,
        tuple(party.address),
    )
    found: tuple[Evidence, ...] = rules.memo(key, lambda: tuple(_party_evidence(rules, registry, role, path, party)))
    return list(found)


def _party_evidence(rules: RuleSet, registry: Registry, role: str | None, path: str, party: Party) -> list[Evidence]:
    as_institution = party_institution(registry, role, party)
    if as_institution is None:
        # A party without a BIC has a name (Party._named).
        out = name_evidence(rules, f"{path}.name", party.name or "")
    else:
        inst, kind, _ = as_institution
        out = institution_evidence(rules, registry, path, inst, kind)
    return out + account_evidence(rules, f"{path}.account", party.account)


def account_evidence(rules: RuleSet, field: str, account: str | None) -> list[Evidence]:
    """An IBAN of a covered jurisdiction: the account is held at an institution located there."""
    if not account:
        return []
    compact = account.replace(" ", "").upper()
    if not _IBAN_SHAPE.match(compact):
        return []
    found: tuple[Evidence, ...] = rules.memo(
        ("iban", field, compact), lambda: tuple(_iban_evidence(rules, field, compact))
    )
    return list(found)


def _iban_evidence(rules: RuleSet, field: str, iban: str) -> list[Evidence]:
    try:
        country = schwifty.IBAN(iban).country_code
    except SchwiftyException:
        return []
    because = f"the account is an IBAN of {country} (ISO 13616), so it is held at an institution located there"
    return [
        identified(m, "located_in", field, iban, country, because)
        for m in jurisdiction_measures(rules, country, "located_in")
    ]
