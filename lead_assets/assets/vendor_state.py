"""Vendor state as assets: the Generect balance and the Leedrush credits and plan.

Nothing materializes them; the credits sensor observes them (free calls) every few minutes, so
their history plots in the UI and their freshness policy turns them red when observations stop:
the daemon is down, the sensor is failing, or a vendor cannot be reached (issue 13).
"""

from datetime import timedelta

import dagster as dg

#: Observed at most every OBSERVE_EVERY by the credits sensor; late after 3x that, failing after
#: an hour without one.
OBSERVE_EVERY = timedelta(minutes=5)
VENDOR_FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(hours=1), warn_window=3 * OBSERVE_EVERY
)

generect_balance = dg.AssetSpec(
    "generect_balance",
    group_name="vendor_state",
    kinds={"generect"},
    description=(
        "The Generect account balance in USD, observed by credits_sensor (GET /accounts/me, free). "
        "Red when no observation arrived for an hour."
    ),
    freshness_policy=VENDOR_FRESHNESS,
)

leedrush_credits = dg.AssetSpec(
    "leedrush_credits",
    group_name="vendor_state",
    kinds={"leedrush"},
    description=(
        "Leedrush credits remaining and the plan's limits (concurrent batches, rows per batch, "
        "requests per minute), observed by credits_sensor (GET /api/subscription, free)."
    ),
    freshness_policy=VENDOR_FRESHNESS,
)

VENDOR_STATE_ASSETS = [generect_balance, leedrush_credits]
