"""Entity resolution behind deduplicated_accounts, incremental: a batch's leads are resolved
together with the already-resolved leads they could link to (same email, phone, LinkedIn,
vendor id or organization) and the whole clusters those belong to, so a new lead joins an
existing cluster without re-clustering the warehouse. The explicit ``recluster_job`` re-resolves
everything; a test checks both give the same clusters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import Engine, text

from lead_assets.core.matching.resolve import resolve, survivors
from lead_assets.warehouse.engine import write_transaction
from lead_assets.warehouse.partitions import bulk_insert, frame_rows

_COLUMNS = (
    "batch_key, row_id, source, first_name, last_name, email_match_key, email_is_role, phone_e164, phone_type, linkedin_url, vendor_lead_id,"
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
    from lead_assets.core.missing import none_for_missing

    return none_for_missing(frame.drop(columns=["e_industry", "e_headcount"]))


def recluster_all(engine: Engine) -> ResolveStats:
    """Resolve every ok lead and rewrite lead_clusters and deduplicated_accounts."""
    return resolve_batch(engine, None)


KEY_COLUMNS = (
    "email_match_key",
    "linkedin_url",
    "vendor_lead_id",
    "phone_e164",
    "domain",
    "company_key",
)
CLUSTER_COLUMNS = [
    "batch_key",
    "row_id",
    "lead_cluster_id",
    "account_id",
    "link_confidence",
    "link_rule",
    "is_survivor",
    "updated_at",
]


def _assigned(engine: Engine) -> pd.DataFrame:
    with engine.connect() as conn:
        frame = pd.read_sql(
            text("SELECT batch_key, row_id, lead_cluster_id FROM lead_clusters"), conn
        )
    frame["key"] = frame["batch_key"] + "|" + frame["row_id"]
    return frame[["key", "lead_cluster_id"]]


def neighbourhood(frame: pd.DataFrame, batch_key: str, assigned: pd.DataFrame) -> pd.DataFrame:
    """The batch's leads plus every resolved lead that could link to one of them (sharing an
    exact key or an organization), with their whole clusters, since the guards need every member."""
    is_new = frame["batch_key"] == batch_key
    new, old = frame[is_new], frame[~is_new]
    touched = pd.Series(False, index=old.index)
    for column in KEY_COLUMNS:
        values = set(new[column].dropna().astype(str)) - {""}
        if values:
            touched |= old[column].astype(str).isin(values)
    cluster_ids = set(
        assigned.loc[assigned["key"].isin(old.loc[touched, "key"]), "lead_cluster_id"]
    )
    members = set(assigned.loc[assigned["lead_cluster_id"].isin(cluster_ids), "key"])
    touched |= old["key"].isin(members)
    return pd.concat([new, old[touched]])


def _accounts(frame: pd.DataFrame, clusters: pd.DataFrame) -> pd.DataFrame:
    """deduplicated_accounts rebuilt from every lead's cluster (vectorized: first known value)."""
    fields = ["company_name", "company_key", "domain", "industry", "headcount_bucket", "country"]
    merged = clusters[["key", "lead_cluster_id", "account_id"]].merge(
        frame[["key", *fields]], on="key"
    )
    merged = merged[merged["account_id"].notna()]
    grouped = merged.groupby("account_id")
    accounts = grouped[fields].first().rename(columns={"company_name": "name"})
    accounts["lead_count"] = grouped["lead_cluster_id"].nunique()
    accounts["field_sources"] = '{"*": "first known value among the account\'s leads"}'
    return accounts.reset_index()


def resolve_batch(engine: Engine, batch_key: str | None) -> ResolveStats:
    """Resolve the batch's leads against everything already resolved (incremental: only the
    batch and its neighbourhood are re-clustered) and store clusters and accounts in one
    transaction. ``batch_key=None`` re-clusters the whole warehouse."""
    frame = _all_ok_leads(engine)
    assigned = _assigned(engine)
    subset = frame if batch_key is None else neighbourhood(frame, batch_key, assigned)
    if subset.empty and batch_key is not None:
        # A batch without one ok lead (every row rejected) has nothing to resolve; what was
        # resolved before stays as it is.
        with engine.connect() as conn:
            known = conn.execute(
                text("SELECT COUNT(*), COUNT(DISTINCT lead_cluster_id) FROM lead_clusters")
            ).one()
            accounts_n = conn.execute(
                text("SELECT COUNT(*) FROM deduplicated_accounts")
            ).scalar_one()
        return ResolveStats(
            leads=int(known[0]),
            clusters=int(known[1]),
            accounts=int(accounts_n),
            batch_leads=0,
            batch_duplicates=0,
        )
    result = resolve(subset)
    clusters = result.clusters
    now = datetime.now(UTC)
    fresh = clusters.merge(subset[["key", "batch_key", "row_id"]], on="key").assign(updated_at=now)
    with write_transaction(engine) as conn:
        if batch_key is None:
            conn.execute(text("DELETE FROM lead_clusters"))
        else:
            for start in range(0, len(fresh), 500):
                chunk = fresh.iloc[start : start + 500]
                for bk, rows in chunk.groupby("batch_key"):
                    params = {f"r{i}": r for i, r in enumerate(rows["row_id"])}
                    placeholders = ", ".join(f":r{i}" for i in range(len(params)))
                    conn.execute(
                        text(
                            f"DELETE FROM lead_clusters WHERE batch_key = :b AND row_id IN ({placeholders})"
                        ),
                        {"b": bk, **params},
                    )
        sqlite = conn.dialect.name == "sqlite"
        # Golden records of every cluster this pass touched (old ids of merged clusters too).
        golden = survivors(subset, clusters).assign(updated_at=now)
        stale = set(assigned.loc[assigned["key"].isin(subset["key"]), "lead_cluster_id"]) | set(
            golden["lead_cluster_id"]
        )
        if batch_key is None:
            conn.execute(text("DELETE FROM lead_survivors"))
        else:
            ids = sorted(stale)
            for start in range(0, len(ids), 500):
                params = {f"c{i}": c for i, c in enumerate(ids[start : start + 500])}
                placeholders = ", ".join(f":c{i}" for i in range(len(params)))
                conn.execute(
                    text(f"DELETE FROM lead_survivors WHERE lead_cluster_id IN ({placeholders})"),
                    params,
                )
        if len(golden):
            bulk_insert(
                conn,
                "lead_survivors",
                list(golden.columns),
                frame_rows(golden, list(golden.columns), datetimes_as_text=sqlite),
            )
        bulk_insert(
            conn,
            "lead_clusters",
            CLUSTER_COLUMNS,
            frame_rows(fresh, CLUSTER_COLUMNS, datetimes_as_text=sqlite),
        )
        everything = pd.read_sql(
            text("SELECT batch_key, row_id, lead_cluster_id, account_id FROM lead_clusters"), conn
        )
        everything["key"] = everything["batch_key"] + "|" + everything["row_id"]
        accounts = _accounts(frame, everything).assign(updated_at=now)
        conn.execute(text("DELETE FROM deduplicated_accounts"))
        bulk_insert(
            conn,
            "deduplicated_accounts",
            list(accounts.columns),
            frame_rows(accounts, list(accounts.columns), datetimes_as_text=sqlite),
        )
    mine = everything[everything["batch_key"] == batch_key] if batch_key else everything
    sizes = everything["lead_cluster_id"].value_counts()
    return ResolveStats(
        leads=len(everything),
        clusters=int(everything["lead_cluster_id"].nunique()),
        accounts=len(accounts),
        batch_leads=len(mine),
        batch_duplicates=int(mine["lead_cluster_id"].map(sizes).gt(1).sum()),
    )
