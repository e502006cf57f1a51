"""A throwaway PostgreSQL cluster for the store's tests: Debian's server binaries, a temp dir, a
free loopback port, trust authentication from loopback only; stopped and removed at the end.

CI installs the binaries (ops/bootstrap.sh ensure_test_packages): without them the PostgreSQL tests
fail, naming the package, rather than skip and leave the production backend untested.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
import pytest

from ops.broker import free_port

SUPERUSER = "screener_test"
START_TIMEOUT_S = 60


def server_bin() -> Path:
    """The newest installed server's bin directory (Debian keeps one per major version)."""
    found = sorted(
        (p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/initdb")),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if not found:
        pytest.fail(
            "PostgreSQL's server binaries (initdb, pg_ctl) are not under /usr/lib/postgresql/*/bin: "
            "install Debian's postgresql package (`bash ops/bootstrap.sh test` does)",
            pytrace=False,
        )
    return found[-1]


class Cluster:
    def __init__(self) -> None:
        self.bin = server_bin()
        self.port = free_port()
        self.run_as: list[str] = []
        self.dir = Path(tempfile.mkdtemp(prefix="screener-pg-"))
        if os.geteuid() == 0:
            # initdb refuses to run as root: the cluster belongs to the package's `postgres` user.
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                pytest.fail("running as root, and there is no `postgres` user to own the test cluster", pytrace=False)
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)
            self.run_as = ["runuser", "-u", "postgres", "--"]
        self.data = self.dir / "data"
        self.started = False

    def _run(self, *args: str) -> None:
        done = subprocess.run(
            [*self.run_as, *args], capture_output=True, text=True, timeout=START_TIMEOUT_S, check=False
        )
        if done.returncode:
            log = self.dir / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            pytest.fail(f"{args[0]} failed ({done.returncode}): {done.stderr.strip()}\n{tail}", pytrace=False)

    def start(self) -> None:
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
            "--auth=trust",
        )
        # Trust, but from this machine only: the socket in the cluster's own dir, and loopback.
        (self.data / "pg_hba.conf").write_text(
            "local all all trust\nhost all all 127.0.0.1/32 trust\n", encoding="utf-8"
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.dir} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        )
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.dir / "server.log"),
            "-o",
            options,
            "-w",
            "start",
        )
        self.started = True

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        name = f"t_{uuid.uuid4().hex}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        try:
            if self.started:
                self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def started_cluster() -> tuple[Cluster, float]:
    """A running cluster and the seconds it took to start."""
    began = time.monotonic()
    cluster = Cluster()
    try:
        cluster.start()
    except BaseException:
        cluster.stop()
        raise
    return cluster, time.monotonic() - began
