"""Reading a dropped file once: parse it, stage its rows as Parquet beside the archived file, and
serve any batch's slice from there.

Parsing happens once per file version (in the sensor, which must parse anyway to count rows and
to quarantine unusable files); every batch of a large file then reads its slice from the staged
Parquet instead of re-parsing the whole file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


class FileUnusable(Exception):
    """The file cannot be used at all; ``code`` is a stable reason code, ``message`` a sentence."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def staged_path(archived: Path) -> Path:
    """Where the parsed rows of an archived file are staged."""
    return archived.with_name(archived.name + ".rows.parquet")


def parse_rows(path: Path, *, max_bytes: int | None = None) -> pd.DataFrame:
    """Parse ``path`` into a frame of ``line_no``, ``raw_json``, ``parse_error``.

    Raises :class:`FileUnusable` for files that cannot be used (empty, binary, oversized,
    undecodable, no email and no name + company columns, no data rows).
    """
    from lead_assets.core.parsing import FileRejected, parse_file

    try:
        parsed = parse_file(path) if max_bytes is None else parse_file(path, max_bytes=max_bytes)
    except FileRejected as exc:
        raise FileUnusable(exc.reason_code, exc.message) from None
    rows = [
        (row.line_no, json.dumps(row.values, ensure_ascii=False), row.parse_error)
        for row in parsed.rows
    ]
    if not rows:
        raise FileUnusable("no_data_rows", "the file has a header but no data rows")
    return pd.DataFrame(rows, columns=["line_no", "raw_json", "parse_error"])


def stage_file(path: Path, target: Path, *, max_bytes: int | None = None) -> int:
    """Parse ``path`` and write its rows to ``target`` (Parquet); return the number of rows."""
    frame = parse_rows(path, max_bytes=max_bytes)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp)
    tmp.replace(target)
    return len(frame)


def read_staged(target: Path, row_start: int, row_end: int) -> pd.DataFrame:
    """Rows ``row_start``..``row_end`` (1-based, inclusive) of a staged file."""
    table = pq.read_table(target)
    return table.slice(row_start - 1, row_end - row_start + 1).to_pandas()
