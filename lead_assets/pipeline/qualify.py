"""Scoring and exports behind qualified_leads and lead_exports."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Engine, text

from lead_assets.settings import dnc_path, outbox_dir, scoring_config_path
from lead_assets.warehouse import read_partition, replace_partition
from lead_assets.warehouse.engine import write_transaction

#: Status of a lead whose person an earlier batch already delivered (not scored again).
ALREADY_DELIVERED = "ALREADY_DELIVERED"

QUALIFIED_COLUMNS = [
    "row_id",
    "lead_cluster_id",
    "account_id",
    "status",
    "score",
    "reasons",
    "first_name",
    "last_name",
    "email",
    "email_status",
    "phone_e164",
    "title",
    "seniority",
    "company_name",
    "domain",
    "country",
]


@dataclass
class QualifyStats:
    """Outcome counts of one batch."""

    rows_in: int
    rejected_at_standardization: int
    counts: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    blocked_dnc: int = 0

    @property
    def accounted_for(self) -> bool:
        """rows_in == qualified + review + disqualified + failed + rejected at standardization."""
        return self.rows_in == sum(self.counts.values()) + self.rejected_at_standardization

    def accounting(self) -> dict[str, object]:
        """The accounting equation's terms."""
        return {
            "rows_in": self.rows_in,
            "rejected_at_standardization": self.rejected_at_standardization,
            **self.counts,
        }

    def summary(self) -> dict[str, object]:
        """Figures for the UI."""
        scored = sum(self.counts.values()) - self.counts.get(ALREADY_DELIVERED, 0)
        return {
            **self.accounting(),
            "duplicates_of_earlier_leads": self.duplicates,
            "blocked_do_not_contact": self.blocked_dnc,
            "quality_yield_pct": round(100.0 * self.counts.get("QUALIFIED", 0) / scored, 1)
            if scored
            else 0.0,
        }


def load_scoring_inputs(engine: Engine, batch_key: str) -> tuple[pd.DataFrame, int, int]:
    """The batch's ok leads joined with their enrichment and clusters; plus rows_in and rejected."""
    std = read_partition(engine, "standardized_leads", batch_key)
    rows_in = len(read_partition(engine, "raw_uploads", batch_key)[["row_id"]])
    rejected = int((std["status"] == "rejected").sum())
    ok = std[std["status"] == "ok"].drop(columns=["batch_key"])
    enriched = read_partition(engine, "enriched_leads", batch_key).drop(columns=["batch_key"])
    clusters = read_partition(engine, "lead_clusters", batch_key)[
        ["row_id", "lead_cluster_id", "account_id", "is_survivor", "link_rule"]
    ]
    merged = ok.merge(enriched, on="row_id", how="left", suffixes=("", "_enriched"))
    for column in ("email", "phone_e164", "company_name", "domain", "industry", "headcount_bucket"):
        alt = f"{column}_enriched"
        if alt in merged:
            merged[column] = merged[alt].where(merged[alt].notna(), merged[column])
            merged = merged.drop(columns=[alt])
    merged = merged.merge(clusters, on="row_id", how="left")
    # A left join fills leads without enrichment or cluster rows with NaN: back to None.
    from lead_assets.core.missing import none_for_missing

    return none_for_missing(merged), rows_in, rejected


def _earlier_members(engine: Engine, batch_key: str, cluster_ids: list[str]) -> dict[str, str]:
    """Clusters that already had a member in an earlier batch (already delivered once), with the
    first batch that delivered them."""
    if not cluster_ids:
        return {}
    # Earlier means registered before this batch (keys sort by minute and then by file name, so
    # two files dropped in one minute cannot be told apart by key); the first batch is the one
    # registered first, which is not the smallest key when file names sort the other way.
    first: dict[str, tuple[str, str]] = {}
    with engine.connect() as conn:
        for start in range(0, len(cluster_ids), 500):
            chunk = cluster_ids[start : start + 500]
            params = {f"c{i}": c for i, c in enumerate(chunk)}
            rows = conn.execute(
                text(
                    "SELECT DISTINCT c.lead_cluster_id, c.batch_key, b.created_at"
                    " FROM lead_clusters c"
                    " JOIN lead_batches b ON b.batch_key = c.batch_key"
                    " JOIN lead_batches me ON me.batch_key = :k"
                    " WHERE (b.created_at < me.created_at"
                    " OR (b.created_at = me.created_at AND b.batch_key < me.batch_key))"
                    f" AND c.lead_cluster_id IN ({', '.join(f':c{i}' for i in range(len(chunk)))})"
                ),
                {"k": batch_key, **params},
            ).all()
            for cluster, key, created in rows:
                order = (str(created), key)
                if cluster not in first or order < first[cluster]:
                    first[cluster] = order
    return {cluster: order[1] for cluster, order in first.items()}


def qualify_batch(engine: Engine, batch_key: str) -> QualifyStats:
    """Score every ok lead of the batch and write ``qualified_leads`` (idempotent)."""
    from lead_assets.core.dnc import apply_dnc, load_dnc
    from lead_assets.core.scoring import load_scoring_config, score_leads

    frame, rows_in, rejected = load_scoring_inputs(engine, batch_key)
    config = load_scoring_config(scoring_config_path())
    scored = score_leads(frame, config)
    reasons = scored["reasons"].map(list)
    status = scored["status"].copy()
    score = scored["score"].astype(float)

    # Do-not-contact before any output.
    dnc = load_dnc(dnc_path())
    blocked_mask, blocked_reason = apply_dnc(frame, dnc)
    status[blocked_mask] = "DISQUALIFIED"
    reasons[blocked_mask] = [
        [r, *rs] for r, rs in zip(blocked_reason[blocked_mask], reasons[blocked_mask], strict=True)
    ]

    # Duplicates: the survivor of a cluster is delivered once; a later copy says whose duplicate it is.
    duplicate_mask = pd.Series(False, index=frame.index)
    delivered_mask = pd.Series(False, index=frame.index)
    if "lead_cluster_id" in frame:
        earlier = _earlier_members(
            engine, batch_key, frame["lead_cluster_id"].dropna().unique().tolist()
        )
        in_earlier = frame["lead_cluster_id"].isin(set(earlier))
        not_survivor = frame["is_survivor"].fillna(True).astype(bool) == False  # noqa: E712
        # A person delivered by an earlier batch is reported as such, not judged again: the
        # lead is not a bad lead, it is an old one (issue 11).
        delivered_mask = in_earlier & ~blocked_mask
        for idx in frame.index[delivered_mask]:
            cluster = frame.at[idx, "lead_cluster_id"]
            reasons[idx] = [
                f"already_delivered in batch {earlier[str(cluster)]} (cluster {cluster})",
                *reasons[idx],
            ]
        status[delivered_mask] = ALREADY_DELIVERED
        duplicate_mask = not_survivor & ~in_earlier & ~blocked_mask
        for idx in frame.index[duplicate_mask]:
            reasons[idx] = [
                f"duplicate of a lead already in this batch (cluster {frame.at[idx, 'lead_cluster_id']})",
                *reasons[idx],
            ]
        status[duplicate_mask] = "DISQUALIFIED"

    out = pd.DataFrame(
        {
            "row_id": frame["row_id"],
            "lead_cluster_id": frame.get("lead_cluster_id"),
            "account_id": frame.get("account_id"),
            "status": status,
            "score": score.round(1),
            "reasons": reasons.map(json.dumps),
            "first_name": frame.get("first_name"),
            "last_name": frame.get("last_name"),
            "email": frame.get("email"),
            "email_status": frame.get("email_status"),
            "phone_e164": frame.get("phone_e164"),
            "title": frame.get("title_normalized", frame.get("title")),
            "seniority": frame.get("seniority"),
            "company_name": frame.get("company_name"),
            "domain": frame.get("domain"),
            "country": frame.get("country"),
            "scored_at": datetime.now(UTC),
        }
    )
    replace_partition(engine, "qualified_leads", batch_key, out)
    counts = {
        s: int((out["status"] == s).sum())
        for s in ("QUALIFIED", "REVIEW", "DISQUALIFIED", "FAILED", ALREADY_DELIVERED)
    }
    return QualifyStats(
        rows_in=rows_in,
        rejected_at_standardization=rejected,
        counts=counts,
        duplicates=int((duplicate_mask | delivered_mask).sum()),
        blocked_dnc=int(blocked_mask.sum()),
    )


@dataclass
class ExportStats:
    """What lead_exports wrote."""

    paths: dict[str, str]
    rows: int
    summary_text: str
    figures: dict[str, Any] = field(default_factory=dict)  # pipeline.summary.batch_figures

    def summary(self) -> dict[str, object]:
        """The batch summary (counts, yield, spend) and the files written."""
        spend = self.figures.get("spend") or {}
        return {
            **self.figures,
            # Flat numbers too, so the UI plots settled / unknown / saved across partitions.
            **{f"spend/{k}": v for k, v in spend.items() if isinstance(v, int | float)},
            "rows_exported": self.rows,
            **{f"path/{k}": v for k, v in self.paths.items()},
        }


def export_batch(engine: Engine, batch_key: str) -> ExportStats:
    """Write CSV + Parquet + a summary for the batch into the outbox and record the paths."""
    from lead_assets.core.exports import write_batch_exports

    frame = read_partition(engine, "qualified_leads", batch_key).drop(columns=["batch_key"])
    # Best first: qualified leads by score, then review, then the rest.
    order = {"QUALIFIED": 0, "REVIEW": 1, "DISQUALIFIED": 2, "FAILED": 3}
    frame = (
        frame.assign(_rank=frame["status"].map(order))
        .sort_values(["_rank", "score"], ascending=[True, False])
        .drop(columns=["_rank"])
    )
    paths = write_batch_exports(frame, outbox_dir(), batch_key)
    from lead_assets.pipeline.summary import batch_figures

    figures = batch_figures(engine, batch_key)
    # The quality yield is over new people: a person already delivered is not judged again.
    scored = figures["qualified"] + figures["review"] + figures["disqualified"] + figures["failed"]
    summary = {
        "batch": batch_key,
        "rows_in": figures["rows_in"],
        "rejected_at_standardization": figures["rejected"],
        "qualified": figures["qualified"],
        "review": figures["review"],
        "disqualified": figures["disqualified"],
        "failed": figures["failed"],
        "already_delivered": figures["already_delivered"],
        "quality_yield_pct": round(100 * figures["qualified"] / scored, 1) if scored else 0.0,
        "spend_usd": figures["spend_usd"],
        "spend_credits": figures["spend_credits"],
        "spend": figures["spend"],
    }
    summary_path = paths["csv"].with_name("summary.json")
    summary_path.write_text(json.dumps(summary, indent=2) + "\n")
    paths["summary"] = summary_path
    now = datetime.now(UTC)
    with write_transaction(engine) as conn:
        conn.execute(text("DELETE FROM batch_exports WHERE batch_key = :k"), {"k": batch_key})
        for kind, path in paths.items():
            conn.execute(
                text(
                    "INSERT INTO batch_exports (batch_key, kind, path, rows_written, written_at)"
                    " VALUES (:k, :kind, :p, :n, :t)"
                ),
                {"k": batch_key, "kind": kind, "p": str(path), "n": len(frame), "t": now},
            )
    return ExportStats(
        {k: str(v) for k, v in paths.items()}, len(frame), json.dumps(summary), summary
    )
