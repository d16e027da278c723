"""operations_report (issue 13): the one asset that materializes itself, hourly by
``AutomationCondition.on_cron``; its figures are the warehouse's and the sandbox's books."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
from sqlalchemy import text

from lead_assets_tests.enrichment.conftest import lead_file


def test_only_free_assets_automate_themselves_and_the_report_runs_hourly() -> None:
    from lead_assets.definitions import build_definitions

    defs = build_definitions()
    graph = defs.resolve_asset_graph()
    automated = {
        key.to_user_string()
        for key in graph.get_all_asset_keys()
        if graph.get(key).automation_condition is not None
    }
    # Paid assets start only from the credits sensor's plan: nothing that spends automates.
    assert automated == {"operations_report"}
    sensor = defs.resolve_sensor_def("free_assets_automation_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING

    instance = dg.DagsterInstance.ephemeral()
    noon = datetime(2026, 12, 1, 11, 59, 30, tzinfo=UTC)
    # The sensor's first evaluation starts the clock; the next one after the 12:00 tick requests
    # the report once, and a later evaluation within the same hour requests nothing.
    report = dg.AssetKey("operations_report")
    first = dg.evaluate_automation_conditions(defs, instance, evaluation_time=noon)
    assert first.total_requested == 0
    tick = dg.evaluate_automation_conditions(
        defs, instance, evaluation_time=noon + timedelta(minutes=1), cursor=first.cursor
    )
    assert tick.total_requested == tick.get_num_requested(report) == 1
    again = dg.evaluate_automation_conditions(
        defs, instance, evaluation_time=noon + timedelta(minutes=30), cursor=tick.cursor
    )
    assert again.total_requested == 0


def test_the_report_says_what_the_warehouse_and_the_books_say(
    pipeline_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    p = pipeline_factory()
    p.drop(lead_file(tmp_path / "leads.csv", 40, seed=3, with_email=0.5))
    p.drain()
    (p.landing / "broken.xlsx").write_bytes(b"PK\x03\x04 not a workbook")
    (p.landing / "broken.xlsx.done").write_text("")
    p.drain("file_drop_sensor")
    result = dg.materialize(
        [p.defs.get_assets_def("operations_report")],
        instance=p.instance,
        resources={"warehouse": p.defs.resources["warehouse"]},
    )
    assert result.success
    (event,) = result.get_asset_materialization_events()
    figures = {k: v.value for k, v in event.materialization.metadata.items()}
    with p.engine.connect() as conn:
        batches = conn.execute(text("SELECT COUNT(*) FROM lead_batches")).scalar_one()
        done = conn.execute(
            text("SELECT COUNT(DISTINCT batch_key) FROM batch_exports")
        ).scalar_one()
    assert (figures["batches_total"], figures["batches_exported"]) == (batches, done), figures
    assert done >= 1
    assert figures["generect_usd_24h"] == round(p.generect_charged, 4) > 0
    assert figures["leedrush_credits_24h"] == p.leedrush_charged > 0
    assert figures["files_quarantined_24h"] == 1
    assert figures["open_ledger_entries"] == 0
