"""deduplicated_accounts: incremental entity resolution over every lead the warehouse holds."""

import dagster as dg

from lead_assets.assets.metadata import to_metadata
from lead_assets.core.matching.settings import MATCH_SETTINGS
from lead_assets.partition_defs import lead_batches
from lead_assets.pipeline import incremental_resolution
from lead_assets.resources.warehouse import WarehouseResource


@dg.asset(
    partitions_def=lead_batches,
    group_name="resolution",
    kinds={"python", "sql"},
    deps=[dg.AssetKey("enriched_leads")],
    # Resolution reads and rewrites global clusters: one batch at a time keeps it consistent.
    pool="entity_resolution",
    metadata={"warehouse_table": "deduplicated_accounts, lead_clusters"},
)
def deduplicated_accounts(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """The batch's leads matched against everything already resolved: lead clusters (the same
    person) and accounts (the same company), exact keys first, then fuzzy matching inside blocks,
    with guards against chaining unrelated records. Every link has a confidence; survivorship
    keeps each field's source. A full re-cluster is the explicit ``recluster_job``."""
    stats = incremental_resolution.resolve_batch(warehouse.engine(), context.partition_key)
    # The matcher's rules and thresholds travel with every materialization, so a change of
    # weights is visible next to the figures it changed.
    summary = {**stats.summary(), "match_settings": MATCH_SETTINGS.summary()}
    return dg.MaterializeResult(metadata=to_metadata(summary))


@dg.op(required_resource_keys={"warehouse"})
def recluster_all(context: dg.OpExecutionContext) -> None:
    """Re-resolve every lead from scratch (maintenance; same code as the incremental path)."""
    stats = incremental_resolution.recluster_all(context.resources.warehouse.engine())
    context.log.info(f"reclustered: {stats.summary()}")


@dg.job(description="Full re-cluster of every lead (explicit maintenance job).")
def recluster_job() -> None:
    """Runs :func:`recluster_all`."""
    recluster_all()
