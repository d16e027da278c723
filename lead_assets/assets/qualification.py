"""qualified_leads and lead_exports: scoring with reasons, then safe per-batch exports."""

import dagster as dg

from lead_assets.assets.metadata import to_metadata
from lead_assets.partition_defs import lead_batches
from lead_assets.pipeline import qualify
from lead_assets.resources.warehouse import WarehouseResource


@dg.asset(
    partitions_def=lead_batches,
    group_name="qualification",
    kinds={"python", "sql"},
    deps=[dg.AssetKey("deduplicated_accounts")],
    metadata={"warehouse_table": "qualified_leads"},
    # Blocking: a batch whose rows do not add up is not exported.
    check_specs=[
        dg.AssetCheckSpec("every_row_accounted_for", asset="qualified_leads", blocking=True)
    ],
)
def qualified_leads(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Every lead of the batch scored 0-100 with the rules in config/scoring.yaml and given a
    status (QUALIFIED, REVIEW, DISQUALIFIED) with its reasons; the do-not-contact list applies
    before any output. The check proves rows_in = qualified + review + disqualified + failed +
    rejected at standardization."""
    stats = qualify.qualify_batch(warehouse.engine(), context.partition_key)
    return dg.MaterializeResult(
        metadata=to_metadata(stats.summary()),
        check_results=[
            dg.AssetCheckResult(
                check_name="every_row_accounted_for",
                passed=stats.accounted_for,
                metadata=to_metadata(stats.accounting()),
            )
        ],
    )


@dg.asset(
    partitions_def=lead_batches,
    group_name="qualification",
    kinds={"csv", "parquet"},
    deps=[qualified_leads],
)
def lead_exports(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """CSV and Parquet of the batch's scored leads in the outbox folder (CSV cells that could run
    as spreadsheet formulas are neutralized) plus a batch summary."""
    stats = qualify.export_batch(warehouse.engine(), context.partition_key)
    return dg.MaterializeResult(metadata=to_metadata(stats.summary()))
