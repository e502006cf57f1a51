"""The workbench's pages as investigators use them: the queue, a case's evidence, the action forms,
four eyes end to end, refusals, the auditor's read-only view, escaping."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pytest

from ops.workbench.store import NewCase, Store
from rules.casework import MAX_REASON_CHARS, State
from tests.ops.workbench.web_support import (
    CFR_CITATION,
    FOUR_EYES,
    OFAC_CITATION,
    PLAIN,
    SECOND,
    XSS,
    Fakes,
    browsers,
    decision,
    make_ctx,
    run,
    seed,
    serving,
)

FORM = re.compile(r'<form method="post" action="/cases/')


def releases_in_outbox(store: Store, payment_id: str) -> list[dict[str, object]]:
    return [e.record for e in store.unsent() if e.kind == "release" and e.payment_id == payment_id]


def test_the_queue_lists_open_cases_oldest_first_with_age_and_filters() -> None:
    store = Store(":memory:")
    seed(store)
    ctx = make_ctx(store)

    async def scenario() -> None:
        async with serving(ctx) as server, browsers(server, "ana") as (ana,):
            response = await ana.http.get("/")
            page = await response.text()
            assert response.status == 200
            assert "<title>Queue · Screener workbench</title>" in page
            assert page.index(FOUR_EYES) < page.index(PLAIN) < page.index(SECOND)
            assert "3 h 0 min" in page  # screened 09:00, now 12:00
            assert "1 h 0 min" in page
            assert "3 open cases: 3 open, 0 escalated, 0 waiting for approval." in " ".join(page.split())
            assert "High (four eyes)" in page
            assert OFAC_CITATION in page
            assert CFR_CITATION in page
            assert '<th scope="col">Payment</th>' in page
            assert '<label for="f-q">' in page
            assert 'href="#main"' in page
            page = await (await ana.http.get("/", params={"severity": "medium"})).text()
            assert PLAIN in page
            assert FOUR_EYES not in page
            page = await (await ana.http.get("/", params={"q": "p-023"})).text()
            assert SECOND in page
            assert PLAIN not in page
            response = await ana.http.get("/", params={"state": "bogus"})
            assert response.status == 400

    run(scenario())


def test_the_queue_pages_through_many_cases() -> None:
    store = Store(":memory:")
    cases = [
        NewCase(
            f"P-{i:03}",
            decision(f"P-{i:03}", [], f"2026-11-23T08:{i:02}:00+00:00"),
            f"2026-11-23T08:{i:02}:00+00:00",
            (),
            "A",
            "",
            "",
        )
        for i in range(55)
    ]
    store.ingest(cases)
    ctx = make_ctx(store)

    async def scenario() -> None:
        async with serving(ctx) as server, browsers(server, "aud") as (aud,):
            first = await (await aud.http.get("/")).text()
            assert "P-000" in first
            assert "P-049" in first
            assert "P-050" not in first
            assert 'href="/?offset=50"' in first
            second = await (await aud.http.get("/?offset=50")).text()
            assert "P-054" in second
            assert "P-000" not in second
            assert 'rel="prev"' in second

    run(scenario())


def test_a_case_shows_the_evidence_and_escapes_it() -> None:
    store = Store(":memory:")
    cases = seed(store)
    ctx = make_ctx(store)

    async def scenario() -> None:
        async with serving(ctx) as server, browsers(server, "ana") as (ana,):
            page = await (await ana.http.get(f"/cases/{cases[PLAIN]}")).text()
            assert "account.nested_institutions[0].bic" in page
            assert "Not maintain an account for a foreign shell bank" in page
            assert page.index("Due diligence for correspondent") < page.index("A covered financial institution shall")
            assert "<details>" in page
            assert "Phantom Island Bank" in page  # the institution named by the hit
            assert "payment not available" in page
            assert "rules-e0fe" in page
            page = await (await ana.http.get(f"/cases/{cases[FOUR_EYES]}")).text()
            assert "Why clearing needs four eyes" in page
            assert "No regulation text for this citation" in page
            assert "IVANOV, Ivan" in page
            assert "25000.00" in page  # the stored payment's fields
            assert XSS not in page
            assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
            assert "<script" not in page
            assert '<label for="reason">' in page
            for label in re.findall(r'<label for="([^"]+)"', page):
                assert f'id="{label}"' in page
            response = await ana.http.get("/cases/no-such-case")
            assert response.status == 404
            assert "No such case" in await response.text()
            # A payment id leads to its case.
            response = await ana.http.get(f"/cases/{PLAIN}", allow_redirects=False)
            assert (response.status, response.headers["Location"]) == (303, f"/cases/{cases[PLAIN]}")

    run(scenario())


def test_four_eyes_from_proposal_to_release() -> None:
    store = Store(":memory:")
    cases = seed(store)
    fakes = Fakes()
    ctx = make_ctx(store, fakes)
    case_id = cases[FOUR_EYES]

    async def scenario() -> None:
        async with serving(ctx) as server, browsers(server, "ana", "bea", "carl") as (ana, bea, carl):
            response = await bea.act(case_id, kind="clear", reason="false positive: a different Ivan")
            assert response.status == 303
            # The banner says the clear is proposed, not that the payment is released.
            assert response.headers["Location"] == f"/cases/{case_id}?recorded=proposed"
            assert (
                "Clear proposed: the payment is released"
                in await (await bea.http.get(f"/cases/{case_id}?recorded=proposed")).text()
            )
            row = store.case(case_id)
            assert row is not None
            assert row.state is State.PENDING_APPROVAL
            assert store.release(case_id) is None
            assert fakes.wakes == 1
            page = await (await bea.http.get(f"/cases/{case_id}")).text()
            assert "Waiting for a second approver; you proposed it." in page
            assert 'value="approve"' not in page
            # The proposer cannot approve, whatever the page offers.
            response = await bea.act(case_id, kind="approve", reason="")
            assert response.status == 409
            assert "four eyes" in await response.text()
            # An analyst cannot approve.
            page = await (await ana.http.get(f"/cases/{case_id}")).text()
            assert 'value="approve"' not in page
            response = await ana.act(case_id, kind="approve", reason="")
            assert response.status == 409
            assert "only an approver" in await response.text()
            assert len(store.history(case_id)) == 1
            # A second approver approves: released, once.
            page = await (await carl.http.get(f"/cases/{case_id}")).text()
            answers = re.search(r'name="answers" value="([0-9a-f]{32})"', page)
            assert answers is not None
            response = await carl.act(case_id, kind="approve", reason="agreed", answers=answers.group(1))
            assert response.status == 303
            row = store.case(case_id)
            assert row is not None
            assert row.state is State.RELEASED
            release = store.release(case_id)
            assert release is not None
            assert release["decided_by"] == ["bea", "carl"]
            assert len(releases_in_outbox(store, FOUR_EYES)) == 1
            page = await (await carl.http.get(f"/cases/{case_id}?recorded=approve")).text()
            assert "Recorded:</strong> Approve" in page
            assert "The case is closed" in page
            assert not FORM.search(page)
            # Closed: nothing more is recorded.
            response = await ana.act(case_id, kind="comment", reason="late note")
            assert response.status == 409
            assert "the case is closed" in await response.text()
            assert len(store.history(case_id)) == 2
            assert len(releases_in_outbox(store, FOUR_EYES)) == 1

    run(scenario())


def test_a_return_sends_the_proposal_back() -> None:
    store = Store(":memory:")
    cases = seed(store)
    ctx = make_ctx(store)
    case_id = cases[SECOND]

    async def scenario() -> None:
        async with serving(ctx) as server, browsers(server, "ana", "carl") as (ana, carl):
            assert (await ana.act(case_id, kind="clear", reason="looks fine")).status == 303
            page = await (await ana.http.get(f"/cases/{case_id}")).text()
            assert "A clear is waiting for a second person" in page
            assert (await carl.act(case_id, kind="return", reason="check the date of birth")).status == 303
            row = store.case(case_id)
            assert row is not None
            assert row.state is State.OPEN
            assert store.release(case_id) is None

    run(scenario())


def test_a_clear_without_four_eyes_releases_at_once() -> None:
    store = Store(":memory:")
    cases = seed(store)
    ctx = make_ctx(store)

    async def scenario() -> None:
        async with serving(ctx) as server, browsers(server, "ana") as (ana,):
            page = await (await ana.http.get(f"/cases/{cases[PLAIN]}")).text()
            assert "Clear (release the payment)" in page
            assert (await ana.act(cases[PLAIN], kind="clear", reason="onshore branch")).status == 303
            release = store.release(cases[PLAIN])
            assert release is not None
            assert (release["outcome"], release["decided_by"]) == ("release", ["ana"])
            assert len(releases_in_outbox(store, PLAIN)) == 1

    run(scenario())


def test_confirm_needs_block_or_reject() -> None:
    store = Store(":memory:")
    cases = seed(store)
    ctx = make_ctx(store)
    case_id = cases[PLAIN]

    async def scenario() -> None:
        async with serving(ctx) as server, browsers(server, "ana") as (ana,):
            response = await ana.act(case_id, kind="confirm", reason="a shell bank, nested")
            assert response.status == 409
            page = await response.text()
            assert "block, reject" in page
            assert "a shell bank, nested" in page  # what was typed is kept
            assert store.history(case_id) == []
            response = await ana.act(case_id, kind="confirm", reason="a shell bank", stop_action="reject")
            assert response.status == 303
            release = store.release(case_id)
            assert release is not None
            assert (release["outcome"], release["stop_action"]) == ("stop", "reject")
            response = await ana.act(case_id, kind="bogus", reason="x")
            assert response.status == 400

    run(scenario())


def test_an_escalated_case_is_for_approvers() -> None:
    store = Store(":memory:")
    cases = seed(store)
    ctx = make_ctx(store)
    case_id = cases[PLAIN]

    async def scenario() -> None:
        async with serving(ctx) as server, browsers(server, "ana", "bea") as (ana, bea):
            assert (await ana.act(case_id, kind="escalate", reason="unsure")).status == 303
            page = await (await ana.http.get(f"/cases/{case_id}")).text()
            assert "The case is escalated: an approver decides it." in page
            assert 'value="clear"' not in page
            page = await (await bea.http.get(f"/cases/{case_id}")).text()
            assert 'value="clear"' in page
            assert 'value="escalate"' not in page

    run(scenario())


def test_an_auditor_sees_everything_and_no_forms() -> None:
    store = Store(":memory:")
    cases = seed(store)
    ctx = make_ctx(store)

    async def scenario() -> None:
        async with serving(ctx) as server, browsers(server, "ana", "aud") as (ana, aud):
            assert (await ana.act(cases[PLAIN], kind="comment", reason="first look")).status == 303
            page = await (await aud.http.get(f"/cases/{cases[PLAIN]}")).text()
            assert "first look" in page
            assert "read-only access (auditor)" in page
            assert not FORM.search(page)
            response = await aud.act(cases[PLAIN], kind="comment", reason="auditor note")
            assert response.status == 403
            assert len(store.history(cases[PLAIN])) == 1

    run(scenario())


def test_a_failure_is_answered_without_its_details(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    store = Store(":memory:")
    cases = seed(store)
    ctx = make_ctx(store)

    def broken(raw: bytes) -> Mapping[str, Any]:
        raise RuntimeError("IVANOV, Ivan of ACC-1")

    ctx.payment_view = broken

    async def scenario() -> None:
        async with serving(ctx) as server, browsers(server, "ana") as (ana,):
            response = await ana.http.get(f"/cases/{cases[FOUR_EYES]}")
            assert response.status == 500
            assert "IVANOV" not in await response.text()
            response = await ana.http.get(f"/api/v1/cases/{cases[FOUR_EYES]}")
            assert response.status == 500
            assert (await response.json())["error"] == "internal"

    run(scenario())
    captured = capsys.readouterr()
    assert "request_failed" in captured.out + captured.err
    assert "IVANOV" not in captured.out + captured.err + caplog.text


def test_a_reason_with_crlf_lines_at_the_limit_is_kept_whole() -> None:
    """A textarea's maxlength counts a line break as one character; the browser sends CRLF."""
    store = Store(":memory:")
    cases = seed(store)
    ctx = make_ctx(store)
    lines = ["x" * 99] * 40  # 40 lines: 3,999 characters with LF, 4,039 as sent with CRLF
    reason = "\n".join(lines)
    assert len(reason) <= MAX_REASON_CHARS < len(reason.replace("\n", "\r\n"))

    async def scenario() -> None:
        async with serving(ctx) as server, browsers(server, "ana") as (ana,):
            response = await ana.act(cases[PLAIN], kind="comment", reason=reason.replace("\n", "\r\n"))
            assert response.status == 303

    run(scenario())
    assert store.history(cases[PLAIN])[-1]["reason"] == reason


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded; charset=utf-16", b"\x00\xd8"),
        ("application/x-www-form-urlencoded; charset=no-such-charset", b"kind=comment"),
        ("application/x-www-form-urlencoded; charset=unicode_escape", b"kind=comment&reason=a\\ud800b"),
        ("multipart/form-data", b"no boundary"),
        (
            "multipart/form-data; boundary=zz",
            (
                b'--zz\r\nContent-Disposition: form-data; name="csrf"\r\n'
                b"Content-Type: text/plain; charset=utf-8\r\n\r\n\xff\xfe\r\n--zz--\r\n"
            ),
        ),
    ],
)
def test_a_form_that_cannot_be_read_is_a_bad_request(content_type: str, body: bytes) -> None:
    store = Store(":memory:")
    cases = seed(store)
    ctx = make_ctx(store)

    async def scenario() -> None:
        async with serving(ctx) as server, browsers(server, "ana") as (ana,):
            for path in (f"/cases/{cases[PLAIN]}/dispositions", "/login", "/logout"):
                response = await ana.http.post(
                    path, data=body, headers={"Content-Type": content_type}, allow_redirects=False
                )
                assert response.status == 400, path

    run(scenario())
    assert store.unsent() == []
