"""The file-drop sensor: new or changed files in the landing folder become lead batches."""

import json
import os
from datetime import UTC, datetime

import dagster as dg
from sqlalchemy import Engine

from lead_assets.core.pii import mask_text
from lead_assets.jobs import ingest_job
from lead_assets.partition_defs import LEAD_BATCHES, lead_batches
from lead_assets.pipeline.batch_registry import LeadBatch, batches_in_state
from lead_assets.pipeline.landing import scan_landing
from lead_assets.resources.warehouse import WarehouseResource
from lead_assets.settings import (
    landing_dir,
    landing_quiet_seconds,
    max_batch_rows,
    max_file_bytes,
)

INGESTED_HERE = ("file", "reverify")


def ingest_run_key(batch_key: str, resumes: int = 0) -> str:
    """The run key names the work (one batch's ingestion), never a retry of it; a batch whose
    ingest run died is new work (``:r1``, ``:r2``...), or Dagster would drop the request."""
    return f"ingest:{batch_key}" + (f":r{resumes}" if resumes else "")


def ready_to_ingest(engine: Engine) -> list[LeadBatch]:
    """Registered batches whose rows are known: a file's or a re-verification's at once, an ICP
    batch once its pull is complete (never before: it would ingest a partial pull)."""
    from lead_assets.pipeline.prospecting import pulled_batches

    pulled = pulled_batches(engine)
    return [
        b
        for b in batches_in_state(engine, "registered")
        if b.source in INGESTED_HERE or b.batch_key in pulled
    ]


def _requeue_ended_ingests(instance: dg.DagsterInstance, engine) -> list[str]:
    """A batch still ``registered`` whose ingest run ended (it failed, or died before claiming
    the batch and was marked failed by run monitoring or sensors.recovery) gets a new run key,
    or Dagster would drop every later request for it (bounded by LEAD_ASSETS_MAX_RESUMES)."""
    from lead_assets.pipeline.reconcile import requeue_registered

    requeued = []
    for batch in ready_to_ingest(engine):
        run_key = ingest_run_key(batch.batch_key, batch.resumes)
        runs = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/run_key": run_key}), limit=1)
        if not runs or runs[0].status not in (
            dg.DagsterRunStatus.FAILURE,
            dg.DagsterRunStatus.CANCELED,
        ):
            continue
        if requeue_registered(
            engine,
            batch.batch_key,
            runs[0].run_id,
            lambda resumes, k=batch.batch_key: ingest_run_key(k, resumes),
            run_key,
        ):
            requeued.append(batch.batch_key)
    return requeued


def landing_sensor_result(
    instance: dg.DagsterInstance,
    warehouse: WarehouseResource,
    cursor: str | None,
    *,
    now: datetime | None = None,
    all_complete: bool = False,
    only: set[str] | None = None,
) -> tuple[dg.SensorResult, dict]:
    """Scan the landing folder and return the sensor result plus a summary of what happened.

    Batches registered earlier whose run was never requested (the daemon died between the
    warehouse commit and the tick's end, when the cursor is not saved) are requested again with
    the same run keys; Dagster drops run keys it has already launched, so this is idempotent.
    """
    engine = warehouse.engine()
    scan = scan_landing(
        landing_dir(),
        engine,
        now=now or datetime.now(UTC),
        max_batch_rows=max_batch_rows(),
        max_bytes=max_file_bytes(),
        all_complete=all_complete,
        only=only,
        quiet_s=landing_quiet_seconds(),
    )
    _requeue_ended_ingests(instance, engine)
    waiting = ready_to_ingest(engine)
    existing = set(instance.get_dynamic_partitions(LEAD_BATCHES))
    new_keys = [b.batch_key for b in waiting if b.batch_key not in existing]
    run_requests = [
        dg.RunRequest(
            run_key=ingest_run_key(b.batch_key, b.resumes),
            partition_key=b.batch_key,
            tags={"lead_assets/source": b.source, "lead_assets/origin": os.path.basename(b.origin)},
        )
        for b in waiting
    ]
    summary = {
        "registered": [str(r.path) for r in scan.registered],
        "quarantined": [(str(q.path), f"{q.reason_code}: {q.reason}") for q in scan.quarantined],
        "duplicates": [str(p) for p in scan.duplicates],
        "pending": len(scan.pending),
        "deferred": scan.deferred,
        "batches": [b.batch_key for r in scan.registered for b in r.batches],
        "registered_batches": {
            str(r.path): [b.batch_key for b in r.batches] for r in scan.registered
        },
    }
    from lead_assets.assets.landing import outcome_events

    result = dg.SensorResult(
        run_requests=run_requests,
        asset_events=outcome_events(summary),
        dynamic_partitions_requests=[lead_batches.build_add_request(new_keys)] if new_keys else [],
        # The cursor only counts passes: observations and seen versions live in the warehouse,
        # because a cursor is stored with every tick record (design notes).
        cursor=json.dumps({"passes": (json.loads(cursor)["passes"] if cursor else 0) + 1}),
    )
    return result, summary


@dg.sensor(
    job=ingest_job,
    # A tick is a directory listing and a few warehouse reads: cheap enough to run at every pass
    # of the daemon's 5 s sensor loop (an interval of exactly 5 s is missed when a pass starts a
    # little early, and then the sensor waits 10 s).
    minimum_interval_seconds=4,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Watches LEAD_ASSETS_LANDING_DIR. A file is taken once it is complete (untouched for "
        "LEAD_ASSETS_LANDING_QUIET_S, unchanged across two ticks, or a <name>.done marker), split into lead batches (dynamic partitions) and moved to "
        "archive/; unusable files go to quarantine/ with a reason file."
    ),
)
def file_drop_sensor(
    context: dg.SensorEvaluationContext, warehouse: WarehouseResource
) -> dg.SensorResult:
    """Register new file versions as lead batches and request one ingestion run per batch."""
    result, summary = landing_sensor_result(context.instance, warehouse, context.cursor)
    for path, reason in summary["quarantined"]:
        context.log.warning(f"quarantined {mask_text(os.path.basename(path))}: {mask_text(reason)}")
    if summary["batches"]:
        context.log.info(
            f"registered {len(summary['batches'])} batch(es): {', '.join(summary['batches'])}"
        )
    return result
