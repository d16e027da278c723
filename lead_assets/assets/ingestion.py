"""raw_uploads and standardized_leads: from a dropped file (or an ICP pull) to clean leads."""

import dagster as dg

from lead_assets.assets.metadata import to_metadata
from lead_assets.partition_defs import lead_batches
from lead_assets.pipeline import ingest
from lead_assets.resources.warehouse import WarehouseResource


@dg.asset(
    partitions_def=lead_batches,
    group_name="ingestion",
    kinds={"python", "sql"},
    # Lineage from an ICP pull to its batch, key for key; a file batch has no upstream partition.
    deps=[dg.AssetDep("icp_prospects", partition_mapping=dg.IdentityPartitionMapping())],
    metadata={"warehouse_table": "raw_uploads"},
)
def raw_uploads(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Every row of the batch kept verbatim (as JSON) with file identity, line number and source,
    so any output row can be traced back to its input line. Malformed rows are kept with their
    parse error; nothing is dropped."""
    stats = ingest.load_raw_uploads(
        warehouse.engine(), context.partition_key, run_id=context.run.run_id
    )
    return dg.MaterializeResult(metadata=to_metadata(stats.summary()))


@dg.asset(
    partitions_def=lead_batches,
    group_name="ingestion",
    kinds={"python", "sql"},
    deps=[raw_uploads],
    metadata={"warehouse_table": "standardized_leads"},
)
def standardized_leads(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Names, emails, phones, titles, companies, domains, locations and headcounts normalized with
    the field libraries; every row ends ``ok`` or ``rejected`` with reasons. The blocking checks in
    ``lead_assets/checks.py`` prove no raw row was lost (by row id) and bound the rejected share."""
    stats = ingest.standardize_batch(warehouse.engine(), context.partition_key)
    for reason, count in stats.reasons.items():
        context.log.info(f"{count} row(s) rejected: {reason}")
    return dg.MaterializeResult(metadata=to_metadata(stats.summary()))
