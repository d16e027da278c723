"""Vendor limits that hold across workers: Dagster pool slots and each step's share of the caps.

A client's semaphores bound one process. With the Celery executor, steps of many runs execute on
many workers at once, so the account-wide caps are divided explicitly:

- **Generect** caps parallel requests per operation (50/20/500/50/100; the clients keep ~10 %
  headroom, ``DEFAULT_CONCURRENCY``). The pool ``generect`` gets ``slots`` steps at a time across
  the deployment and each step's client gets ``floor(budget / slots)`` in-flight requests per
  operation, so the steps together never exceed the budget, whatever the number of workers.
  More slots do not buy more throughput once one step already fills the caps; they help when
  steps spend time off the wire (reading, writing the warehouse), which is where a slot would
  otherwise sit idle while the account has headroom.
- **Leedrush** limits requests per minute and concurrent batches per account. Parallel steps
  cannot raise a per-minute total, and the concurrent-batch check is check-then-submit, so the
  pool ``leedrush`` keeps one slot; the per-minute window is shared by every process (steps on
  any worker and the daemon's sensors) through Redis when ``LEAD_ASSETS_LIMITER_REDIS_URL`` is
  set (:mod:`lead_assets.distributed.limiter`).
- **entity_resolution** stays one slot: resolution is global and incremental.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from lead_assets.clients.generect import DEFAULT_CONCURRENCY
from lead_assets.settings import GENERECT_SLOTS_ENV, generect_slots

if TYPE_CHECKING:
    from dagster import DagsterInstance

#: Operations every step needs at least one request of; "uncapped" (counts) is not divided.
UNDIVIDED = ("uncapped",)


def step_share(slots: int, budget: Mapping[str, int] = DEFAULT_CONCURRENCY) -> dict[str, int]:
    """Each step's in-flight requests per operation when ``slots`` steps share ``budget``.

    Refuses a slot count that would leave a step no request of some capped operation: such a
    deployment would exceed the caps or starve, and the operator should lower the slots instead.
    """
    share = {}
    for op, total in budget.items():
        if op in UNDIVIDED:
            share[op] = total
            continue
        if total < slots:
            raise ValueError(
                f"{slots} Generect slots cannot share {total} parallel {op} requests: "
                f"set {GENERECT_SLOTS_ENV} to at most {total}"
            )
        share[op] = total // slots
    return share


def pool_limits(slots: int | None = None) -> dict[str, int]:
    """Slot counts of the vendor pools (and the global resolution step)."""
    return {
        "generect": slots if slots is not None else generect_slots(),
        "leedrush": 1,
        "entity_resolution": 1,
    }


def apply_pool_limits(
    instance: DagsterInstance, limits: Mapping[str, int] | None = None
) -> dict[str, int]:
    """Set the pools' slot counts on a Dagster instance (what ``dagster instance concurrency
    set`` does); returns what was set."""
    limits = dict(limits or pool_limits())
    for pool, slots in limits.items():
        instance.event_log_storage.set_concurrency_slots(pool, slots)
    return limits
