"""The facts every check reads: the payment, its account, its date, the registry and the rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from rules.catalog import RuleSet
from rules.payment import Payment
from rules.registry import Account, Registry

CLOSURE_PURPOSE = "ACCOUNT_CLOSURE"


@dataclass(frozen=True, slots=True)
class Facts:
    payment: Payment
    account: Account | None
    day: date
    registry: Registry
    rules: RuleSet

    @property
    def authorised(self) -> bool:
        return self.payment.authorization is not None

    @property
    def closing_account(self) -> bool:
        """A transaction necessary to close the account (1010.630(d)(1)-(3))."""
        return (self.payment.purpose or "").strip().upper() == CLOSURE_PURPOSE

    def authorization_text(self) -> str:
        auth = self.payment.authorization
        if auth is None:
            return ""
        return f"{auth.type} {auth.reference}".strip() if auth.reference else auth.type
