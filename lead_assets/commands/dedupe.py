"""``lead-assets dedupe IN.csv -o OUT.csv``: standardize and cluster a lead file with the same code
as the ``deduplicated_accounts`` asset; OUT holds every input row and column plus
``lead_cluster_id`` and ``account_id``."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from lead_assets.commands.progress import StepProgress, progress_wanted
from lead_assets.core.gc_pause import paused_gc

if TYPE_CHECKING:
    import pandas as pd

HELP = "Standardize and cluster a lead file; write every input row with lead_cluster_id and account_id."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """IN and -o OUT."""
    parser.add_argument("input", type=Path, metavar="IN", help="lead file (CSV, JSON, JSONL, .gz)")
    parser.add_argument(
        "-o", "--output", type=Path, required=True, metavar="OUT", help="CSV to write"
    )
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="a progress bar of the four stages on stderr (default: on a terminal only)",
    )


def run(args: argparse.Namespace) -> int:
    """Parse, standardize, resolve, write."""
    started = time.perf_counter()
    bar = StepProgress(str(args.input.name), 4, enabled=progress_wanted(args.progress))

    def stage(what: str) -> None:
        # Long files take minutes: each stage is reported on stderr as it ends (stdout keeps the
        # one summary line), as a bar on a terminal and as a line elsewhere.
        if bar.enabled:
            bar.advance(what)
        else:
            print(f"  {what} ({time.perf_counter() - started:.1f} s)", file=sys.stderr, flush=True)

    # One job over a whole file: the collector would walk every row's objects again and again.
    with bar, paused_gc():
        return _dedupe(args, stage)


def _dedupe(args: argparse.Namespace, stage: Callable[[str], None]) -> int:
    """The four stages: read, standardize, resolve, write."""
    import pandas as pd

    from lead_assets.core.exports import neutralize_frame
    from lead_assets.core.matching.resolve import CLUSTER_COLUMNS, cluster
    from lead_assets.core.parsing import FileRejected, flatten_record, parse_file
    from lead_assets.core.standardize import standardize_large
    from lead_assets.pipeline.ingest import frame_to_canonical

    try:
        parsed = parse_file(args.input)
    except FileRejected as exc:
        print(f"error: {args.input}: {exc.message}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot read {args.input}: {exc.strerror}", file=sys.stderr)
        return 2
    stage(f"read {len(parsed.rows):,} rows")
    # The file's own columns are the output's; the parser's bookkeeping keys (_raw, _extra) are not.
    # Object columns keep each value as the file had it: a JSON column of 42, 3.5 and null would
    # otherwise become floats and write 42 as "42.0".
    out = pd.DataFrame(
        [{k: v for k, v in r.values.items() if not k.startswith("_")} for r in parsed.rows],
        dtype=object,
    )
    errors = [r.parse_error for r in parsed.rows]
    # Any row may nest (a JSON export whose later records carry an object): look at every one.
    nested = any(isinstance(v, dict) for r in parsed.rows for v in r.values.values())
    fields = (
        pd.DataFrame.from_records([flatten_record(r.values) for r in parsed.rows])
        if nested
        else out
    )
    del parsed  # a million parsed rows are ~1 GiB: the frames hold everything from here on
    row_ids = [str(i) for i in range(len(out))]
    canonical = frame_to_canonical(fields, row_ids=row_ids, parse_errors=errors, sources="file")
    del fields
    out = _compact_text(out)
    std = standardize_large(canonical, source="file").frame
    del canonical
    stage(f"standardized, {int((std['status'] == 'ok').sum()):,} usable")
    std["key"] = std["row_id"]
    row_keys = std["row_id"]
    # Only the columns the matcher reads, of the usable rows: the rest of the standardized frame
    # (raw emails, full names, cities...) is freed before the largest stage.
    usable = std[[c for c in CLUSTER_COLUMNS if c in std]][std["status"].to_numpy() == "ok"]
    del std
    # Each row's account id comes with its cluster; the account table itself (what the
    # deduplicated_accounts asset stores) is not part of this command's output, so not built.
    ids = cluster(usable).set_index("key")
    del usable
    stage("resolved")
    out["lead_cluster_id"] = row_keys.map(ids["lead_cluster_id"]).to_numpy()
    out["account_id"] = row_keys.map(ids["account_id"]).to_numpy()
    # The output is opened in spreadsheets: cells that would run as formulas are neutralized.
    neutralize_frame(out).to_csv(args.output, index=False)
    stage("written")
    clusters = out["lead_cluster_id"].nunique()
    print(
        f"{len(out)} rows -> {clusters} people, {out['account_id'].nunique()} accounts; "
        f"{int(out['lead_cluster_id'].isna().sum())} row(s) could not be identified -> {args.output}"
    )
    return 0


def _compact_text(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with each all-text column (str or missing) held as Arrow strings: one buffer
    instead of a Python object per cell (a third of the memory at 1M rows, written to CSV
    byte for byte the same), so the output waiting to be written does not add to the matcher's
    peak. Columns holding other values (numbers or flags of a JSON export) stay as they are."""
    from pandas.api.types import infer_dtype

    text = {
        column: "string[pyarrow]"
        for column in frame.columns
        if infer_dtype(frame[column], skipna=True) == "string"
    }
    return frame.astype(text) if text else frame
