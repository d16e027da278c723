"""The Leedrush batch-status sensor: polls GET /api/batches within the plan's rate and starts the
collect run of each batch that became terminal (completed or failed)."""

import dagster as dg

from lead_assets.jobs import collect_job
from lead_assets.pipeline import leedrush_flow
from lead_assets.resources.leedrush import LeedrushResource
from lead_assets.resources.warehouse import WarehouseResource


def collect_run_key(batch_key: str, leedrush_batch_id: str, attempt: int = 0) -> str:
    """Names the work: collecting this remote batch for this lead batch (``attempt`` counts
    collects resumed after their run died: new work, so a new key)."""
    base = f"collect:{batch_key}:{leedrush_batch_id}"
    return f"{base}:resume{attempt}" if attempt else base


@dg.sensor(
    job=collect_job,
    # No open batch: no call at all. Open batches: at most 2 list calls per tick, 12 a minute,
    # inside the smallest plan's 30 requests per minute (a 10 s tick shortens drop-to-export).
    # 9 s, not 10: every second pass of the daemon's 5 s sensor loop, never every third.
    minimum_interval_seconds=9,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Polls Leedrush batch status (a bounded number of list calls per tick, well inside the "
        "plan's requests per minute) and requests the collect run once a batch is terminal. "
        "Batches that never finish are marked timed_out after LEAD_ASSETS_LEEDRUSH_TIMEOUT_S."
    ),
)
def leedrush_status_sensor(
    context: dg.SensorEvaluationContext, warehouse: WarehouseResource, leedrush: LeedrushResource
) -> dg.SensorResult | dg.SkipReason:
    """Request ``collect_job`` for lead batches whose Leedrush batch is terminal."""
    poll = leedrush_flow.poll_submissions(
        warehouse.engine(), leedrush, log=context.log, max_pages=2
    )
    for failure in poll.failed:  # reported by each_alone in the poll; the others go on
        context.log.error(f"cannot record the Leedrush status of {failure}")
    requests = [
        dg.RunRequest(
            run_key=collect_run_key(item.batch_key, item.leedrush_batch_id, item.attempt),
            partition_key=item.batch_key,
            tags={"lead_assets/leedrush_status": item.status},
        )
        for item in poll.ready
    ]
    if not requests and poll.open:
        return dg.SkipReason(f"waiting: {poll.open} Leedrush batch(es) still processing")
    if not requests and poll.failed:
        return dg.SkipReason(
            f"{len(poll.failed)} batch(es) could not be polled: "
            + "; ".join(str(f) for f in poll.failed)
        )
    return dg.SensorResult(run_requests=requests)
