"""Launch a lead_assets job on the configured executor and read back where its steps ran.

``execute_job`` with a reconstructable job is what a run worker does: the executor (Celery when
``LEAD_ASSETS_EXECUTOR=celery``) hands each step to a worker, which rebuilds the job from the code
location ``lead_assets.definitions:defs`` and the instance from PostgreSQL.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import dagster as dg
from dagster._core.definitions.reconstruct import ReconstructableJob, ReconstructableRepository

from lead_assets.settings import PROJECT_ROOT

CODE_LOCATION_MODULE = "lead_assets.definitions"
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def reconstructable_job(job_name: str) -> ReconstructableJob:
    """A job of the code location that another process can rebuild by module and name."""
    repo = ReconstructableRepository.for_module(
        CODE_LOCATION_MODULE, "defs", working_directory=str(PROJECT_ROOT)
    )
    return repo.get_reconstructable_job(job_name)


def run_job(
    instance: dg.DagsterInstance,
    job_name: str,
    partition_key: str | None,
    *,
    tags: Mapping[str, str] | None = None,
    reexecute_from_failure_of: str | None = None,
) -> dg.ExecuteJobResult:
    """Execute ``job_name`` for one batch on the jobs' executor; never raises on step failure.

    ``reexecute_from_failure_of`` re-executes a failed run from its failure, as the run-retry
    daemon does (``ReexecutionStrategy.FROM_FAILURE``): steps that succeeded are not run again.
    """
    run_tags = dict(tags or {})
    if partition_key is not None:
        run_tags["dagster/partition"] = partition_key
    options = (
        dg.ReexecutionOptions.from_failure(reexecute_from_failure_of, instance)
        if reexecute_from_failure_of
        else None
    )
    with dg.execute_job(
        reconstructable_job(job_name),
        instance,
        run_config=QUIET if options is None else None,
        tags=run_tags,
        reexecution_options=options,
        raise_on_error=False,
    ) as result:
        return result


@dataclass(frozen=True)
class StepPlacement:
    """Where one step of one run was executed, and whether it succeeded there."""

    run_id: str
    step_key: str
    worker: str
    succeeded: bool


def step_placements(instance: dg.DagsterInstance, run_ids: Iterable[str]) -> list[StepPlacement]:
    """Every Celery step execution of the runs, from the event log (the worker's engine event
    names its node, e.g. ``w1@host``); a step started on a worker that died never succeeds there."""
    placements = []
    for run_id in run_ids:
        started: dict[str, list[str]] = {}
        succeeded: set[str] = set()
        for record in instance.all_logs(run_id):
            event = record.dagster_event
            if event is None or event.step_key is None:
                continue
            if event.event_type == dg.DagsterEventType.STEP_SUCCESS:
                succeeded.add(event.step_key)
            data = event.engine_event_data if event.is_engine_event else None
            worker = data.metadata.get("Celery worker") if data else None
            if worker is not None:
                started.setdefault(event.step_key, []).append(str(worker.value))
        for step_key, workers in started.items():
            for i, worker in enumerate(workers):
                last = i == len(workers) - 1
                placements.append(
                    StepPlacement(run_id, step_key, worker, last and step_key in succeeded)
                )
    return placements


def steps_per_worker(placements: Iterable[StepPlacement]) -> Counter[str]:
    """Succeeded steps per worker name."""
    return Counter(p.worker for p in placements if p.succeeded)


def workers_line(counts: Mapping[str, int]) -> str:
    """``workers: w1@host=5, w2@host=4`` (the line the distributed demo ends with)."""
    return "workers: " + ", ".join(f"{name}={n}" for name, n in sorted(counts.items()))


def main(argv: list[str] | None = None) -> int:
    """``python -m lead_assets.distributed.runs JOB PARTITION``: one run in this process (a run
    worker, as the run launcher would start it) on the instance of ``DAGSTER_HOME``; prints the
    run id and exits 0 when the run succeeded."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m lead_assets.distributed.runs JOB PARTITION", file=sys.stderr)
        return 2
    with dg.DagsterInstance.get() as instance:
        result = run_job(instance, args[0], args[1])
    print(result.run_id)
    return 0 if result.success else 1


if __name__ == "__main__":
    raise SystemExit(main())
