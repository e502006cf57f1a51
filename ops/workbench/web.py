"""The workbench's web application: routes, and the checks every request passes on its way in.

Every route needs a signed-in person (a session cookie, a Bearer token, or the bank's single
sign-on proxy's header) except the sign-in page and /healthz. A request with a session cookie that
changes anything carries the session's CSRF token (form field `csrf` or header X-CSRF-Token); the
cookie is SameSite=Lax as well, so a forged cross-site POST does not even carry the session. Bearer requests
carry no cookie and need no CSRF token. Roles come from the users file, never from a request.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from importlib import resources

from aiohttp import hdrs, web
from yarl import URL

from ops.workbench import api, metrics, pages
from ops.workbench.auth import SESSION_COOKIE, SignInLimiter, find_session, start_session
from ops.workbench.context import WorkbenchContext
from ops.workbench.views import (
    CONTENT_SECURITY_POLICY,
    CTX,
    IDENTITY,
    LIMITER,
    Identity,
    ctx_of,
    log,
    read_form,
    set_session_cookie,
    users_of,
)

MAX_BODY_BYTES = 1024 * 1024
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# (method, route) served without signing in: the sign-in page and the liveness probe, nothing else.
PUBLIC_ROUTES = frozenset(
    {("GET", "/login"), ("HEAD", "/login"), ("POST", "/login"), ("GET", "/healthz"), ("HEAD", "/healthz")}
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def make_app(ctx: WorkbenchContext) -> web.Application:
    app = web.Application(
        middlewares=[_errors, _body_limit, _authenticate, _csrf],
        client_max_size=MAX_BODY_BYTES,  # the screen route reads its larger body through its own limit
    )
    app[CTX] = ctx
    app[LIMITER] = SignInLimiter()
    app.on_response_prepare.append(_security_headers)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/static/workbench.css", stylesheet)
    metrics.add_routes(app, ctx.store, ctx.clock)
    pages.add_routes(app)
    api.add_routes(app)
    return app


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "alive"})


async def stylesheet(request: web.Request) -> web.Response:
    css = resources.files("ops.workbench").joinpath("static/workbench.css").read_text(encoding="utf-8")
    return web.Response(text=css, content_type="text/css")


def _is_api(request: web.Request) -> bool:
    return request.path.startswith("/api/") or request.path == "/metrics"


def _route_of(request: web.Request) -> str | None:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else None


def _api_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": code, "message": message}, status=status, headers=headers)


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """API clients get JSON errors (unknown route, wrong method, body too large), not HTML. A
    failure is logged by its type alone: aiohttp would log the traceback, whose text can carry
    the names and accounts on the page being built."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if not _is_api(request) or exc.status < 400 or exc.content_type == "application/json":
            raise
        kept = {k: v for k, v in exc.headers.items() if k in (hdrs.ALLOW, hdrs.WWW_AUTHENTICATE)}
        return _api_error(exc.status, exc.reason.lower().replace(" ", "_"), exc.reason, kept)
    except Exception as exc:  # noqa: BLE001 (the one place every unexpected failure is answered)
        log.error("request_failed", route=_route_of(request), method=request.method, error=type(exc).__name__)
        message = "the workbench failed to answer this request; its log says where"
        if _is_api(request):
            return _api_error(500, "internal", message)
        return web.Response(status=500, text=message[0].upper() + message[1:] + ".")


@web.middleware
async def _body_limit(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A declared body over the route's limit is refused before it is read (reading enforces the
    limit for bodies that declare no length)."""
    limit = api.MAX_SCREEN_BYTES if _route_of(request) == "/api/v1/screen" else MAX_BODY_BYTES
    if request.content_length is not None and request.content_length > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=request.content_length)
    return await handler(request)


def _trusted_user(request: web.Request, ctx: WorkbenchContext) -> str | None:
    header = ctx.options.trusted_user_header
    if not header or header not in request.headers:
        return None
    if request.remote != ctx.options.trusted_proxy:
        # Only the proxy may name the user; the header from anyone else is ignored, and noted.
        log.warning("trusted_header_ignored", reason="not from the trusted proxy")
        return None
    named = request.headers.getall(header)
    if len(named) != 1:
        # Twice: a client's header passed on next to the proxy's. Which one the proxy wrote is not
        # known, so neither is believed.
        log.warning("trusted_header_refused", reason="sent more than once")
        raise web.HTTPForbidden(text="The single sign-on header came more than once: ask an administrator.")
    return named[0].strip()


def _identify(request: web.Request, ctx: WorkbenchContext) -> Identity | None:
    users = users_of(ctx)
    now = ctx.clock().timestamp()
    cookie = request.cookies.get(SESSION_COOKIE)
    proxied = _trusted_user(request, ctx)
    if proxied is not None:
        user = users.get(proxied)
        if user is None:
            log.warning("trusted_header_refused", reason="not a configured user")
            raise web.HTTPForbidden(text="The single sign-on user is not a user of this workbench.")
        # The session (cookie) gives the forms their CSRF token: the proxy's own cookies would
        # otherwise make this user's browser a forgery target.
        session = find_session(ctx.store, cookie, now)
        if session is not None and session.user_name == user.name:
            return Identity(user, "proxy", session.csrf, cookie)
        new = start_session(ctx.store, user.name, now, ctx.options.session_seconds)
        return Identity(user, "proxy", new.csrf, new.token, new)
    authorization = request.headers.get(hdrs.AUTHORIZATION)
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        user = users.by_token(token.strip()) if scheme.lower() == "bearer" else None
        return Identity(user, "bearer", None) if user is not None else None
    session = find_session(ctx.store, cookie, now)
    user = users.get(session.user_name) if session is not None else None
    if session is None or user is None:  # also a session of a user since removed from the file
        return None
    return Identity(user, "session", session.csrf, cookie)


@web.middleware
async def _authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    if (request.method, _route_of(request)) in PUBLIC_ROUTES:
        # Served to anyone as no one: no identity is looked up, so a probe costs no store read.
        return await handler(request)
    ctx = ctx_of(request)
    found = _identify(request, ctx)
    if found is None:
        return _unauthenticated(request)
    request[IDENTITY] = found
    response = await handler(request)
    if found.new_session is not None:
        set_session_cookie(response, ctx, found.new_session.token)
    return response


def _unauthenticated(request: web.Request) -> web.Response:
    """API clients (and anyone who sent a token) get 401 with the Bearer challenge; a browser goes
    to the sign-in page, and back here afterwards."""
    if _is_api(request) or hdrs.AUTHORIZATION in request.headers:
        challenge = 'Bearer realm="workbench"'
        if hdrs.AUTHORIZATION in request.headers:
            challenge += ', error="invalid_token"'
        message = "sign in, or send Authorization: Bearer <token>"
        return _api_error(401, "unauthenticated", message, {hdrs.WWW_AUTHENTICATE: challenge})
    target = "/login"
    if request.method in SAFE_METHODS:
        target = str(URL("/login").with_query(next=request.path_qs))
    raise web.HTTPSeeOther(target)


@web.middleware
async def _csrf(request: web.Request, handler: Handler) -> web.StreamResponse:
    who = request.get(IDENTITY)
    if request.method in SAFE_METHODS or who is None or who.csrf is None:
        return await handler(request)
    sent = request.headers.get("X-CSRF-Token")
    if sent is None and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        value = (await read_form(request)).get("csrf")
        sent = value if isinstance(value, str) else None
    if sent is None or not hmac.compare_digest(sent.encode(), who.csrf.encode()):
        log.warning("csrf_refused", path=_route_of(request), via=who.via)
        if _is_api(request):
            return _api_error(403, "csrf", "a request with a session cookie carries its CSRF token (X-CSRF-Token)")
        raise web.HTTPForbidden(text="This form is out of date or was not sent from the workbench: reload the page.")
    return await handler(request)


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Frame-Options"] = "DENY"
    # Pages behind sign-in show names and accounts: never kept by a browser or a proxy. The
    # sign-in page and the probe are no-store too; nothing is worth caching here.
    headers["Cache-Control"] = "no-store"
