"""The lead_assets code location: ``defs`` assembled from small modules.

Resources are bound from the environment here and only here; secrets go through ``dg.EnvVar`` so
they are resolved at run time and never stored in the definitions or shown in the UI.
"""

from __future__ import annotations

import os

import dagster as dg

from lead_assets.assets import ingestion
from lead_assets.jobs import ingest_job
from lead_assets.resources.warehouse import WarehouseResource
from lead_assets.sensors.file_drop import file_drop_sensor


def _warehouse() -> WarehouseResource:
    # The URL may carry a password: pass it as an EnvVar when set, else use the embedded default.
    if os.environ.get("LEAD_ASSETS_DATABASE_URL"):
        return WarehouseResource(database_url=dg.EnvVar("LEAD_ASSETS_DATABASE_URL"))
    return WarehouseResource()


def build_definitions() -> dg.Definitions:
    """Assets, checks, jobs, sensors and resources of the code location."""
    return dg.Definitions(
        assets=dg.load_assets_from_modules([ingestion]),
        asset_checks=dg.load_asset_checks_from_modules([ingestion]),
        jobs=[ingest_job],
        sensors=[file_drop_sensor],
        resources={"warehouse": _warehouse()},
    )


defs = build_definitions()
