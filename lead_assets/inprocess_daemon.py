"""A synchronous stand-in for the Dagster daemon, for ``lead-assets run`` and the demo.

It evaluates the project's own sensors against the configured instance, applies their partition
requests and executes their run requests in process, tagged exactly as the daemon would tag them
(``dagster/sensor_name``, ``dagster/run_key``), until no sensor asks for more work. So a file given
on the command line goes through the same sensor logic, assets and partitions as a file drop, and
a later daemon tick will not launch the same work twice.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import dagster as dg


@dataclass
class DaemonPass:
    """What the stand-in daemon did."""

    runs: list[tuple[str, str, bool]] = field(default_factory=list)  # (job, partition, success)
    failures: list[str] = field(default_factory=list)
    #: A run ended because the process was signalled (Dagster turns SIGINT/SIGTERM received
    #: during execution into an interrupted step): the drain stops there.
    interrupted: bool = False


def _was_interrupted(run: object) -> bool:
    for event in getattr(run, "all_events", []):
        error = getattr(getattr(event, "event_specific_data", None), "error", None)
        if error is not None and "Interrupt" in (getattr(error, "cls_name", "") or ""):
            return True
    return False


def _launched_run_keys(instance: dg.DagsterInstance, sensor_name: str) -> set[str]:
    runs = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/sensor_name": sensor_name}))
    return {r.tags.get("dagster/run_key", "") for r in runs}


HOST_TAG = "lead_assets/host"
PID_TAG = "lead_assets/pid"


def execute_run(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    job_name: str,
    partition_key: str | None,
    tags: dict[str, str] | None = None,
    *,
    log_level: str = "WARNING",
) -> Any:
    """Run one job for one batch; the result's ``success`` says whether it succeeded.

    In process by default; with ``LEAD_ASSETS_EXECUTOR=celery`` the run's steps go to the Celery
    workers (``execute_in_process`` would silently keep them here).
    """
    from lead_assets.distributed.settings import executor_kind

    if executor_kind() == "celery":
        from lead_assets.distributed.runs import run_job

        return run_job(instance, job_name, partition_key, tags=tags)
    # The process that runs it in-process: a later pass can tell the run died with it (SIGKILL
    # leaves the run STARTED forever, holding its pool slots; sensors.recovery buries it).
    tags = {**(tags or {}), HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())}
    return defs.resolve_job_def(job_name).execute_in_process(
        instance=instance,
        partition_key=partition_key,
        tags=tags,
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
    )


def drain(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    sensor_names: Sequence[str],
    *,
    idle_rounds: int = 2,
    poll_seconds: float = 1.0,
    timeout_seconds: float = 600.0,
    on_run: Callable[[str, str, bool], None] | None = None,
    log_level: str = "WARNING",
    should_stop: Callable[[], bool] | None = None,
) -> DaemonPass:
    """Tick ``sensor_names`` until ``idle_rounds`` consecutive rounds request nothing new.

    A round with open remote work (a sensor skipped with a message starting ``waiting:``) waits
    ``poll_seconds`` before the next round; ``timeout_seconds`` bounds the time without progress
    (no run finished): a 100k-lead file's forty runs are work, not waiting, so the clock starts
    again after each run, and only a vendor that keeps a batch waiting ends the drain.
    ``should_stop`` (checked between runs) ends the drain at once: SIGTERM or Ctrl-C.
    """
    stopping = should_stop or (lambda: False)
    outcome = DaemonPass()
    cursors: dict[str, str | None] = {}
    idle = 0
    deadline = time.monotonic() + timeout_seconds
    resources = dict(defs.resources or {})
    while idle < idle_rounds and time.monotonic() < deadline and not stopping():
        launched_any = False
        waiting = False
        for name in sensor_names:
            sensor = defs.resolve_sensor_def(name)
            result = _tick(defs, instance, sensor, cursors.get(name), resources, outcome)
            if isinstance(result, dg.SkipReason):
                waiting = waiting or (result.skip_message or "").startswith("waiting:")
                continue
            if result is None:
                continue
            cursors[name] = result.cursor
            waiting = _apply(instance, result) or waiting
            done = _launched_run_keys(instance, name)
            for request in result.run_requests or []:
                if stopping():
                    return outcome
                if request.run_key and request.run_key in done:
                    continue
                _launch(defs, instance, sensor, request, outcome, on_run, log_level)
                launched_any = True
                deadline = time.monotonic() + timeout_seconds  # progress: the wait starts again
                if outcome.interrupted:
                    return outcome
        if launched_any:
            idle = 0
        elif waiting:
            idle = 0
            time.sleep(poll_seconds)
        else:
            idle += 1
    return outcome


def _tick(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    sensor: dg.SensorDefinition,
    cursor: str | None,
    resources: dict,
    outcome: DaemonPass,
) -> dg.SensorResult | dg.SkipReason | None:
    """One evaluation of ``sensor``; a raising tick is reported (once) like the daemon's tick
    log, and gives None."""
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources=resources, definitions=defs
    )
    try:
        result = sensor(context)
    except Exception as exc:
        from lead_assets.pipeline.isolation import failure_reason

        cause = exc.__cause__ or exc
        message = f"{sensor.name}: {failure_reason(cause)}"
        if message not in outcome.failures:  # once, not once per round
            outcome.failures.append(message)
        return None
    return result if isinstance(result, dg.SensorResult | dg.SkipReason) else None


def _apply(instance: dg.DagsterInstance, result: dg.SensorResult) -> bool:
    """What the daemon records from a tick: observations (vendor state), new partitions; True
    when its skip says remote work is open (``waiting:``)."""
    for event in result.asset_events or []:
        instance.report_runless_asset_event(event)
    for request in result.dynamic_partitions_requests or []:
        if isinstance(request, dg.AddDynamicPartitionsRequest):
            instance.add_dynamic_partitions(
                request.partitions_def_name, list(request.partition_keys)
            )
    skip = result.skip_reason
    return (skip.skip_message or "").startswith("waiting:") if skip is not None else False


def _launch(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    sensor: dg.SensorDefinition,
    request: dg.RunRequest,
    outcome: DaemonPass,
    on_run: Callable[[str, str, bool], None] | None,
    log_level: str,
) -> None:
    """Execute one run request in process, tagged as the daemon tags it; record the outcome."""
    job_name = request.job_name or sensor.job_name
    assert job_name is not None  # Dagster requires a job on a sensor's run request
    tags = {**(request.tags or {}), "dagster/sensor_name": sensor.name}
    if request.run_key:
        tags["dagster/run_key"] = request.run_key
    try:
        run = execute_run(
            defs, instance, job_name, request.partition_key, tags, log_level=log_level
        )
        ok = run.success
        if not ok and _was_interrupted(run):
            outcome.interrupted = True
    except Exception as exc:  # a definition-level error: report, keep draining
        ok = False
        outcome.failures.append(f"{job_name}[{request.partition_key}]: {exc}")
    outcome.runs.append((job_name, request.partition_key or "", ok))
    if on_run:
        on_run(job_name, request.partition_key or "", ok)
