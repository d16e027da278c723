"""``lead-assets plan [PATH...]``: estimate what enrichment would cost and what would run now.

Spends nothing: files are parsed and standardized in memory, cache lookups read the warehouse,
and the only vendor calls are the free balance and subscription reads.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "Estimate the spend of waiting batches (and of the given files) and show what would run now. Spends nothing."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Optional files to estimate as if they were dropped."""
    parser.add_argument(
        "paths", nargs="*", type=Path, metavar="PATH", help="lead files to estimate (not ingested)"
    )
    parser.add_argument(
        "--offline", action="store_true", help="do not read balances; estimate only"
    )


def run(args: argparse.Namespace) -> int:
    """Print one line per batch: estimate, and launch or the reason it waits."""
    import pandas as pd

    from lead_assets.commands.resources import missing_settings, resolved_resource
    from lead_assets.core.credit_planner import Capacity, plan
    from lead_assets.core.parsing import FileRejected, parse_file
    from lead_assets.definitions import defs
    from lead_assets.pipeline.batch_registry import batches_in_state
    from lead_assets.pipeline.ingest import raw_frame_to_canonical
    from lead_assets.pipeline.planning import batch_needs, capacity, observed_prices

    engine = resolved_resource(defs, "warehouse").engine()
    prices = observed_prices(engine)
    claimed: set[str] = set()
    needs = [
        batch_needs(engine, b.batch_key, prices, claimed=claimed)
        for b in batches_in_state(engine, "ingested", "waiting_credits")
    ]
    from lead_assets.core.standardize import standardize_rows

    for path in args.paths:
        try:
            parsed = parse_file(path)
        except FileRejected as exc:
            print(f"{path}: would be quarantined: {exc.message}")
            continue
        import json

        raw = pd.DataFrame(
            {
                "row_id": [str(r.line_no) for r in parsed.rows],
                "raw_json": [json.dumps(r.values, default=str) for r in parsed.rows],
                "parse_error": [r.parse_error for r in parsed.rows],
                "source": "file",
            }
        )
        std = standardize_rows(raw_frame_to_canonical(raw), source="file").frame
        leads = std[std["status"] == "ok"].reset_index(drop=True)
        needs.append(
            batch_needs(engine, f"(file) {path.name}", prices, leads=leads, claimed=claimed)
        )
    if not needs:
        print("Nothing is waiting for enrichment, and no file was given.")
        return 0
    missing = missing_settings(defs, ("generect", "leedrush"))
    if missing and not args.offline:
        from lead_assets.commands.resources import SANDBOX_HINT

        print(
            f"(balances unavailable: {', '.join(missing)} not set; showing estimates only; "
            f"{SANDBOX_HINT})",
            file=sys.stderr,
        )
        args.offline = True
    if args.offline:
        cap = Capacity()
    else:
        try:
            resources = {k: resolved_resource(defs, k) for k in ("generect", "leedrush")}
            cap = capacity(engine, resources["generect"], resources["leedrush"])
        except Exception as exc:  # keys missing or vendor down: still show the estimate
            reason = str(exc.__cause__ or exc).splitlines()[0]
            print(f"(balances unavailable: {reason}; showing estimates only)", file=sys.stderr)
            cap = Capacity()
    result = plan(needs, cap, prices)
    total_usd = sum(p.estimate.usd for p in result.launch + result.wait)
    total_credits = sum(p.estimate.credits for p in result.launch + result.wait)
    for line in result.explain():
        print(line)
    print(
        f"total estimate: ${total_usd:.4f} and {total_credits:.0f} Leedrush credits "
        f"(hit rates: email find {prices.email_find_hit_rate:.0%}, company {prices.company_hit_rate:.0%})"
    )
    return 0
