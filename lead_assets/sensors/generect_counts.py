"""The Generect counts sensor: polls the free count endpoints for each ICP profile and, when a
count grows past what was already pulled, registers a lead batch and requests the run that pulls
the new leads. A pull whose run failed (a vendor outage, a budget stop) is requested again at the
next tick, so the leads already bought in it are not stranded and the profile is not blocked."""

import dagster as dg
from sqlalchemy import Engine

from lead_assets.jobs import prospect_job
from lead_assets.partition_defs import icp_partition_requests
from lead_assets.pipeline import prospecting
from lead_assets.pipeline.reconcile import requeue_registered
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
        dg.RunRequest(run_key=prospect_run_key(key, resumes), partition_key=key)
        for key, resumes in failed_pulls(context.instance, engine)
    ]
    grown = prospecting.check_profiles(engine, generect, log=context.log)
    if not grown and not retries:
        return dg.SkipReason("no ICP profile count grew and no pull waits for a retry")
    return dg.SensorResult(
        run_requests=retries
        + [
            dg.RunRequest(
                run_key=prospect_run_key(g.batch_key),
                partition_key=g.batch_key,
                tags={"lead_assets/profile": g.profile},
            )
            for g in grown
        ],
        dynamic_partitions_requests=icp_partition_requests(
            context.instance, [g.batch_key for g in grown]
        ),
    )


def prospect_run_key(batch_key: str, resumes: int = 0) -> str:
    """The pull of one ICP batch; a pull whose run failed is new work (``:r1``, ``:r2``...), as
    an ingest is (``file_drop.ingest_run_key``), or Dagster would drop the request."""
    return f"prospect:{batch_key}" + (f":r{resumes}" if resumes else "")


def failed_pulls(instance: dg.DagsterInstance, engine: Engine) -> list[tuple[str, int]]:
    """(batch key, resumes) of each unpulled ICP batch whose pull run failed or was canceled,
    counted as one more resume (bounded by LEAD_ASSETS_MAX_RESUMES, like an ingest's). A batch
    whose run is in flight, or has no run yet, is left alone."""
    requeued = []
    for batch in prospecting.unpulled_batches(engine):
        run_key = prospect_run_key(batch.batch_key, batch.resumes)
        runs = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/run_key": run_key}), limit=1)
        if not runs or runs[0].status not in (
            dg.DagsterRunStatus.FAILURE,
            dg.DagsterRunStatus.CANCELED,
        ):
            continue
        if requeue_registered(
            engine,
            batch.batch_key,
            runs[0].run_id,
            lambda resumes, k=batch.batch_key: prospect_run_key(k, resumes),
            run_key,
            stage="pulling",
        ):
            requeued.append((batch.batch_key, batch.resumes + 1))
    return requeued
