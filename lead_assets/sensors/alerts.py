"""Alert sensors: every failed run, and the ops facts of ``pipeline/ops_watch.py``, posted to the
Slack-compatible webhook in ``LEAD_ASSETS_ALERT_WEBHOOK_URL`` (unset: logged only).

- ``run_failure_alert_sensor`` fires on every failed run of the code location. When a blocking
  asset check stopped the run, the alert quotes the check's own sentence (for example "612 of
  1000 emails (61.2 %) are undeliverable ... the batch is not exported"); otherwise the failure
  message. Batch key and run link come from the run.
- ``ops_alert_sensor`` (every 2 min) reports quarantined files, batches waiting for credits,
  stale Leedrush batches and credits low / exhausted, each once.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import dagster as dg

from lead_assets.alerts import Alert, send_alert
from lead_assets.pipeline.ops_watch import WatchState, find_alerts
from lead_assets.resources.generect import GenerectResource
from lead_assets.resources.leedrush import LeedrushResource
from lead_assets.resources.warehouse import WarehouseResource


def failed_check_sentences(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """``asset.check: why`` for every asset check that failed in the run."""
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ).records
    out = []
    for record in records:
        # Records fetched by ASSET_CHECK_EVALUATION type always carry their Dagster event.
        dagster_event = record.event_log_entry.dagster_event
        assert dagster_event is not None
        evaluation = dagster_event.asset_check_evaluation_data
        if evaluation.passed:
            continue
        why = evaluation.description or ""
        if not why and "why" in evaluation.metadata:
            why = str(evaluation.metadata["why"].value)
        out.append(f"{evaluation.asset_key.to_user_string()}.{evaluation.check_name}: {why}")
    return out


def run_failure_alert(context: dg.RunFailureSensorContext) -> Alert:
    """The alert for a failed run: failed checks first, else the failure message."""
    run = context.dagster_run
    checks = failed_check_sentences(context.instance, run.run_id)
    message = context.failure_event.message or "run failed"
    kind = "check_failure" if checks else "run_failure"
    if not checks and "spending stopped" in message:
        kind = "budget_exhausted"
    return Alert(
        kind,
        " ".join(checks) if checks else message,
        batch_key=run.tags.get("dagster/partition"),
        run_id=run.run_id,
        job=run.job_name,
    )


@dg.run_failure_sensor(
    name="run_failure_alert_sensor",
    minimum_interval_seconds=15,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Posts every failed run (with the sentence of any blocking check that stopped it, the "
        "batch and a link to the run) to LEAD_ASSETS_ALERT_WEBHOOK_URL; logs only when unset."
    ),
)
def run_failure_alert_sensor(context: dg.RunFailureSensorContext) -> None:
    """Send one alert per failed run (Dagster's cursor makes each run alert once)."""
    send_alert(run_failure_alert(context), logger=context.log)


@dg.sensor(
    minimum_interval_seconds=120,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Alerts (LEAD_ASSETS_ALERT_WEBHOOK_URL) on quarantined files, batches waiting for "
        "credits, Leedrush batches open longer than LEAD_ASSETS_STALE_BATCH_S, and credits "
        "low / exhausted (Leedrush webhook events or the free balance calls). Each fact once."
    ),
)
def ops_alert_sensor(
    context: dg.SensorEvaluationContext,
    warehouse: WarehouseResource,
    generect: GenerectResource,
    leedrush: LeedrushResource,
) -> dg.SensorResult:
    """Send the window's alerts and move the window forward."""
    now = datetime.now(UTC)
    state = WatchState.from_json(json.loads(context.cursor) if context.cursor else None, now)
    result = find_alerts(warehouse.engine(), state, now, generect=generect, leedrush=leedrush)
    for alert in result.alerts:
        send_alert(alert, logger=context.log)
    return dg.SensorResult(cursor=json.dumps(result.state.to_json()))
