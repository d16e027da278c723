"""The credits sensor: launches paid enrichment only for the batches that the credits left, the
budgets and the plan's concurrency can pay for; the rest stay visible as waiting partitions and
start when credits return."""

import dagster as dg

from lead_assets.jobs import enrich_job
from lead_assets.pipeline import planning
from lead_assets.resources.generect import GenerectResource
from lead_assets.resources.leedrush import LeedrushResource
from lead_assets.resources.warehouse import WarehouseResource


def enrich_run_key(batch_key: str, enrich_round: int) -> str:
    """Names the work: enriching this batch in this credit round (a batch that went back to
    waiting after insufficient funds is a new round of work, never a retry of the old key)."""
    return f"enrich:{batch_key}:r{enrich_round}"


@dg.sensor(
    job=enrich_job,
    # With nothing waiting a tick is one warehouse query (no vendor call), so a short interval
    # costs nothing idle and shortens drop-to-export; with work waiting it is two free calls.
    minimum_interval_seconds=15,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Reads Generect balance and Leedrush credits/plan (free calls), estimates each waiting "
        "batch from free counts and the cache, and launches what the credits, budgets and plan "
        "concurrency allow, oldest first."
    ),
)
def credits_sensor(
    context: dg.SensorEvaluationContext,
    warehouse: WarehouseResource,
    generect: GenerectResource,
    leedrush: LeedrushResource,
) -> dg.SensorResult | dg.SkipReason:
    """Request ``enrich_job`` for the batches the plan says can run now."""
    plan = planning.plan_waiting_batches(warehouse.engine(), generect, leedrush)
    for line in plan.explain():
        context.log.info(line)
    requests = [
        dg.RunRequest(
            run_key=enrich_run_key(item.batch_key, item.enrich_round),
            partition_key=item.batch_key,
            tags={
                "lead_assets/estimate_usd": f"{item.estimate_usd:.4f}",
                "lead_assets/estimate_credits": f"{item.estimate_credits:.0f}",
            },
        )
        for item in plan.launch
    ]
    if not requests:
        return dg.SkipReason(plan.idle_reason())
    return dg.SensorResult(run_requests=requests)
