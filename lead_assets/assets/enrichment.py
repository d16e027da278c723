"""Paid enrichment: Generect (email find, validate, company enrich) and Leedrush (submit, then a
sensor waits for the remote batch, then collect), merged into enriched_leads.

Every asset that calls a vendor declares its pool, so one step per vendor runs at a time across
the instance (dagster.yaml), and retries only through the spend ledger, which never buys the same
answer twice.
"""

import dagster as dg

from lead_assets.assets.metadata import to_metadata
from lead_assets.core.pii import mask_text
from lead_assets.partition_defs import lead_batches
from lead_assets.pipeline import enrich, leedrush_flow
from lead_assets.resources.generect import GenerectResource
from lead_assets.resources.leedrush import LeedrushResource
from lead_assets.resources.warehouse import WarehouseResource


@dg.asset(
    partitions_def=lead_batches,
    group_name="enrichment",
    kinds={"python", "sql"},
    deps=[dg.AssetKey("standardized_leads")],
    pool="generect",
    metadata={"warehouse_table": "generect_enrichment"},
)
def generect_enrichment(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, generect: GenerectResource
) -> dg.MaterializeResult:
    """Generect email find for leads without a usable email (name + domain), email validation
    where the status is unknown, and company enrich once per domain; cached answers are reused
    and every paid call is reserved in the spend ledger first. Insufficient funds stops all
    spending at once: the batch goes back to waiting for credits and nothing paid for is lost."""
    try:
        stats = enrich.enrich_with_generect(
            warehouse.engine(),
            generect,
            context.partition_key,
            run_id=context.run.run_id,
            log=context.log,
        )
    except enrich.WaitingForCredits as exc:
        # A clear failure, no retry: the credits sensor relaunches the batch when funds return.
        raise dg.Failure(description=mask_text(str(exc)), allow_retries=False) from None
    # The credits sensor tags the run with its estimate: show estimate against actual.
    estimate = context.run.tags.get("lead_assets/estimate_usd")
    if estimate is not None:
        stats.estimate_usd = float(estimate)
    return dg.MaterializeResult(metadata=to_metadata(stats.summary()))


@dg.asset(
    partitions_def=lead_batches,
    group_name="enrichment",
    kinds={"python", "sql"},
    deps=[generect_enrichment],
    pool="leedrush",
    metadata={"warehouse_table": "leedrush_submissions"},
)
def leedrush_submission(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, leedrush: LeedrushResource
) -> dg.MaterializeResult:
    """Uploads the batch to Leedrush and starts processing (credits reserved first). The upload
    name is derived from the batch key, so a re-run adopts a batch it already started instead of
    paying again. Does not wait: the batch-status sensor polls and starts the collect run."""
    try:
        stats = leedrush_flow.submit_batch(
            warehouse.engine(),
            leedrush,
            context.partition_key,
            run_id=context.run.run_id,
            log=context.log,
        )
    except enrich.WaitingForCredits as exc:
        raise dg.Failure(description=mask_text(str(exc)), allow_retries=False) from None
    return dg.MaterializeResult(metadata=to_metadata(stats.summary()))


@dg.asset(
    partitions_def=lead_batches,
    group_name="enrichment",
    kinds={"python", "sql"},
    deps=[leedrush_submission],
    pool="leedrush",
    metadata={"warehouse_table": "leedrush_results"},
)
def leedrush_results(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, leedrush: LeedrushResource
) -> dg.MaterializeResult:
    """Downloads the finished Leedrush batch (QUALIFIED rows with score, email/phone status,
    account signals and technologies) and matches each row back to its input lead."""
    stats = leedrush_flow.collect_batch(
        warehouse.engine(),
        leedrush,
        context.partition_key,
        log=context.log,
        run_id=context.run.run_id,
    )
    return dg.MaterializeResult(metadata=to_metadata(stats.summary()))


@dg.asset(
    partitions_def=lead_batches,
    group_name="enrichment",
    kinds={"python", "sql"},
    deps=[generect_enrichment, leedrush_results],
    metadata={"warehouse_table": "enriched_leads"},
)
def enriched_leads(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """One row per standardized lead with the vendors' answers merged: each enriched field keeps
    its source, time and cost, and both vendors' email verdicts map onto one internal status
    (valid, invalid, catch_all, unknown, disposable, webmail, do_not_mail)."""
    stats = enrich.merge_enriched(warehouse.engine(), context.partition_key)
    return dg.MaterializeResult(metadata=to_metadata(stats.summary()))
