"""The executor every lead_assets job runs its steps with, chosen when a run starts.

``in_process`` (the default) keeps every step of a run in the run worker: single-asset batch
steps are ~40 % faster that way on one host (design notes). ``celery`` sends every step to the
Celery workers listening on the broker; the run worker only orchestrates (pools, retries, events).

The choice is read when the run starts, not when the code is imported: ``LEAD_ASSETS_EXECUTOR``
of the process that runs the run (the deployment's setting), or the run config
``execution: {config: {kind: celery}}`` for one run (the launchpad). So one code location serves
both, and a job's definition does not change with the host it was imported on.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster._core.definitions.executor_definition import (
    ExecutorRequirement,
    multiple_process_executor_requirements,
)
from dagster._core.execution.retries import RetryMode
from dagster._core.executor.base import Executor
from dagster._core.executor.in_process import InProcessExecutor

from lead_assets.distributed.settings import (
    CELERY_SETTINGS,
    EXECUTORS,
    backend_url,
    broker_url,
    executor_kind,
)

# dagster-celery builds its task once per submitted step; Celery warns each time that the name is
# already registered (to the same task). Noise, not a problem: hide it.
warnings.filterwarnings("ignore", message="Task name 'execute_plan' is already registered")

CONFIG_SCHEMA = {
    "kind": dg.Field(
        dg.Noneable(dg.Enum("LeadAssetsExecutorKind", [dg.EnumValue(k) for k in EXECUTORS])),
        is_required=False,
        default_value=None,
        description="in_process or celery; unset: LEAD_ASSETS_EXECUTOR (default in_process)",
    ),
}


def _kind(config: Mapping[str, Any]) -> str:
    return config.get("kind") or executor_kind()


def _requirements(config: Mapping[str, Any]) -> list[ExecutorRequirement]:
    # Celery steps run elsewhere: the job must be reconstructable and the instance persistent.
    return list(multiple_process_executor_requirements()) if _kind(config) == "celery" else []


def celery_step_executor() -> Executor:
    """dagster-celery's executor on the configured broker with the shared Celery settings."""
    try:
        from dagster_celery.executor import CeleryExecutor
    except ImportError:  # the optional extra is missing: say how to get it
        raise RuntimeError(
            "LEAD_ASSETS_EXECUTOR=celery needs dagster-celery: install lead-assets[celery] "
            "(`uv sync --extra celery`)"
        ) from None
    return CeleryExecutor(
        retries=RetryMode.ENABLED,
        broker=broker_url(),
        backend=backend_url(),
        config_source=dict(CELERY_SETTINGS),
    )


@dg.executor(name="lead_assets", config_schema=CONFIG_SCHEMA, requirements=_requirements)
def lead_assets_executor(init_context: dg.InitExecutorContext) -> Executor:
    """In process by default; every step on a Celery worker when ``kind`` resolves to celery."""
    if _kind(dict(init_context.executor_config)) == "celery":
        return celery_step_executor()
    return InProcessExecutor(retries=RetryMode.ENABLED)


def job_executor() -> dg.ExecutorDefinition:
    """The executor definition of every lead_assets job."""
    return lead_assets_executor
