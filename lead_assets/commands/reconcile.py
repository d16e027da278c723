"""``lead-assets reconcile [--json] [--grace S]``: decide ambiguous charges from the vendors'
books and resume batches whose run died, as the credits sensor does on every tick."""

from __future__ import annotations

import argparse
import json

HELP = (
    "Match charges whose answer was lost (unknown, or reserved by a run that died) against "
    "Generect's transactions and Leedrush's batch listing; settle or release each with its "
    "evidence, and send waiting or orphaned batches back to the credits sensor."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--json and --grace."""
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    parser.add_argument(
        "--grace",
        type=float,
        default=None,
        help="seconds a vendor may take to show a charge (default LEAD_ASSETS_RECONCILE_GRACE_S or 60)",
    )


def run(args: argparse.Namespace) -> int:
    """One reconciliation pass; exit 0 when nothing is left undecided, 3 when some charges wait."""
    import os

    from lead_assets.instance import ensure_dagster_home

    if args.grace is not None:
        os.environ["LEAD_ASSETS_RECONCILE_GRACE_S"] = str(args.grace)
    if not os.environ.get("DAGSTER_HOME"):
        ensure_dagster_home()

    import dagster as dg

    from lead_assets.definitions import defs
    from lead_assets.sensors.recovery import reconcile_pass

    resources = defs.resources
    assert resources is not None  # definitions.py binds every resource of the code location
    with dg.DagsterInstance.get() as instance:
        stats = reconcile_pass(
            instance,
            resources["warehouse"].engine(),
            resources["generect"],
            resources["leedrush"],
        )
    summary = stats.summary()
    if args.json:
        print(json.dumps({**summary, "decisions": stats.decisions}, default=str))
    else:
        print(
            f"settled {stats.settled}, released {stats.released}, still waiting {stats.waiting}; "
            f"bulk jobs collected {stats.jobs_collected}; items paid with the answer lost "
            f"{stats.answers_lost}; batches resumed: {', '.join(stats.resumed) or 'none'}"
        )
        for d in stats.decisions:
            print(f"  {d['id']}: {d['decision']} ({d.get('matched') or 'no match'})")
    return 3 if stats.waiting else 0
