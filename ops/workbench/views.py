"""What the workbench's pages and API share: who is asking, and the one path by which a person's
disposition is recorded. What a case shows is ops/workbench/case_view.py's.
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from multidict import MultiDictProxy

from ops.workbench.auth import SESSION_COOKIE, NewSession, SignInLimiter, Users
from ops.workbench.context import User, WorkbenchContext
from ops.workbench.events import build_records
from ops.workbench.store import CaseRow
from rules.casework import Action, Kind, Refused, Role, State
from streams.logs import get_logger

log = get_logger("screener.workbench")

CTX = web.AppKey("workbench_ctx", WorkbenchContext)
LIMITER = web.AppKey("workbench_limiter", SignInLimiter)


@dataclass(frozen=True, slots=True)
class Identity:
    """The signed-in user of one request. The role is the configuration's, never the request's."""

    user: User
    via: str  # session, bearer or proxy
    csrf: str | None  # None for Bearer requests: no cookie, so no cross-site forgery to guard
    session_token: str | None = None
    new_session: NewSession | None = None  # a proxy-signed user's new session, for the cookie


IDENTITY = web.RequestKey("workbench_identity", Identity)
CONTENT_SECURITY_POLICY = "default-src 'self'; frame-ancestors 'none'; form-action 'self'"

OPEN_STATES = (State.OPEN, State.ESCALATED, State.PENDING_APPROVAL)
SEVERITIES = ("high", "medium")
ACTING_ROLES = (Role.ANALYST, Role.APPROVER)


def set_session_cookie(response: web.StreamResponse, ctx: WorkbenchContext, token: str) -> None:
    # Lax, not Strict: a link to a case from a ticket or an e-mail opens it signed in; GETs change
    # nothing, and every POST also needs the session's CSRF token.
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=ctx.options.session_seconds,
        path="/",
        httponly=True,
        secure=ctx.options.secure_cookies,
        samesite="Lax",
    )


async def read_form(request: web.Request) -> MultiDictProxy[str | bytes | bytearray | web.FileField]:
    """The request's form, or 400 when it cannot be read as one: a charset that is none, bytes
    that are not in it, a broken multipart body, a field that is not Unicode text."""
    try:
        form = await request.post()
        for value in form.values():
            if isinstance(value, str):
                value.encode("utf-8")
    # UnicodeError is a ValueError, an unknown charset a LookupError; a multipart part whose header
    # line aiohttp cannot parse raises its HttpProcessingError (InvalidHeader, LineTooLong).
    except (ValueError, LookupError, HttpProcessingError):
        raise web.HTTPBadRequest(text="The form cannot be read: send it from the workbench's pages.") from None
    return form


def ctx_of(request: web.Request) -> WorkbenchContext:
    return request.app[CTX]


def users_of(ctx: WorkbenchContext) -> Users:
    users: Users = ctx.users
    return users


def identity(request: web.Request) -> Identity:
    return request[IDENTITY]


def now_text(ctx: WorkbenchContext) -> str:
    """ctx.clock() in RFC 3339, UTC, as recorded in dispositions."""
    return ctx.clock().astimezone(UTC).isoformat()


@dataclass(frozen=True, slots=True)
class Disposed:
    case: CaseRow
    disposition: dict[str, Any]
    release: dict[str, Any] | None


async def dispose(
    ctx: WorkbenchContext,
    case_id: str,
    user: User,
    kind: Kind,
    reason: str,
    stop_action: str | None = None,
    answers: str | None = None,
    disposition_id: str | None = None,
) -> Disposed:
    """Record a person's disposition: decided and stored in one transaction (store.act), or
    Refused with nothing recorded. The only path from pages and API alike. A client may name its
    disposition (`disposition_id`), so that a retry after a lost answer is refused as a duplicate
    instead of recorded twice."""
    at = now_text(ctx)
    action = Action(
        disposition_id=disposition_id or uuid.uuid4().hex,
        kind=kind,
        actor=user.name,
        role=user.role,
        reason=reason,
        stop_action=stop_action if kind is Kind.CONFIRM else None,
        answers=answers if kind in (Kind.APPROVE, Kind.RETURN) else None,
    )
    built: list[tuple[dict[str, Any], dict[str, Any] | None]] = []

    def build(case: CaseRow, act: Action, step: Any) -> tuple[dict[str, Any], dict[str, Any] | None]:
        records = build_records(case, act, step, at)
        built.append(records)
        return records

    loop = asyncio.get_running_loop()
    # store.act writes with synchronous=FULL (an fsync): off the event loop.
    try:
        row, _ = await loop.run_in_executor(None, functools.partial(ctx.store.act, case_id, action, build, at))
    except Refused as refused:
        # A refused attempt is recorded nowhere else: the log keeps who tried what (at warning: a
        # four-eyes or role refusal is a control working, or someone testing it).
        log.warning(
            "disposition_refused",
            case_id=case_id,
            kind=kind.value,
            role=user.role.value,
            user=user.name,
            code=refused.code,
        )
        raise
    ctx.wake_publisher()
    disposition, release = built[-1]
    log.info(
        "disposition_recorded",
        case_id=case_id,
        payment_id=row.payment_id,
        kind=kind.value,
        role=user.role.value,
        state=row.state.value,
        released=release is not None,
    )
    return Disposed(row, disposition, release)
