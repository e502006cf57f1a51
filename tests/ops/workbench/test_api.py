"""The workbench's JSON API (/api/v1), its OpenAPI document, and /metrics."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from structlog.testing import capture_logs

from ops.workbench import openapi
from ops.workbench.api import BadBodyError, parse_disposition
from ops.workbench.store import Store
from ops.workbench.web import make_app
from rules.casework import Kind, State
from tests.ops.workbench.web_support import (
    CFR_CITATION,
    FOUR_EYES,
    OFAC_CITATION,
    PLAIN,
    SECOND,
    Browser,
    Fakes,
    api_client,
    bearer,
    make_ctx,
    run,
    seed,
)


def test_the_queue_and_a_case_as_json() -> None:
    store = Store(":memory:")
    cases = seed(store)
    ctx = make_ctx(store)

    async def scenario() -> None:
        async with api_client(ctx) as api:
            body = await (await api.http.get("/api/v1/cases", headers=bearer("aud"))).json()
            assert [c["payment_id"] for c in body["cases"]] == [FOUR_EYES, PLAIN, SECOND]
            assert body["open"]["total"] == 3
            assert body["next_offset"] is None
            first = body["cases"][0]
            assert (first["severity"], first["state"], first["age"]) == ("high", "open", "3 h 0 min")
            assert first["holding"] == [{"rule": "blocked_person", "citation": OFAC_CITATION}]
            page = await api.http.get("/api/v1/cases", params={"limit": "1", "severity": "high"}, headers=bearer("aud"))
            body = await page.json()
            assert [c["payment_id"] for c in body["cases"]] == [FOUR_EYES]
            assert body["next_offset"] == 1
            for bad in ({"limit": "0"}, {"limit": "x"}, {"state": "nope"}, {"severity": "low"}, {"sort": "age"}):
                response = await api.http.get("/api/v1/cases", params=bad, headers=bearer("aud"))
                assert response.status == 400, bad
                assert (await response.json())["error"] == "bad_query"
            detail = await (await api.http.get(f"/api/v1/cases/{cases[PLAIN]}", headers=bearer("aud"))).json()
            (hit,) = detail["hits"]
            assert hit["citation"] == CFR_CITATION
            assert [p["label"] for p in hit["regulation"]["path"]] == ["(a)", "(a)(1)", "(a)(1)(ii)"]
            assert detail["registry"]["account"]["account_id"] == "ACC-1"
            assert detail["registry"]["institutions"][0]["bic"] == "PHNTKYKY"
            assert detail["payment"] is None
            assert detail["payment_error"] == "payment not available"
            assert detail["history"] == []
            assert detail["release"] is None
            detail = await (await api.http.get(f"/api/v1/cases/{cases[FOUR_EYES]}", headers=bearer("aud"))).json()
            assert detail["hits"][0]["regulation"] is None
            assert detail["payment"]["amount"] == "25000.00"
            response = await api.http.get("/api/v1/cases/unknown", headers=bearer("aud"))
            assert response.status == 404
            assert (await response.json())["error"] == "no_case"

    run(scenario())


async def post(api: Browser, case_id: str, who: str, body: Any) -> tuple[int, Any]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = await api.http.post(
        f"/api/v1/cases/{case_id}/dispositions", data=data, headers=bearer(who) | {"Content-Type": "application/json"}
    )
    return response.status, await response.json()


def test_dispositions_four_eyes_refusals_and_roles() -> None:
    store = Store(":memory:")
    cases = seed(store)
    fakes = Fakes()
    ctx = make_ctx(store, fakes)
    case_id = cases[FOUR_EYES]

    async def scenario() -> None:
        async with api_client(ctx) as api:
            status, body = await post(api, case_id, "ana", {"kind": "clear", "reason": "a namesake"})
            assert status == 201
            assert body["case"]["state"] == "pending_approval"
            assert body["disposition"]["actor"] == "ana"
            assert body["disposition"]["role"] == "analyst"
            assert body["release"] is None
            proposal = body["disposition"]["disposition_id"]
            assert re.fullmatch(r"[0-9a-f]{32}", proposal)
            status, body = await post(api, case_id, "bea", {"kind": "approve", "reason": ""})
            assert (status, body["error"]) == (400, "bad_request")
            assert "answers" in body["message"]
            status, body = await post(api, case_id, "ana", {"kind": "approve", "answers": proposal})
            assert (status, body["error"]) == (409, "not_approver")
            status, body = await post(api, case_id, "aud", {"kind": "approve", "answers": proposal})
            assert (status, body["error"]) == (403, "read_only")
            status, body = await post(api, case_id, "bea", {"kind": "approve", "answers": "stale"})
            assert (status, body["error"]) == (409, "stale")
            status, body = await post(api, case_id, "bea", {"kind": "approve", "answers": proposal})
            assert status == 201
            assert body["release"]["decided_by"] == ["ana", "bea"]
            assert body["case"]["state"] == "released"
            status, body = await post(api, case_id, "carl", {"kind": "comment", "reason": "late"})
            assert (status, body["error"]) == (409, "closed")
            releases = [e for e in store.unsent() if e.kind == "release"]
            assert len(releases) == 1
            assert fakes.wakes == 2
            # The proposer of a clear cannot approve it.
            status, body = await post(api, cases[SECOND], "bea", {"kind": "clear", "reason": "namesake"})
            assert status == 201
            own = body["disposition"]["disposition_id"]
            status, body = await post(api, cases[SECOND], "bea", {"kind": "approve", "answers": own})
            assert (status, body["error"]) == (409, "four_eyes")
            # Confirm says how; a plain case releases at once.
            status, body = await post(api, cases[PLAIN], "ana", {"kind": "confirm", "reason": "shell"})
            assert (status, body["error"]) == (409, "stop_action")
            status, body = await post(api, cases[PLAIN], "ana", {"kind": "clear", "reason": "branch"})
            assert (status, body["release"]["outcome"]) == (201, "release")
            status, body = await post(api, "unknown", "ana", {"kind": "comment", "reason": "x"})
            assert (status, body["error"]) == (404, "no_case")

    run(scenario())


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "the body is not JSON"),
        (b"[1, 2]", "the body is a JSON object"),
        (b'{"kind": "clear", "reason": "x", "role": "approver"}', "unknown field 'role'"),
        (b'{"kind": "release"}', "kind is one of clear, confirm"),
        (b'{"kind": "comment", "reason": 5}', "reason is a string"),
        (b'{"kind": "confirm", "reason": "x", "stop_action": ["block"]}', "stop_action is a string"),
        (b"[" * 100_000 + b"]" * 100_000, "the body"),
    ],
)
def test_a_malformed_disposition_is_a_precise_400(body: bytes, message: str) -> None:
    store = Store(":memory:")
    cases = seed(store)
    ctx = make_ctx(store)

    async def scenario() -> None:
        async with api_client(ctx) as api:
            status, answer = await post(api, cases[PLAIN], "ana", body)
            assert status == 400
            assert answer["error"] == "bad_request"
            assert message in answer["message"]
            assert len(answer["message"]) <= 500
            assert store.history(cases[PLAIN]) == []

    run(scenario())


def test_parse_disposition_reads_the_optional_fields() -> None:
    body = {"kind": "confirm", "reason": "r", "stop_action": "block", "answers": None}
    assert parse_disposition(body) == (Kind.CONFIRM, "r", "block", None)
    assert parse_disposition({"kind": "approve", "answers": "d1"}) == (Kind.APPROVE, "", None, "d1")
    for kind in ("approve", "return"):
        with pytest.raises(BadBodyError, match="answers"):
            parse_disposition({"kind": kind, "reason": "r"})


def test_screen_returns_the_screen_function_s_decisions() -> None:
    store = Store(":memory:")
    fakes = Fakes()
    ctx = make_ctx(store, fakes)

    async def scenario() -> None:
        async with api_client(ctx) as api:
            payment = b'{"payment_id": "P-9", "amount": "1.00"}'
            response = await api.http.post("/api/v1/screen", data=payment, headers=bearer("ana"))
            assert response.status == 200
            body = await response.json()
            assert body["decisions"] == [{"payment_id": "P-9", "decision": "pass", "hits": []}]
            assert body["dead_letters"] == []
            assert body["versions"] == {"rules_version": "rules-e0fe", "registry_version": "reg-23df"}
            assert fakes.screened == [payment]
            response = await api.http.post("/api/v1/screen", data=b"  ", headers=bearer("ana"))
            assert (response.status, (await response.json())["error"]) == (400, "empty")
            assert store.queue() == []  # screening on request records nothing

    run(scenario())


def _app_routes() -> set[tuple[str, str]]:
    app = make_app(make_ctx(Store(":memory:")))
    return {
        (route.method.lower(), route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None and route.method != "HEAD"
    }


def test_openapi_describes_every_route_and_nothing_else() -> None:
    document = openapi.document()
    documented = {(method, path) for path, item in document["paths"].items() for method in item}
    assert documented == _app_routes()
    assert document["openapi"] == "3.1.0"
    assert set(document["components"]["securitySchemes"]) == {"bearer", "cookie"}
    public = {(m, p) for p, item in document["paths"].items() for m, op in item.items() if op.get("security") == []}
    assert public == {("get", "/login"), ("post", "/login"), ("get", "/healthz")}
    text = json.dumps(document)
    for ref in set(re.findall(r'"\$ref": "#/components/schemas/([A-Za-z]+)"', text)):
        assert ref in document["components"]["schemas"]


def test_openapi_is_a_valid_document() -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(openapi.document())


def test_openapi_is_served_behind_sign_in() -> None:
    ctx = make_ctx(Store(":memory:"))

    async def scenario() -> None:
        async with api_client(ctx) as api:
            assert (await api.http.get("/api/v1/openapi.json")).status == 401
            response = await api.http.get("/api/v1/openapi.json", headers=bearer("aud"))
            assert await response.json() == openapi.document()
            response = await api.http.get("/api/v1/status", headers=bearer("aud"))
            assert response.status == 200

    run(scenario())


def test_metrics_come_from_the_store() -> None:
    store = Store(":memory:")
    cases = seed(store)
    ctx = make_ctx(store)

    async def scenario() -> None:
        async with api_client(ctx) as api:
            await post(api, cases[FOUR_EYES], "ana", {"kind": "clear", "reason": "namesake"})
            await post(api, cases[PLAIN], "ana", {"kind": "escalate", "reason": "unsure"})
            await post(api, cases[PLAIN], "bea", {"kind": "comment", "reason": "looking"})
            await post(api, cases[SECOND], "bea", {"kind": "confirm", "reason": "a match", "stop_action": "reject"})
            assert (await api.http.get("/metrics")).status == 401
            response = await api.http.get("/metrics", headers=bearer("aud"))
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain")
            text = await response.text()
        assert 'screener_workbench_open_reviews{state="open"} 0.0' in text
        assert 'screener_workbench_closed_cases{outcome="stopped"} 1.0' in text
        assert "screener_workbench_feed_dead_letters_total 0.0" in text
        assert 'screener_workbench_closed_cases{outcome="released"} 0.0' in text
        assert 'screener_workbench_dispositions_total{actor="bea",kind="confirm"} 1.0' in text
        assert 'screener_workbench_open_reviews{state="escalated"} 1.0' in text
        assert 'screener_workbench_open_reviews{state="pending_approval"} 1.0' in text
        # The oldest open case was screened at 09:00; the clock says 12:00.
        assert "screener_workbench_oldest_open_review_age_seconds 10800.0" in text
        assert 'screener_workbench_dispositions_total{actor="ana",kind="clear"} 1.0' in text
        assert 'screener_workbench_dispositions_total{actor="ana",kind="escalate"} 1.0' in text
        assert 'screener_workbench_dispositions_total{actor="bea",kind="comment"} 1.0' in text
        row = store.case(cases[FOUR_EYES])
        assert row is not None
        assert row.state is State.PENDING_APPROVAL

    run(scenario())


def test_a_hostile_disposition_body_is_answered_and_records_nothing() -> None:
    store = Store(":memory:")
    cases = seed(store)
    ctx = make_ctx(store)

    async def scenario() -> None:
        async with api_client(ctx) as api:
            bodies: list[dict[str, Any]] = [{"kind": []}, {"kind": {}}, {"kind": ["clear"], "reason": "x"}]
            for body in bodies:
                status, answer = await post(api, cases[PLAIN], "ana", body)
                assert (status, answer["error"]) == (400, "bad_request"), body
            # A lone surrogate in a JSON escape: refused, not recorded (it would stop the publisher).
            raw = b'{"kind": "clear", "reason": "a namesake \\ud800"}'
            status, answer = await post(api, cases[PLAIN], "ana", raw)
            assert (status, answer["error"]) == (409, "reason_text")

    run(scenario())
    assert store.unsent() == []
    assert store.history(cases[PLAIN]) == []


def test_a_retry_with_the_client_s_disposition_id_is_refused_as_a_duplicate() -> None:
    store = Store(":memory:")
    cases = seed(store)
    ctx = make_ctx(store)

    async def scenario() -> None:
        async with api_client(ctx) as api:
            body = {"kind": "comment", "reason": "called the bank", "disposition_id": "retry-0001"}
            status, first = await post(api, cases[PLAIN], "ana", body)
            assert status == 201
            assert first["disposition"]["disposition_id"] == "retry-0001"
            status, again = await post(api, cases[PLAIN], "ana", body)
            assert (status, again["error"]) == (409, "duplicate")
            assert len(store.history(cases[PLAIN])) == 1
            for bad in ("short", "x" * 65, "has space!", 12345678):
                status, refused = await post(api, cases[PLAIN], "ana", body | {"disposition_id": bad})
                assert (status, refused["error"]) == (400, "bad_request")

    run(scenario())


def test_a_refused_attempt_is_logged_with_who_tried_it() -> None:
    store = Store(":memory:")
    cases = seed(store)
    ctx = make_ctx(store)

    async def scenario() -> None:
        async with api_client(ctx) as api:
            with capture_logs() as logs:
                status, _ = await post(api, cases[PLAIN], "ana", {"kind": "confirm", "reason": "x"})
            assert status == 409
        refused = [e for e in logs if e["event"] == "disposition_refused"]
        assert len(refused) == 1
        assert refused[0]["log_level"] == "warning"
        assert (refused[0]["user"], refused[0]["code"], refused[0]["kind"]) == ("ana", "stop_action", "confirm")

    run(scenario())
