"""Nightly maintenance, Dagster-free: reconcile unknown charges, recluster when drift says so,
expired cache rows, and which old batches' dynamic partitions may be pruned.

Each step is a function the maintenance job calls in turn; one failing step is reported and the
others still run (a vendor outage must not stop the cache from being pruned).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text

from lead_assets.settings import recluster_drift_limit
from lead_assets.warehouse.engine import write_transaction

log = logging.getLogger(__name__)


def partition_retention() -> timedelta:
    """``LEAD_ASSETS_PARTITION_RETENTION_DAYS`` (default 90): exported batches older than this
    lose their dynamic partition (their warehouse rows and exports stay)."""
    from lead_assets.settings import partition_retention_days

    return timedelta(days=partition_retention_days())


@dataclass
class StepOutcome:
    """What one maintenance step did, as a sentence and a number for the UI."""

    step: str
    done: bool
    detail: str
    count: int = 0


def reconcile_unknown_charges(engine: Engine, generect, leedrush) -> StepOutcome:
    """Settle what runs left unknown or reserved against the vendors' books
    (:func:`lead_assets.pipeline.reconcile.reconcile`)."""
    from lead_assets.pipeline.reconcile import reconcile

    summary = reconcile(engine, generect, leedrush).summary()
    return StepOutcome("reconcile", True, f"reconciled: {summary}", len(summary))


def recluster_if_drifted(engine: Engine) -> StepOutcome:
    """Full recluster when the incremental path's drift (``incremental_resolution.
    incremental_drift``: the share of sampled leads a full pass would cluster differently)
    exceeds ``LEAD_ASSETS_RECLUSTER_DRIFT``."""
    from lead_assets.pipeline import incremental_resolution

    drift = incremental_resolution.incremental_drift(engine)
    if drift <= recluster_drift_limit():
        return StepOutcome("recluster", False, f"drift {drift:.4f} within the limit")
    stats = incremental_resolution.recluster_all(engine)
    return StepOutcome("recluster", True, f"drift {drift:.4f}: reclustered {stats.summary()}")


def prune_expired_cache(engine: Engine, now: datetime | None = None) -> StepOutcome:
    """Delete cached vendor answers past their TTL (they would never be read again)."""
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    with write_transaction(engine) as conn:
        deleted = conn.execute(text("DELETE FROM api_cache WHERE expires_at < :t"), {"t": now})
    return StepOutcome(
        "prune_cache", True, f"{deleted.rowcount} expired cache row(s) deleted", deleted.rowcount
    )


def prunable_batches(engine: Engine, now: datetime | None = None) -> list[str]:
    """Batches exported longer ago than the retention: their partitions can go (a batch never
    exported stays, since its partition is the visible backlog)."""
    cutoff = (now or datetime.now(UTC)) - partition_retention()
    with engine.connect() as conn:
        return [
            r[0]
            for r in conn.execute(
                text(
                    "SELECT batch_key FROM batch_exports GROUP BY batch_key "
                    "HAVING MAX(written_at) < :c ORDER BY batch_key"
                ),
                {"c": cutoff.astimezone(UTC).replace(tzinfo=None)},
            )
        ]
