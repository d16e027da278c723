"""Environment settings of distributed execution (one home for each variable).

- ``LEAD_ASSETS_EXECUTOR``: ``in_process`` (default) or ``celery``.
- ``LEAD_ASSETS_CELERY_BROKER``: broker URL, e.g. ``pyamqp://guest:guest@127.0.0.1:5672/leads``
  (RabbitMQ) or ``redis://127.0.0.1:6379/5``. Default: RabbitMQ on localhost, vhost ``/``.
- ``LEAD_ASSETS_CELERY_BACKEND``: result backend; default ``rpc://`` (results travel back over the
  broker, so nothing but the broker and PostgreSQL is shared).
"""

from __future__ import annotations

import os
from typing import Any

EXECUTOR_ENV = "LEAD_ASSETS_EXECUTOR"
BROKER_ENV = "LEAD_ASSETS_CELERY_BROKER"
BACKEND_ENV = "LEAD_ASSETS_CELERY_BACKEND"

DEFAULT_BROKER = "pyamqp://guest:guest@127.0.0.1:5672//"
DEFAULT_BACKEND = "rpc://"
EXECUTORS = ("in_process", "celery")

#: Celery settings shared by the executor (the run worker) and every Celery worker.
#: - ``task_acks_late``: a step's message is acknowledged when the step ends, not when a worker
#:   takes it, so a worker host that dies mid-step gives the message back to the broker and
#:   another worker runs the step (RabbitMQ redelivers at once; Redis after the visibility
#:   timeout). A worker *process* killed under a living worker is reported as ``WorkerLostError``
#:   instead: the run fails as a run exception and Dagster's run retries re-execute it from the
#:   failure (dagster.yaml ``run_retries``), which never re-runs what already succeeded.
#: - prefetch 1: a busy worker holds no queued step that an idle one could run.
CELERY_SETTINGS: dict[str, Any] = {
    "task_acks_late": True,
    "worker_prefetch_multiplier": 1,
    "broker_connection_retry_on_startup": True,
    # Redis only: how long an unacknowledged step stays invisible before redelivery. A step of a
    # large batch can run for minutes; redelivering earlier would run it twice at once.
    "broker_transport_options": {"visibility_timeout": 3600},
}


def executor_kind() -> str:
    """The executor the jobs use (``LEAD_ASSETS_EXECUTOR``), validated."""
    kind = (os.environ.get(EXECUTOR_ENV) or "in_process").strip().lower().replace("-", "_")
    if kind not in EXECUTORS:
        raise ValueError(f"{EXECUTOR_ENV} must be one of {', '.join(EXECUTORS)}, got {kind!r}")
    return kind


def broker_url() -> str:
    """The Celery broker URL (may carry a password: never log it unmasked)."""
    return os.environ.get(BROKER_ENV) or DEFAULT_BROKER


def backend_url() -> str:
    """The Celery result backend URL."""
    return os.environ.get(BACKEND_ENV) or DEFAULT_BACKEND
