"""``lead-assets run PATH... [--json]``: process files headlessly exactly as a file drop would."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from contextlib import contextmanager
from pathlib import Path

from lead_assets.commands.progress import StepProgress, progress_wanted

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
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="a progress bar of the batches' runs on stderr (default: on a terminal only)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=900.0,
        help="give up after this many seconds without progress (no run finished while waiting "
        "for vendor batches); long files are not cut short, each finished run restarts the clock",
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

    from lead_assets.commands.resources import require_settings, resolved_resource
    from lead_assets.definitions import defs

    require_settings(defs, ("warehouse", "generect", "leedrush"), "run")
    # The summary is the output; Dagster's step-by-step debug log would drown it.
    logging.getLogger("dagster").setLevel(logging.WARNING)
    names = _copy_to_landing(args.paths, landing_dir())
    warehouse = resolved_resource(defs, "warehouse")
    with dg.DagsterInstance.get() as instance:
        summary = _register(instance, warehouse, names)
        with stop_on_signals() as stop:
            outcome = _drain(defs, instance, args, len(summary["batches"]), stop)
    rows = _summaries(warehouse.engine(), summary, names, interrupted=stop.is_set())
    for row in rows:
        print(json.dumps(row) if args.json else _human(row))
    _print_run_spend(rows, as_json=args.json)
    if stop.is_set():
        print(
            f"interrupted by {stop.signal_name}: unfinished batches are resumable "
            "(run the same file again, or let the daemon's credits sensor resume them)",
            file=sys.stderr,
        )
        return 128 + stop.signal_number
    # Only a signal leaves no outcome, and a signal returned above.
    assert outcome is not None
    for failure in outcome.failures:
        print(f"error: {failure}", file=sys.stderr)
    failed_runs = [r for r in outcome.runs if not r[2]]
    unfinished = [r for r in rows if r.get("batch") and r["status"] != "done"]
    return 1 if failed_runs or outcome.failures or unfinished else 0


def _copy_to_landing(paths: list[Path], landing: Path) -> dict[str, Path]:
    """Copy each file into the landing folder (the user's file stays where it is) under a name
    that cannot collide; landing name -> the user's path."""
    landing.mkdir(parents=True, exist_ok=True)
    names: dict[str, Path] = {}
    for path in paths:
        target = landing / path.name
        n = 1
        while target.exists():
            target = landing / f"{path.stem}.{n}{path.suffix}"
            n += 1
        shutil.copyfile(path, target)
        names[target.name] = path
    return names


def _register(instance, warehouse, names: dict[str, Path]) -> dict:
    """The file-drop sensor's own decision, restricted to these files and told they are
    complete, applied as the daemon would apply it; its summary."""
    from lead_assets.sensors.file_drop import landing_sensor_result

    result, summary = landing_sensor_result(
        instance, warehouse, None, all_complete=True, only=set(names)
    )
    for request in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    for event in result.asset_events or []:  # landing_files: each file's outcome in the UI
        instance.report_runless_asset_event(event)
    return summary


def _drain(defs, instance, args: argparse.Namespace, batches: int, stop: _Stop):
    """Tick the pipeline's sensors until no work is left, one line (and a bar step) per run;
    None when a signal arrived between runs."""
    from lead_assets.inprocess_daemon import drain

    # Three runs per batch (ingest, enrich, collect); the bar fills when the drain ends.
    bar = StepProgress(f"{batches} batch(es)", 3 * batches, enabled=progress_wanted(args.progress))

    def on_run(job: str, key: str, ok: bool) -> None:
        bar.advance(f"{job} {'ok' if ok else 'FAILED'}")
        if not args.json:
            print(f"  {job} [{key}] {'ok' if ok else 'FAILED'}")

    with bar:
        try:
            outcome = drain(
                defs,
                instance,
                [s for s in PIPELINE_SENSORS if _has_sensor(defs, s)],
                timeout_seconds=args.timeout,
                on_run=on_run,
                should_stop=stop.is_set,
            )
        except KeyboardInterrupt:  # a signal between runs: nothing is left half-written
            stop.set()
            return None
        bar.finish()
    if outcome.interrupted:
        stop.set()  # signalled inside a run: Dagster interrupted it and took the signal
    return outcome


class _Stop:
    """Set by SIGTERM/SIGINT; remembers which signal."""

    def __init__(self) -> None:
        import threading

        self._event = threading.Event()
        self.signal_number = 0
        self.signal_name = ""

    def is_set(self) -> bool:
        return self._event.is_set()

    def set(self, signum: int | None = None) -> None:
        import signal

        if signum is not None and not self.signal_number:
            self.signal_number, self.signal_name = signum, signal.Signals(signum).name
        if not self.signal_number:  # Dagster took it inside a run: SIGINT or SIGTERM
            self.signal_number, self.signal_name = signal.SIGINT, "a signal (SIGINT/SIGTERM)"
        self._event.set()


@contextmanager
def stop_on_signals():
    """SIGTERM and SIGINT stop the drain: the run in progress is interrupted (Dagster marks it
    failed, its batch stays resumable) and no further run starts. During a run Dagster maps both
    signals to its own interrupt, so the drain notices the interrupted run instead."""
    import signal

    stop = _Stop()

    def handler(signum, frame):
        stop.set(signum)
        raise KeyboardInterrupt

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def _has_sensor(defs, name: str) -> bool:
    try:
        defs.resolve_sensor_def(name)
    except Exception:
        return False
    return True


def batch_status(engine, batch_key: str, figures: dict, *, interrupted: bool) -> str:
    """``done`` only when every ok row has a qualification outcome and the exports exist;
    otherwise the batch's real state (``awaiting reconciliation``, ``enriching``, ...)."""
    from lead_assets.pipeline.batch_registry import get_batch
    from lead_assets.pipeline.summary import export_paths

    # A row already delivered in an earlier batch is accounted for: it is not exported twice.
    outcomes = sum(
        figures.get(k, 0)
        for k in ("qualified", "review", "disqualified", "failed", "already_delivered")
    )
    if outcomes >= figures.get("ok", 0) and export_paths(engine, batch_key):
        return "done"
    state = get_batch(engine, batch_key).state
    label = {
        "awaiting_reconciliation": "awaiting reconciliation",
        "awaiting_vendor": "awaiting vendor",
        "submitted": "awaiting vendor",
        "waiting_credits": "waiting for credits",
    }.get(state, state)
    return f"interrupted ({label})" if interrupted else label


def _file_batches(engine, path: Path) -> list[str]:
    """Batch keys registered for this exact file content."""
    from sqlalchemy import text

    from lead_assets.pipeline.landing import content_hash

    with engine.connect() as conn:
        return [
            r[0]
            for r in conn.execute(
                text("SELECT batch_key FROM lead_batches WHERE file_id = :f ORDER BY batch_key"),
                {"f": content_hash(path)},
            )
        ]


def _summaries(
    engine, summary: dict, names: dict[str, Path], *, interrupted: bool = False
) -> list[dict]:
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
    batches_of = {landed: list(keys) for landed, keys in summary["registered_batches"].items()}
    resumed: set[str] = set()
    for landed in summary["duplicates"]:
        # The same bytes again: report the batches of that version (a killed run's batch was
        # resumed by the drain above) rather than declaring a half-done file done.
        source = names.get(Path(landed).name)
        keys = _file_batches(engine, source) if source and source.is_file() else []
        if keys:
            batches_of[landed] = keys
            resumed.add(landed)
    for landed, batch_keys in batches_of.items():
        for key in batch_keys:
            figures = batch_figures(engine, key)
            rows.append(
                {
                    "file": str(names.get(Path(landed).name, landed)),
                    "batch": key,
                    "status": batch_status(engine, key, figures, interrupted=interrupted),
                    **figures,
                    "exports": export_paths(engine, key),
                    **({"detail": "same file version as before"} if landed in resumed else {}),
                }
            )
    for landed in summary["duplicates"]:
        if landed in resumed:
            continue
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
    state = "" if row["status"] == "done" else f" {row['status'].upper()}"
    parts = [
        f"{row['file']} [{row['batch']}]{state}",
        f"rows_in={row['rows_in']} ok={row['ok']} rejected={row['rejected']} (reasons: {reasons})",
    ]
    if "qualified" in row:
        parts.append(
            f"qualified={row['qualified']} review={row['review']} disqualified={row['disqualified']} "
            f"failed={row.get('failed', 0)} already_delivered={row.get('already_delivered', 0)} "
            f"spend=${row['spend_usd']:.4f} + {row['spend_credits']:g} credits, cache hits={row['cache_hits']}"
        )
    spend = row.get("spend")
    if spend:
        parts.append(
            f"unknown=${spend['unknown_usd']:.4f} + {spend['unknown_credits']:g} credits (awaiting"
            f" reconciliation), saved=${spend['saved_usd']:.4f} + {spend['saved_credits']:g} credits"
        )
    if row.get("blocked"):
        parts.append(f"not exported, {row['blocked']}")
    if row.get("exports"):
        parts.append("exports: " + ", ".join(row["exports"]))
    return "\n  ".join(parts)
