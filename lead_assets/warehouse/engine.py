"""Engine construction for the warehouse (SQLite or PostgreSQL via psycopg 3)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from lead_assets.settings import database_url, normalize_database_url


def make_engine(url: str | None = None) -> Engine:
    """Create an engine for ``url`` (default: the configured warehouse).

    SQLite gets WAL journaling and a busy timeout because a sensor, a run worker and the CLI may
    touch the file at once; its folder is created on first use.
    """
    url = normalize_database_url(url) if url else database_url()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA busy_timeout=30000")  # first: the WAL switch below may wait
            _switch_to_wal(cur)
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()
            # pysqlite opens transactions only before DML, so DDL would autocommit and a failed
            # migration could be half applied. Take over: SQLAlchemy emits BEGIN itself.
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn) -> None:
            # write_transaction() asks for IMMEDIATE: in WAL mode a deferred transaction that
            # reads and then writes fails at once (SQLITE_BUSY_SNAPSHOT) when another writer
            # committed in between; IMMEDIATE takes the write lock up front and waits for it.
            mode = conn.get_execution_options().get("sqlite_begin", "")
            conn.exec_driver_sql(f"BEGIN {mode}".strip())

        return engine
    return create_engine(url, pool_pre_ping=True)


def _switch_to_wal(cur) -> None:
    """``PRAGMA journal_mode=WAL``, retried: on a new file, connections opening at the same
    moment (three migration appliers, a sensor and a run) can get SQLITE_BUSY from the switch
    itself, which the busy timeout does not cover. The mode is persistent, so once one
    connection has switched, the others find WAL already set."""
    import sqlite3
    import time

    for attempt in range(100):
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            time.sleep(0.05 * (1 + attempt % 4))
    cur.execute("PRAGMA journal_mode=WAL")


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that will write: on SQLite it holds the write lock from its first statement."""
    with engine.connect().execution_options(sqlite_begin="IMMEDIATE") as conn, conn.begin():
        yield conn


def is_postgres(engine: Engine) -> bool:
    """True when the engine talks to PostgreSQL."""
    return engine.dialect.name == "postgresql"
