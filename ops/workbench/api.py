"""The workbench's JSON API under /api/v1: screen a payment, read the queue and cases, record a
disposition. The same session or Bearer token as the pages; the same one path for dispositions
(views.dispose) as the forms. Errors are `{"error": code, "message": text}` with a bounded text.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from ops.workbench import case_view, openapi, views
from rules.casework import Kind, Refused, State

MAX_SCREEN_BYTES = 8 * 1024 * 1024
MAX_LIMIT = 200
_DISPOSITION_KEYS = ("kind", "reason", "stop_action", "answers", "disposition_id")
# A client-made disposition id: what a retry repeats, so that it is refused as a duplicate.
_CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
_QUEUE_KEYS = frozenset({"state", "severity", "q", "limit", "offset"})


def _dumps(value: Any) -> str:
    # Registry records come from YAML: dates and the like are written as their text.
    return json.dumps(value, default=str, ensure_ascii=False)


def reply(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.json_response(body, status=status, headers=headers, dumps=_dumps)


def error(status: int, code: str, message: str) -> web.Response:
    return reply({"error": code, "message": message[:500]}, status)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/screen", screen)
    app.router.add_get("/api/v1/cases", cases)
    app.router.add_get("/api/v1/cases/{case_id}", case)
    app.router.add_post("/api/v1/cases/{case_id}/dispositions", disposition)
    app.router.add_get("/api/v1/openapi.json", openapi_json)
    app.router.add_get("/api/v1/status", status)


async def status(request: web.Request) -> web.Response:
    """The feed's, registry's and publisher's progress (positions and counts, no names): 503 until
    the workbench is ready. Behind sign-in: /healthz is the only unauthenticated probe."""
    body = dict(views.ctx_of(request).status())
    return reply(body, 200 if body.get("ready", True) else 503)


async def openapi_json(request: web.Request) -> web.Response:
    return reply(openapi.document())


async def screen(request: web.Request) -> web.Response:
    """Screen one payment now (any format `screen` reads) and return its decisions; records nothing."""
    ctx = views.ctx_of(request)
    body = await request.clone(client_max_size=MAX_SCREEN_BYTES).read()
    if not body.strip():
        return error(400, "empty", "the request body is the payment to screen, and it is empty")
    loop = asyncio.get_running_loop()
    # Screening is CPU work (matching, parsing): off the event loop.
    decisions, dead_letters = await loop.run_in_executor(None, ctx.screen, body)
    views.log.info("screened_on_request", decisions=len(decisions), dead_letters=len(dead_letters))
    return reply({"decisions": decisions, "dead_letters": dead_letters, "versions": dict(ctx.versions())})


def _int(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ValueError(f"{name} is an integer from {low} to {high}")
    return int(raw)


async def cases(request: web.Request) -> web.Response:
    ctx = views.ctx_of(request)
    query = request.query
    try:
        unknown = sorted(set(query) - _QUEUE_KEYS)
        if unknown:
            raise ValueError(f"unknown query parameter {unknown[0][:40]!r} (known: {', '.join(sorted(_QUEUE_KEYS))})")
        state = query.get("state", "")
        if state and state not in {s.value for s in State}:
            raise ValueError(f"state is one of {', '.join(s.value for s in State)}")
        severity = query.get("severity", "")
        if severity and severity not in views.SEVERITIES:
            raise ValueError(f"severity is one of {', '.join(views.SEVERITIES)}")
        search = query.get("q", "")
        if len(search) > 200:
            raise ValueError("q is at most 200 characters")
        limit = _int(query, "limit", 50, 1, MAX_LIMIT)
        offset = _int(query, "offset", 0, 0, 1_000_000)
    except ValueError as exc:
        return error(400, "bad_query", str(exc))
    states = (State(state),) if state else views.OPEN_STATES
    rows = ctx.store.queue(states, severity or None, search, limit + 1, offset)
    total, oldest, by_state = ctx.store.open_summary()
    now = ctx.clock()
    return reply(
        {
            "cases": [case_view.case_summary(row, now) for row in rows[:limit]],
            "limit": limit,
            "offset": offset,
            "next_offset": offset + limit if len(rows) > limit else None,
            "open": {"total": total, "by_state": by_state, "oldest_screened_at": oldest},
        }
    )


async def case(request: web.Request) -> web.Response:
    ctx = views.ctx_of(request)
    row = ctx.store.case(request.match_info["case_id"])
    if row is None:
        return error(404, "no_case", "no held payment has this case id")
    return reply(case_view.case_detail(ctx, row))


class BadBodyError(ValueError):
    """A request body that is not what the route takes; the message says precisely why."""


def client_disposition_id(body: Any) -> str | None:
    """The body's own `disposition_id` (8-64 letters, digits, _ or -), None when absent."""
    value = body.get("disposition_id") if isinstance(body, dict) else None
    if value is None:
        return None
    if not isinstance(value, str) or not _CLIENT_ID.fullmatch(value):
        raise BadBodyError("disposition_id is 8 to 64 letters, digits, _ or -: the id a retry repeats")
    return value


def parse_disposition(body: Any) -> tuple[Kind, str, str | None, str | None]:
    """(kind, reason, stop_action, answers) of a request body, or BadBodyError saying what is wrong."""
    if not isinstance(body, dict):
        raise BadBodyError("the body is a JSON object: {kind, reason, stop_action?, answers?}")
    unknown = sorted(str(k)[:40] for k in body if k not in _DISPOSITION_KEYS)
    if unknown:
        raise BadBodyError(f"unknown field {unknown[0]!r} (fields: {', '.join(_DISPOSITION_KEYS)})")
    kind = body.get("kind")
    if not isinstance(kind, str) or kind not in {k.value for k in Kind}:  # a list or object is not hashable
        raise BadBodyError(f"kind is one of {', '.join(k.value for k in Kind)}")
    reason = body.get("reason", "")
    if not isinstance(reason, str):
        raise BadBodyError("reason is a string")
    optional: list[str | None] = []
    for name in ("stop_action", "answers"):
        value = body.get(name)
        if value is not None and not (isinstance(value, str) and len(value) <= 64):
            raise BadBodyError(f"{name} is a string of at most 64 characters, or null")
        optional.append(value)
    if kind in (Kind.APPROVE, Kind.RETURN) and optional[1] is None:
        # The approver answers the proposal they read: without its id, a proposal replaced in the
        # meantime would be approved unread.
        raise BadBodyError(f"{kind} names the proposal it answers: answers is its disposition_id")
    return Kind(kind), reason, optional[0], optional[1]


async def disposition(request: web.Request) -> web.Response:
    ctx = views.ctx_of(request)
    user = views.identity(request).user
    case_id = request.match_info["case_id"]
    if user.role not in views.ACTING_ROLES:
        return error(403, "read_only", "an auditor reads cases and changes nothing")
    if ctx.store.case(case_id) is None:
        return error(404, "no_case", "no held payment has this case id")
    try:
        body = json.loads(await request.read())
        kind, reason, stop_action, answers = parse_disposition(body)
        disposition_id = client_disposition_id(body)
    except (ValueError, RecursionError) as exc:
        message = str(exc) if not isinstance(exc, json.JSONDecodeError) else f"the body is not JSON ({exc.msg})"
        return error(400, "bad_request", message if not isinstance(exc, RecursionError) else "the body nests too deep")
    try:
        done = await views.dispose(ctx, case_id, user, kind, reason, stop_action, answers, disposition_id)
    except Refused as refused:
        return error(404 if refused.code == "no_case" else 409, refused.code, refused.message)
    location = f"/api/v1/cases/{case_id}"
    body = {
        "disposition": done.disposition,
        "case": case_view.case_summary(done.case, ctx.clock()),
        "release": done.release,
    }
    return reply(body, 201, {"Location": location})
