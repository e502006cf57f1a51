"""What the workbench's web tests share: users, a context with fakes, seeded cases, a browser."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import re
from collections.abc import AsyncIterator, Coroutine, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer

from ops.workbench.auth import Account, Users, hash_password, hash_token
from ops.workbench.context import User, WebOptions, WorkbenchContext
from ops.workbench.store import NewCase, Store, case_id_of
from ops.workbench.web import make_app
from rules.casework import Role
from rules.regulation_text import CitedText

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
PASSWORDS = {
    "ana": "analyst-password-1",
    "bea": "approver-password-2",
    "carl": "approver-password-3",
    "aud": "auditor-password-4",
}
ROLES = {"ana": Role.ANALYST, "bea": Role.APPROVER, "carl": Role.APPROVER, "aud": Role.AUDITOR}
TOKENS = {name: f"token-of-{name}-0123456789abcdefghijklmnopqrstuvwxyz" for name in PASSWORDS}
CFR_CITATION = "31 CFR 1010.630(a)(1)(ii)"
OFAC_CITATION = "OFAC SDN List, entry 12345; E.O. 13382"
XSS = "<script>alert('x')</script>"
FOUR_EYES = "P-021"  # a blocked-person hit: clearing needs a second approver
PLAIN = "P-022"  # a shell-bank hit only: one person clears it
SECOND = "P-023"  # another four-eyes case


@functools.cache
def users() -> Users:
    return Users(
        Account(User(name, ROLES[name], name.title()), hash_password(pw), hash_token(TOKENS[name]))
        for name, pw in PASSWORDS.items()
    )


def hit(rule: str, citation: str, value: str, matched: str = "", field_name: str = "creditor.name") -> dict[str, Any]:
    return {
        "rule": rule,
        "citation": citation,
        "action": "review",
        "field": field_name,
        "value": value,
        "matched": matched,
        "score": 97.5,
        "reason": f"The list names {matched or value}",
    }


def decision(payment_id: str, hits: list[dict[str, Any]], screened_at: str) -> str:
    return json.dumps(
        {
            "payment_id": payment_id,
            "decision": "review",
            "hits": hits,
            "citations": sorted({h["citation"] for h in hits}),
            "rules_version": "rules-e0fe",
            "registry_version": "reg-23df",
            "screened_at": screened_at,
            "notices": [],
        }
    )


def new_case(payment_id: str, hits: list[dict[str, Any]], four_eyes: tuple[str, ...], at: str) -> NewCase:
    names = " ".join(h["value"] for h in hits)
    return NewCase(
        payment_id, decision(payment_id, hits, at), at, four_eyes, "ACC-1", f"{payment_id} ACC-1 {names}", "d/0@1"
    )


def seed(store: Store) -> dict[str, str]:
    """Three held payments; returns payment id -> case id."""
    blocked = hit("blocked_person", OFAC_CITATION, "Ivan " + XSS, "IVANOV, Ivan " + XSS)
    shell = hit("nested_shell_bank", CFR_CITATION, "PHNTKYKY", "", "account.nested_institutions[0].bic")
    store.ingest(
        [
            new_case(FOUR_EYES, [blocked], (f"blocked_person {OFAC_CITATION}",), "2026-11-23T09:00:00+00:00"),
            new_case(PLAIN, [shell], (), "2026-11-23T10:30:00+00:00"),
            new_case(SECOND, [blocked], (f"blocked_person {OFAC_CITATION}",), "2026-11-23T11:00:00+00:00"),
        ],
        payments=[(FOUR_EYES, json.dumps({"payment_id": FOUR_EYES, "amount": "25000.00"}).encode(), "p/0@1")],
    )
    return {p: case_id_of(p) for p in (FOUR_EYES, PLAIN, SECOND)}


def fake_cited_text(citation: str) -> CitedText | None:
    if citation != CFR_CITATION:
        return None
    path = (
        ("(a)", "Due diligence for correspondent accounts of foreign banks—"),
        ("(a)(1)", "A covered financial institution shall:"),
        ("(a)(1)(ii)", "Not maintain an account for a foreign shell bank " + XSS),
    )
    return CitedText(CFR_CITATION, "1010.630", "Prohibition on correspondent accounts", path, found=True)


@dataclass
class Fakes:
    screened: list[bytes] = field(default_factory=list)
    wakes: int = 0

    def screen(self, body: bytes) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        self.screened.append(body)
        return [{"payment_id": "P-9", "decision": "pass", "hits": []}], []

    def wake(self) -> None:
        self.wakes += 1


def make_ctx(store: Store, fakes: Fakes | None = None, options: WebOptions | None = None) -> WorkbenchContext:
    fakes = fakes or Fakes()
    accounts: Mapping[str, Mapping[str, Any]] = {"ACC-1": {"account_id": "ACC-1", "holder": {"name": "Phantom " + XSS}}}
    banks: Mapping[str, Mapping[str, Any]] = {"PHNTKYKY": {"bic": "PHNTKYKY", "name": "Phantom Island Bank"}}

    def view(raw: bytes) -> Mapping[str, Any] | str:
        try:
            return dict(json.loads(raw))
        except ValueError:
            return "the stored payment cannot be read"

    return WorkbenchContext(
        store=store,
        users=users(),
        screen=fakes.screen,
        account_record=accounts.get,
        institution_record=banks.get,
        payment_view=view,
        cited_text=fake_cited_text,
        wake_publisher=fakes.wake,
        clock=lambda: NOW,
        options=options or WebOptions(),
        versions=lambda: {"rules_version": "rules-e0fe", "registry_version": "reg-23df"},
    )


def run(coro: Coroutine[Any, Any, None]) -> None:
    asyncio.run(asyncio.wait_for(coro, 60))


@asynccontextmanager
async def serving(ctx: WorkbenchContext) -> AsyncIterator[TestServer]:
    server = TestServer(make_app(ctx))
    await server.start_server()
    try:
        yield server
    finally:
        await server.close()


@contextlib.asynccontextmanager
async def api_client(ctx: WorkbenchContext) -> AsyncIterator[Browser]:
    """A server for ctx and one client of it, closed after."""
    async with serving(ctx) as server:
        client = Browser(server)
        try:
            yield client
        finally:
            await client.close()


_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_NONCE = re.compile(r'name="login_csrf" value="([^"]+)"')


class Browser:
    """One person's browser: its own cookies."""

    def __init__(self, server: TestServer) -> None:
        self.server = server
        self.http = aiohttp.ClientSession(base_url=str(server.make_url("")), cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""

    async def close(self) -> None:
        await self.http.close()

    async def login(self, name: str, password: str | None = None, next_path: str = "/") -> aiohttp.ClientResponse:
        page = await (await self.http.get("/login")).text()
        nonce = _NONCE.search(page)
        assert nonce, page
        form = {"user": name, "password": PASSWORDS.get(name, "") if password is None else password}
        form |= {"next": next_path, "login_csrf": nonce.group(1)}
        response = await self.http.post("/login", data=form, allow_redirects=False)
        if response.status == 303:
            self.csrf = csrf_of(await (await self.http.get("/")).text())
        return response

    async def act(self, case_id: str, with_csrf: bool = True, **form: str) -> aiohttp.ClientResponse:
        data = dict(form)
        if with_csrf:
            data["csrf"] = self.csrf
        return await self.http.post(f"/cases/{case_id}/dispositions", data=data, allow_redirects=False)


def csrf_of(page: str) -> str:
    found = _CSRF.search(page)
    assert found, "no CSRF token on the page"
    return found.group(1)


def bearer(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[name]}"}


@asynccontextmanager
async def browsers(server: TestServer, *names: str) -> AsyncIterator[list[Browser]]:
    """Signed-in browsers, one per name."""
    opened = [Browser(server) for _ in names]
    try:
        for browser, name in zip(opened, names, strict=True):
            assert (await browser.login(name)).status == 303
        yield opened
    finally:
        for browser in opened:
            await browser.close()
