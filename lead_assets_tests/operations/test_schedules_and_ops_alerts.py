"""Schedules and the maintenance job on a real instance and warehouse; the ops-alert sensor's
quarantine and credits alerts over real HTTP to a local receiver."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
from sqlalchemy import text

from lead_assets.warehouse.engine import write_transaction


def test_schedules_are_visible_with_safe_defaults() -> None:
    from lead_assets.definitions import build_definitions

    defs = build_definitions()
    schedules = {s.name: s for s in defs.schedules}
    nightly = schedules["nightly_maintenance_schedule"]
    assert nightly.default_status == dg.DefaultScheduleStatus.RUNNING
    pulls = [s for name, s in schedules.items() if name.startswith("icp_daily_pull_")]
    # One per profile of config/icp_profiles.yaml, and off: an ICP pull spends.
    assert pulls and all(s.default_status == dg.DefaultScheduleStatus.STOPPED for s in pulls)


def test_maintenance_job_prunes_expired_cache_and_old_partitions(pipeline_factory) -> None:  # type: ignore[no-untyped-def]
    p = pipeline_factory()  # the sandbox answers the reconcile step's free calls
    warehouse = p.engine
    now = datetime.now(UTC).replace(tzinfo=None)
    with write_transaction(warehouse) as conn:
        for key, expires in (("old", now - timedelta(days=1)), ("fresh", now + timedelta(days=9))):
            conn.execute(
                text(
                    "INSERT INTO api_cache VALUES ('generect', 'email_validate', :k, '{}', 0.005,"
                    " 'usd', :c, :e)"
                ),
                {"k": key, "c": now - timedelta(days=40), "e": expires},
            )
        for key, written in (("b-old", now - timedelta(days=200)), ("b-new", now)):
            conn.execute(
                text("INSERT INTO batch_exports VALUES (:k, 'csv', 'x.csv', 1, :w)"),
                {"k": key, "w": written},
            )
    instance = p.instance
    instance.add_dynamic_partitions("lead_batches", ["b-old", "b-new", "b-waiting"])
    result = p.defs.resolve_job_def("maintenance_job").execute_in_process(instance=instance)
    assert result.success
    assert sorted(instance.get_dynamic_partitions("lead_batches")) == ["b-new", "b-waiting"]
    with warehouse.connect() as conn:
        assert [r[0] for r in conn.execute(text("SELECT request_key FROM api_cache"))] == ["fresh"]


def test_ops_alert_sensor_reports_a_quarantine_once(
    pipeline_factory, tmp_path: Path, alert_receiver
) -> None:  # type: ignore[no-untyped-def]
    p = pipeline_factory()
    (p.landing / "budget.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    (p.landing / "budget.xlsx.done").write_text("")
    p.drain("file_drop_sensor")
    sensor = p.defs.resolve_sensor_def("ops_alert_sensor")

    def tick(cursor: str | None) -> str:
        context = dg.build_sensor_context(
            instance=p.instance, cursor=cursor, definitions=p.defs, resources=dict(p.defs.resources)
        )
        return sensor.evaluate_tick(context).cursor

    cursor = tick(None)
    body = alert_receiver.wait(lambda b: b["lead_assets"]["kind"] == "file_quarantined")
    assert "budget.xlsx was quarantined" in body["lead_assets"]["reason"]
    assert json.loads(cursor)["credits"] == "ok"  # the sandbox has money
    tick(cursor)
    quarantines = [
        b for b in alert_receiver.bodies if b["lead_assets"]["kind"] == "file_quarantined"
    ]
    assert len(quarantines) == 1


def test_ops_alert_sensor_reports_credits_exhausted(pipeline_factory, alert_receiver) -> None:  # type: ignore[no-untyped-def]
    from lead_assets.sandbox.generect import GenerectSandboxConfig

    p = pipeline_factory(generect=GenerectSandboxConfig(balance=0.0))
    sensor = p.defs.resolve_sensor_def("ops_alert_sensor")
    context = dg.build_sensor_context(
        instance=p.instance, definitions=p.defs, resources=dict(p.defs.resources)
    )
    sensor.evaluate_tick(context)
    body = alert_receiver.wait(lambda b: b["lead_assets"]["kind"] == "credits_exhausted")
    assert "Generect $0.00 left" in body["lead_assets"]["reason"]


def test_assets_name_their_systems_and_show_their_columns() -> None:
    from lead_assets.definitions import build_definitions

    graph = build_definitions().resolve_asset_graph()
    node = graph.get(dg.AssetKey("generect_enrichment"))
    assert node.kinds == {"generect", "postgres"}
    assert graph.get(dg.AssetKey("leedrush_results")).kinds == {"leedrush", "postgres"}
    schema = graph.get(dg.AssetKey("enriched_leads")).metadata["dagster/column_schema"]
    columns = {c.name: c for c in schema.columns}
    assert columns["email_status"].type == "text"
    assert "valid | invalid" in (columns["email_status"].description or "")
    assert "spend_usd" in columns
