"""The Dagster side of reconciliation: which runs are alive, and what a dead run leaves behind.

``lead_assets.pipeline.reconcile`` decides charges and resumes batches without knowing Dagster;
this module tells it whether a run is still alive (a finished run can no longer settle what it
reserved), and marks runs whose process is gone as failed, freeing their pool slots, so the
resumed batch's run is not stuck behind a slot held by a dead run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import dagster as dg

from lead_assets.pipeline import reconcile as reconcile_step
from lead_assets.pipeline.reconcile import ReconcileStats


def dagster_liveness(instance: dg.DagsterInstance) -> Callable[[str], bool | None]:
    """False for a run Dagster knows is finished; None (ask the lease) otherwise."""

    def check(run_id: str) -> bool | None:
        run = instance.get_run_by_id(run_id)
        if run is not None and run.is_finished:
            return False
        return None

    return check


def bury_dead_runs(instance: dg.DagsterInstance, run_ids: set[str]) -> list[str]:
    """Mark runs whose process is gone as failed and free their concurrency slots."""
    buried = []
    for run_id in sorted(run_ids):
        run = instance.get_run_by_id(run_id)
        if run is None:
            continue
        if not run.is_finished:
            instance.report_run_failed(
                run, "lead_assets: the run's process is gone; its batch is resumed"
            )
            buried.append(run_id)
        with contextlib.suppress(NotImplementedError):  # storages without op concurrency
            instance.event_log_storage.free_concurrency_slots_for_run(run_id)
    return buried


def reconcile_pass(
    instance: dg.DagsterInstance,
    engine,
    generect,
    leedrush,
    log=None,
) -> ReconcileStats:
    """One reconciliation pass with Dagster's view of run liveness; dead runs are buried."""
    is_live = reconcile_step.run_liveness(engine, dagster_liveness(instance))
    stats = reconcile_step.reconcile(engine, generect, leedrush, is_live=is_live)
    dead = (
        set(stats.dead_runs) | _dead_batch_runs(engine, is_live) | _dead_in_process_runs(instance)
    )
    buried = bury_dead_runs(instance, dead)
    if log is not None:
        for decision in stats.decisions:
            log.info(f"reconciled: {decision}")
        if buried:
            log.warning(f"marked {len(buried)} run(s) whose process is gone as failed: {buried}")
        if stats.resumed:
            log.info(f"resumed batch(es): {', '.join(stats.resumed)}")
    return stats


def _dead_in_process_runs(instance: dg.DagsterInstance) -> set[str]:
    """Runs started in a ``lead-assets run`` process of this host that is gone: a SIGKILL leaves
    them STARTED for ever, holding pool slots, whether or not they had claimed a batch."""
    import socket

    from lead_assets.inprocess_daemon import HOST_TAG, PID_TAG
    from lead_assets.warehouse.ledger import pid_alive

    runs = instance.get_runs(
        filters=dg.RunsFilter(
            statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING],
            tags={HOST_TAG: socket.gethostname()},
        )
    )
    return {
        r.run_id
        for r in runs
        if (r.tags.get(PID_TAG) or "").isdigit() and not pid_alive(int(r.tags[PID_TAG]))
    }


def _dead_batch_runs(engine, is_live: Callable[[str | None], bool]) -> set[str]:
    from sqlalchemy import text

    with engine.connect() as conn:
        runs = [r[0] for r in conn.execute(text("SELECT run_id FROM run_leases"))]
    return {r for r in runs if not is_live(r)}
