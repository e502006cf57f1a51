"""The OpenAPI 3.1 description of every route the workbench serves (GET /api/v1/openapi.json).

The pages are in it too (as text/html), so that it is the one list of what the server answers:
tests/ops/workbench/test_api.py checks it against the application's routes both ways.

(About 400 lines: it is the document itself, one dict literal, read top to bottom.)
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from rules.casework import MAX_REASON_CHARS, STOP_ACTIONS, Kind, State

_REF = "#/components/schemas/"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF + name}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


def _html(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


_STR = {"type": "string"}
_NULL_STR = {"type": ["string", "null"]}
_OBJ = {"type": "object", "additionalProperties": True}
_CASE_ID = {"name": "case_id", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 64}}
_CSRF = {
    "name": "X-CSRF-Token",
    "in": "header",
    "required": False,
    "description": "The session's CSRF token; required when authenticated by the session cookie.",
    "schema": _STR,
}
_UNAUTHENTICATED = _error("Not signed in: no valid session cookie or Bearer token")
_PUBLIC: list[dict[str, list[str]]] = []

_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error", "message"],
        "properties": {"error": _STR, "message": {"type": "string", "maxLength": 500}},
    },
    "Regulation": {
        "type": ["object", "null"],
        "description": (
            "The cited paragraph of 31 CFR 1010 subpart F under its ancestors' lead-ins, with its sub-paragraphs."
        ),
        "properties": {
            "citation": _STR,
            "section": _STR,
            "heading": _STR,
            "found": {"type": "boolean"},
            "path": {
                "type": "array",
                "items": {"type": "object", "properties": {"label": _STR, "text": _STR}},
            },
            "children": {
                "type": "array",
                "maxItems": 40,
                "description": "The cited paragraph's sub-paragraphs at every depth, in document order",
                "items": {"type": "object", "properties": {"label": _STR, "text": _STR}},
            },
            "more_children": {"type": "integer", "description": "Sub-paragraphs beyond those in children"},
        },
    },
    "ListedEntry": {
        "type": ["object", "null"],
        "description": (
            "The sanctions list entry a blocked-person hit cites, from the rules in force; for an entity "
            "blocked under OFAC's 50 Percent Rule, its blocked owners."
        ),
        "properties": {
            "id": _STR,
            "list": _STR,
            "name": _STR,
            "type": _STR,
            "aliases": {"type": "array", "maxItems": 25, "items": _STR},
            "countries": {"type": "array", "maxItems": 25, "items": _STR},
            "programs": {"type": "array", "maxItems": 25, "items": _STR},
            "authority": _STR,
            "remarks": _STR,
            "bics": {"type": "array", "maxItems": 25, "items": _STR},
            "source": _STR,
            "owners": {
                "type": "array",
                "maxItems": 25,
                "items": {"type": "object", "properties": {"id": _STR, "name": _STR, "list": _STR}},
            },
            "more": {
                "type": "object",
                "description": "How many items a cut list has beyond those shown, by list (e.g. aliases)",
                "additionalProperties": {"type": "integer"},
            },
        },
    },
    "Hit": {
        "type": "object",
        "properties": {
            "rule": _STR,
            "citation": _STR,
            "action": _STR,
            "field": _STR,
            "value": _STR,
            "matched": _STR,
            "score": {"type": ["number", "null"]},
            "reason": _STR,
            "regulation": _ref("Regulation"),
            "listed_entry": _ref("ListedEntry"),
        },
    },
    "CaseSummary": {
        "type": "object",
        "properties": {
            "case_id": _STR,
            "payment_id": _STR,
            "state": {"enum": [s.value for s in State]},
            "severity": {"enum": ["high", "medium"]},
            "account_id": _STR,
            "screened_at": _STR,
            "opened_at": _STR,
            "updated_at": _STR,
            "age_seconds": {"type": "integer"},
            "age": _STR,
            "four_eyes": {"type": "array", "items": _STR},
            "pending": {
                "type": ["object", "null"],
                "properties": {"disposition_id": _STR, "actor": _STR, "reason": _STR},
            },
            "holding": {"type": "array", "items": {"type": "object", "properties": {"rule": _STR, "citation": _STR}}},
        },
    },
    "Disposition": {
        "type": "object",
        "description": "The Disposition event (schemas/screener.Disposition.avsc).",
        "properties": {
            "disposition_id": _STR,
            "payment_id": _STR,
            "decision_digest": _STR,
            "decision_screened_at": _STR,
            "kind": {"enum": [k.value for k in Kind]},
            "actor": _STR,
            "role": _STR,
            "at": _STR,
            "reason": _STR,
            "stop_action": _NULL_STR,
            "answers": _NULL_STR,
            "state": _STR,
        },
    },
    "Release": {
        "type": ["object", "null"],
        "description": "The Release event (schemas/screener.Release.avsc), once per held payment.",
        "properties": {
            "release_id": _STR,
            "payment_id": _STR,
            "outcome": {"enum": ["release", "stop"]},
            "stop_action": _NULL_STR,
            "reason": _STR,
            "decided_by": {"type": "array", "items": _STR},
            "disposition_id": _STR,
            "decision_digest": _STR,
            "decided_at": _STR,
        },
    },
    "CaseDetail": {
        "type": "object",
        "properties": {
            "case": _ref("CaseSummary"),
            "decision": _OBJ,
            "hits": {"type": "array", "items": _ref("Hit")},
            "payment": {"type": ["object", "null"], "description": "The payment's fields, when the store has it."},
            "payment_error": _STR,
            "registry": {
                "type": "object",
                "properties": {
                    "account": {"type": ["object", "null"]},
                    "institutions": {
                        "type": "array",
                        "items": {"type": "object", "properties": {"bic": _STR, "record": _OBJ}},
                    },
                },
            },
            "history": {"type": "array", "items": _ref("Disposition")},
            "release": _ref("Release"),
        },
    },
    "DispositionRequest": {
        "type": "object",
        "required": ["kind"],
        "additionalProperties": False,
        "properties": {
            "kind": {"enum": [k.value for k in Kind]},
            "reason": {"type": "string", "maxLength": MAX_REASON_CHARS},
            "stop_action": {"enum": [*STOP_ACTIONS, None], "description": "For confirm: how the payment is stopped"},
            "answers": {
                "type": ["string", "null"],
                "description": "Required for approve/return: the disposition_id of the proposal answered",
            },
            "disposition_id": {
                "type": "string",
                "pattern": "^[A-Za-z0-9_-]{8,64}$",
                "description": "Optional, made by the client: a retry with the same id is refused as a duplicate (409)",
            },
        },
    },
}


def _op(summary: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"summary": summary, "responses": responses, **extra}


_PATHS: dict[str, Any] = {
    "/healthz": {"get": _op("Liveness", {"200": _json(_OBJ, "{status: alive}")}, security=_PUBLIC)},
    "/login": {
        "get": _op("The sign-in page", {"200": _html("The form")}, security=_PUBLIC),
        "post": _op(
            "Sign in (form: user, password, next, login_csrf)",
            {
                "303": {"description": "Signed in: the session cookie is set"},
                "401": _html("Wrong user name or password"),
                "403": _html("The form's nonce does not match its cookie"),
                "429": _html("Too many failed sign-ins for this user name"),
            },
            security=_PUBLIC,
        ),
    },
    "/logout": {"post": _op("Sign out (form: csrf)", {"303": {"description": "To the sign-in page"}})},
    "/": {"get": _op("The queue (query: state, severity, q, offset)", {"200": _html("The queue")})},
    "/cases/{case_id}": {
        "get": _op(
            "A case with its evidence",
            {"200": _html("The case"), "404": _html("No such case")},
            parameters=[_CASE_ID],
        )
    },
    "/cases/{case_id}/dispositions": {
        "post": _op(
            "Record a disposition (form: csrf, kind, reason, stop_action, answers)",
            {
                "303": {"description": "Recorded: back to the case"},
                "400": _html("No such kind"),
                "403": _html("Read-only role, or a missing or wrong CSRF token"),
                "409": _html("Refused by the casework rules: nothing recorded"),
            },
            parameters=[_CASE_ID],
        )
    },
    "/static/workbench.css": {
        "get": _op("The stylesheet", {"200": {"description": "CSS", "content": {"text/css": {"schema": _STR}}}})
    },
    "/metrics": {
        "get": _op(
            "Prometheus metrics",
            {
                "200": {"description": "Text exposition", "content": {"text/plain": {"schema": _STR}}},
                "401": _UNAUTHENTICATED,
            },
        )
    },
    "/api/v1/screen": {
        "post": _op(
            "Screen one payment (JSON, ISO 20022 or SWIFT MT; at most 8 MiB); records nothing",
            {
                "200": _json(
                    {
                        "type": "object",
                        "properties": {
                            "decisions": {"type": "array", "items": _OBJ},
                            "dead_letters": {"type": "array", "items": _OBJ},
                            "versions": {"type": "object", "additionalProperties": _STR},
                        },
                    },
                    "The decisions (wire form) and dead-letters",
                ),
                "400": _error("Empty body"),
                "401": _UNAUTHENTICATED,
                "413": _error("Body over 8 MiB"),
            },
            parameters=[_CSRF],
            requestBody={"required": True, "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}},
        )
    },
    "/api/v1/cases": {
        "get": _op(
            "The queue: open cases (or those of one state), oldest first",
            {
                "200": _json(
                    {
                        "type": "object",
                        "properties": {
                            "cases": {"type": "array", "items": _ref("CaseSummary")},
                            "limit": {"type": "integer"},
                            "offset": {"type": "integer"},
                            "next_offset": {"type": ["integer", "null"]},
                            "open": _OBJ,
                        },
                    },
                    "A page of cases",
                ),
                "400": _error("A query parameter out of range"),
                "401": _UNAUTHENTICATED,
            },
            parameters=[
                {"name": "state", "in": "query", "schema": {"enum": [s.value for s in State]}},
                {"name": "severity", "in": "query", "schema": {"enum": ["high", "medium"]}},
                {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 200}},
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
                {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
            ],
        )
    },
    "/api/v1/cases/{case_id}": {
        "get": _op(
            "A case: decision, hits with regulation text, registry records, history, release",
            {"200": _json(_ref("CaseDetail"), "The case"), "401": _UNAUTHENTICATED, "404": _error("No such case")},
            parameters=[_CASE_ID],
        )
    },
    "/api/v1/cases/{case_id}/dispositions": {
        "post": _op(
            "Record a disposition as the authenticated user (the role is the configuration's)",
            {
                "201": _json(
                    {
                        "type": "object",
                        "properties": {
                            "disposition": _ref("Disposition"),
                            "case": _ref("CaseSummary"),
                            "release": _ref("Release"),
                        },
                    },
                    "Recorded",
                ),
                "400": _error("Malformed body"),
                "401": _UNAUTHENTICATED,
                "403": _error("Read-only role (auditor), or a cookie request without its CSRF token"),
                "404": _error("No such case"),
                "409": _error("Refused by the casework rules (closed, four_eyes, stop_action, ...): nothing recorded"),
            },
            parameters=[_CASE_ID, _CSRF],
            requestBody={"required": True, "content": {"application/json": {"schema": _ref("DispositionRequest")}}},
        )
    },
    "/api/v1/status": {
        "get": _op(
            "Readiness: the feed, registry and publisher's progress (counts and positions only)",
            {"200": _json(_OBJ, "Ready"), "401": _UNAUTHENTICATED, "503": _json(_OBJ, "Not ready yet")},
        )
    },
    "/api/v1/openapi.json": {"get": _op("This document", {"200": _json(_OBJ, "OpenAPI 3.1")})},
}


@functools.cache
def _document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Payment screener analyst workbench",
            "version": "1",
            "description": "Held payments (review decisions) and their dispositions by people, with four eyes "
            "for clearing special-measure and blocked-person holds.",
        },
        "security": [{"bearer": []}, {"cookie": []}],
        "paths": _PATHS,
        "components": {
            "schemas": _SCHEMAS,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "An API token from the users file"},
                "cookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "wb_session",
                    "description": "A signed-in session",
                },
            },
        },
    }


def document() -> dict[str, Any]:
    """A copy of the document (callers may change theirs)."""
    return copy.deepcopy(_document())
