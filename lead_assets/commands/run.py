"""``lead-assets run PATH... [--json]``: process files headlessly exactly as a file drop would."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

HELP = (
    "Process lead files headlessly exactly as a file drop would (same sensors, assets and "
    "partitions, against the configured instance and warehouse) and print a summary per batch."
)

#: Sensors ticked, in order, until none asks for more work.
PIPELINE_SENSORS = ("file_drop_sensor", "credits_sensor", "leedrush_status_sensor")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """PATH... and --json."""
    parser.add_argument(
        "paths", nargs="+", type=Path, metavar="PATH", help="lead files (CSV, JSON, JSONL, .gz)"
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per line per batch")
    parser.add_argument(
        "--timeout",
        type=float,
        default=900.0,
        help="give up waiting for vendor batches after this many seconds",
    )


def run(args: argparse.Namespace) -> int:
    """Copy the files into the landing folder, drain the sensors, print one summary per batch."""
    import os

    missing = [str(p) for p in args.paths if not p.is_file()]
    if missing:
        print(f"error: not a file: {', '.join(missing)}", file=sys.stderr)
        return 2

    from lead_assets.instance import ensure_dagster_home
    from lead_assets.settings import landing_dir

    if not os.environ.get("DAGSTER_HOME"):
        ensure_dagster_home()

    import logging

    import dagster as dg

    from lead_assets.definitions import defs
    from lead_assets.pipeline.daemon import drain
    from lead_assets.sensors.file_drop import landing_sensor_result

    # The summary is the output; Dagster's step-by-step debug log would drown it.
    logging.getLogger("dagster").setLevel(logging.WARNING)
    landing = landing_dir()
    landing.mkdir(parents=True, exist_ok=True)
    names: dict[str, Path] = {}
    for path in args.paths:
        # Copy (the user's file stays where it is) under a name that cannot collide.
        target = landing / path.name
        n = 1
        while target.exists():
            target = landing / f"{path.stem}.{n}{path.suffix}"
            n += 1
        shutil.copyfile(path, target)
        names[target.name] = path

    warehouse = defs.resources["warehouse"]
    with dg.DagsterInstance.get() as instance:
        # The file-drop sensor's own decision, restricted to these files and told they are complete.
        result, summary = landing_sensor_result(
            instance, warehouse, None, all_complete=True, only=set(names)
        )
        for request in result.dynamic_partitions_requests or []:
            instance.add_dynamic_partitions(
                request.partitions_def_name, list(request.partition_keys)
            )
        quiet = args.json
        outcome = drain(
            defs,
            instance,
            [s for s in PIPELINE_SENSORS if _has_sensor(defs, s)],
            timeout_seconds=args.timeout,
            on_run=None
            if quiet
            else lambda job, key, ok: print(f"  {job} [{key}] {'ok' if ok else 'FAILED'}"),
        )
    rows = _summaries(warehouse.engine(), summary, names)
    for row in rows:
        print(json.dumps(row) if args.json else _human(row))
    _print_run_spend(rows, as_json=args.json)
    for failure in outcome.failures:
        print(f"error: {failure}", file=sys.stderr)
    failed_runs = [r for r in outcome.runs if not r[2]]
    return 1 if failed_runs or outcome.failures else 0


def _has_sensor(defs, name: str) -> bool:  # type: ignore[no-untyped-def]
    try:
        defs.resolve_sensor_def(name)
    except Exception:
        return False
    return True


def _summaries(engine, summary: dict, names: dict[str, Path]) -> list[dict]:  # type: ignore[no-untyped-def]
    from lead_assets.pipeline.summary import batch_figures, export_paths

    rows: list[dict] = []
    for landed, reason in summary["quarantined"]:
        rows.append(
            {
                "file": str(names.get(Path(landed).name, landed)),
                "batch": None,
                "status": "quarantined",
                "rows_in": 0,
                "ok": 0,
                "rejected": 0,
                "reasons": {reason.split(":", 1)[0]: 1},
                "detail": reason.split(": ", 1)[-1],
            }
        )
    for landed, batch_keys in summary["registered_batches"].items():
        for key in batch_keys:
            figures = batch_figures(engine, key)
            rows.append(
                {
                    "file": str(names.get(Path(landed).name, landed)),
                    "batch": key,
                    "status": "done",
                    **figures,
                    "exports": export_paths(engine, key),
                }
            )
    for landed in summary["duplicates"]:
        rows.append(
            {
                "file": str(names.get(Path(landed).name, landed)),
                "batch": None,
                "status": "done",
                "rows_in": 0,
                "ok": 0,
                "rejected": 0,
                "reasons": {},
                "detail": "this exact file version was already processed; nothing to do",
            }
        )
    return rows


def _print_run_spend(rows: list[dict], *, as_json: bool) -> None:
    """The run's spend: settled, unknown (awaiting reconciliation) and saved, USD and credits."""
    from lead_assets.pipeline.summary import run_spend

    total = run_spend(rows)
    if not total:
        return
    if as_json:
        print(json.dumps({"file": None, "batch": None, "status": "run_total", "spend": total}))
        return
    print(
        f"run spend: settled ${total.get('settled_usd', 0):.4f} + {total.get('settled_credits', 0):g}"
        f" credits; unknown ${total.get('unknown_usd', 0):.4f} + {total.get('unknown_credits', 0):g}"
        f" credits; saved ${total.get('saved_usd', 0):.4f} + {total.get('saved_credits', 0):g} credits"
    )


def _human(row: dict) -> str:
    if row["status"] == "quarantined":
        return f"{row['file']}: QUARANTINED - {row['detail']}"
    if row.get("batch") is None:
        return f"{row['file']}: {row.get('detail', '')}"
    reasons = ", ".join(f"{k}={v}" for k, v in sorted(row["reasons"].items())) or "none"
    parts = [
        f"{row['file']} [{row['batch']}]",
        f"rows_in={row['rows_in']} ok={row['ok']} rejected={row['rejected']} (reasons: {reasons})",
    ]
    if "qualified" in row:
        parts.append(
            f"qualified={row['qualified']} review={row['review']} disqualified={row['disqualified']} "
            f"already_delivered={row.get('already_delivered', 0)} "
            f"spend=${row['spend_usd']:.4f} + {row['spend_credits']:g} credits, cache hits={row['cache_hits']}"
        )
    spend = row.get("spend")
    if spend:
        parts.append(
            f"unknown=${spend['unknown_usd']:.4f} + {spend['unknown_credits']:g} credits (awaiting"
            f" reconciliation), saved=${spend['saved_usd']:.4f} + {spend['saved_credits']:g} credits"
        )
    if row.get("exports"):
        parts.append("exports: " + ", ".join(row["exports"]))
    return "\n  ".join(parts)
