"""The analyst workbench in a real browser (issue 15): Debian's Chromium, driven by Playwright's
Python client, on `screener workbench serve` beside an embedded broker and a worker that screened the
sample payments.

A sample review is worked as investigators work it: signed in with the keyboard alone, opened from
the queue, its hit's citation and regulation text read, cleared by an analyst, seen waiting for a
second person, approved by an approver, and its one release read back from screening.releases. An
unauthenticated request gets nothing, an auditor reads and cannot act, and the demo opens the
workbench with the sample reviews in it.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from ops.broker import EmbeddedBroker, free_port
from ops.kafka_commands import produce_payments
from ops.workbench.demo_stack import DemoUser, WorkbenchProcess, demo_users, write_users_file
from ops.workbench.store import case_id_of
from streams.settings import Settings
from tests.integration.browser import PAGE_TIMEOUT_MS, browser_or_fail, sign_in, sign_out, topic_records
from tests.integration.conftest import SAMPLES, Worker, collect

pytestmark = pytest.mark.integration

# P-015: an Iranian bank's account with an OFAC authorization (31 CFR 1010.661(b)(1)), a special
# measure: clearing it needs a second person.
FOUR_EYES = "P-015"
CITATION = "31 CFR 1010.661(b)(1)"
REGULATION_WORDS = "shall not open or maintain in the United States a correspondent account"
# Reviews of every kind: special measures (P-015, P-018), a nested shell bank and indirect use
# (P-021), a termination notice's wait (P-031).
SAMPLE_REVIEWS = ("P-015", "P-018", "P-021", "P-031")
# The state a four-eyes clear leaves a case in, as the page names it.
PENDING = re.compile(r"pending approval|waiting for approval", re.IGNORECASE)
ACTION_BUTTONS = re.compile(r"^(Record|Approve|Return|Clear|Confirm|Escalate|Comment)\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = browser_or_fail(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="module")
def reviews(browser: Browser, worker: Worker, settings: Settings) -> list[str]:
    """The sample payments screened through the broker; the ids decided `review` (held)."""
    with (SAMPLES / "payments.jsonl").open("rb") as source:
        sent, _, errors = produce_payments(settings, source, None, raw=False)
    assert not errors, errors
    decided = collect(settings, settings.topics.decisions, sent)
    held = sorted(pid for pid, records in decided.items() if records[0]["decision"] == "review")
    assert set(SAMPLE_REVIEWS) <= set(held), held
    return held


@pytest.fixture(scope="module")
def people() -> dict[str, DemoUser]:
    """An analyst, an approver and an auditor, with passwords drawn for this run."""
    users = demo_users((("alice", "analyst"), ("bob", "approver"), ("carol", "auditor")))
    return {u.role: u for u in users}


@pytest.fixture(scope="module")
def workbench(
    broker: EmbeddedBroker,
    reviews: list[str],
    people: dict[str, DemoUser],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[WorkbenchProcess]:
    base = tmp_path_factory.mktemp("workbench")
    users_file = write_users_file(base / "users.yaml", list(people.values()))
    process = WorkbenchProcess(
        broker.bootstrap,
        users_file,
        base / "workbench.sqlite",
        base / "workbench.log",
        # The integration fixtures' partition count: the casework audit chain is partition N+1.
        env={"SCREENER_PARTITIONS": "4"},
    )
    process.start()
    yield process
    code = process.stop()
    assert code == 0, f"the workbench exited with code {code}: {process.log_tail()}"


def keyboard_sign_in(page: Page, base_url: str, user: DemoUser) -> None:
    """Tab to the user name field (where the page puts the focus), type, Tab to the password, type,
    Tab to the button, Enter: no pointer at all."""
    page.goto(f"{base_url}/login")

    def focused() -> str:
        return str(page.evaluate("() => document.activeElement ? (document.activeElement.name || '') : ''"))

    for _ in range(15):
        if focused() == "user":
            break
        page.keyboard.press("Tab")
    assert focused() == "user", "Tab never reached the user name field"
    page.keyboard.type(user.name)
    page.keyboard.press("Tab")
    assert focused() == "password", "Tab from the user name does not reach the password"
    page.keyboard.type(user.password)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Sign in")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def open_case_from_queue(page: Page, base_url: str, payment_id: str, state: str | None = None) -> None:
    """The queue (filtered to a state, as a person filters it, for a closed case), then the case."""
    page.goto(f"{base_url}/")
    if state:
        page.get_by_label("State").select_option(label=state)
        page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name=payment_id, exact=True).click()
    expect(page).to_have_url(re.compile(re.escape(f"/cases/{case_id_of(payment_id)}")))
    expect(page.get_by_role("heading", name=re.compile(re.escape(payment_id)))).to_be_visible()


def wait_in_queue(page: Page, base_url: str, payment_ids: list[str], timeout: float = 60.0) -> None:
    """The queue, reloaded until the feed has read every held payment into it."""
    deadline = time.monotonic() + timeout
    while True:
        page.goto(f"{base_url}/")
        body = page.locator("main").inner_text() if page.locator("main").count() else page.content()
        missing = [pid for pid in payment_ids if pid not in body]
        if not missing:
            return
        assert time.monotonic() < deadline, f"not in the queue after {timeout} s: {missing}"
        time.sleep(1.0)


def test_an_unauthenticated_request_gets_nothing(workbench: WorkbenchProcess, page: Page, reviews: list[str]):
    case_url = f"{workbench.url}/cases/{case_id_of(FOUR_EYES)}"
    for url in (f"{workbench.url}/", case_url, f"{workbench.url}/api/v1/cases", f"{case_url}?format=json"):
        response = page.request.get(url, max_redirects=0)
        body = response.text()
        assert response.status in (302, 303, 307, 401), (url, response.status)
        if response.status != 401:
            assert re.search(r"/login\b", response.headers.get("location", "")), (url, response.headers)
        assert not re.search(r"P-0\d\d", body), f"{url} answered an anonymous request with case data"
    # An action without a session changes nothing: refused, whatever the form says.
    refused = page.request.post(
        f"{case_url}/dispositions",
        form={"kind": "clear", "reason": "no session", "csrf": "x"},
        max_redirects=0,
        fail_on_status_code=False,
    )
    assert refused.status in (302, 303, 401, 403, 404, 405), refused.status
    # In the browser, the queue's address leads to the sign-in form and nothing else.
    page.goto(f"{workbench.url}/")
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert not re.search(r"P-0\d\d", page.content())


def test_a_four_eyes_clear_waits_for_an_approver_then_releases(
    workbench: WorkbenchProcess, page: Page, people: dict[str, DemoUser], reviews: list[str], settings: Settings
):
    analyst, approver = people["analyst"], people["approver"]
    keyboard_sign_in(page, workbench.url, analyst)
    wait_in_queue(page, workbench.url, reviews)

    open_case_from_queue(page, workbench.url, FOUR_EYES)
    hit = page.get_by_role("article").filter(has=page.get_by_role("heading", name=re.compile(re.escape(CITATION))))
    expect(hit).to_have_count(1)
    # The paragraph's text is folded under the hit; opened as a person opens it.
    hit.get_by_text(f"Regulation text of {CITATION}").click()
    expect(hit.get_by_text(REGULATION_WORDS)).to_be_visible()
    expect(hit).to_contain_text("Special measures against Iran")

    page.get_by_label(re.compile(r"^Propose a clear")).check()
    page.get_by_label(re.compile(r"^Reason")).fill("OFAC licence on file for this account; terms checked")
    page.get_by_role("button", name="Record").click()
    expect(page.get_by_role("status")).to_contain_text("Recorded")
    expect(page.get_by_role("heading", name="Clear waiting for approval")).to_be_visible()
    expect(page.locator("main")).to_contain_text(PENDING)
    # The analyst cannot approve (nor can anyone approve their own clear): no such button.
    expect(page.get_by_role("button", name=re.compile(r"^Approve"))).to_have_count(0)
    sign_out(page)

    sign_in(page, workbench.url, approver.name, approver.password)
    open_case_from_queue(page, workbench.url, FOUR_EYES)
    expect(page.get_by_role("heading", name="Clear waiting for approval")).to_be_visible()
    expect(page.locator("main")).to_contain_text(f"Proposed by {analyst.name}")
    approve = page.locator("form").filter(has=page.get_by_role("button", name=re.compile(r"^Approve")))
    approve.get_by_label(re.compile(r"^Reason")).fill("Licence verified against OFAC's letter")
    approve.get_by_role("button", name=re.compile(r"^Approve")).click()
    expect(page.get_by_role("heading", name="Released", exact=True)).to_be_visible()
    expect(page.locator("main")).to_contain_text(f"{analyst.name}, {approver.name}")
    expect(page.get_by_role("button", name=ACTION_BUTTONS)).to_have_count(0)
    sign_out(page)

    releases = [r for r in topic_records(settings, settings.topics.releases, "Release") if r["payment_id"] == FOUR_EYES]
    assert len(releases) == 1, releases
    (release,) = releases
    assert release["outcome"] == "release"
    assert set(release["decided_by"]) == {analyst.name, approver.name}

    dispositions = [
        r
        for r in topic_records(settings, settings.topics.dispositions, "Disposition", until=2)
        if r["payment_id"] == FOUR_EYES
    ]
    assert [(d["kind"], d["actor"], d["state"]) for d in dispositions] == [
        ("clear", analyst.name, "pending_approval"),
        ("approve", approver.name, "released"),
    ], dispositions
    assert dispositions[1]["answers"] == dispositions[0]["disposition_id"]
    assert release["disposition_id"] == dispositions[1]["disposition_id"]


def test_an_auditor_sees_the_case_and_no_action_forms(
    workbench: WorkbenchProcess, page: Page, people: dict[str, DemoUser], reviews: list[str]
):
    auditor = people["auditor"]
    sign_in(page, workbench.url, auditor.name, auditor.password)
    for payment_id, state in ((FOUR_EYES, "Released"), ("P-031", None)):
        open_case_from_queue(page, workbench.url, payment_id, state)
        expect(page.locator("main")).to_contain_text("31 CFR")
        expect(page.locator("main")).to_contain_text("read-only")
        expect(page.get_by_role("button", name=ACTION_BUTTONS)).to_have_count(0)
        expect(page.get_by_role("textbox")).to_have_count(0)
        expect(page.get_by_role("radio")).to_have_count(0)
        # The only form an auditor gets is the one that signs out.
        expect(page.locator("form").filter(has_not=page.get_by_role("button", name="Sign out"))).to_have_count(0)


def _demo_line(stdout: Path, proc: subprocess.Popen[bytes], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in stdout.read_text(errors="replace").splitlines():
            if line.startswith("Workbench: "):
                return line
        assert proc.poll() is None, f"the demo exited with code {proc.returncode} before serving the workbench"
        time.sleep(0.5)
    pytest.fail(f"the demo printed no workbench address within {timeout} s")


def test_the_demo_opens_the_workbench_with_the_sample_reviews(browser: Browser, tmp_path: Path):
    """`screener demo` screens the samples, then serves the workbench on them until SIGTERM, and
    tells its address and its users; each password is new and signs in."""
    port = free_port()
    stdout, stderr = tmp_path / "demo.out", tmp_path / "demo.err"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ops", "demo", "--workbench-port", str(port)], stdout=out, stderr=err
        )
    try:
        line = _demo_line(stdout, proc, timeout=240)
        found = re.fullmatch(r"Workbench: (http://127\.0\.0\.1:(\d+)) \u2014 users: (.+)", line)
        assert found, line
        url, users = found.group(1), dict(re.findall(r"(\w+) \((?:analyst|approver|auditor)\) / (\S+?)(?:,|$)", line))
        assert int(found.group(2)) == port
        assert set(users) == {"ana", "abe", "ava", "aud"}, line
        context = browser.new_context(viewport={"width": 1366, "height": 768})
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        try:
            page = context.new_page()
            sign_in(page, url, "ana", users["ana"])
            body = page.locator("main").inner_text()
            assert all(pid in body for pid in SAMPLE_REVIEWS), body
        finally:
            context.close()
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    log = stderr.read_text(errors="replace")
    assert code == 0, log[-3000:]
    assert "workbench stopped" in log
    assert users["ana"] not in log  # the passwords are told on the demo's output, not in its log
