"""The Generect counts sensor: polls the free count endpoints for each ICP profile and, when a
count grows past what was already pulled, registers a lead batch and requests the run that pulls
the new leads. A pull whose run failed (a vendor outage, a budget stop) is requested again at the
next tick, so the leads already bought in it are not stranded and the profile is not blocked."""

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
    """Register a batch per grown profile and request ``prospect_job`` for it; retry failed pulls."""
    engine = warehouse.engine()
    retries = [
        dg.RunRequest(run_key=f"prospect:{key}:retry{attempt}", partition_key=key)
        for key, attempt in failed_pulls(context.instance, prospecting.unpulled_batches(engine))
    ]
    grown = prospecting.check_profiles(engine, generect, log=context.log)
    if not grown and not retries:
        return dg.SkipReason("no ICP profile count grew and no pull waits for a retry")
    return dg.SensorResult(
        run_requests=retries
        + [
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


def failed_pulls(instance: dg.DagsterInstance, keys: list[str]) -> list[tuple[str, int]]:
    """(batch key, attempt number) for each unpulled batch whose latest pull run failed or was
    canceled and that has no run in flight. A batch with no run yet is left alone: its first run
    request is the daemon's to launch."""
    retry: list[tuple[str, int]] = []
    for key in keys:
        runs = instance.get_runs(
            filters=dg.RunsFilter(job_name=prospect_job.name, tags={"dagster/partition": key})
        )  # newest first
        if runs and all(r.is_finished for r in runs) and runs[0].status in _FAILED:
            retry.append((key, sum(r.status in _FAILED for r in runs)))
    return retry


_FAILED = (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)
