"""Shared fixtures: a real PostgreSQL (throwaway cluster or LEAD_ASSETS_TEST_PG_URL), the
warehouse on both backends, and an isolated state folder so tests never touch a user's .state."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from lead_assets.warehouse.throwaway_pg import PostgresUnavailable, ThrowawayCluster

_PG_RESULTS = {"passed": 0, "failed": 0, "server": ""}


@pytest.fixture(scope="session", autouse=True)
def isolated_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point every lead_assets folder at a temporary state dir for the whole session."""
    state = tmp_path_factory.mktemp("state")
    saved = {
        k: os.environ.get(k)
        for k in ("LEAD_ASSETS_STATE_DIR", "LEAD_ASSETS_DATABASE_URL", "DAGSTER_HOME")
    }
    os.environ["LEAD_ASSETS_STATE_DIR"] = str(state)
    os.environ.pop("LEAD_ASSETS_DATABASE_URL", None)
    os.environ.pop("DAGSTER_HOME", None)
    yield state
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """URL of a PostgreSQL server where the tests may create databases.

    Never skips: if no server can be had, the PostgreSQL tests fail with instructions.
    """
    configured = os.environ.get("LEAD_ASSETS_TEST_PG_URL")
    if configured:
        _PG_RESULTS["server"] = (
            f"configured server {make_url(configured).render_as_string(hide_password=True)}"
        )
        yield configured
        return
    try:
        cluster = ThrowawayCluster.start()
    except PostgresUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    _PG_RESULTS["server"] = f"throwaway cluster from {cluster.bindir} on 127.0.0.1:{cluster.port}"
    try:
        yield cluster.url
    finally:
        cluster.stop()


def _admin_dsn(server_url: str) -> str:
    return make_url(server_url).set(drivername="postgresql").render_as_string(hide_password=False)


def create_database(server_url: str, prefix: str) -> str:
    """Create a fresh database on the test server; return its SQLAlchemy URL (psycopg 3)."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_admin_dsn(server_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return (
        make_url(server_url)
        .set(drivername="postgresql+psycopg", database=name)
        .render_as_string(hide_password=False)
    )


def drop_database(server_url: str, url: str) -> None:
    """Drop a database created by :func:`create_database` (terminating leftover sessions)."""
    name = make_url(url).database
    with psycopg.connect(_admin_dsn(server_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_run_database(pg_server: str) -> Iterator[str]:
    """The database of this test run (dropped at the end)."""
    url = create_database(pg_server, "lead_assets_run")
    yield url
    drop_database(pg_server, url)


@pytest.fixture
def pg_database(pg_server: str) -> Iterator[str]:
    """A fresh PostgreSQL database for one test (dropped after it)."""
    url = create_database(pg_server, "lead_assets_t")
    yield url
    drop_database(pg_server, url)


@pytest.fixture(params=["sqlite", "postgres"])
def warehouse_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same warehouse test runs on the embedded SQLite default and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
    return request.getfixturevalue("pg_database")


@pytest.fixture
def warehouse(warehouse_url: str) -> Iterator[Engine]:
    """A migrated warehouse engine on each backend."""
    from lead_assets.warehouse import apply_migrations, make_engine

    engine = make_engine(warehouse_url)
    apply_migrations(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def pg_dagster_url(pg_server: str) -> Iterator[str]:
    """A database for Dagster's own storage (dagster-postgres, psycopg2 driver)."""
    url = create_database(pg_server, "lead_assets_dagster")
    yield make_url(url).set(drivername="postgresql+psycopg2").render_as_string(hide_password=False)
    drop_database(pg_server, url)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Count PostgreSQL-backed tests so the summary proves they ran."""
    if report.when == "call" and ("postgres" in report.nodeid or "pg_" in report.nodeid):
        _PG_RESULTS["passed" if report.passed else "failed"] += 1 if not report.skipped else 0


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print how many PostgreSQL tests ran and against which server."""
    if _PG_RESULTS["server"]:
        terminalreporter.write_line(
            f"PostgreSQL tests: {_PG_RESULTS['passed']} passed, {_PG_RESULTS['failed']} failed "
            f"against {_PG_RESULTS['server']}"
        )
