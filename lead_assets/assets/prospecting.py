"""ICP prospecting: leads pulled from Generect's database for a profile whose free count grew."""

import dagster as dg

from lead_assets.assets.metadata import to_metadata
from lead_assets.partition_defs import icp_pulls
from lead_assets.pipeline import prospecting
from lead_assets.resources.generect import GenerectResource
from lead_assets.resources.warehouse import WarehouseResource


@dg.asset(
    partitions_def=icp_pulls,
    group_name="ingestion",
    kinds={"python", "sql"},
    pool="generect",
    metadata={"warehouse_table": "icp_prospects"},
)
def icp_prospects(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, generect: GenerectResource
) -> dg.MaterializeResult:
    """For a batch registered by the Generect counts sensor: pull the profile's new leads (paid
    database search, paged with exclude_ids so no lead is bought twice, capped by the profile's
    budget). Partitioned by ``icp_pulls``: only ICP batches have a partition here. When the pull
    is complete the file-drop sensor requests the batch's ingestion at its next tick."""
    stats = prospecting.pull_batch(
        warehouse.engine(), generect, context.partition_key, run_id=context.run.run_id
    )
    return dg.MaterializeResult(metadata=to_metadata(stats.summary()))
