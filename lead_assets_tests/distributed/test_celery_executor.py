"""Partitioned jobs on Dagster's Celery executor with two real worker processes.

Every step must run on one of the workers and succeed; a worker process killed in the middle of
a step must not lose the batch: the run fails as a run exception (not an asset failure), the
run-retry daemon's own rule says it will be retried, and the re-execution from failure (what the
daemon launches) finishes the batch with every row accounted for, once.
"""

from __future__ import annotations

import threading
import time

import dagster as dg
import pytest
from dagster._daemon.auto_run_reexecution.auto_run_reexecution import should_retry
from sqlalchemy import text

from lead_assets.distributed.runs import run_job, step_placements, steps_per_worker
from lead_assets.resources.warehouse import WarehouseResource
from lead_assets.sensors.file_drop import landing_sensor_result
from lead_assets_tests.distributed.conftest import Cluster

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(300)]


def drop_batch(cluster: Cluster, name: str, rows: int) -> str:
    """Land a lead file and register its batch as the file-drop sensor would; return its key."""
    landing = cluster.state / "landing"
    landing.mkdir(parents=True, exist_ok=True)
    lines = ["email,first_name,last_name,company,title,phone,country"]
    lines += [
        f"{name}{i}@firm{i % 97}.com,Ann{i},Lee{i},Firm {i % 97} GmbH,VP Sales,+49 30 1234{i % 10000:04d},DE"
        for i in range(rows)
    ]
    (landing / f"{name}.csv").write_text("\n".join(lines) + "\n")
    result, _ = landing_sensor_result(
        cluster.instance,
        WarehouseResource(database_url=cluster.warehouse_url),
        None,
        all_complete=True,
        only={f"{name}.csv"},
    )
    keys = [k for r in result.dynamic_partitions_requests or [] for k in r.partition_keys]
    cluster.instance.add_dynamic_partitions("lead_batches", keys)
    assert len(keys) == 1, keys
    return keys[0]


def standardized_count(cluster: Cluster, key: str) -> tuple[int, int]:
    """(rows, distinct source rows) of one batch in standardized_leads."""
    engine = WarehouseResource(database_url=cluster.warehouse_url).engine()
    with engine.connect() as conn:
        return tuple(
            conn.execute(
                text(
                    "SELECT COUNT(*), COUNT(DISTINCT row_id) FROM standardized_leads"
                    " WHERE batch_key = :k"
                ),
                {"k": key},
            ).one()
        )


def test_every_step_runs_on_a_celery_worker(cluster: Cluster) -> None:
    keys = [drop_batch(cluster, f"steps{i}", 300) for i in range(2)]
    results = [run_job(cluster.instance, "ingest_job", key) for key in keys]
    assert all(r.success for r in results), [r.run_id for r in results if not r.success]

    placements = step_placements(cluster.instance, [r.run_id for r in results])
    names = {w.hostname for w in cluster.workers}
    ran = {(p.run_id, p.step_key) for p in placements if p.succeeded}
    # Every step of both runs (the assets and their separate check steps) ran, on our workers.
    planned = set()
    for r in results:
        run = cluster.instance.get_run_by_id(r.run_id)
        plan = cluster.instance.get_execution_plan_snapshot(run.execution_plan_snapshot_id)
        planned |= {(r.run_id, s) for s in plan.step_keys_to_execute}
    assert {s for _, s in planned} >= {"raw_uploads", "standardized_leads"}
    assert ran == planned
    assert {p.worker for p in placements} <= names
    # With two idle workers and prefetch 1 the broker hands steps to both.
    assert set(steps_per_worker(placements)) == names
    for key in keys:
        assert standardized_count(cluster, key) == (300, 300)


def _kill_when_step_starts(
    cluster: Cluster, step_key: str, killed: dict, stop: threading.Event
) -> None:
    """Watch the event log; when a worker starts ``step_key``, SIGKILL its step process."""
    while not stop.is_set():
        runs = cluster.instance.get_runs(
            filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])
        )
        for run in runs:
            for placement in step_placements(cluster.instance, [run.run_id]):
                if placement.step_key != step_key:
                    continue
                worker = next(w for w in cluster.workers if w.hostname == placement.worker)
                # Let the step get going (reading the batch), then kill it mid-way.
                time.sleep(0.3)
                killed.update(worker=worker.hostname, pids=worker.kill_step_process())
                return
        time.sleep(0.05)


def test_worker_killed_mid_step_does_not_lose_the_batch(cluster: Cluster) -> None:
    rows = 20_000
    key = drop_batch(cluster, "killed", rows)
    killed: dict = {}
    stop = threading.Event()
    watcher = threading.Thread(
        target=_kill_when_step_starts, args=(cluster, "standardized_leads", killed, stop)
    )
    watcher.start()
    try:
        first = run_job(cluster.instance, "ingest_job", key)
    finally:
        stop.set()
        watcher.join()
    assert killed.get("pids"), "the step process was never seen running"
    assert not first.success
    run = cluster.instance.get_run_by_id(first.run_id)
    assert run is not None and run.status == dg.DagsterRunStatus.FAILURE
    # Not an asset failure: the daemon's own rule retries it (dagster.yaml run_retries).
    assert run.tags.get("dagster/failure_reason") == "RUN_EXCEPTION"
    assert should_retry(run, cluster.instance)
    killed_steps = {
        p.step_key for p in step_placements(cluster.instance, [first.run_id]) if not p.succeeded
    }
    assert killed_steps == {"standardized_leads"}

    retry = run_job(cluster.instance, "ingest_job", key, reexecute_from_failure_of=first.run_id)
    assert retry.success
    placements = step_placements(cluster.instance, [retry.run_id])
    # From failure: raw_uploads (done before the kill) is not run again; the killed step and the
    # check steps that wait on it are.
    rerun = {p.step_key for p in placements if p.succeeded}
    assert "standardized_leads" in rerun and "raw_uploads" not in rerun
    assert all(s.startswith("standardized_leads") for s in rerun), rerun
    assert standardized_count(cluster, key) == (rows, rows)
    # Both workers are still serving (the killed worker replaced its step process).
    assert all(w.process.poll() is None for w in cluster.workers)
