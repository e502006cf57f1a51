"""The workbench started beside a running broker, as the demo, the browser tests and the README's
screenshots start it: demo users with fresh random passwords, a users file, a `screener workbench
serve` process on a free loopback port, and Debian's Chromium for the pages.

Nothing here is a credential: every password is drawn when the stack starts, kept in memory, written
only as its scrypt hash (to a users file in a temporary folder) and shown to the person who started
the demo. The browser is the distribution's (/usr/bin/chromium): Playwright's own browser builds are
never downloaded.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ops.broker import free_port

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

# Debian's Chromium (the `chromium` package), which ops/bootstrap.sh installs for the tests.
CHROMIUM = Path("/usr/bin/chromium")
# Headless, and nothing that reaches for the network on its own: this machine's network is closed,
# and a browser waiting on a QUIC or component-update connection slows or hangs every page.
CHROMIUM_ARGS = (
    "--headless=new",
    "--no-sandbox",  # run as root in CI, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
# Two approvers, so that a clear one of them proposes can be approved by the other.
DEMO_ROLES = (("ana", "analyst"), ("abe", "approver"), ("ava", "approver"), ("aud", "auditor"))


@dataclass(frozen=True, slots=True)
class DemoUser:
    name: str
    role: str
    password: str = field(repr=False)
    api_token: str | None = field(default=None, repr=False)


def demo_users(roles: Sequence[tuple[str, str]] = DEMO_ROLES, api_user: str | None = None) -> list[DemoUser]:
    """One user per (name, role), each with a random password (and the one named `api_user`
    an API token too)."""
    from ops.workbench.auth import new_token

    return [
        DemoUser(name, role, secrets.token_urlsafe(12), new_token() if name == api_user else None)
        for name, role in roles
    ]


def write_users_file(path: Path, users: Sequence[DemoUser]) -> Path:
    """The users file `screener workbench serve --users` reads: hashes only, readable by the owner."""
    from ops.workbench.auth import hash_password, hash_token

    entries: list[dict[str, Any]] = []
    for user in users:
        entry: dict[str, Any] = {"name": user.name, "role": user.role, "password_hash": hash_password(user.password)}
        if user.api_token:
            entry["api_token_hash"] = hash_token(user.api_token)
        entries.append(entry)
    path.write_text(yaml.safe_dump({"users": entries}, sort_keys=False), encoding="utf-8")
    path.chmod(0o600)
    return path


def users_line(users: Sequence[DemoUser]) -> str:
    """`ana (analyst) / <password>, ...`: how the demo tells its users."""
    return ", ".join(f"{u.name} ({u.role}) / {u.password}" for u in users)


class WorkbenchProcess:
    """`screener workbench serve` on a loopback port, logging to a file, stopped with SIGTERM."""

    def __init__(
        self,
        bootstrap: str,
        users_file: Path,
        db: Path,
        log_path: Path,
        port: int | None = None,
        env: dict[str, str] | None = None,
        own_group: bool = False,
    ) -> None:
        self.port = port or free_port()
        # In a process group of its own, a terminal's Ctrl-C reaches only whoever started it, which
        # then stops it in order (the demo); otherwise it goes down with its parent's group.
        self.own_group = own_group
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.argv = [
            sys.executable,
            "-m",
            "ops",
            "workbench",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--users",
            str(users_file),
            "--db",
            str(db),
            "-b",
            bootstrap,
        ]
        from ops.demo import ensure_local_audit_key

        ensure_local_audit_key()  # the casework chain's records are signed as the workers' are
        self.env = dict(os.environ) | {"SCREENER_BOOTSTRAP_SERVERS": bootstrap} | (env or {})
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> WorkbenchProcess:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(  # noqa: S603 (this interpreter, arguments built here)
                self.argv,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                process_group=0 if self.own_group else None,
            )
        try:
            self.wait_ready(timeout)
        except RuntimeError:
            self.stop()
            raise
        return self

    def wait_ready(self, timeout: float) -> None:
        """Until the liveness probe answers (it needs no sign-in)."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the workbench exited with code {self.proc.returncode}: {self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as resp:  # noqa: S310 (loopback URL)
                    if resp.status == 200:
                        return
            except (OSError, urllib.error.HTTPError):
                pass
            time.sleep(0.3)
        raise RuntimeError(f"the workbench did not answer on {self.url} within {timeout} s: {self.log_tail()}")

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self, timeout: float = 15.0) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode


def api_cases(url: str, token: str, timeout: float = 5.0) -> list[dict[str, Any]]:
    """The cases `GET /api/v1/cases` lists (a bearer token's view)."""
    request = urllib.request.Request(f"{url}/api/v1/cases?limit=200", headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=timeout) as resp:  # noqa: S310 (loopback URL)
        body = json.load(resp)
    cases = body.get("cases", body) if isinstance(body, dict) else body
    return [c for c in cases if isinstance(c, dict)] if isinstance(cases, list) else []


def wait_for_cases(
    url: str, token: str, payment_ids: Collection[str], timeout: float = 60.0, stop: threading.Event | None = None
) -> set[str]:
    """Until the workbench has a case for each payment id (read from the decisions topic by its
    feed); returns those it has when it does, the time is up or `stop` is set."""
    stop = stop or threading.Event()
    seen: set[str] = set()
    deadline = time.monotonic() + timeout
    while True:
        try:
            seen = {str(c.get("payment_id")) for c in api_cases(url, token)}
        except (OSError, ValueError):
            seen = set()
        if set(payment_ids) <= seen or time.monotonic() > deadline or stop.wait(0.5):
            return seen & set(payment_ids)


def chromium_missing() -> str | None:
    """Why the browser cannot start, or None."""
    if not os.access(CHROMIUM, os.X_OK):
        return (
            f"Debian's Chromium is not installed ({CHROMIUM} is missing): `apt-get install chromium`, "
            "or run `bash ops/bootstrap.sh test`, which installs it (Playwright's own browsers are never used)"
        )
    return None


def launch_chromium(playwright: Playwright) -> Browser:
    """Headless Debian Chromium through Playwright's Python client."""
    missing = chromium_missing()
    if missing:
        raise RuntimeError(missing)
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS))


@dataclass(frozen=True, slots=True)
class SampleStack:
    """An embedded broker whose worker has screened the sample payments."""

    bootstrap: str
    tmp: Path
    reviews: tuple[str, ...]  # the payment ids decided `review`, in the samples' order


@contextlib.contextmanager
def sample_stack(payments: Path, registry_file: Path, timeout: float = 120.0) -> Iterator[SampleStack]:
    """Broker, registry, worker and the sample payments, as the demo starts them; everything is
    stopped on the way out."""
    from ops.broker import EmbeddedBroker
    from ops.demo import (
        await_decisions,
        ensure_local_audit_key,
        start_worker,
        stop_worker,
        wait_ready,
        worker_env,
    )
    from ops.kafka_commands import load_registry, produce_payments
    from streams.settings import Settings
    from streams.topics import ensure_topics

    with (
        tempfile.TemporaryDirectory(prefix="screener-workbench-") as name,
        EmbeddedBroker(log_path=Path(name) / "broker.log") as broker,
    ):
        tmp = Path(name)
        ensure_local_audit_key()
        settings = Settings(bootstrap_servers=broker.bootstrap)
        ensure_topics(settings)
        load_registry(settings, registry_file)
        web_port = free_port()
        worker = start_worker(worker_env(broker.bootstrap, web_port, tmp / "data"), tmp / "worker.log")
        try:
            wait_ready(web_port, worker)
            with payments.open("rb") as source:
                _, _, errors = produce_payments(settings, source, None, raw=False)
            if errors:
                raise RuntimeError(errors[0])
            order = [json.loads(line)["payment_id"] for line in payments.read_text().splitlines() if line.strip()]
            decided = await_decisions(settings, len(order), timeout)
            if len(decided) < len(order):
                raise RuntimeError(f"only {len(decided)} of {len(order)} decisions within {timeout} s")
            reviews = tuple(p for p in order if decided[p]["decision"] == "review")
            yield SampleStack(broker.bootstrap, tmp, reviews)
        finally:
            stop_worker(worker)
