"""Asset checks that can fail, and that block what would reach users.

Each check is a thin wrapper: the figures come from ``lead_assets.pipeline.quality`` (computed
from the warehouse rows), the verdict and its sentence from ``lead_assets.core.quality``. Checks
that guard the exported leads are ``blocking=True`` with ERROR severity: when one fails the run
fails, the downstream assets of the batch (up to ``lead_exports``) are not materialized, and the
run-failure alert says which check failed and why. Operational signals that do not make the
output wrong (spend against estimate, score drift, duplicate rate) are WARN and never block.

| asset | check | blocks |
|---|---|---|
| standardized_leads | rejected_share, required_columns, no_row_lost | yes |
| enriched_leads | email_deliverable_rate | yes |
| enriched_leads | vendor_failure_share, spend_vs_estimate | no (WARN) |
| deduplicated_accounts | largest_cluster, clusters_mixing_organizations | yes |
| deduplicated_accounts | duplicate_rate | no (WARN) |
| qualified_leads | every_row_has_reason | yes |
| qualified_leads | score_drift | no (WARN) |
"""

from collections.abc import Callable

import dagster as dg
from sqlalchemy import Engine

from lead_assets.core.quality import Thresholds, Verdict
from lead_assets.pipeline import quality
from lead_assets.pipeline.batch_registry import block_batch
from lead_assets.resources.warehouse import WarehouseResource
from lead_assets.settings import check_thresholds

Judge = Callable[[dg.AssetCheckExecutionContext, Engine, str, Thresholds], Verdict]


def to_result(verdict: Verdict, *, blocking: bool) -> dg.AssetCheckResult:
    """A verdict as a check result: the sentence is the description and the ``why`` metadata,
    figures are numeric metadata (plotted over partitions in the UI)."""
    metadata: dict[str, dg.RawMetadataValue] = {"why": verdict.sentence, **verdict.figures}
    return dg.AssetCheckResult(
        passed=verdict.passed,
        severity=dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN,
        description=verdict.sentence,
        metadata=metadata,
    )


def _check(asset: str, name: str, description: str, judge: Judge, *, blocking: bool):
    @dg.asset_check(asset=asset, name=name, description=description, blocking=blocking)
    def _the_check(
        context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
    ) -> dg.AssetCheckResult:
        verdict = judge(context, warehouse.engine(), context.partition_key, check_thresholds())
        if not verdict.passed:
            context.log.warning(
                f"{asset}.{name} failed for {context.partition_key}: {verdict.sentence}"
            )
            if blocking:
                # In the warehouse too, so no sensor spends on, resumes or exports the batch:
                # Dagster blocks the rest of this run only, and the paid stages are other runs.
                block_batch(
                    warehouse.engine(), context.partition_key, f"{asset}.{name}", verdict.sentence
                )
        return to_result(verdict, blocking=blocking)

    return _the_check


def _estimate(
    context: dg.AssetCheckExecutionContext, batch_key: str
) -> tuple[float | None, str | None]:
    """The credits sensor's estimate and the run it was made for: the run that last enriched
    the batch (its tags carry the estimate)."""
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(
            asset_key=dg.AssetKey("generect_enrichment"), asset_partitions=[batch_key]
        ),
        limit=1,
    ).records
    if not records:
        return None, None
    run = context.instance.get_run_by_id(records[0].run_id)
    raw = run.tags.get("lead_assets/estimate_usd") if run else None
    return (float(raw) if raw is not None else None), records[0].run_id


def _spend_vs_estimate(c, e, k, t):
    estimate, run_id = _estimate(c, k)
    return quality.enriched_spend_vs_estimate(e, k, estimate, t, run_id)


rejected_share = _check(
    "standardized_leads",
    "rejected_share",
    "Share of raw rows rejected at standardization stays below the limit (a mis-mapped file "
    "rejects most rows).",
    lambda c, e, k, t: quality.standardized_rejected_share(e, k, t),
    blocking=True,
)
required_columns = _check(
    "standardized_leads",
    "required_columns",
    "The columns downstream steps read exist, and every ok lead has an email or a name and a "
    "company.",
    lambda c, e, k, t: quality.standardized_required_columns(e, k),
    blocking=True,
)
no_row_lost = _check(
    "standardized_leads",
    "no_row_lost",
    "Every raw row of the batch is in standardized_leads exactly once (compared by row id "
    "against raw_uploads), ok or rejected.",
    lambda c, e, k, t: quality.standardized_no_row_lost(e, k),
    blocking=True,
)
email_deliverable_rate = _check(
    "enriched_leads",
    "email_deliverable_rate",
    "Share of emails the vendors call undeliverable (invalid, disposable, do-not-mail) stays "
    "below the limit; a list that bounces is not exported.",
    lambda c, e, k, t: quality.enriched_deliverable_rate(e, k, t),
    blocking=True,
)
vendor_failure_share = _check(
    "enriched_leads",
    "vendor_failure_share",
    "Share of leads whose vendor call failed or whose Leedrush batch failed or timed out.",
    lambda c, e, k, t: quality.enriched_vendor_failures(e, k, t),
    blocking=False,
)
spend_vs_estimate = _check(
    "enriched_leads",
    "spend_vs_estimate",
    "USD the enrichment run spent (settled, plus unknown at their estimate) against the "
    "credits sensor's estimate for that run, within a tolerance.",
    _spend_vs_estimate,
    blocking=False,
)
duplicate_rate = _check(
    "deduplicated_accounts",
    "duplicate_rate",
    "Share of the batch's leads that fold into another lead's cluster.",
    lambda c, e, k, t: quality.dedup_duplicate_rate(e, k, t),
    blocking=False,
)
largest_cluster = _check(
    "deduplicated_accounts",
    "largest_cluster",
    "No lead cluster touched by the batch is implausibly large (chaining of unrelated people).",
    lambda c, e, k, t: quality.dedup_largest_cluster(e, k, t),
    blocking=True,
)
clusters_mixing_organizations = _check(
    "deduplicated_accounts",
    "clusters_mixing_organizations",
    "No lead cluster joins records whose company and domain both differ.",
    lambda c, e, k, t: quality.dedup_mixed_org_clusters(e, k, t),
    blocking=True,
)
every_row_has_reason = _check(
    "qualified_leads",
    "every_row_has_reason",
    "Every scored lead carries the reasons for its status.",
    lambda c, e, k, t: quality.qualified_every_row_reason(e, k),
    blocking=True,
)
score_drift = _check(
    "qualified_leads",
    "score_drift",
    "Mean score of the batch against the recent batches' means (needs three earlier batches).",
    lambda c, e, k, t: quality.qualified_score_drift(e, k, t),
    blocking=False,
)

ASSET_CHECKS = [
    rejected_share,
    required_columns,
    no_row_lost,
    email_deliverable_rate,
    vendor_failure_share,
    spend_vs_estimate,
    duplicate_rate,
    largest_cluster,
    clusters_mixing_organizations,
    every_row_has_reason,
    score_drift,
]
