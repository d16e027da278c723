"""One representation of a missing value: ``None`` in every text column, never NaN.

pandas fills gaps with NaN (a float) whenever it builds a frame from records that lack a key, reads
a column back, or reindexes; a float in a text column then breaks every ``str`` method and every
sort downstream. Each place that *builds* a frame from outside data (warehouse reads, parsed
records) passes it through :func:`none_for_missing` once, so no later step has to guess whether a
gap is NaN, ``pd.NA`` or None. Numeric columns keep NaN: there it is the number "unknown".
"""

from __future__ import annotations

from typing import Any

import pandas as pd


def is_text_column(series: pd.Series) -> bool:
    """True for object columns and pandas' ``str``/``string`` dtypes (numbers and bools excluded)."""
    return series.dtype == object or pd.api.types.is_string_dtype(series.dtype)


def none_for_missing(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every NaN / ``pd.NA`` / NaT in a text column replaced by ``None`` (object dtype).

    Returns the same frame object when nothing needed changing (the common case costs one
    ``isna`` per text column).
    """
    for column in frame.columns.unique():
        values = frame[column]
        if isinstance(values, pd.DataFrame):  # duplicated column names: handle each copy
            for i in range(values.shape[1]):
                position = [j for j, c in enumerate(frame.columns) if c == column][i]
                series = frame.iloc[:, position]
                if is_text_column(series):
                    frame.isetitem(position, _with_none(series))  # pyright: ignore[reportArgumentType]  # pandas-stubs: a Series is valid
            continue
        if is_text_column(values):
            missing = values.isna()
            if missing.any() or values.dtype != object:
                frame[column] = _with_none(values)
    return frame


def _with_none(series: pd.Series) -> pd.Series:
    return series.astype(object).where(series.notna(), None)  # pyright: ignore[reportArgumentType]  # pandas-stubs: other=None is valid


def blank_column(index: pd.Index) -> pd.Series:
    """An all-missing text column (object dtype of None; ``pd.Series(None)`` would be float NaN)."""
    return pd.Series([None] * len(index), index=index, dtype=object)


def text_or_none(value: Any) -> str | None:
    """A cell as text, or None for any missing marker (None, NaN, pd.NA, NaT, blank)."""
    if value is None or (not isinstance(value, str) and pd.isna(value) is True):
        return None
    text = str(value).strip()
    return text or None
