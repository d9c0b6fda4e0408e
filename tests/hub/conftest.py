"""Fixtures for the hub tests: SQLite and PostgreSQL stores, running servers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hubkit import make_service

from fabthread.hub.pgtemp import TempPostgres, find_bindir
from fabthread.hub.server import ServerThread, create_app

# -- databases ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[TempPostgres]:
    """A throwaway PostgreSQL on a loopback port (initdb into a tmp dir)."""
    if find_bindir() is None:
        pytest.skip("PostgreSQL server binaries (initdb) not installed: apt-get install postgresql")
    try:
        pg = TempPostgres().__enter__()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    try:
        yield pg
    finally:
        pg.__exit__()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path) -> str:
    """The same test against SQLite and against PostgreSQL (a fresh database each)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/fab.db"
    return request.getfixturevalue("postgres_server").create_database()


@pytest.fixture
def served(tmp_path, db_url):
    """A running server with a fresh store; yields (url, service)."""
    service = make_service(tmp_path, db_url, lease_s=30.0)
    with ServerThread(create_app(service)) as srv:
        yield srv.url, service
