"""The code location loads, validates, and materializes against a PostgreSQL-backed instance."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from lead_assets.definitions import defs
from lead_assets.resources.warehouse import WarehouseResource
from lead_assets.sensors.file_drop import landing_sensor_result

CSV = (
    "First Name,Last Name,Email Address,Company,Website,Job Title,Phone Number,Country\n"
    "Ada,Lovelace,ada@analytical.io,Analytical Engines Ltd,https://analytical.io,CTO,+44 20 7946 0958,United Kingdom\n"
    "Grace,Hopper,GRACE.HOPPER@navy.example.com,US Navy,navy.example.com,Rear Admiral,,USA\n"
    ",,,,,,,\n"
)


def test_definitions_load_and_validate() -> None:
    dg.Definitions.validate_loadable(defs)
    keys = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"raw_uploads", "standardized_leads"} <= keys
    assert defs.resolve_job_def("ingest_job") is not None
    assert defs.resolve_sensor_def("file_drop_sensor") is not None


def test_outputs_and_vendor_state_carry_freshness_policies(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A stalled pipeline turns its outputs red, a stopped credits sensor its vendor state."""
    from datetime import timedelta

    graph = defs.resolve_asset_graph()
    windows = {
        key.to_user_string(): graph.get(key).freshness_policy
        for key in graph.get_all_asset_keys()
        if graph.get(key).freshness_policy is not None
    }
    assert set(windows) == {
        "qualified_leads",
        "lead_exports",
        "generect_balance",
        "leedrush_credits",
    }
    assert windows["lead_exports"].fail_window.to_timedelta() == timedelta(hours=48)
    assert windows["generect_balance"].fail_window.to_timedelta() == timedelta(hours=1)
    # Tunable to the team's cadence.
    monkeypatch.setenv("LEAD_ASSETS_OUTPUT_FRESHNESS_HOURS", "6")
    from lead_assets.asset_specs import output_freshness

    assert output_freshness().fail_window.to_timedelta() == timedelta(hours=6)


def test_ingest_materializes_on_postgres_instance(
    pg_instance: dg.DagsterInstance, landing: Path, pg_database: str
) -> None:
    from lead_assets.partition_defs import lead_batches

    assert type(pg_instance.event_log_storage).__name__ == "PostgresEventLogStorage"
    (landing / "crm_export.csv").write_text(CSV)
    warehouse = WarehouseResource(database_url=pg_database)
    result, summary = landing_sensor_result(pg_instance, warehouse, None, all_complete=True)
    assert len(summary["batches"]) == 1
    batch_key = summary["batches"][0]
    for request in result.dynamic_partitions_requests:
        pg_instance.add_dynamic_partitions(lead_batches.name, list(request.partition_keys))
    job = defs.resolve_job_def("ingest_job")
    run = job.execute_in_process(
        instance=pg_instance, partition_key=batch_key, resources={"warehouse": warehouse}
    )
    assert run.success
    event = pg_instance.get_latest_materialization_event(dg.AssetKey("standardized_leads"))
    assert event is not None and event.asset_materialization.partition == batch_key
    meta = event.asset_materialization.metadata
    assert meta["rows_in"].value == 3
    assert meta["ok"].value + meta["rejected"].value == 3
    assert pg_instance.get_run_by_id(run.run_id) is not None  # the run is stored in PostgreSQL
