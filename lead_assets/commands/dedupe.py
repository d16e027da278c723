"""``lead-assets dedupe IN.csv -o OUT.csv``: standardize and cluster a lead file with the same code
as the ``deduplicated_accounts`` asset; OUT holds every input row and column plus
``lead_cluster_id`` and ``account_id``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "Standardize and cluster a lead file; write every input row with lead_cluster_id and account_id."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """IN and -o OUT."""
    parser.add_argument("input", type=Path, metavar="IN", help="lead file (CSV, JSON, JSONL, .gz)")
    parser.add_argument(
        "-o", "--output", type=Path, required=True, metavar="OUT", help="CSV to write"
    )


def run(args: argparse.Namespace) -> int:
    """Parse, standardize, resolve, write."""
    import json

    import pandas as pd

    from lead_assets.core.exports import neutralize_frame
    from lead_assets.core.matching.resolve import resolve
    from lead_assets.core.parsing import FileRejected, parse_file
    from lead_assets.core.standardize import standardize_rows
    from lead_assets.pipeline.ingest import raw_frame_to_canonical

    try:
        parsed = parse_file(args.input)
    except FileRejected as exc:
        print(f"error: {args.input}: {exc.message}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot read {args.input}: {exc.strerror}", file=sys.stderr)
        return 2
    raw = pd.DataFrame(
        {
            "row_id": [str(i) for i in range(len(parsed.rows))],
            "raw_json": [json.dumps(r.values, default=str) for r in parsed.rows],
            "parse_error": [r.parse_error for r in parsed.rows],
            "source": "file",
        }
    )
    std = standardize_rows(raw_frame_to_canonical(raw), source="file").frame
    std["key"] = std["row_id"]
    resolution = resolve(std[std["status"] == "ok"])
    ids = resolution.clusters.set_index("key")
    out = pd.DataFrame(
        [{k: v for k, v in r.values.items() if not k.startswith("_")} for r in parsed.rows]
    )
    out["lead_cluster_id"] = std["row_id"].map(ids["lead_cluster_id"]).tolist()
    out["account_id"] = std["row_id"].map(ids["account_id"]).tolist()
    # The output is opened in spreadsheets: cells that would run as formulas are neutralized.
    neutralize_frame(out).to_csv(args.output, index=False)
    clusters = out["lead_cluster_id"].nunique()
    print(
        f"{len(out)} rows -> {clusters} people, {out['account_id'].nunique()} accounts; "
        f"{int(out['lead_cluster_id'].isna().sum())} row(s) could not be identified -> {args.output}"
    )
    return 0
