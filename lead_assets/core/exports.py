"""Per-batch exports: CSV (with formula injection neutralized) and Parquet, written atomically."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

#: A cell starting with one of these runs as a formula in Excel, Sheets or LibreOffice.
DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralize_csv_cell(value: object) -> object:
    """Prefix a single quote to a text cell that would run as a formula (OWASP's advice).

    E.164 phones start with ``+`` and are neutralized too in CSV; Parquet and the warehouse keep
    the raw value, so nothing is lost for programs that read those.
    """
    if isinstance(value, str) and value.startswith(DANGEROUS_PREFIXES):
        return "'" + value
    return value


def neutralize_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` safe to open in a spreadsheet: every text cell (object, ``str`` or
    ``string`` dtype alike) and every column name that would run as a formula is neutralized."""
    from lead_assets.core.missing import is_text_column

    safe = frame.copy()
    for position in range(safe.shape[1]):
        series = safe.iloc[:, position]
        if is_text_column(series):
            # One list pass, not Series.map: a million-row export has ten text columns.
            cells = [neutralize_csv_cell(v) for v in series.astype(object).tolist()]
            safe.isetitem(position, pd.Series(cells, index=series.index, dtype=object))  # pyright: ignore[reportArgumentType]  # pandas-stubs: a Series is valid
    safe.columns = [neutralize_csv_cell(c) for c in safe.columns]
    return safe


def write_batch_exports(frame: pd.DataFrame, outbox: Path, batch_key: str) -> dict[str, Path]:
    """Write ``<outbox>/<batch_key>/leads.csv`` and ``leads.parquet``; return the paths."""
    folder = Path(outbox) / batch_key
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, parquet_path = folder / "leads.csv", folder / "leads.parquet"
    safe = neutralize_frame(frame)
    tmp = csv_path.with_suffix(".csv.tmp")
    safe.to_csv(tmp, index=False)
    tmp.replace(csv_path)
    tmp = parquet_path.with_suffix(".parquet.tmp")
    pq.write_table(pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False), tmp)
    tmp.replace(parquet_path)
    return {"csv": csv_path, "parquet": parquet_path}


def summary_text(figures: dict[str, object]) -> str:
    """A short two-column table of a batch summary."""
    width = max(len(k) for k in figures)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in figures.items())
