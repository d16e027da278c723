"""Idempotent per-partition writes and bulk loads.

A partition (one lead batch) is rewritten by deleting its rows and inserting the new ones in one
transaction, so a re-run or a backfill leaves exactly one copy. PostgreSQL loads use COPY through
psycopg 3; SQLite uses ``executemany`` inside the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

import pandas as pd
from sqlalchemy import Connection, Engine, inspect, text

from lead_assets.warehouse.engine import write_transaction

_IDENT_OK = set("abcdefghijklmnopqrstuvwxyz0123456789_")


def _ident(name: str) -> str:
    """Table and column names come from our own schema; refuse anything else."""
    if not name or set(name) - _IDENT_OK:
        raise ValueError(f"not a plain identifier: {name!r}")
    return name


def table_columns(conn: Connection, table: str) -> list[str]:
    """Column names of ``table`` in schema order."""
    return [c["name"] for c in inspect(conn).get_columns(_ident(table))]


def _column_values(series: pd.Series, *, datetimes_as_text: bool) -> list:
    """One column as plain Python values (numpy scalars unboxed, NaN/NaT -> None)."""
    values = series.astype(object).where(series.notna(), None).tolist()  # pyright: ignore[reportArgumentType]  # pandas-stubs: other=None is valid
    if datetimes_as_text and (
        pd.api.types.is_datetime64_any_dtype(series)
        or any(isinstance(v, datetime) for v in values[:1])
    ):
        # Stored in SQLAlchemy's own SQLite DateTime format so reads round-trip.
        values = [
            v.replace(tzinfo=None).isoformat(sep=" ") if isinstance(v, datetime) else v
            for v in values
        ]
    return values


def frame_rows(
    frame: pd.DataFrame, columns: Sequence[str], *, datetimes_as_text: bool = False
) -> Iterator[tuple]:
    """Rows of ``frame`` restricted to ``columns``, as tuples of plain Python values.

    Converted column by column (vectorized) rather than value by value: it is the hot loop of a
    million-row load.
    """
    return zip(
        *(_column_values(frame[c], datetimes_as_text=datetimes_as_text) for c in columns),
        strict=True,
    )


def bulk_insert(conn: Connection, table: str, columns: Sequence[str], rows: Iterable[tuple]) -> int:
    """Insert ``rows`` into ``table`` inside the caller's transaction; return the row count.

    On SQLite, datetimes must already be text (see :func:`frame_rows`).
    """
    cols = [_ident(c) for c in columns]
    if conn.dialect.name == "postgresql":
        return _copy_rows(conn, table, cols, rows)
    placeholders = ", ".join("?" for _ in cols)
    sql = f"INSERT INTO {_ident(table)} ({', '.join(cols)}) VALUES ({placeholders})"
    count = 0
    driver = conn.connection.driver_connection
    assert driver is not None  # an open Connection always holds its DBAPI connection
    cursor = driver.cursor()
    try:
        chunk: list[tuple] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= 10_000:
                cursor.executemany(sql, chunk)
                count += len(chunk)
                chunk.clear()
        if chunk:
            cursor.executemany(sql, chunk)
            count += len(chunk)
    finally:
        cursor.close()
    return count


def _copy_rows(conn: Connection, table: str, cols: list[str], rows: Iterable[tuple]) -> int:
    raw = conn.connection.driver_connection  # psycopg.Connection, same transaction
    assert raw is not None  # an open Connection always holds its DBAPI connection
    count = 0
    with (
        raw.cursor() as cur,
        cur.copy(f"COPY {_ident(table)} ({', '.join(cols)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def replace_partition(engine: Engine, table: str, batch_key: str, frame: pd.DataFrame) -> int:
    """Replace every row of ``table`` whose ``batch_key`` matches with the rows of ``frame``.

    ``frame`` must carry the table's columns (extra columns are an error, missing nullable ones
    are stored as NULL); its ``batch_key`` column is forced to ``batch_key``. Returns rows written.
    """
    frame = frame.assign(batch_key=batch_key)
    with write_transaction(engine) as conn:
        columns = table_columns(conn, table)
        unknown = [c for c in frame.columns if c not in columns]
        if unknown:
            raise ValueError(f"{table} has no column(s) {unknown}")
        present = [c for c in columns if c in frame.columns]
        conn.execute(text(f"DELETE FROM {_ident(table)} WHERE batch_key = :k"), {"k": batch_key})
        rows = frame_rows(frame, present, datetimes_as_text=conn.dialect.name == "sqlite")
        return bulk_insert(conn, table, present, rows)


def read_partition(engine: Engine, table: str, batch_key: str) -> pd.DataFrame:
    """All rows of ``table`` for one batch, as a DataFrame (missing text values are None)."""
    from lead_assets.core.missing import none_for_missing

    with engine.connect() as conn:
        return none_for_missing(
            pd.read_sql(
                text(f"SELECT * FROM {_ident(table)} WHERE batch_key = :k"),
                conn,
                params={"k": batch_key},
            )
        )


def count_partition(engine: Engine, table: str, batch_key: str) -> int:
    """Number of rows of ``table`` for one batch."""
    with engine.connect() as conn:
        return int(
            conn.execute(
                text(f"SELECT COUNT(*) FROM {_ident(table)} WHERE batch_key = :k"), {"k": batch_key}
            ).scalar_one()
        )
