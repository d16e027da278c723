"""Data-quality figures of one lead batch, read from the warehouse, judged by core.quality.

Dagster-free: the asset checks call these, and so can a script or a test. Every figure is
computed from the rows themselves (row ids, statuses, cluster members), never copied from the
counter the step that wrote the rows returned, so a check can disagree with the step.
"""

from __future__ import annotations

import json

from sqlalchemy import Engine, text

from lead_assets.core import quality
from lead_assets.core.quality import Thresholds, Verdict
from lead_assets.warehouse.partition_writes import table_columns

# Columns of standardized_leads that enrichment, resolution and scoring read.
REQUIRED_STANDARDIZED_COLUMNS = (
    "row_id",
    "status",
    "reasons",
    "first_name",
    "last_name",
    "email",
    "email_match_key",
    "company_name",
    "company_key",
    "domain",
    "country",
)


def _scalar(engine: Engine, sql: str, **params: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql), params).scalar_one() or 0)


def _ids(engine: Engine, table: str, batch_key: str) -> set[str]:
    with engine.connect() as conn:
        return {
            r[0]
            for r in conn.execute(
                text(f"SELECT row_id FROM {table} WHERE batch_key = :k"), {"k": batch_key}
            )
        }


def standardized_rejected_share(engine: Engine, batch_key: str, t: Thresholds) -> Verdict:
    """Share of the batch's raw rows that standardization rejected."""
    rows_in = _scalar(engine, "SELECT COUNT(*) FROM raw_uploads WHERE batch_key = :k", k=batch_key)
    rejected = _scalar(
        engine,
        "SELECT COUNT(*) FROM standardized_leads WHERE batch_key = :k AND status = 'rejected'",
        k=batch_key,
    )
    return quality.rejected_share(rows_in, rejected, t)


def standardized_required_columns(engine: Engine, batch_key: str) -> Verdict:
    """The schema downstream steps need, and ok rows that can be identified."""
    with engine.connect() as conn:
        present = set(table_columns(conn, "standardized_leads"))
    missing = [c for c in REQUIRED_STANDARDIZED_COLUMNS if c not in present]
    if missing:
        return quality.required_columns(missing, 0, 0)
    ok_rows = _scalar(
        engine,
        "SELECT COUNT(*) FROM standardized_leads WHERE batch_key = :k AND status = 'ok'",
        k=batch_key,
    )
    unidentified = _scalar(
        engine,
        "SELECT COUNT(*) FROM standardized_leads WHERE batch_key = :k AND status = 'ok' "
        # Standardization's own rule (core.standardize): an email, or a name (either part)
        # plus a company or a domain. A stricter rule here blocked batches it had accepted.
        "AND COALESCE(email, '') = '' AND ((COALESCE(first_name, '') = '' "
        "AND COALESCE(last_name, '') = '') "
        "OR (COALESCE(company_name, '') = '' AND COALESCE(domain, '') = ''))",
        k=batch_key,
    )
    return quality.required_columns([], ok_rows, unidentified)


def standardized_no_row_lost(engine: Engine, batch_key: str) -> Verdict:
    """Raw row ids against standardized row ids."""
    return quality.no_row_lost(
        _ids(engine, "raw_uploads", batch_key), _ids(engine, "standardized_leads", batch_key)
    )


def enriched_deliverable_rate(engine: Engine, batch_key: str, t: Thresholds) -> Verdict:
    """Share of the batch's emails that the vendors call undeliverable."""
    with engine.connect() as conn:
        statuses = {
            (s or "none"): int(n)
            for s, n in conn.execute(
                text(
                    "SELECT email_status, COUNT(*) FROM enriched_leads WHERE batch_key = :k "
                    "AND COALESCE(email, '') <> '' GROUP BY email_status"
                ),
                {"k": batch_key},
            )
        }
    return quality.deliverable_rate(statuses, t)


def enriched_vendor_failures(engine: Engine, batch_key: str, t: Thresholds) -> Verdict:
    """Leads whose Generect step failed, plus all leads of a Leedrush batch that failed or timed
    out (none of them got Leedrush's verdict)."""
    rows = _scalar(engine, "SELECT COUNT(*) FROM enriched_leads WHERE batch_key = :k", k=batch_key)
    failed = _scalar(
        engine,
        "SELECT COUNT(*) FROM enriched_leads WHERE batch_key = :k AND enrichment_status = 'failed'",
        k=batch_key,
    )
    remote_failed = _scalar(
        engine,
        "SELECT COUNT(*) FROM leedrush_submissions WHERE batch_key = :k "
        "AND status IN ('failed', 'timed_out')",
        k=batch_key,
    )
    if remote_failed:
        failed = rows
    return quality.vendor_failure_share(rows, failed, t)


def batch_spend_usd(engine: Engine, batch_key: str, run_id: str | None = None) -> float:
    """USD settled or possibly charged (unknown) for the batch; only ``run_id``'s when given
    (the enrichment run the estimate was made for, not an ICP pull's search)."""
    sql = (
        "SELECT COALESCE(SUM(CASE WHEN state = 'settled' THEN amount "
        "WHEN state = 'unknown' THEN estimate ELSE 0 END), 0) FROM spend_ledger "
        "WHERE batch_key = :k AND unit = 'usd'"
    )
    params = {"k": batch_key}
    if run_id:
        sql += " AND run_id = :r"
        params["r"] = run_id
    with engine.connect() as conn:
        value = conn.execute(text(sql), params).scalar_one()
    return float(value or 0.0)


def enriched_spend_vs_estimate(
    engine: Engine,
    batch_key: str,
    estimate_usd: float | None,
    t: Thresholds,
    run_id: str | None = None,
) -> Verdict:
    """The enrichment run's USD spend against the credits sensor's estimate for that run."""
    return quality.spend_vs_estimate(batch_spend_usd(engine, batch_key, run_id), estimate_usd, t)


def _clusters_of_batch(engine: Engine, batch_key: str) -> list[tuple[str, int]]:
    """(cluster id, member count across the warehouse) of each cluster the batch touches."""
    with engine.connect() as conn:
        return [
            (r[0], int(r[1]))
            for r in conn.execute(
                text(
                    "SELECT c.lead_cluster_id, COUNT(*) FROM lead_clusters c "
                    "WHERE c.lead_cluster_id IN (SELECT lead_cluster_id FROM lead_clusters "
                    "WHERE batch_key = :k) GROUP BY c.lead_cluster_id"
                ),
                {"k": batch_key},
            )
        ]


def dedup_duplicate_rate(engine: Engine, batch_key: str, t: Thresholds) -> Verdict:
    """Batch rows against the distinct clusters they fall into."""
    rows = _scalar(engine, "SELECT COUNT(*) FROM lead_clusters WHERE batch_key = :k", k=batch_key)
    clusters = _scalar(
        engine,
        "SELECT COUNT(DISTINCT lead_cluster_id) FROM lead_clusters WHERE batch_key = :k",
        k=batch_key,
    )
    return quality.duplicate_rate(rows, clusters, t)


def dedup_largest_cluster(engine: Engine, batch_key: str, t: Thresholds) -> Verdict:
    """Size of the largest cluster (all members, any batch) the batch touches."""
    sizes = [n for _, n in _clusters_of_batch(engine, batch_key)]
    return quality.largest_cluster(max(sizes, default=0), t)


def dedup_mixed_org_clusters(engine: Engine, batch_key: str, t: Thresholds) -> Verdict:
    """Clusters touched by the batch whose members have two or more company keys *and* two or
    more domains (a job change keeps one of them, usually the domain of a personal email)."""
    with engine.connect() as conn:
        count = conn.execute(
            text(
                "SELECT COUNT(*) FROM (SELECT c.lead_cluster_id FROM lead_clusters c "
                "JOIN standardized_leads s ON s.batch_key = c.batch_key AND s.row_id = c.row_id "
                "WHERE c.lead_cluster_id IN (SELECT lead_cluster_id FROM lead_clusters "
                "WHERE batch_key = :k) GROUP BY c.lead_cluster_id "
                "HAVING COUNT(DISTINCT s.company_key) > 1 AND COUNT(DISTINCT s.domain) > 1) m"
            ),
            {"k": batch_key},
        ).scalar_one()
    return quality.mixed_org_clusters(int(count or 0), t)


def qualified_every_row_reason(engine: Engine, batch_key: str) -> Verdict:
    """Rows of qualified_leads whose reasons list is empty or unreadable."""
    with engine.connect() as conn:
        reasons = [
            r[0]
            for r in conn.execute(
                text("SELECT reasons FROM qualified_leads WHERE batch_key = :k"), {"k": batch_key}
            )
        ]

    def empty(value: str | None) -> bool:
        try:
            return not json.loads(value or "[]")
        except ValueError:
            return True

    return quality.every_row_has_reason(len(reasons), sum(1 for r in reasons if empty(r)))


def qualified_score_drift(
    engine: Engine, batch_key: str, t: Thresholds, *, history: int = 10
) -> Verdict:
    """This batch's scores against the mean scores of the ``history`` previous batches."""
    with engine.connect() as conn:
        scores = [
            float(r[0])
            for r in conn.execute(
                text("SELECT score FROM qualified_leads WHERE batch_key = :k"), {"k": batch_key}
            )
        ]
        means = [
            float(r[1])
            for r in conn.execute(
                text(
                    "SELECT batch_key, AVG(score) FROM qualified_leads WHERE batch_key < :k "
                    "GROUP BY batch_key ORDER BY batch_key DESC LIMIT :n"
                ),
                {"k": batch_key, "n": history},
            )
        ]
    return quality.score_drift(scores, means, t)
