"""Re-verification of delivered leads whose answers passed their TTL (issue 13).

An email that was deliverable a month ago may bounce today. The weekly re-verification schedule
(off by default: it spends) calls :func:`register_reverification`: it picks the delivered leads
(``QUALIFIED`` or ``REVIEW`` in an exported batch, with an email) whose Generect enrichment is
older than the validation TTL, one row per address, newest delivery first, as many as the
re-verification budget of its own pays for, and registers them as a ``reverify`` lead batch.
From there the batch is like any other: the file-drop sensor ingests it, the credits sensor plans
and launches its enrichment within the balances, reserves and run budgets, and it is exported
with fresh email statuses (its leads are reported ``ALREADY_DELIVERED``, naming the batch that
delivered them first). Company answers live 90 days, so a re-verification mostly buys
validations (and a Leedrush check per row, whose results live 30 days).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import Engine, text

from lead_assets.core.prices import GENERECT_USD
from lead_assets.pipeline.batch_registry import LeadBatch, register_batches
from lead_assets.pipeline.enrich import TTL
from lead_assets.pipeline.ingest import RAW_UPLOAD_COLUMNS
from lead_assets.settings import reverify_budget
from lead_assets.warehouse.engine import write_transaction

REVERIFY = "reverify"
#: Delivered statuses worth re-verifying (a disqualified lead was never sent on).
DELIVERED = ("QUALIFIED", "REVIEW")
#: Lead fields carried into the re-verification batch (what standardization reads).
FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone_e164",
    "title",
    "company_name",
    "domain",
    "country",
)


@dataclass
class ReverifyStats:
    """What one re-verification pass decided."""

    batch_key: str | None
    due: int
    selected: int
    budget_usd: float
    budget_credits: float

    def summary(self) -> dict[str, object]:
        """Figures for the run log and metadata (no lead data)."""
        return {
            "batch_key": self.batch_key or "",
            "due": self.due,
            "selected": self.selected,
            "left_for_a_later_pass": self.due - self.selected,
            "budget_usd": self.budget_usd,
            "budget_credits": self.budget_credits,
        }


def due_leads(engine: Engine, now: datetime) -> pd.DataFrame:
    """Delivered leads whose enrichment passed the validation TTL, one per address (newest
    delivery), minus addresses already in a re-verification batch within that TTL."""
    cutoff = now - TTL["email_validate"]
    columns = ", ".join(f"q.{c}" for c in FIELDS)
    with engine.connect() as conn:
        frame = pd.read_sql(
            text(
                f"SELECT q.batch_key, q.row_id, {columns}, g.enriched_at FROM qualified_leads q"
                " JOIN generect_enrichment g ON g.batch_key = q.batch_key AND g.row_id = q.row_id"
                " JOIN lead_batches b ON b.batch_key = q.batch_key"
                " WHERE q.status IN ('QUALIFIED', 'REVIEW') AND q.email IS NOT NULL"
                " AND EXISTS (SELECT 1 FROM batch_exports e WHERE e.batch_key = q.batch_key)"
                " ORDER BY b.created_at DESC, q.batch_key DESC, q.row_id"
            ),
            conn,
        )
        pending = {
            r[0]
            for r in conn.execute(
                text("SELECT DISTINCT email FROM reverify_rows WHERE created_at >= :c"),
                {"c": cutoff},
            )
        }
    if not len(frame):
        return frame
    frame["address"] = frame["email"].str.strip().str.lower()
    # The newest delivery of an address says how old its answers are.
    frame = frame.drop_duplicates("address", keep="first")
    enriched = pd.to_datetime(frame["enriched_at"], utc=True, format="mixed")
    due = frame[(enriched <= cutoff) & ~frame["address"].isin(pending)]
    return due.reset_index(drop=True)


def register_reverification(engine: Engine, *, now: datetime | None = None) -> ReverifyStats:
    """Register one ``reverify`` batch of the leads that are due, within the budget; nothing
    when none are due. Free: it only reads and writes the warehouse."""
    from lead_assets.pipeline.landing import batch_key as make_batch_key

    now = now or datetime.now(UTC)
    usd, credits = reverify_budget()
    due = due_leads(engine, now)
    # One validation and (at most) one Leedrush row per lead; other answers are still cached.
    affordable = int(min(usd // GENERECT_USD["email_validate"], credits))
    chosen = due.head(max(affordable, 0))
    stats = ReverifyStats(None, len(due), len(chosen), usd, credits)
    if not len(chosen):
        return stats
    digest = hashlib.sha256("\n".join(chosen["address"]).encode()).hexdigest()[:6]
    key = make_batch_key(now, REVERIFY, 1, digest)
    rows = [
        {
            "batch_key": key,
            "line_no": n,
            "email": r.address,
            "delivered_batch_key": r.batch_key,
            "delivered_row_id": r.row_id,
            "raw_json": json.dumps({f: _plain(getattr(r, f)) for f in FIELDS}),
            "created_at": now,
        }
        for n, r in enumerate(chosen.itertuples(), start=1)
    ]
    with write_transaction(engine) as conn:
        conn.execute(
            text(
                "INSERT INTO reverify_rows (batch_key, line_no, email, delivered_batch_key,"
                " delivered_row_id, raw_json, created_at) VALUES (:batch_key, :line_no, :email,"
                " :delivered_batch_key, :delivered_row_id, :raw_json, :created_at)"
            ),
            rows,
        )
    n = len(rows)
    register_batches(
        engine, [LeadBatch(key, REVERIFY, "re-verification", None, 1, n, n, "registered")]
    )
    stats.batch_key = key
    return stats


def _plain(value: object) -> object:
    return None if value is None or (isinstance(value, float) and value != value) else value


def reverify_raw_rows(engine: Engine, batch_key: str) -> pd.DataFrame:
    """raw_uploads rows of a re-verification batch, each traced to where it was delivered."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT line_no, raw_json, delivered_batch_key, delivered_row_id FROM reverify_rows"
                " WHERE batch_key = :k ORDER BY line_no"
            ),
            {"k": batch_key},
        ).all()
    now = datetime.now(UTC)
    return pd.DataFrame(
        [
            {
                "row_id": f"{REVERIFY}:{line_no}",
                "file_id": f"{REVERIFY}:{delivered_batch}",
                "file_name": f"re-verification of {delivered_batch} {delivered_row}",
                "line_no": line_no,
                "source": REVERIFY,
                "raw_json": raw,
                "parse_error": None,
                "loaded_at": now,
            }
            for line_no, raw, delivered_batch, delivered_row in rows
        ],
        columns=list(RAW_UPLOAD_COLUMNS),
    )
