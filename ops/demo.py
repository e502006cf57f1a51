"""`screener demo`: the whole service on the embedded broker, start to finish: the decisions shown,
then the analyst workbench on them until Ctrl-C (with --no-workbench, shut down after the decisions)."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ops.broker import EmbeddedBroker, free_port

if TYPE_CHECKING:
    from streams.settings import Settings


def ensure_local_audit_key() -> None:
    """Give this process, and the workers it starts, an audit key when none is configured: a
    random one, for a run on the embedded broker whose trail lives as long as the broker."""
    os.environ.setdefault("SCREENER_AUDIT_KEYS", json.dumps({"local": secrets.token_hex(32)}))


def worker_env(bootstrap: str, web_port: int, data_dir: Path, **extra: str) -> dict[str, str]:
    """Environment for a worker process on the embedded broker (short group timeouts)."""
    ensure_local_audit_key()
    env = dict(os.environ)
    env.update(
        {
            "SCREENER_BOOTSTRAP_SERVERS": bootstrap,
            "SCREENER_WEB_PORT": str(web_port),
            "SCREENER_DATA_DIR": str(data_dir),
            "SCREENER_SESSION_TIMEOUT_S": "6",
            "SCREENER_LOG_LEVEL": "warning",
        }
    )
    env.update(extra)
    return env


def start_worker(env: dict[str, str], log_path: Path, own_group: bool = False) -> subprocess.Popen[bytes]:
    """A `screener run` process. `own_group`: in a process group of its own, so that a terminal's
    Ctrl-C reaches only the caller, which stops it in its turn (the demo's workbench mode)."""
    log = log_path.open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "ops", "run"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        process_group=0 if own_group else None,
    )


def wait_ready(web_port: int, proc: subprocess.Popen[bytes], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the worker exited with code {proc.returncode} before it was ready")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/readyz", timeout=1) as resp:
                if json.load(resp).get("ready"):
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the worker was not ready within {timeout} s")


def stop_worker(proc: subprocess.Popen[bytes], timeout: float = 15.0) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    return proc.returncode


def _message_ids(folder: Path | None) -> list[str]:
    """The payment ids of the sample messages, in file order (what their decisions are awaited by)."""
    from ops.file_inputs import input_files
    from schemas.inbound import MESSAGE_FORMATS, input_format, read_messages

    ids: list[str] = []
    for path in [f for f in input_files(folder) if f.is_file()] if folder is not None and folder.is_dir() else []:
        data = path.read_bytes()
        fmt = input_format(data)
        if fmt in MESSAGE_FORMATS:
            for message in read_messages(data, fmt):
                ids.extend(str(a.payment["payment_id"]) for a in message.adapted if a.payment)
    return ids


def say(text: str) -> None:
    print(f"==> {text}", file=sys.stderr, flush=True)


def await_decisions(settings: Settings, count: int, timeout: float) -> dict[str, dict[str, Any]]:
    """The decisions topic read from its start until `count` payments have one, or the time is up."""
    from ops.kafka_commands import decoded_records

    decisions: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + timeout
    while len(decisions) < count and time.monotonic() < deadline:
        for record in decoded_records(settings, settings.topics.decisions, True, None, 1.0):
            decisions[record["payment_id"]] = record
    return decisions


def run_demo(
    payments: Path,
    registry_file: Path,
    timeout: float,
    messages: Path | None = None,
    workbench: bool = True,
    workbench_port: int | None = None,
) -> int:
    """The demo; with `workbench`, after the decisions it serves the analyst workbench on the same
    broker (the sample reviews in its queue) until Ctrl-C or SIGTERM."""
    from ops.kafka_commands import load_registry, produce_payments
    from ops.show_decisions import main as show
    from streams.settings import Settings
    from streams.topics import ensure_topics

    with (
        tempfile.TemporaryDirectory(prefix="screener-demo-") as tmp,
        EmbeddedBroker(log_path=Path(tmp) / "broker.log") as broker,
    ):
        say(f"embedded broker on {broker.bootstrap}")
        ensure_local_audit_key()
        settings = Settings(bootstrap_servers=broker.bootstrap)
        ensure_topics(settings)
        counts = load_registry(settings, registry_file)
        say(f"registry loaded: {counts['accounts']} accounts, {counts['institutions']} institutions")
        web_port = free_port()
        worker = start_worker(
            worker_env(broker.bootstrap, web_port, Path(tmp) / "data"), Path(tmp) / "worker.log", own_group=workbench
        )
        try:
            wait_ready(web_port, worker)
            say(f"worker ready (health, readiness, metrics on http://127.0.0.1:{web_port})")
            with payments.open("rb") as source:
                _, _, errors = produce_payments(settings, source, None, raw=False)
            if errors:
                raise RuntimeError(errors[0])
            order = [json.loads(line)["payment_id"] for line in payments.read_text().splitlines() if line.strip()]
            message_ids = _message_ids(messages)
            if message_ids and messages is not None:
                from ops.file_inputs import input_files

                with contextlib.ExitStack() as stack:
                    files = [(str(f), stack.enter_context(f.open("rb"))) for f in input_files(messages) if f.is_file()]
                    count, _, errors = produce_payments(settings, files, None, raw=False)
                if errors:
                    raise RuntimeError(errors[0])
                say(f"produced {count} ISO 20022 and MT messages as they are ({messages.name}/)")
                order += message_ids
            say(f"produced {len(order)} payments; waiting for their decisions")
            decisions = await_decisions(settings, len(order), timeout)
            lines = [json.dumps(decisions[p]) for p in order if p in decisions]
            sys.stdin = __import__("io").StringIO("\n".join(lines))
            show()
            if len(decisions) < len(order):
                say(f"only {len(decisions)} of {len(order)} decisions arrived within {timeout} s")
                return 1
            if workbench:
                reviews = [p for p in order if decisions[p].get("decision") == "review"]
                return serve_workbench(broker.bootstrap, Path(tmp), reviews, workbench_port)
            return 0
        except RuntimeError as exc:
            say(f"demo failed: {exc}; worker log: {Path(tmp) / 'worker.log'}")
            sys.stderr.write((Path(tmp) / "worker.log").read_text(errors="replace")[-3000:])
            return 1
        finally:
            code = stop_worker(worker)
            say(f"worker stopped (exit code {code}); broker stopping")


def serve_workbench(bootstrap: str, tmp: Path, reviews: list[str], port: int | None) -> int:
    """The analyst workbench on the demo's broker, with demo users whose passwords are drawn now
    and shown once; runs until SIGINT or SIGTERM, then stops (the caller stops worker and broker)."""
    import threading

    from ops.workbench.demo_stack import WorkbenchProcess, demo_users, users_line, wait_for_cases, write_users_file

    # `aud` (the auditor, who reads and changes nothing) also gets an API token, with which the
    # demo waits until the workbench's feed has read the sample reviews into its queue.
    users = demo_users(api_user="aud")
    users_file = write_users_file(tmp / "workbench-users.yaml", users)
    log = tmp / "workbench.log"
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    process = WorkbenchProcess(bootstrap, users_file, tmp / "workbench.sqlite", log, port, own_group=True)
    try:
        process.start()
        token = next(u.api_token for u in users if u.api_token)
        queued = wait_for_cases(process.url, token, reviews, timeout=60, stop=stop)
        if stop.is_set():
            return 0
        if len(queued) < len(reviews):
            say(f"the workbench has {len(queued)} of the {len(reviews)} sample reviews so far; the rest follow")
        print(f"Workbench: {process.url} \N{EM DASH} users: {users_line(users)}", flush=True)
        say(f"{len(queued)} held payments in the queue; Ctrl-C stops the workbench, the worker and the broker")
        while not stop.wait(1.0):
            if process.proc is not None and process.proc.poll() is not None and not stop.is_set():
                say(f"the workbench exited with code {process.proc.returncode}; its log: {log}")
                sys.stderr.write(process.log_tail())
                return 1
        return 0
    except RuntimeError as exc:
        say(f"the workbench did not start: {exc}")
        return 1
    finally:
        code = process.stop()
        say(f"workbench stopped (exit code {code})")
        for sig, handler in previous.items():
            signal.signal(sig, handler)
