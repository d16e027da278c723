"""The Generect counts sensor: polls the free count endpoints for each ICP profile and, when a
count grows past what was already pulled, registers a lead batch and requests the run that pulls
the new leads."""

import dagster as dg

from lead_assets.jobs import prospect_job
from lead_assets.partition_defs import icp_partition_requests
from lead_assets.pipeline import prospecting
from lead_assets.resources.generect import GenerectResource
from lead_assets.resources.warehouse import WarehouseResource


@dg.sensor(
    job=prospect_job,
    minimum_interval_seconds=3600,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description=(
        "Free Generect database counts per ICP profile (config/icp_profiles.yaml). A profile whose "
        "count grew gets a new lead batch; the pull itself is paid and budget-capped."
    ),
)
def generect_counts_sensor(
    context: dg.SensorEvaluationContext, warehouse: WarehouseResource, generect: GenerectResource
) -> dg.SensorResult | dg.SkipReason:
    """Register a batch per grown profile and request ``prospect_job`` for it."""
    grown = prospecting.check_profiles(warehouse.engine(), generect, log=context.log)
    if not grown:
        return dg.SkipReason("no ICP profile count grew")
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=f"prospect:{g.batch_key}",
                partition_key=g.batch_key,
                tags={"lead_assets/profile": g.profile},
            )
            for g in grown
        ],
        dynamic_partitions_requests=icp_partition_requests(
            context.instance, [g.batch_key for g in grown]
        ),
    )
