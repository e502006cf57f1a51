"""`screener bench --registry-load N`: how fast a worker's first start loads the registry.

On the embedded broker: N generated accounts and the institution record of each holder are
published with `screener registry load` (timed: the operator's side); a plain confluent-kafka read
of the two registry topics is timed as the baseline (what reading the records alone costs on this
machine, the ceiling of any loader); then one worker starts and its /readyz is polled until 200.
The headline is registry records per second from the worker's "registry loading" log line (its
start of loading) to the first 200, with the whole process-start-to-ready time beside it. The
registry version the worker reports is checked against the file's. A table goes to stderr; the
last stdout line is one JSON object.
"""

from __future__ import annotations

import json
import random
import tempfile
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

from ops.bench import data, names
from ops.bench.report import say

READY_TIMEOUT_S = 900.0
POLL_S = 0.05


def registry_data(accounts: int, seed: int) -> dict[str, Any]:
    """The sample registry plus `accounts` clean accounts, each holder with its institution record
    (kind bank, keyed by its BIC8: the worker turns it into the BIC11 key)."""
    out = data.registry(seed, clean_accounts=accounts)
    rng = random.Random(f"registry-load-{seed}")
    have = {i["bic"][:8] for i in out["institutions"]}
    for account in out["accounts"]:
        holder = account["holder"]
        if holder["bic"][:8] in have:
            continue
        have.add(holder["bic"][:8])
        record: dict[str, Any] = {"bic": holder["bic"], "name": holder["name"], "country": holder["country"]}
        record["kind"] = "bank"
        if rng.random() < 0.2:
            record["aliases"] = [f"{names.word(rng, 2)} Bank"]
        out["institutions"].append(record)
    return out


def _readyz(port: int) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as resp:
            return resp.status, dict(json.load(resp))
    except urllib.error.HTTPError as exc:
        return exc.code, dict(json.loads(exc.read() or b"{}"))


def _log_time(log: Path, event: str) -> tuple[float | None, dict[str, Any]]:
    """The epoch time and fields of the first worker log line with this event."""
    for line in log.read_text(errors="replace").splitlines():
        if not line.startswith("{"):
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("event") == event and "timestamp" in entry:
            return datetime.fromisoformat(entry["timestamp"]).timestamp(), entry
    return None, {}


def _baseline_read(settings: Any, topics: list[str]) -> tuple[int, float]:
    """Records and seconds to read both registry topics to their end with one plain consumer."""
    from streams.kafka_io import read_partitions

    started = time.monotonic()
    read = read_partitions(settings, [(t, 0) for t in topics], timeout=60)
    return sum(len(v) for v in read.values()), time.monotonic() - started


def _wait_ready(port: int, proc: Any, progress: list[dict[str, Any]]) -> float:
    """Poll /readyz until 200; the epoch time of the first 200. Progress bodies are kept."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the worker exited with code {proc.returncode} before it was ready")
        try:
            status, body = _readyz(port)
        except (OSError, ValueError):
            time.sleep(POLL_S)
            continue
        if status == 200:
            return time.time()
        if body.get("registry_progress"):
            progress.append(body["registry_progress"])
        time.sleep(POLL_S)
    raise RuntimeError(f"the worker was not ready within {READY_TIMEOUT_S} s")


def run(accounts: int, seed: int, workdir: Path | None = None) -> dict[str, Any]:
    """Publish the registry, time the baseline read, start one worker and time it to ready."""
    from ops.broker import EmbeddedBroker, free_port
    from ops.demo import ensure_local_audit_key, start_worker, stop_worker, worker_env
    from ops.kafka_commands import load_registry
    from ops.screen_file import load_registry_file
    from streams.settings import Settings
    from streams.topics import ensure_topics

    with tempfile.TemporaryDirectory(prefix="screener-bench-registry-") as tmp:
        work = workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        content = registry_data(accounts, seed)
        path = work / "bench-registry.json"
        path.write_text(json.dumps(content, default=str), encoding="utf-8")  # dates of the sample file
        records = len(content["accounts"]) + len(content["institutions"])
        expected_version = load_registry_file(path).version
        say(f"==> registry: {len(content['accounts']):,} accounts, {len(content['institutions']):,} institutions")
        with EmbeddedBroker(log_path=work / "broker.log") as broker:
            ensure_local_audit_key()
            settings = Settings(bootstrap_servers=broker.bootstrap)
            ensure_topics(settings)
            t0 = time.monotonic()
            load_registry(settings, path)
            publish_s = time.monotonic() - t0
            say(f"screener registry load       {records / publish_s:>10,.0f} records/s  ({publish_s:.1f} s)")
            topics = [settings.topics.registry_accounts, settings.topics.registry_institutions]
            read, read_s = _baseline_read(settings, topics)
            say(f"baseline: plain consumer read {read / read_s:>10,.0f} records/s  ({read:,} records, {read_s:.2f} s)")
            port = free_port()
            env = worker_env(broker.bootstrap, port, work / "worker-data", SCREENER_LOG_LEVEL="info")
            log = work / "worker.log"
            progress: list[dict[str, Any]] = []
            started = time.time()
            proc = start_worker(env, log)
            try:
                ready_at = _wait_ready(port, proc, progress)
                _, body = _readyz(port)
            except RuntimeError:
                say(f"worker log: {log}")
                raise
            finally:
                stop_worker(proc)
            loading_at, _ = _log_time(log, "registry loading")
            _, loaded = _log_time(log, "registry loaded")
    if body.get("registry_version") != expected_version:
        raise RuntimeError(f"registry version {body.get('registry_version')} is not the file's {expected_version}")
    load_s = ready_at - loading_at if loading_at is not None else None
    result: dict[str, Any] = {
        "registry_records": records,
        "accounts": len(content["accounts"]),
        "institutions": len(content["institutions"]),
        "publish_records_per_s": round(records / publish_s),
        "baseline_read_records_per_s": round(read / read_s),
        "start_to_ready_s": round(ready_at - started, 2),
        "loading_to_ready_s": round(load_s, 2) if load_s is not None else None,
        "records_per_s_to_ready": round(records / load_s) if load_s else None,
        "worker_apply_s": loaded.get("seconds"),
        "progress_reports": len(progress),
        "registry_version": body.get("registry_version"),
    }
    rate = result["records_per_s_to_ready"]
    say(
        f"worker: registry loading to ready {rate or 0:>7,.0f} records/s  ({result['loading_to_ready_s']} s); "
        f"process start to ready {result['start_to_ready_s']} s"
    )
    return result
