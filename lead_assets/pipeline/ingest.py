"""Ingestion steps behind the raw_uploads and standardized_leads assets."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from lead_assets.core.parsing import flatten_record, record_headers
from lead_assets.pipeline.batch_registry import get_batch, set_batch_state
from lead_assets.pipeline.reading import ensure_staged, read_staged
from lead_assets.warehouse import read_partition, replace_partition


@dataclass
class RawLoadStats:
    """What ``raw_uploads`` wrote for one batch."""

    batch_key: str
    source: str
    origin: str
    rows: int
    malformed: int

    def summary(self) -> dict[str, object]:
        """Figures for the UI; the origin is a file name, never row content."""
        return {
            "rows": self.rows,
            "malformed_rows": self.malformed,
            "source": self.source,
            "origin": Path(self.origin).name,
        }


@dataclass
class StandardizeStats:
    """What ``standardized_leads`` wrote for one batch."""

    batch_key: str
    rows_in: int
    ok: int
    rejected: int
    reasons: dict[str, int] = field(default_factory=dict)
    fill_rates: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, object]:
        """Row counts, rejection reasons and fill rate per field."""
        out: dict[str, object] = {
            "rows_in": self.rows_in,
            "ok": self.ok,
            "rejected": self.rejected,
            "rejection_reasons": dict(self.reasons),
        }
        for name, rate in sorted(self.fill_rates.items()):
            out[f"fill_rate/{name}"] = round(rate, 4)
        return out


def _now() -> datetime:
    return datetime.now(UTC)


INGESTING = "ingesting"
#: The columns of a ``raw_uploads`` row, whatever the batch's source (file, ICP pull, re-verify).
RAW_UPLOAD_COLUMNS = (
    "row_id",
    "file_id",
    "file_name",
    "line_no",
    "source",
    "raw_json",
    "parse_error",
    "loaded_at",
)


def load_raw_uploads(engine: Engine, batch_key: str, *, run_id: str | None = None) -> RawLoadStats:
    """Write the batch's input rows verbatim to ``raw_uploads`` (idempotent per partition).

    A newly registered batch goes to ``ingesting`` under this run's lease, so a run killed before
    ``standardized_leads`` is found by the reconcile step and ingested again (issue 10)."""
    from lead_assets.warehouse.ledger import claim_run

    batch = get_batch(engine, batch_key)
    if batch.state == "registered":
        claim_run(engine, run_id, batch_key)
        set_batch_state(engine, batch_key, INGESTING)
    if batch.source == "file":
        archived = Path(batch.origin)
        staged = ensure_staged(archived)
        rows = read_staged(staged, batch.row_start or 1, batch.row_end or 1)
        file_id = batch.file_id or ""
        frame = pd.DataFrame(
            {
                "row_id": file_id[:16] + ":" + rows["line_no"].astype(str),
                "file_id": file_id,
                "file_name": archived.name.split("-", 1)[-1],
                "line_no": rows["line_no"],
                "source": "file",
                "raw_json": rows["raw_json"],
                "parse_error": rows["parse_error"],
                "loaded_at": _now(),
            }
        )
    elif batch.source == "reverify":
        from lead_assets.pipeline.reverify import reverify_raw_rows

        frame = reverify_raw_rows(engine, batch_key)
    else:
        from lead_assets.pipeline.prospecting import icp_raw_rows

        frame = icp_raw_rows(engine, batch_key)
    replace_partition(engine, "raw_uploads", batch_key, frame)
    return RawLoadStats(
        batch_key=batch_key,
        source=batch.source,
        origin=batch.origin,
        rows=len(frame),
        malformed=int(frame["parse_error"].notna().sum()),
    )


def raw_frame_to_canonical(raw: pd.DataFrame) -> pd.DataFrame:
    """Decode ``raw_json`` and rename each file's headers to canonical lead fields."""
    records = [flatten_record(json.loads(v)) for v in raw["raw_json"]]
    return frame_to_canonical(
        pd.DataFrame.from_records(records, columns=record_headers(records)),
        row_ids=raw["row_id"].to_numpy(),
        parse_errors=raw["parse_error"].to_numpy(),
        sources=raw["source"].to_numpy(),
    )


def frame_to_canonical(
    frame: pd.DataFrame, *, row_ids: Any, parse_errors: Any, sources: Any
) -> pd.DataFrame:
    """A file's rows (its own headers, nested keys dotted) as canonical lead fields plus
    ``row_id``, ``parse_error`` and ``source``. Shared by the ingest path and ``lead-assets
    dedupe``, so both read a file's headers the same way."""
    from lead_assets.core.headers import map_headers
    from lead_assets.core.missing import none_for_missing

    mapping = map_headers([str(c) for c in frame.columns])
    canonical = frame.rename(columns=mapping)
    # Two source headers can map to one field (e.g. "Email" and "Work Email"): keep the first
    # non-empty value in header order.
    if canonical.columns.duplicated().any():
        canonical = canonical.T.groupby(level=0, sort=False).first().T
    fields = set(mapping.values())
    canonical = canonical[[c for c in canonical.columns if c in fields]].copy()
    canonical.insert(0, "row_id", row_ids)
    canonical["parse_error"] = parse_errors
    canonical["source"] = sources
    # Records without a key come back as NaN from pandas: one representation (None) from here on.
    return none_for_missing(canonical)


def standardize_batch(engine: Engine, batch_key: str) -> StandardizeStats:
    """Standardize the batch's raw rows into ``standardized_leads`` (idempotent per partition)."""
    from lead_assets.core.standardize import standardize_rows

    raw = read_partition(engine, "raw_uploads", batch_key)
    canonical = raw_frame_to_canonical(raw)
    source = str(raw["source"].iloc[0]) if len(raw) else "file"
    result = standardize_rows(canonical, batch_key=batch_key, source=source)
    frame = result.frame.assign(standardized_at=_now())
    replace_partition(engine, "standardized_leads", batch_key, frame)
    set_batch_state(engine, batch_key, "ingested")
    stats = result.stats
    return StandardizeStats(
        batch_key=batch_key,
        rows_in=len(raw),
        ok=int((frame["status"] == "ok").sum()),
        rejected=int((frame["status"] == "rejected").sum()),
        reasons=dict(stats.reasons),
        fill_rates=dict(stats.fill_rates),
    )
