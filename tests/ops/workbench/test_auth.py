"""Workbench sign-in (ops/workbench/auth.py and the web layer's checks): the users file, password
and token hashes, the failed sign-in limit, sessions, CSRF, the trusted single sign-on header, and
that nothing but the sign-in page and /healthz answers a stranger."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from ops.workbench import auth
from ops.workbench.auth import (
    SignInLimiter,
    SignInRefused,
    UsersError,
    hash_password,
    hash_token,
    load_users,
    parse_users,
    sign_in,
    start_session,
    verify_password,
)
from ops.workbench.context import WebOptions
from ops.workbench.store import Store
from ops.workbench.web import make_app
from rules.casework import Role
from tests.ops.workbench.web_support import (
    FOUR_EYES,
    PASSWORDS,
    TOKENS,
    Browser,
    bearer,
    browsers,
    csrf_of,
    make_ctx,
    run,
    seed,
    serving,
    users,
)

GOOD_HASH = hash_password("x" * 12)


# -- hashes -----------------------------------------------------------------------------------


def test_password_hash_format_and_verification() -> None:
    stored = hash_password("correct horse battery")
    scheme, n, r, p, salt, digest = stored.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    assert len(base64.b64decode(salt)) == 16
    assert len(base64.b64decode(digest)) == 32
    assert verify_password("correct horse battery", stored)
    assert not verify_password("correct horse batterY", stored)
    assert hash_password("correct horse battery") != stored  # a fresh salt each time


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "pbkdf2$1$2$3$4$5",
        "scrypt$16384$8$1$salt",
        "scrypt$1000$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAA==",  # n not a power of two
        "scrypt$16384$8$1$!!!$AAAAAAAAAAAAAAAAAAAAAA==",
        "scrypt$16384$8$1$AAAA$AAAAAAAAAAAAAAAAAAAAAA==",  # a 3-byte salt
        "scrypt$1048576$64$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAA==",  # 8 GiB
    ],
)
def test_malformed_hashes_verify_nothing(stored: str) -> None:
    assert not verify_password("anything", stored)
    with pytest.raises(ValueError, match=r"\w"):
        auth.parse_password_hash(stored)


def test_an_over_long_password_is_refused_after_the_same_work(monkeypatch: pytest.MonkeyPatch) -> None:
    stored = hash_password("")
    calls: list[str] = []
    real = auth._scrypt

    def counting(pw: str, *args: Any) -> bytes:
        calls.append(pw)
        return real(pw, *args)

    monkeypatch.setattr(auth, "_scrypt", counting)
    assert not verify_password("x" * (auth.MAX_PASSWORD_CHARS + 1), stored)
    assert calls == [""]


def test_api_tokens_are_kept_as_sha256() -> None:
    assert hash_token("abc") == "sha256$" + hashlib.sha256(b"abc").hexdigest()
    assert users().by_token(TOKENS["bea"]) is not None
    assert users().by_token(TOKENS["bea"]).name == "bea"  # type: ignore[union-attr]
    assert users().by_token("not-a-token") is None
    assert users().by_token("") is None
    assert users().by_token("x" * 10_000) is None


def test_an_unknown_user_costs_one_hash_like_a_known_one(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = auth._scrypt

    def counting(pw: str, salt: bytes, n: int, *args: Any) -> bytes:
        calls.append(n)
        return real(pw, salt, n, *args)

    monkeypatch.setattr(auth, "_scrypt", counting)
    auth._decoy_hash()  # made once, before counting
    calls.clear()
    assert users().check_password("nobody", "whatever") is None
    assert users().check_password("ana", "wrong") is None
    assert users().check_password("ANA", PASSWORDS["ana"]) is not None  # names ignore case
    assert calls == [16384, 16384, 16384]


# -- the users file ---------------------------------------------------------------------------


def entry(**overrides: Any) -> dict[str, Any]:
    return {"name": "ana", "role": "analyst", "password_hash": GOOD_HASH} | overrides


def test_a_users_file_loads(tmp_path: Path) -> None:
    token_hash = hash_token("t" * 43)
    path = tmp_path / "users.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "users": [
                    entry(display_name="Ana Analyst"),
                    entry(name="bea", role="approver", api_token_hash=token_hash),
                ]
            }
        )
    )
    loaded = load_users(path)
    assert len(loaded) == 2
    ana = loaded.get("Ana")
    assert ana is not None
    assert (ana.name, ana.role, ana.display_name) == ("ana", Role.ANALYST, "Ana Analyst")
    assert loaded.by_token("t" * 43) == loaded.get("bea")
    assert loaded.get("nobody") is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"users": [entry(role="admin")]}, r"users\[0\] \(ana\): role 'admin' is not one of analyst, approver"),
        ({"users": [entry(), entry(name="ANA")]}, r"users\[1\] \(ANA\): a second user of this name"),
        ({"users": [entry(password_hash="plain")]}, r"users\[0\] \(ana\): password_hash: not of the form"),
        ({"users": [entry(extra=1)]}, r"users\[0\]: unknown keys extra"),
        ({"users": [entry(api_token_hash="sha256$XYZ")]}, r"users\[0\] \(ana\): api_token_hash is sha256"),
        ({"users": [entry(name="a b")]}, r"users\[0\]: name is 1-64 letters"),
        ({"users": [entry(display_name=3)]}, r"display_name is text"),
        ({"users": []}, "users is a non-empty list"),
        ({"people": []}, "a mapping with one key, users"),
        (["ana"], "a mapping with one key, users"),
        ({"users": ["ana"]}, r"users\[0\]: a mapping"),
    ],
)
def test_a_wrong_users_file_names_the_entry(data: Any, message: str) -> None:
    with pytest.raises(UsersError, match=message):
        parse_users(data, "users.yaml")


def test_two_users_with_one_token_are_refused() -> None:
    token_hash = hash_token("same")
    data = {"users": [entry(api_token_hash=token_hash), entry(name="bea", api_token_hash=token_hash)]}
    with pytest.raises(UsersError, match=r"users\[1\] \(bea\): api_token_hash is another user's too"):
        parse_users(data)


def test_an_unreadable_users_file_is_a_users_error(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("users: [unclosed")
    with pytest.raises(UsersError, match="cannot be read as YAML"):
        load_users(tmp_path / "bad.yaml")
    with pytest.raises(UsersError, match="cannot be read"):
        load_users(tmp_path / "missing.yaml")


# -- failed sign-ins and sessions -------------------------------------------------------------


def test_the_limiter_counts_failures_per_name_in_a_window() -> None:
    now = [1000.0]
    limiter = SignInLimiter(max_failures=3, window_seconds=60, clock=lambda: now[0])
    for _ in range(3):
        assert limiter.retry_after("Ana") == 0
        limiter.failed("ana")
    assert limiter.retry_after("ANA") == 60
    assert limiter.retry_after("bea") == 0
    now[0] += 61
    assert limiter.retry_after("ana") == 0
    limiter.failed("ana")
    limiter.succeeded("ana")
    assert limiter.retry_after("ana") == 0


def test_the_limiter_table_is_bounded() -> None:
    limiter = SignInLimiter(max_failures=1, window_seconds=60, clock=lambda: 5.0, max_names=10)
    for i in range(100):
        limiter.failed(f"user{i}")
    assert len(limiter._failures) <= 10
    assert limiter.retry_after("user99") > 0


def test_sign_in_locks_a_name_out_after_five_failures() -> None:
    async def scenario() -> None:
        limiter = SignInLimiter()
        for _ in range(5):
            with pytest.raises(SignInRefused) as refused:
                await sign_in(users(), limiter, "ana", "wrong")
            assert refused.value.status == 401
        with pytest.raises(SignInRefused) as locked:
            await sign_in(users(), limiter, "ana", PASSWORDS["ana"])
        assert locked.value.status == 429
        assert "Too many failed sign-ins" in locked.value.message
        assert (await sign_in(users(), limiter, "bea", PASSWORDS["bea"])).name == "bea"

    asyncio.run(scenario())


def test_a_session_is_stored_as_a_hash_only() -> None:
    store = Store(":memory:")
    new = start_session(store, "ana", 100.0, 60)
    rows = store._db.execute("SELECT token_hash, csrf FROM sessions").fetchall()
    assert [r["token_hash"] for r in rows] == [hashlib.sha256(new.token.encode()).hexdigest()]
    assert new.token not in str([tuple(r) for r in rows])
    assert len(new.token) >= 43  # 32 random bytes
    assert auth.find_session(store, new.token, 150.0) is not None
    assert auth.find_session(store, new.token, 161.0) is None  # expired
    auth.end_session(store, new.token)
    assert auth.find_session(store, new.token, 150.0) is None


# -- the web layer ----------------------------------------------------------------------------


def test_nothing_but_sign_in_and_healthz_answers_a_stranger() -> None:
    store = Store(":memory:")
    cases = seed(store)
    ctx = make_ctx(store)

    async def scenario() -> None:
        async with serving(ctx) as server:
            stranger = Browser(server)
            try:
                routes = sorted({(r.method, r.resource.canonical) for r in server.app.router.routes() if r.resource})
                assert len(routes) >= 14
                for method, path in routes:
                    url = path.replace("{case_id}", cases[FOUR_EYES])
                    response = await stranger.http.request(method, url, allow_redirects=False, data=b"{}")
                    if (method, path) in {("GET", "/login"), ("HEAD", "/login"), ("POST", "/login")}:
                        assert response.status in (200, 403), (method, path)  # 403: no sign-in form nonce
                    elif path == "/healthz":
                        assert response.status == 200
                        if method == "GET":
                            assert await response.json() == {"status": "alive"}
                    elif path.startswith("/api/") or path == "/metrics":
                        assert response.status == 401, (method, path)
                        assert response.headers["WWW-Authenticate"].startswith("Bearer")
                        if method != "HEAD":
                            assert (await response.json())["error"] == "unauthenticated"
                    else:
                        assert response.status == 303, (method, path)
                        assert response.headers["Location"].startswith("/login"), (method, path)
                # An unknown path says nothing of what exists either.
                response = await stranger.http.get("/cases/x/../../etc", allow_redirects=False)
                assert response.status == 303
                response = await stranger.http.get("/", headers={"Authorization": "Bearer wrong"})
                assert response.status == 401
                assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
            finally:
                await stranger.close()

    run(scenario())


def test_wrong_password_then_lockout_on_the_page() -> None:
    ctx = make_ctx(Store(":memory:"))

    async def scenario() -> None:
        async with serving(ctx) as server:
            browser = Browser(server)
            try:
                for _ in range(5):
                    response = await browser.login("ana", "wrong")
                    assert response.status == 401
                    assert "Wrong user name or password." in await response.text()
                response = await browser.login("ana")
                assert response.status == 429
                assert "Too many failed sign-ins" in await response.text()
                assert "analyst-password" not in await response.text()
                assert (await browser.login("aud")).status == 303
            finally:
                await browser.close()

    run(scenario())


def test_sign_in_honours_only_local_next_paths() -> None:
    ctx = make_ctx(Store(":memory:"))

    async def scenario() -> None:
        async with serving(ctx) as server:
            for target, expected in [
                ("/cases/abc?x=1", "/cases/abc?x=1"),
                ("//evil.example/x", "/"),
                ("https://evil.example/", "/"),
                ("/\\evil.example", "/"),
                ("/login", "/"),
            ]:
                browser = Browser(server)
                try:
                    response = await browser.login("ana", next_path=target)
                    assert response.headers["Location"] == expected, target
                    cookie = response.headers.getall("Set-Cookie")
                    session = next(c for c in cookie if c.startswith("wb_session="))
                    assert "HttpOnly" in session
                    assert "SameSite=Lax" in session
                finally:
                    await browser.close()

    run(scenario())


def test_the_sign_in_form_needs_its_nonce() -> None:
    ctx = make_ctx(Store(":memory:"))

    async def scenario() -> None:
        async with serving(ctx) as server:
            browser = Browser(server)
            try:
                form = {"user": "ana", "password": PASSWORDS["ana"], "login_csrf": "forged"}
                response = await browser.http.post("/login", data=form, allow_redirects=False)
                assert response.status == 403
                assert "wb_session" not in response.cookies
            finally:
                await browser.close()

    run(scenario())


def test_a_second_sign_in_page_keeps_the_first_form_valid() -> None:
    ctx = make_ctx(Store(":memory:"))

    async def scenario() -> None:
        async with serving(ctx) as server:
            browser = Browser(server)
            try:
                first = await (await browser.http.get("/login")).text()
                # The browser's own /favicon.ico request is sent to the sign-in page too.
                assert (await browser.http.get("/favicon.ico")).status == 200
                nonce = re.search(r'name="login_csrf" value="([^"]+)"', first)
                assert nonce is not None
                form = {"user": "ana", "password": PASSWORDS["ana"], "login_csrf": nonce.group(1)}
                response = await browser.http.post("/login", data=form, allow_redirects=False)
                assert response.status == 303
            finally:
                await browser.close()

    run(scenario())


def test_csrf_is_required_for_forms_and_cookie_api_but_not_bearer() -> None:
    store = Store(":memory:")
    cases = seed(store)
    ctx = make_ctx(store)
    case_id = cases[FOUR_EYES]

    async def scenario() -> None:
        async with serving(ctx) as server, browsers(server, "ana") as (ana,):
            assert (await ana.act(case_id, with_csrf=False, kind="comment", reason="r")).status == 403
            response = await ana.act(case_id, with_csrf=False, kind="comment", reason="r", csrf="wrong")
            assert response.status == 403
            api = f"/api/v1/cases/{case_id}/dispositions"
            response = await ana.http.post(api, json={"kind": "comment", "reason": "r"})
            assert response.status == 403
            assert (await response.json())["error"] == "csrf"
            response = await ana.http.post(api, json={"kind": "comment", "reason": "r"}, headers={"X-CSRF-Token": "x"})
            assert response.status == 403
            assert (await ana.http.post("/logout", allow_redirects=False)).status == 403
            assert store.history(case_id) == []
            response = await ana.http.post(
                api, json={"kind": "comment", "reason": "r"}, headers={"X-CSRF-Token": ana.csrf}
            )
            assert response.status == 201
            assert (await ana.act(case_id, kind="comment", reason="r2")).status == 303
            status = await server_post(server, api, bearer("bea"), {"kind": "comment", "reason": "r3"})
            assert status == 201
            assert [h["actor"] for h in store.history(case_id)] == ["ana", "ana", "bea"]
            response = await ana.http.post("/logout", data={"csrf": ana.csrf}, allow_redirects=False)
            assert response.status == 303
            response = await ana.http.get("/", allow_redirects=False)
            assert response.status == 303  # signed out: the session is gone from the store

    run(scenario())


async def server_post(server: Any, path: str, headers: dict[str, str], body: Any) -> int:
    browser = Browser(server)
    try:
        return (await browser.http.post(path, json=body, headers=headers)).status
    finally:
        await browser.close()


def test_the_trusted_header_only_from_the_proxy_and_only_for_configured_users() -> None:
    store = Store(":memory:")
    cases = seed(store)
    trusting = make_ctx(store, options=WebOptions(trusted_user_header="X-Remote-User", trusted_proxy="127.0.0.1"))
    elsewhere = make_ctx(store, options=WebOptions(trusted_user_header="X-Remote-User", trusted_proxy="10.1.2.3"))

    async def scenario() -> None:
        async with serving(trusting) as server:
            browser = Browser(server)
            try:
                response = await browser.http.get("/", headers={"X-Remote-User": "bea"})
                assert response.status == 200
                page = await response.text()
                assert "Bea" in page
                assert "approver" in page
                response = await browser.http.get("/", headers={"X-Remote-User": "mallory"}, allow_redirects=False)
                assert response.status == 403
                # A proxied user's forms carry the session's CSRF token like anyone's.
                csrf = csrf_of(page)
                form = {"kind": "comment", "reason": "seen", "csrf": csrf}
                url = f"/cases/{cases[FOUR_EYES]}/dispositions"
                headers = {"X-Remote-User": "bea"}
                response = await browser.http.post(url, data=form, headers=headers, allow_redirects=False)
                assert response.status == 303
                assert store.history(cases[FOUR_EYES])[-1]["actor"] == "bea"
                form["csrf"] = "forged"
                response = await browser.http.post(url, data=form, headers=headers, allow_redirects=False)
                assert response.status == 403
            finally:
                await browser.close()
        async with serving(elsewhere) as server:
            browser = Browser(server)
            try:
                response = await browser.http.get("/", headers={"X-Remote-User": "bea"}, allow_redirects=False)
                assert response.status == 303  # not from the proxy: the header is ignored
            finally:
                await browser.close()

    run(scenario())


def test_a_removed_user_s_session_no_longer_signs_in() -> None:
    store = Store(":memory:")
    ctx = make_ctx(store)
    new = start_session(store, "ghost", ctx.clock().timestamp(), 600)

    async def scenario() -> None:
        async with serving(ctx) as server:
            browser = Browser(server)
            try:
                response = await browser.http.get(
                    "/", headers={"Cookie": f"wb_session={new.token}"}, allow_redirects=False
                )
                assert response.status == 303
            finally:
                await browser.close()

    run(scenario())


def test_make_app_serves_security_headers_everywhere() -> None:
    ctx = make_ctx(Store(":memory:"))

    async def scenario() -> None:
        async with serving(ctx) as server, browsers(server, "ana") as (ana,):
            for path in ("/", "/login", "/healthz", "/api/v1/cases", "/static/workbench.css", "/nope"):
                response = await ana.http.get(path, allow_redirects=False)
                headers = response.headers
                assert headers["Content-Security-Policy"].startswith(
                    "default-src 'self'; frame-ancestors 'none'; form-action 'self'"
                ), path
                assert headers["X-Content-Type-Options"] == "nosniff"
                assert headers["Referrer-Policy"] == "no-referrer"
                assert headers["Cache-Control"] == "no-store"
            response = await ana.http.get("/login")
            assert "style-src 'sha256-" in response.headers["Content-Security-Policy"]
            assert '<link rel="stylesheet"' not in await response.text()  # the stylesheet is behind sign-in

    run(scenario())


def test_make_app_limits_request_bodies() -> None:
    store = Store(":memory:")
    cases = seed(store)
    ctx = make_ctx(store)
    assert make_app(ctx) is not None

    async def scenario() -> None:
        async with serving(ctx) as server, browsers(server, "ana") as (ana,):
            big = b"x" * (2 * 1024 * 1024)
            url = f"/api/v1/cases/{cases[FOUR_EYES]}/dispositions"
            response = await ana.http.post(url, data=big, headers=bearer("ana"))
            assert response.status == 413
            assert (await response.json())["error"] == "request_entity_too_large"
            response = await ana.http.post("/api/v1/screen", data=big, headers=bearer("ana"))
            assert response.status == 200  # the screen route takes up to 8 MiB
            response = await ana.http.post("/api/v1/screen", data=big * 5, headers=bearer("ana"))
            assert response.status == 413

    run(scenario())


def test_a_trusted_header_sent_twice_names_no_one() -> None:
    """A proxy that adds its header after a client's: the first one is the client's."""
    store = Store(":memory:")
    seed(store)
    ctx = make_ctx(store, options=WebOptions(trusted_user_header="X-Remote-User", trusted_proxy="127.0.0.1"))

    async def scenario() -> None:
        async with serving(ctx) as server:
            browser = Browser(server)
            try:
                headers = [("X-Remote-User", "bea"), ("X-Remote-User", "ana")]
                response = await browser.http.get("/", headers=headers, allow_redirects=False)
                assert response.status == 403
                assert "Bea" not in await response.text()
            finally:
                await browser.close()

    run(scenario())
