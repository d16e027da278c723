"""Reading a dropped file: counted in the sensor, parsed once in the run, served by slices.

The file-drop sensor reads a file once, streamed, to quarantine what cannot be used and to count
its rows, so its batches are cut at exact row ranges (:func:`count_rows`: memory does not grow
with the file, nothing is kept). The first ingest run of any of its batches parses it, streamed,
into Parquet beside the archived file, one row group per chunk (:func:`ensure_staged`, under a
file lock so concurrent batch runs stage it once); every batch then reads only the row groups of
its own slice (:func:`read_staged`). So a 1,000,000-row file costs a bounded amount of memory in
the tick and in each run (``benchmarks/bench_ingest_1m.py``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

if TYPE_CHECKING:
    from lead_assets.core.parsing import ParsedRow


class FileUnusable(Exception):
    """The file cannot be used at all; ``code`` is a stable reason code, ``message`` a sentence."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def staged_path(archived: Path) -> Path:
    """Where the parsed rows of an archived file are staged."""
    return archived.with_name(archived.name + ".rows.parquet")


#: Rows per Parquet row group (and per chunk held in memory while staging).
CHUNK_ROWS = 50_000
_COLUMNS = ["line_no", "raw_json", "parse_error"]
_SCHEMA = pa.schema(
    [("line_no", pa.int64()), ("raw_json", pa.large_string()), ("parse_error", pa.large_string())]
)


@contextmanager
def _rows_of(path: Path, max_bytes: int | None) -> Iterator[Iterator[ParsedRow]]:
    """The file's parsed rows, with unusable files raised as :class:`FileUnusable`."""
    from lead_assets.core.parsing import FileRejected, open_rows

    try:
        kwargs = {} if max_bytes is None else {"max_bytes": max_bytes}
        with open_rows(path, **kwargs) as stream:

            def rows() -> Iterator[ParsedRow]:
                try:
                    yield from stream.rows
                except FileRejected as exc:
                    raise FileUnusable(exc.reason_code, exc.message) from None

            yield rows()
    except FileRejected as exc:
        raise FileUnusable(exc.reason_code, exc.message) from None


def _no_rows() -> FileUnusable:
    return FileUnusable("no_data_rows", "the file has a header but no data rows")


def count_rows(path: Path, *, max_bytes: int | None = None) -> int:
    """Read ``path`` once, streamed, and return its number of rows (malformed rows count: they
    are kept with their reason). Raises :class:`FileUnusable` for files that cannot be used
    (empty, binary, oversized, undecodable, no email and no name + company columns, no rows)."""
    with _rows_of(path, max_bytes) as rows:
        n = sum(1 for _ in rows)
    if not n:
        raise _no_rows()
    return n


def _chunk_table(chunk: list[ParsedRow]) -> pa.Table:
    return pa.Table.from_pydict(
        {
            "line_no": [r.line_no for r in chunk],
            "raw_json": [json.dumps(r.values, ensure_ascii=False) for r in chunk],
            "parse_error": [r.parse_error for r in chunk],
        },
        schema=_SCHEMA,
    )


def stage_file(path: Path, target: Path, *, max_bytes: int | None = None) -> int:
    """Parse ``path``, streamed, into ``target`` (Parquet, one row group per
    :data:`CHUNK_ROWS` rows; written aside and renamed, so a reader never sees half a file);
    return the number of rows."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    n = 0
    with _rows_of(path, max_bytes) as rows, pq.ParquetWriter(tmp, _SCHEMA) as writer:
        chunk: list[ParsedRow] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= CHUNK_ROWS:
                writer.write_table(_chunk_table(chunk), row_group_size=CHUNK_ROWS)
                n += len(chunk)
                chunk = []
        if chunk:
            writer.write_table(_chunk_table(chunk), row_group_size=CHUNK_ROWS)
            n += len(chunk)
    if not n:
        tmp.unlink(missing_ok=True)
        raise _no_rows()
    tmp.replace(target)
    return n


def ensure_staged(archived: Path) -> Path:
    """The staged rows of an archived file, parsing it first if no run did yet. A lock file
    beside it makes concurrent batch runs of one file parse it once."""
    import fcntl

    target = staged_path(archived)
    if target.exists():
        return target
    if not archived.exists():
        raise FileNotFoundError(
            f"the archived file {archived.name} is missing ({archived}); drop the file again to "
            "re-register it"
        )
    lock = target.with_name(target.name + ".lock")
    with lock.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            if not target.exists():
                # No size limit here: the sensor checked it when it registered the file.
                stage_file(archived, target)
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
    lock.unlink(missing_ok=True)
    return target


def read_staged(target: Path, row_start: int, row_end: int) -> pd.DataFrame:
    """Rows ``row_start``..``row_end`` (1-based, inclusive) of a staged file; only the row
    groups that hold them are read."""
    file = pq.ParquetFile(target)
    groups, first_row, offset = [], None, 0
    for index in range(file.metadata.num_row_groups):
        rows = file.metadata.row_group(index).num_rows
        if offset + rows >= row_start and offset < row_end:
            groups.append(index)
            if first_row is None:
                first_row = offset
        offset += rows
    if not groups:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in _COLUMNS})
    table = file.read_row_groups(groups, columns=_COLUMNS)
    start = row_start - 1 - (first_row or 0)
    return table.slice(start, row_end - row_start + 1).to_pandas()
