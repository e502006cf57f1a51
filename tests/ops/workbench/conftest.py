"""Fixtures for the workbench's tests: a PostgreSQL cluster for the store's second backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.ops.workbench.pg_cluster import Cluster

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """Started on first use only: a run of the SQLite tests alone never starts it."""
    from tests.ops.workbench.pg_cluster import started_cluster

    cluster, seconds = started_cluster()
    print(f"\nPostgreSQL test cluster on 127.0.0.1:{cluster.port}, started in {seconds:.2f}s")  # noqa: T201
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(params=BACKENDS)
def store_target(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """Where a store lives: a SQLite file, or a fresh database on the test cluster."""
    if request.param == "sqlite":
        return tmp_path / "wb.sqlite"
    cluster: Cluster = request.getfixturevalue("pg_cluster")
    return cluster.new_database()
