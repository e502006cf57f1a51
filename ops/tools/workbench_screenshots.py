"""The README's screenshots of the analyst workbench, taken in Debian's Chromium.

    python -m ops.tools.workbench_screenshots ops/screenshots

Starts what the demo starts (embedded broker, worker, sample registry and payments) and the
workbench on it, signs in as the demo's analyst and saves, at 1366x768: the sign-in page, the queue
of sample reviews, a case with its hits and the regulation text they cite, and that case cleared by
the analyst, waiting for an approver. Needs /usr/bin/chromium (Debian's `chromium` package) and the
dev extra's Playwright client; no browser is downloaded.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ops.cli.common import SAMPLES
from ops.workbench.demo_stack import WorkbenchProcess, demo_users, sample_stack, wait_for_cases, write_users_file

if TYPE_CHECKING:
    from playwright.sync_api import ViewportSize

VIEWPORT: ViewportSize = {"width": 1366, "height": 768}
TIMEOUT_MS = 20_000
# P-015: an Iranian bank's account with an OFAC authorization (31 CFR 1010.661(b)(1)): a special
# measure, so its clear waits for a second person.
CASE = "P-015"
CITATION = "31 CFR 1010.661(b)(1)"


def take(out: Path) -> list[Path]:
    from playwright.sync_api import expect, sync_playwright

    from ops.workbench.demo_stack import launch_chromium
    from ops.workbench.store import case_id_of

    out.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    with sample_stack(SAMPLES / "payments.jsonl", SAMPLES / "registry.yaml") as stack:
        users = demo_users(api_user="aud")
        analyst = users[0]
        users_file = write_users_file(stack.tmp / "users.yaml", users)
        process = WorkbenchProcess(stack.bootstrap, users_file, stack.tmp / "workbench.sqlite", stack.tmp / "wb.log")
        process.start()
        try:
            token = next(u.api_token for u in users if u.api_token)
            if len(wait_for_cases(process.url, token, stack.reviews)) < len(stack.reviews):
                raise RuntimeError("the workbench did not read every sample review")
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                context = browser.new_context(viewport=VIEWPORT)
                context.set_default_timeout(TIMEOUT_MS)
                page = context.new_page()

                def shot(name: str) -> None:
                    path = out / f"{name}.png"
                    page.screenshot(path=str(path))
                    saved.append(path)

                page.goto(f"{process.url}/login")
                page.get_by_label("User name").fill(analyst.name)
                shot("workbench-sign-in")
                page.get_by_label("Password").fill(analyst.password)
                page.get_by_role("button", name="Sign in").click()
                expect(page.get_by_role("link", name=CASE, exact=True)).to_be_visible()
                shot("workbench-queue")
                page.get_by_role("link", name=CASE, exact=True).click()
                expect(page).to_have_url(re.compile(f"/cases/{case_id_of(CASE)}"))
                shot("workbench-case")
                # The hit that holds the payment, its regulation text unfolded, at the top of the window.
                hit = page.get_by_role("article").filter(
                    has=page.get_by_role("heading", name=re.compile(re.escape(CITATION)))
                )
                hit.get_by_text(f"Regulation text of {CITATION}").click()
                hit.evaluate("element => element.scrollIntoView({block: 'start'})")
                shot("workbench-case-regulation")
                page.get_by_label(re.compile(r"^Propose a clear")).check()
                page.get_by_label(re.compile(r"^Reason")).fill(
                    "OFAC specific licence on file for this account; terms checked against the payment"
                )
                page.get_by_role("button", name="Record").click()
                expect(page.get_by_role("heading", name="Clear waiting for approval")).to_be_visible()
                shot("workbench-pending-approval")
                browser.close()
        finally:
            process.stop()
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="folder for the PNG files")
    args = parser.parse_args(argv)
    for path in take(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
