"""Schedules, visible and toggleable in the UI (Automation page), with documented defaults.

| schedule | cron (UTC) | default | what |
|---|---|---|---|
| ``nightly_maintenance_schedule`` | 30 2 * * * | running | reconcile unknown charges, recluster when drift says so, prune expired cache rows and old dynamic partitions (free) |
| ``weekly_reverification_schedule`` | 0 4 * * 1 | stopped | delivered leads whose answers passed their TTL become a ``reverify`` batch within a budget of its own (leads to paid validations) |
| ``icp_daily_pull_<profile>`` | 0 6 * * * | stopped | the Generect counts check and paid pull for one ICP profile (spends: off until an operator turns it on) |

Schedules rather than ``AutomationCondition``: maintenance is an op job, and an ICP pull spends,
so it must never start by itself on an "upstream changed" condition. The one free asset that
refreshes on a clock, ``operations_report``, uses ``AutomationCondition.on_cron`` instead
(``lead_assets/assets/operations.py``).
"""

import dagster as dg

from lead_assets.core.icp import load_profiles
from lead_assets.jobs import prospect_job
from lead_assets.partition_defs import LEAD_BATCHES, icp_partition_requests
from lead_assets.pipeline import maintenance, prospecting
from lead_assets.resources.generect import GenerectResource
from lead_assets.resources.leedrush import LeedrushResource
from lead_assets.resources.warehouse import WarehouseResource
from lead_assets.sensors.generect_counts import prospect_run_key
from lead_assets.settings import icp_profiles_path


@dg.op
def reconcile_unknown_charges(
    context: dg.OpExecutionContext,
    warehouse: WarehouseResource,
    generect: GenerectResource,
    leedrush: LeedrushResource,
) -> None:
    """Settle or release ledger entries left ``unknown`` (issue 10's reconcile step; free calls)."""
    outcome = maintenance.reconcile_unknown_charges(warehouse.engine(), generect, leedrush)
    context.log.info(f"{outcome.step}: {outcome.detail}")


@dg.op(ins={"after": dg.In(dg.Nothing)})
def recluster_if_drifted(context: dg.OpExecutionContext, warehouse: WarehouseResource) -> None:
    """Full recluster only when the incremental path has drifted past the limit."""
    outcome = maintenance.recluster_if_drifted(warehouse.engine())
    context.log.info(f"{outcome.step}: {outcome.detail}")


@dg.op(ins={"after": dg.In(dg.Nothing)})
def prune_expired_cache(context: dg.OpExecutionContext, warehouse: WarehouseResource) -> None:
    """Delete vendor answers past their TTL."""
    outcome = maintenance.prune_expired_cache(warehouse.engine())
    context.log.info(f"{outcome.step}: {outcome.detail}")


@dg.op(ins={"after": dg.In(dg.Nothing)})
def prune_old_partitions(context: dg.OpExecutionContext, warehouse: WarehouseResource) -> None:
    """Remove dynamic partitions of batches exported before the retention window, keeping the
    instance well below Dagster's ~100k-key comfort zone (design notes)."""
    keys = set(maintenance.prunable_batches(warehouse.engine()))
    existing = set(context.instance.get_dynamic_partitions(LEAD_BATCHES))
    for key in sorted(keys & existing):
        context.instance.delete_dynamic_partition(LEAD_BATCHES, key)
    context.log.info(f"prune_partitions: {len(keys & existing)} old partition(s) removed")


@dg.job(
    description="Nightly maintenance: reconcile, recluster on drift, prune cache and partitions."
)
def maintenance_job() -> None:
    """reconcile -> recluster on drift -> prune expired cache -> prune old partitions."""
    prune_old_partitions(
        after=prune_expired_cache(after=recluster_if_drifted(after=reconcile_unknown_charges()))
    )


nightly_maintenance_schedule = dg.ScheduleDefinition(
    name="nightly_maintenance_schedule",
    job=maintenance_job,
    cron_schedule="30 2 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="02:30 UTC: reconcile unknown charges, recluster on drift, prune cache and partitions.",
)


def icp_profile_names() -> list[str]:
    """Names of the profiles in the ICP profiles file (none when the file is missing)."""
    try:
        return [p.name for p in load_profiles(icp_profiles_path())]
    except FileNotFoundError:
        return []


def icp_daily_pull(profile: str) -> dg.ScheduleDefinition:
    """A daily count check and paid pull for one profile (stopped by default: it spends)."""

    @dg.schedule(
        name=f"icp_daily_pull_{profile}",
        job=prospect_job,
        cron_schedule="0 6 * * *",
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description=(
            f"06:00 UTC: free Generect count for ICP profile {profile!r}; when it grew, register a "
            "batch and pull the new leads (paid, capped by the profile's budget). Off by default."
        ),
    )
    def _pull(
        context: dg.ScheduleEvaluationContext,
        warehouse: WarehouseResource,
        generect: GenerectResource,
    ):
        grown = [
            g
            for g in prospecting.check_profiles(warehouse.engine(), generect, log=context.log)
            if g.profile == profile
        ]
        if not grown:
            return dg.SkipReason(f"ICP profile {profile!r}: count did not grow")
        # A schedule cannot return partition requests: the partitions are added here.
        for request in icp_partition_requests(context.instance, [g.batch_key for g in grown]):
            context.instance.add_dynamic_partitions(
                request.partitions_def_name, list(request.partition_keys)
            )
        return [
            dg.RunRequest(
                run_key=prospect_run_key(g.batch_key),
                partition_key=g.batch_key,
                tags={"lead_assets/profile": g.profile},
            )
            for g in grown
        ]

    return _pull


@dg.op
def register_reverification(context: dg.OpExecutionContext, warehouse: WarehouseResource) -> None:
    """Register delivered leads whose answers passed their TTL as one ``reverify`` batch, within
    the re-verification budget; the file-drop and credits sensors take it from there (free)."""
    from lead_assets.pipeline import reverify

    stats = reverify.register_reverification(warehouse.engine())
    if stats.batch_key:
        # The partition now, so the batch is visible before the file-drop sensor's next tick.
        context.instance.add_dynamic_partitions(LEAD_BATCHES, [stats.batch_key])
    context.log.info(f"re-verification: {stats.summary()}")


@dg.job(description="Register delivered leads whose answers passed their TTL for re-verification.")
def reverify_job() -> None:
    """One op: pick the leads due and register their batch."""
    register_reverification()


weekly_reverification_schedule = dg.ScheduleDefinition(
    name="weekly_reverification_schedule",
    job=reverify_job,
    cron_schedule="0 4 * * 1",
    execution_timezone="UTC",
    # It leads to paid validations: off until an operator turns it on.
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description=(
        "Mondays 04:00 UTC: delivered leads whose email answers are older than their TTL become "
        "a re-verification batch within LEAD_ASSETS_REVERIFY_BUDGET_USD / _CREDITS (spends)."
    ),
)


SCHEDULES = [
    nightly_maintenance_schedule,
    weekly_reverification_schedule,
    *(icp_daily_pull(p) for p in icp_profile_names()),
]
