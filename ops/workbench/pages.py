"""The workbench's pages: sign-in, the queue of held payments, a case with its evidence and actions.

Server-rendered (Jinja2, autoescaped): no script, nothing from outside the workbench. A refused
action re-renders the case with the refusal (409) and records nothing; an accepted one redirects
to the case (so a reload does not send it again).

(About 330 lines: every page handler and the forms a role may use in a state; the case's evidence
is assembled in case_view.py, shared with the API.)
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from importlib import resources
from typing import Any

import jinja2
from aiohttp import web
from markupsafe import Markup
from multidict import MultiDictProxy
from yarl import URL

from ops.workbench import case_view, views
from ops.workbench.auth import (
    MAX_PASSWORD_CHARS,
    SESSION_COOKIE,
    SignInRefused,
    end_session,
    sign_in,
    start_session,
)
from ops.workbench.context import User
from ops.workbench.store import CaseRow, case_id_of
from rules.casework import MAX_REASON_CHARS, STOP_ACTIONS, Kind, Refused, Role, State

PAGE_SIZE = 50
LOGIN_COOKIE = "wb_login"  # the sign-in form's own CSRF nonce (double submit): no session yet
_NONCE = re.compile(r"[A-Za-z0-9_-]{32}")
STATE_LABELS = {
    "open": "Open",
    "escalated": "Escalated",
    "pending_approval": "Waiting for approval",
    "released": "Released",
    "stopped": "Stopped",
}
KIND_LABELS = {
    "comment": "Comment",
    "escalate": "Escalate to an approver",
    "clear": "Clear (release the payment)",
    "confirm": "Confirm the hold (stop the payment)",
    "approve": "Approve",
    "return": "Return",
}
# What the banner after an action says it did (a clear under four eyes only proposes the release).
RECORDED_LABELS = KIND_LABELS | {
    "proposed": "Clear proposed: the payment is released when a second approver approves it"
}


@functools.cache
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("ops.workbench", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["fields"] = case_view.fields
    env.globals.update(STATE_LABELS=STATE_LABELS, KIND_LABELS=KIND_LABELS, STOP_ACTIONS=STOP_ACTIONS)
    env.globals["MAX_REASON_CHARS"] = MAX_REASON_CHARS
    return env


@functools.cache
def _login_style() -> tuple[Markup, str]:
    """The sign-in page's styles, inline (the stylesheet is behind sign-in), and the CSP source
    that allows exactly them."""
    css = resources.files("ops.workbench").joinpath("static/login.css").read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")
    return Markup(css), f"'sha256-{digest}'"  # noqa: S704 (our packaged file, not input)


def render(request: web.Request, template: str, status: int = 200, **values: Any) -> web.Response:
    who = request.get(views.IDENTITY)
    page = (
        _env().get_template(template).render(user=who.user if who else None, csrf=who.csrf if who else None, **values)
    )
    return web.Response(text=page, status=status, content_type="text/html", charset="utf-8")


def error_page(request: web.Request, status: int, title: str, message: str) -> web.Response:
    return render(request, "error.html", status, title=title, message=message)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/login", login_form)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
    app.router.add_get("/", queue)
    app.router.add_get("/cases/{case_id}", case_page)
    app.router.add_post("/cases/{case_id}/dispositions", disposition)


# -- signing in and out -----------------------------------------------------------------------


def safe_next(value: str | None) -> str:
    """A local path to go to after signing in; anything else (another site, //host, odd
    characters) goes to the queue."""
    if not value or len(value) > 2_000 or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return "/"
    url = URL(value)
    if url.scheme or url.host or url.path in ("/login", "/logout"):
        return "/"
    return value


def _login_page(request: web.Request, status: int, next_path: str, message: str = "", name: str = "") -> web.Response:
    css, source = _login_style()
    # One nonce per browser while it signs in: a second sign-in page (another tab, or the redirect
    # of the browser's own /favicon.ico request) must not invalidate the form already shown.
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    if not _NONCE.fullmatch(nonce):
        nonce = secrets.token_urlsafe(24)
    response = render(
        request, "login.html", status, login_css=css, nonce=nonce, next=next_path, message=message, name=name
    )
    response.headers["Content-Security-Policy"] = f"{views.CONTENT_SECURITY_POLICY}; style-src {source}"
    ctx = views.ctx_of(request)
    response.set_cookie(
        LOGIN_COOKIE,
        nonce,
        max_age=1800,
        path="/login",
        httponly=True,
        secure=ctx.options.secure_cookies,
        samesite="Strict",
    )
    return response


async def login_form(request: web.Request) -> web.Response:
    return _login_page(request, 200, safe_next(request.query.get("next")))


def _field(form: MultiDictProxy[Any] | Mapping[str, Any], name: str, limit: int) -> str:
    value = form.get(name)
    return value[: limit + 1] if isinstance(value, str) else ""


async def login(request: web.Request) -> web.Response:
    ctx = views.ctx_of(request)
    form = await views.read_form(request)
    next_path = safe_next(_field(form, "next", 2_000))
    name = _field(form, "user", 64).strip()
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    sent = _field(form, "login_csrf", 64)
    if not nonce or not hmac.compare_digest(nonce.encode(), sent.encode()):
        return _login_page(request, 403, next_path, "The sign-in form expired or came from elsewhere: try again.", name)
    try:
        user = await sign_in(
            views.users_of(ctx), request.app[views.LIMITER], name, _field(form, "password", MAX_PASSWORD_CHARS)
        )
    except SignInRefused as refused:
        views.log.warning("sign_in_refused", status=refused.status)
        return _login_page(request, refused.status, next_path, refused.message, name)
    session = start_session(ctx.store, user.name, ctx.clock().timestamp(), ctx.options.session_seconds)
    views.log.info("signed_in", role=user.role.value)
    response = web.HTTPSeeOther(next_path)
    views.set_session_cookie(response, ctx, session.token)
    response.del_cookie(LOGIN_COOKIE, path="/login")
    raise response


async def logout(request: web.Request) -> web.Response:
    ctx = views.ctx_of(request)
    end_session(ctx.store, request.cookies.get(SESSION_COOKIE))
    response = web.HTTPSeeOther("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response


# -- the queue --------------------------------------------------------------------------------


def queue_states(value: str) -> tuple[State, ...]:
    """The states a queue filter names; the open ones when it names none. ValueError otherwise."""
    return views.OPEN_STATES if not value else (State(value),)


async def queue(request: web.Request) -> web.Response:
    ctx = views.ctx_of(request)
    query = request.query
    try:
        states = queue_states(query.get("state", ""))
        severity = query.get("severity", "")
        if severity and severity not in views.SEVERITIES:
            raise ValueError(severity)
        offset = int(query.get("offset", "0") or 0)
        if not 0 <= offset <= 1_000_000:
            raise ValueError(offset)
    except ValueError:
        return error_page(request, 400, "Bad filter", "The queue's filters are not ones this page offers.")
    search = query.get("q", "")[:200]
    rows = ctx.store.queue(states, severity or None, search, PAGE_SIZE + 1, offset)
    now = ctx.clock()
    total, _, by_state = ctx.store.open_summary()
    filters = {"state": query.get("state", ""), "severity": severity, "q": search}
    return render(
        request,
        "queue.html",
        cases=[case_view.case_summary(row, now) for row in rows[:PAGE_SIZE]],
        total=total,
        by_state=by_state,
        filters=filters,
        offset=offset,
        page_size=PAGE_SIZE,
        previous=_page_link(filters, offset - PAGE_SIZE) if offset > 0 else None,
        next=_page_link(filters, offset + PAGE_SIZE) if len(rows) > PAGE_SIZE else None,
    )


def _page_link(filters: Mapping[str, str], offset: int) -> str:
    query = {k: v for k, v in filters.items() if v}
    if offset > 0:
        query["offset"] = str(offset)
    return str(URL("/").with_query(query))


# -- a case -----------------------------------------------------------------------------------


def forms_for(user: User, row: CaseRow) -> dict[str, Any]:
    """The actions this person may take on the case now, and a note when they may not."""
    kinds: list[str] = []
    answer = False
    note = ""
    if user.role is Role.AUDITOR:
        note = "You have read-only access (auditor): you see the case and change nothing."
    elif row.state.closed:
        note = "The case is closed: nothing more can be done to it."
    elif row.state is State.PENDING_APPROVAL:
        kinds = ["comment"]
        proposer = row.pending.actor if row.pending else ""
        if user.role is not Role.APPROVER:
            note = "A clear is waiting for a second person: an approver approves or returns it."
        elif proposer.casefold() == user.name.casefold():
            note = "Waiting for a second approver; you proposed it."
        else:
            answer = True
    elif row.state is State.ESCALATED and user.role is not Role.APPROVER:
        kinds = ["comment"]
        note = "The case is escalated: an approver decides it."
    else:
        kinds = ["comment", "clear", "confirm"]
        if row.state is State.OPEN:
            kinds.insert(1, "escalate")
    return {"kinds": kinds, "answer": answer, "note": note, "four_eyes": bool(row.four_eyes)}


def _case_response(
    request: web.Request, row: CaseRow, status: int = 200, message: str = "", form: Mapping[str, str] | None = None
) -> web.Response:
    ctx = views.ctx_of(request)
    user = views.identity(request).user
    recorded = request.query.get("recorded", "")
    return render(
        request,
        "case.html",
        status,
        detail=case_view.case_detail(ctx, row),
        forms=forms_for(user, row),
        message=message,
        recorded=RECORDED_LABELS.get(recorded, ""),
        form=form or {},
    )


async def case_page(request: web.Request) -> web.Response:
    store, key = views.ctx_of(request).store, request.match_info["case_id"]
    row = store.case(key)
    if row is None:
        # A payment id where a case id belongs (typed from a ticket): its case, under its own address.
        by_payment = store.case(case_id_of(key))
        if by_payment is not None:
            raise web.HTTPSeeOther(f"/cases/{by_payment.case_id}")
        return error_page(request, 404, "No such case", "No held payment has this case id or payment id.")
    return _case_response(request, row)


async def disposition(request: web.Request) -> web.Response:
    ctx = views.ctx_of(request)
    user = views.identity(request).user
    case_id = request.match_info["case_id"]
    if user.role not in views.ACTING_ROLES:
        return error_page(request, 403, "Read only", "An auditor reads cases and changes nothing.")
    row = ctx.store.case(case_id)
    if row is None:
        return error_page(request, 404, "No such case", "No held payment has this case id.")
    form = await views.read_form(request)
    values = {name: _field(form, name, 64) for name in ("kind", "stop_action", "answers")}
    # Browsers send a textarea's lines with CRLF (its maxlength counts each as one character):
    # made LF before the bound, so a reason at the limit is refused whole or kept whole, never cut.
    reason = form.get("reason")
    values["reason"] = reason.replace("\r\n", "\n")[: MAX_REASON_CHARS + 1] if isinstance(reason, str) else ""
    if values["kind"] not in {k.value for k in Kind}:
        return _case_response(request, row, 400, "Choose what to do with the case.", values)
    try:
        done = await views.dispose(
            ctx,
            case_id,
            user,
            Kind(values["kind"]),
            values["reason"],
            values["stop_action"] or None,
            values["answers"] or None,
        )
    except Refused as refused:
        if refused.code == "no_case":
            return error_page(request, 404, "No such case", refused.message)
        return _case_response(request, ctx.store.case(case_id) or row, 409, refused.message, values)
    proposed = values["kind"] == Kind.CLEAR and done.case.state is State.PENDING_APPROVAL
    recorded = "proposed" if proposed else values["kind"]
    raise web.HTTPSeeOther(str(URL(f"/cases/{done.case.case_id}").with_query(recorded=recorded)))
