"""What the workbench's web layer is given: the store and the services around it, as callables.

The web layer (ops/workbench/web.py and the modules it wires) decides nothing about cases (that is
rules/casework.py, applied by the store) and talks to no broker: the feed and the publisher do
(ops/workbench/feed.py, publisher.py), so every page and API can be tested with fakes here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ops.workbench.store import Store
from rules.casework import Role
from rules.regulation_text import CitedText

# A payment in any format `screen` reads (JSON, ISO 20022, SWIFT MT), as bytes, to
# (decisions, dead-letters): each decision in its wire form (SPEC 1.3).
ScreenFn = Callable[[bytes], tuple[list[dict[str, Any]], list[dict[str, Any]]]]
# A registry key (account_id, or a BIC) to its current record, or None.
RegistryLookup = Callable[[str], Mapping[str, Any] | None]
# A payment's raw bytes to its fields for display (a typed payment's JSON form), or an error text.
PaymentView = Callable[[bytes], Mapping[str, Any] | str]
# A hit's citation naming a sanctions list entry ("OFAC SDN List, entry 12345; E.O. 13382"), or the
# name of an entity the OFAC 50 Percent Rule blocks (whose citation names no entry), to the entry's
# fields for display (ops/workbench/listed_entries.py: ListedEntries.lookup), or None. Never raises.
ListedEntryLookup = Callable[[str], Mapping[str, Any] | None]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: Role
    display_name: str = ""


@dataclass
class WebOptions:
    """How the web layer serves: cookies, sessions, and an optional trusted single sign-on header."""

    session_seconds: int = 8 * 3600
    # Set when served over TLS (or behind a TLS proxy): cookies then carry Secure.
    secure_cookies: bool = False
    # A bank's single sign-on proxy in front may name the signed-in user in this header; only
    # honoured when set, and only from the proxy's address (the proxy must strip it from clients).
    trusted_user_header: str | None = None
    trusted_proxy: str = "127.0.0.1"


@dataclass
class WorkbenchContext:
    store: Store
    users: Any  # ops.workbench.auth.Users: who may sign in, with which role and password hash
    screen: ScreenFn
    account_record: RegistryLookup
    institution_record: RegistryLookup
    payment_view: PaymentView
    cited_text: Callable[[str], CitedText | None]
    # The listed entry a blocked-person hit cites, shown under the hit (ListedEntryLookup).
    listed_entry: ListedEntryLookup = lambda _: None
    # Called after an action is recorded, so the publisher sends it without waiting for its poll.
    wake_publisher: Callable[[], None] = lambda: None
    clock: Callable[[], datetime] = utc_now
    options: WebOptions = field(default_factory=WebOptions)
    # Versions the screen function decides under, shown on POST /screen and the about page.
    versions: Callable[[], Mapping[str, str]] = dict
    # The feed's, the registry's and the publisher's progress (ops/workbench/service.py's
    # Workbench.status: "ready", "feed", "registry", "publisher"), for a readiness probe.
    status: Callable[[], Mapping[str, Any]] = dict
