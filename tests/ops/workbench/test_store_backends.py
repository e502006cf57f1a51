"""What differs between the store's backends (ops/workbench/store_sql.py): which one a target
selects, the single-writer lock, actions serialised across connections, credentials never shown."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from ops.broker import free_port
from ops.workbench.service import ServeOptions, Workbench, store_target
from ops.workbench.store import Store, case_id_of
from ops.workbench.store_sql import StoreError, StoreInUseError, describe, is_postgres, writer_lock
from rules import RuleSet
from rules.casework import Kind, Refused
from streams.settings import Settings
from tests.ops.workbench.test_store import act, new_case

SAMPLES = Path(__file__).resolve().parents[3] / "ops" / "samples"


def test_a_postgresql_url_selects_postgresql_anything_else_is_a_sqlite_path(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    url = "postgresql://wb@127.0.0.1:5432/workbench"
    assert store_target(url, settings) == url
    assert store_target(str(tmp_path / "x.sqlite"), settings) == tmp_path / "x.sqlite"
    assert store_target(None, settings) == tmp_path / "workbench.sqlite"
    assert is_postgres("postgres://h/db")
    assert not is_postgres(Path("postgresql:/h/db"))  # a Path is a file, whatever its name
    shown = describe("postgresql://wb:s3cret@db.bank:5432/wb")
    assert "s3cret" not in shown
    assert shown.endswith("@db.bank:5432/wb")


def test_the_sqlite_store_does_not_import_psycopg() -> None:
    code = (
        "import sys\nfrom ops.workbench.store import Store\nStore(':memory:').close()\n"
        "sys.exit('psycopg' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False, timeout=60).returncode == 0


def test_an_unreachable_server_is_a_store_error_without_the_password() -> None:
    url = f"postgresql://wb:s3cret@127.0.0.1:{free_port()}/wb?connect_timeout=5"
    with pytest.raises(StoreError) as failed:
        Store(url)
    assert "s3cret" not in str(failed.value)
    assert "127.0.0.1" in str(failed.value)
    with pytest.raises(StoreError) as locked:
        writer_lock(url)
    assert "s3cret" not in str(locked.value)


def test_one_writer_per_store(store_target: Path | str) -> None:
    first = writer_lock(store_target)
    with pytest.raises(StoreInUseError, match="another workbench is running"):
        writer_lock(store_target)
    first.release()
    first.release()  # idempotent: stop() after a failed start
    writer_lock(store_target).release()


def test_concurrent_clears_from_separate_connections_release_once(store_target: Path | str) -> None:
    """Two stores on one database (two connections, no shared Python lock): the database alone
    serialises the actions on the case (SQLite's write lock, PostgreSQL's row lock)."""
    stores = [Store(store_target) for _ in range(4)]
    stores[0].ingest([new_case("P-1")])
    outcomes: list[str] = []
    barrier = threading.Barrier(len(stores))

    def clear(store: Store, actor: str) -> None:
        barrier.wait()
        try:
            act(store, "P-1", Kind.CLEAR, actor)
            outcomes.append("ok")
        except Refused as refused:
            outcomes.append(refused.code)

    threads = [
        threading.Thread(target=clear, args=(s, name))
        for s, name in zip(stores, ("ann", "bob", "cy", "di"), strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["closed", "closed", "closed", "ok"]
    assert [e.kind for e in stores[0].unsent()].count("release") == 1
    assert len(stores[0].history(case_id_of("P-1"))) == 1
    for s in stores:
        s.close()


def test_a_second_workbench_on_the_same_store_refuses_to_start(
    rules: RuleSet, tmp_path: Path, store_target: Path | str
) -> None:
    options = ServeOptions(users=None, db=store_target, registry_file=SAMPLES / "registry.yaml")
    settings = Settings(data_dir=tmp_path)
    first = Workbench(settings, rules, options)
    try:
        with pytest.raises(StoreInUseError, match="another workbench is running"):
            Workbench(settings, rules, options)
        first.store.ingest([new_case("P-1")])
    finally:
        first.stop()
    again = Workbench(settings, rules, options)  # the lock went with the first one's stop
    try:
        assert [c.payment_id for c in again.store.queue()] == ["P-1"]
    finally:
        again.stop()
