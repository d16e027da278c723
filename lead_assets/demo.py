"""``make demo``: the whole graph on the bundled samples against the local sandbox.

Starts the Generect and Leedrush sandboxes in-process, uses a fresh embedded instance (SQLite)
under ``.state/demo``, pulls an ICP profile through the counts sensor, drops the sample files
through the same sensor logic as a file drop, lets the credits and batch-status sensors drive
enrichment and collection, then re-runs every paid step to show that nothing is bought twice.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from dataclasses import dataclass

from lead_assets.settings import PROJECT_ROOT

SAMPLES = PROJECT_ROOT / "samples"


def main() -> int:
    """Run the demo and print the batch summaries, exports, spend and savings."""
    state = PROJECT_ROOT / ".state" / "demo"
    shutil.rmtree(state, ignore_errors=True)
    os.environ["LEAD_ASSETS_STATE_DIR"] = str(state)
    for var in (
        "LEAD_ASSETS_DATABASE_URL",
        "DAGSTER_HOME",
        "LEAD_ASSETS_LANDING_DIR",
        "LEAD_ASSETS_OUTBOX_DIR",
    ):
        os.environ.pop(var, None)
    logging.getLogger("dagster").setLevel(logging.WARNING)

    from lead_assets.instance import ensure_dagster_home
    from lead_assets.sandbox.generect import GenerectSandboxConfig
    from lead_assets.sandbox.leedrush import LeedrushSandboxConfig
    from lead_assets.sandbox.server import running_sandbox

    ensure_dagster_home()
    print(f"lead_assets demo (state in {state})")
    with running_sandbox(
        GenerectSandboxConfig(balance=25.0),
        LeedrushSandboxConfig(plan="starter", credits=5000, time_scale=0.2),
    ) as sandbox:
        os.environ.update(sandbox.environment())
        print(
            f"sandbox: Generect {sandbox.generect_url}, Leedrush {sandbox.leedrush_url} (plan starter)"
        )
        return _run(sandbox)


@dataclass
class _Spend:
    """What the sandboxes charged: USD to Generect, credits to Leedrush."""

    usd: float
    credits: float

    @classmethod
    def of(cls, sandbox) -> _Spend:
        return cls(
            sandbox.generect.state.sandbox.account.total_charged,
            sum(c["credits"] for c in sandbox.leedrush.state.sandbox.account.charges),
        )


def _run(sandbox) -> int:
    """The whole graph on the samples, a backfill of every paid step, then the summary."""
    import dagster as dg

    from lead_assets.commands.resources import resolved_resource
    from lead_assets.definitions import build_definitions

    defs = build_definitions()
    warehouse = resolved_resource(defs, "warehouse")
    with dg.DagsterInstance.get() as instance:
        failed = _first_pass(defs, instance, warehouse)
        first = _Spend.of(sandbox)
        print("\n4. Backfill: every paid step re-run for every batch")
        keys = _batch_keys(warehouse.engine())
        failed += _backfill(defs, instance, keys)
        total = _Spend.of(sandbox)
    again = _Spend(total.usd - first.usd, total.credits - first.credits)
    _print_batches(warehouse.engine(), keys)
    _print_spend(warehouse.engine(), first, again)
    if failed:
        print(f"\n{len(failed)} run(s) failed: {failed}", file=sys.stderr)
        return 1
    return 0


def _first_pass(defs, instance, warehouse) -> list[tuple[str, str, bool]]:
    """Steps 1-3: the ICP pull, the file drop, and the sensors until no work is left; the
    failed runs."""
    from lead_assets.inprocess_daemon import drain
    from lead_assets.sensors.file_drop import landing_sensor_result
    from lead_assets.settings import landing_dir

    landing = landing_dir()
    landing.mkdir(parents=True, exist_ok=True)
    for path in sorted(p for p in SAMPLES.iterdir() if p.suffix in (".csv", ".jsonl", ".gz")):
        shutil.copyfile(path, landing / path.name)
    print("\n1. ICP prospecting (free count, then a budget-capped paid pull)")
    runs = drain(defs, instance, ["generect_counts_sensor"], on_run=_show).runs
    print("\n2. File drop: the samples land in", landing)
    result, summary = landing_sensor_result(instance, warehouse, None, all_complete=True)
    for request in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    for path, reason in summary["quarantined"]:
        print(f"  quarantined {os.path.basename(path)}: {reason}")
    print("\n3. Sensors drive ingestion, credit-aware enrichment, Leedrush polling and collection")
    runs += drain(
        defs,
        instance,
        ["file_drop_sensor", "credits_sensor", "leedrush_status_sensor"],
        on_run=_show,
        poll_seconds=0.5,
    ).runs
    return [r for r in runs if not r[2]]


def _batch_keys(engine) -> list[str]:
    from sqlalchemy import text

    with engine.connect() as conn:
        return [
            r[0]
            for r in conn.execute(text("SELECT batch_key FROM lead_batches ORDER BY batch_key"))
        ]


def _backfill(defs, instance, keys: list[str]) -> list[tuple[str, str, bool]]:
    """Re-run every paid step of every batch (what a UI backfill does); the failed runs."""
    from lead_assets.inprocess_daemon import execute_run

    failed = []
    for key in keys:
        for job in ("enrich_job", "collect_job"):
            if not execute_run(defs, instance, job, key).success:
                failed.append((job, key, False))
    return failed


def _print_batches(engine, keys: list[str]) -> None:
    """One line per batch, the rejection reasons, and the export files."""
    from lead_assets.pipeline.summary import batch_figures, export_paths

    print("\nBatch summary")
    header = f"{'batch':<52} {'in':>5} {'rej':>4} {'qual':>5} {'review':>6} {'disq':>5} {'yield':>6} {'spend $':>8} {'credits':>7} {'cache':>6}"
    print(header)
    print("-" * len(header))
    figures = {key: batch_figures(engine, key) for key in keys}
    for key, f in figures.items():
        scored = f["qualified"] + f["review"] + f["disqualified"] + f["failed"]
        yield_pct = 100 * f["qualified"] / scored if scored else 0.0
        print(
            f"{key:<52} {f['rows_in']:>5} {f['rejected']:>4} {f['qualified']:>5} {f['review']:>6} {f['disqualified']:>5} "
            f"{yield_pct:>5.1f}% {f['spend_usd']:>8.4f} {f['spend_credits']:>7.0f} {f['cache_hits']:>6}"
        )
    print("\nRejected at standardization, by reason")
    for key, f in figures.items():
        reasons = f["reasons"]
        print(f"  {key}: " + (", ".join(f"{r} {n}" for r, n in sorted(reasons.items())) or "none"))
    print("\nExports")
    for key in keys:
        for path in export_paths(engine, key):
            print(f"  {path}")


def _print_spend(engine, first: _Spend, again: _Spend) -> None:
    """What was paid, what the backfill paid (the cache's work) and what deduplication found."""
    from sqlalchemy import text

    with engine.connect() as conn:
        cached_value = conn.execute(
            text("SELECT COALESCE(SUM(amount), 0) FROM api_cache WHERE unit = 'usd'")
        ).scalar_one()
        ledger = conn.execute(
            text("SELECT unit, SUM(amount) FROM spend_ledger WHERE state = 'settled' GROUP BY unit")
        ).all()
        clusters = conn.execute(
            text("SELECT COUNT(DISTINCT lead_cluster_id), COUNT(*) FROM lead_clusters")
        ).one()
    print("\nSpend and savings")
    print(
        f"  paid: ${first.usd:.4f} to Generect and {first.credits:.0f} Leedrush credits (ledger: {dict((u, round(a, 4)) for u, a in ledger)})"
    )
    print(
        f"  backfill of every paid step: ${again.usd:.4f} and {again.credits:.0f} credits (answers reused from the cache)"
    )
    print(
        f"  answers held in the cache are worth ${float(cached_value):.4f}: a re-drop or re-run within their TTL pays nothing"
    )
    print(f"  deduplication: {clusters[1]} leads resolved into {clusters[0]} people")


def _show(job: str, key: str, ok: bool) -> None:
    print(f"  {job:<12} {key}  {'ok' if ok else 'FAILED'}")


if __name__ == "__main__":
    sys.exit(main())
