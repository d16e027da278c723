"""The credits sensor: launches paid enrichment only for the batches that the credits left, the
budgets and the plan's concurrency can pay for; the rest stay visible as waiting partitions and
start when credits return."""

import json
import time

import dagster as dg

from lead_assets.assets.vendor_state import OBSERVE_EVERY
from lead_assets.jobs import enrich_job
from lead_assets.pipeline import planning
from lead_assets.resources.generect import GenerectResource
from lead_assets.resources.leedrush import LeedrushResource
from lead_assets.resources.warehouse import WarehouseResource
from lead_assets.sensors.recovery import reconcile_pass


def enrich_run_key(batch_key: str, enrich_round: int) -> str:
    """Names the work: enriching this batch in this credit round (a batch that went back to
    waiting after insufficient funds is a new round of work, never a retry of the old key)."""
    return f"enrich:{batch_key}:r{enrich_round}"


@dg.sensor(
    job=enrich_job,
    # With nothing waiting a tick is one warehouse query (no vendor call), so a short interval
    # costs nothing idle and shortens drop-to-export; with work waiting it is two free calls.
    # 4 s, not 5: evaluated at every pass of the daemon's 5 s sensor loop, never every other one.
    minimum_interval_seconds=4,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Reconciles ambiguous charges against the vendors' books and resumes batches whose run "
        "died; reads Generect balance and Leedrush credits/plan (free calls), estimates each "
        "waiting batch from free counts and the cache, and launches what the credits, budgets "
        "and plan concurrency allow, oldest first."
    ),
)
def credits_sensor(
    context: dg.SensorEvaluationContext,
    warehouse: WarehouseResource,
    generect: GenerectResource,
    leedrush: LeedrushResource,
) -> dg.SensorResult | dg.SkipReason:
    """Reconcile ambiguous charges and resume batches of dead runs, then request ``enrich_job``
    for the batches the plan says can run now."""
    reconciled = reconcile_pass(
        context.instance, warehouse.engine(), generect, leedrush, log=context.log
    )
    observations, cursor = observe_vendor_state(context, generect, leedrush)
    failed: list = []
    plan = planning.plan_waiting_batches(warehouse.engine(), generect, leedrush, failed=failed)
    for line in plan.explain():
        context.log.info(line)
    for failure in failed:  # one broken batch is reported; it never stops the others
        context.log.error(f"cannot plan {failure}")
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
        reason = plan.idle_reason()
        if reconciled.waiting:
            reason = (
                f"waiting: {reconciled.waiting} charge(s) awaiting reconciliation against the "
                "vendors' books"
            )
        if failed:
            reason += f"; {len(failed)} batch(es) could not be planned: " + "; ".join(
                str(f) for f in failed
            )
        if observations:
            return dg.SensorResult(skip_reason=reason, asset_events=observations, cursor=cursor)
        return dg.SkipReason(reason)
    return dg.SensorResult(run_requests=requests, asset_events=observations, cursor=cursor)


def observe_vendor_state(
    context: dg.SensorEvaluationContext,
    generect: GenerectResource,
    leedrush: LeedrushResource,
) -> tuple[list[dg.AssetObservation], str | None]:
    """Observations of the vendor-state assets, at most every ``OBSERVE_EVERY`` (free calls; an
    idle tick otherwise makes none), and the cursor that remembers when. A vendor that cannot be
    reached is logged and observed later: its asset turns red when that lasts."""
    now = time.time()
    try:
        last = float(json.loads(context.cursor or "{}").get("observed_at") or 0)
    except (ValueError, AttributeError):
        last = 0.0
    if now - last < OBSERVE_EVERY.total_seconds():
        return [], context.cursor
    try:
        state = planning.vendor_state(generect, leedrush)
    except Exception as exc:  # observation is best effort; planning reports vendor errors
        from lead_assets.pipeline.isolation import failure_reason

        context.log.warning(f"vendor state not observed: {failure_reason(exc)}")
        return [], context.cursor
    events = [
        dg.AssetObservation(asset_key=name, metadata=metadata)
        for name, metadata in state.metadata().items()
    ]
    return events, json.dumps({"observed_at": now})
