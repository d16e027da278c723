"""Entity resolution behind deduplicated_accounts: every resolved lead, re-clustered with the
batch's new leads, so a new lead joins an existing cluster. Today's implementation re-resolves the
whole warehouse each time (simple, and by construction identical to a full run); the explicit
``recluster_job`` does the same on demand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import Engine, text

from lead_assets.core.matching.resolve import resolve
from lead_assets.warehouse.engine import write_transaction
from lead_assets.warehouse.partitions import bulk_insert, frame_rows

_COLUMNS = (
    "batch_key, row_id, first_name, last_name, email_match_key, email_is_role, phone_e164, linkedin_url, vendor_lead_id,"
    " company_key, domain, company_name, industry, headcount_bucket, country, title_normalized"
)


@dataclass
class ResolveStats:
    """Figures of one resolution pass."""

    leads: int
    clusters: int
    accounts: int
    batch_leads: int
    batch_duplicates: int

    def summary(self) -> dict[str, object]:
        """Numbers for the UI."""
        return {
            "leads_resolved": self.leads,
            "lead_clusters": self.clusters,
            "accounts": self.accounts,
            "batch_leads": self.batch_leads,
            "batch_leads_in_existing_or_shared_clusters": self.batch_duplicates,
            "duplicate_rate": round(1 - self.clusters / self.leads, 4) if self.leads else 0.0,
        }


def _all_ok_leads(engine: Engine) -> pd.DataFrame:
    with engine.connect() as conn:
        frame = pd.read_sql(
            text(f"SELECT {_COLUMNS} FROM standardized_leads WHERE status = 'ok'"), conn
        )
        enriched = pd.read_sql(
            text(
                "SELECT batch_key, row_id, industry AS e_industry, headcount_bucket AS e_headcount FROM enriched_leads"
            ),
            conn,
        )
    frame = frame.merge(enriched, on=["batch_key", "row_id"], how="left")
    frame["industry"] = frame["e_industry"].where(frame["e_industry"].notna(), frame["industry"])
    frame["headcount_bucket"] = frame["e_headcount"].where(
        frame["e_headcount"].notna(), frame["headcount_bucket"]
    )
    frame["key"] = frame["batch_key"] + "|" + frame["row_id"]
    return frame.drop(columns=["e_industry", "e_headcount"])


def recluster_all(engine: Engine) -> ResolveStats:
    """Resolve every ok lead and rewrite lead_clusters and deduplicated_accounts."""
    return resolve_batch(engine, None)


def resolve_batch(engine: Engine, batch_key: str | None) -> ResolveStats:
    """Resolve all leads (the batch's included) and store clusters and accounts in one transaction."""
    frame = _all_ok_leads(engine)
    result = resolve(frame)
    clusters = result.clusters.merge(frame[["key", "batch_key", "row_id"]], on="key").drop(
        columns=["key"]
    )
    now = datetime.now(UTC)
    clusters["updated_at"] = now
    accounts = result.accounts.assign(updated_at=now)
    with write_transaction(engine) as conn:
        conn.execute(text("DELETE FROM lead_clusters"))
        conn.execute(text("DELETE FROM deduplicated_accounts"))
        cols = [
            "batch_key",
            "row_id",
            "lead_cluster_id",
            "account_id",
            "link_confidence",
            "link_rule",
            "is_survivor",
            "updated_at",
        ]
        bulk_insert(
            conn,
            "lead_clusters",
            cols,
            frame_rows(clusters, cols, datetimes_as_text=conn.dialect.name == "sqlite"),
        )
        acols = list(accounts.columns)
        bulk_insert(
            conn,
            "deduplicated_accounts",
            acols,
            frame_rows(accounts, acols, datetimes_as_text=conn.dialect.name == "sqlite"),
        )
    mine = clusters[clusters["batch_key"] == batch_key] if batch_key else clusters
    sizes = clusters["lead_cluster_id"].value_counts()
    return ResolveStats(
        leads=len(clusters),
        clusters=int(clusters["lead_cluster_id"].nunique()),
        accounts=len(accounts),
        batch_leads=len(mine),
        batch_duplicates=int(mine["lead_cluster_id"].map(sizes).gt(1).sum()),
    )
