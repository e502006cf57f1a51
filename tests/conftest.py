"""Shared fixtures: the packaged rules, a registry builder and a payment builder."""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from rules import Decision, Registry, RuleSet, load_rules, parse_payment, registry_from_mapping, screen

SCREENED_AT = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)

# The audit trail is keyed (streams/audit.py): every Settings of this test run, and every worker
# it starts (their environment is this one's), share one key made for the run.
os.environ.setdefault("SCREENER_AUDIT_KEYS", json.dumps({"test": secrets.token_hex(32)}))
# What commands keep in their data directory (e.g. the registries `screener screen` used) goes to
# a directory of this run, not into the checkout.
os.environ.setdefault("SCREENER_DATA_DIR", tempfile.mkdtemp(prefix="screener-test-data-"))


@pytest.fixture(scope="session")
def rules() -> RuleSet:
    return load_rules()


def account(account_id: str = "ACC-1", **fields: Any) -> dict[str, Any]:
    """A compliant account: certified, onshore, held for a German bank."""
    base: dict[str, Any] = {
        "account_id": account_id,
        "status": "open",
        "opened_on": "2019-01-02",
        "holder": {
            "bic": "HNSEDEFF",
            "name": "Hanseatic Commerce Bank AG",
            "country": "DE",
            "license": "onshore",
        },
        "certified_on": "2024-06-01",
    }
    base.update(fields)
    return base


def registry(
    accounts: list[dict[str, Any]] | None = None, institutions: list[dict[str, Any]] | None = None
) -> Registry:
    return registry_from_mapping(
        {"accounts": accounts if accounts is not None else [account()], "institutions": institutions or []}
    )


def payment(**fields: Any) -> dict[str, Any]:
    """A clean payment through ACC-1 on 10 June 2025; keyword arguments override fields."""
    base: dict[str, Any] = {
        "payment_id": "PAY-1",
        "message_type": "pacs.008",
        "created_at": "2025-06-10T14:00:00Z",
        "direction": "outbound",
        "amount": "1000.00",
        "currency": "USD",
        "correspondent_account_id": "ACC-1",
        "debtor": {"name": "Acme Export LLC", "country": "US"},
        "creditor": {"name": "Nordic Timber AS", "country": "NO"},
        "debtor_agent": {"bic": "HNSEDEFF"},
        "creditor_agent": {"bic": "NRTHNOKK", "name": "Northern Fjord Bank ASA"},
        "remittance_information": ["Invoice 2025-001"],
    }
    for key, value in fields.items():
        if value is None:
            base.pop(key, None)
        else:
            base[key] = value
    return base


@pytest.fixture
def decide(rules: RuleSet) -> Callable[..., Decision]:
    """Screen a payment dict against a registry (default: one compliant account)."""

    def run(pay: dict[str, Any], reg: Registry | None = None) -> Decision:
        return screen(parse_payment(pay), reg if reg is not None else registry(), rules, SCREENED_AT)

    return run


def hits_of(decision: Decision, rule: str | None = None) -> list[tuple[str, str, str]]:
    """(rule, citation, action) of the hits, optionally for one rule."""
    return [(h.rule, h.citation, h.action) for h in decision.hits if rule is None or h.rule == rule]
