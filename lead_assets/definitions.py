"""The lead_assets code location: ``defs`` assembled from small modules.

Resources are bound from the environment here and only here; secrets go through ``dg.EnvVar`` so
they are resolved at run time and never stored in the definitions or shown in the UI.
"""

from __future__ import annotations

import os
from typing import cast

import dagster as dg

from lead_assets.asset_specs import with_ui_attributes
from lead_assets.assets import enrichment, ingestion, prospecting, qualification, resolution
from lead_assets.assets.landing import landing_files
from lead_assets.assets.operations import free_assets_automation_sensor, operations_report
from lead_assets.assets.vendor_state import VENDOR_STATE_ASSETS
from lead_assets.checks import ASSET_CHECKS
from lead_assets.distributed.limiter import LIMITER_REDIS_ENV
from lead_assets.distributed.pools import step_share
from lead_assets.jobs import collect_job, enrich_job, ingest_job, prospect_job
from lead_assets.resources.generect import GenerectResource
from lead_assets.resources.leedrush import LeedrushResource
from lead_assets.resources.warehouse import WarehouseResource
from lead_assets.schedules import SCHEDULES, maintenance_job, reverify_job
from lead_assets.sensors.alerts import ops_alert_sensor, run_failure_alert_sensor
from lead_assets.sensors.credits import credits_sensor
from lead_assets.sensors.file_drop import file_drop_sensor
from lead_assets.sensors.generect_counts import generect_counts_sensor
from lead_assets.sensors.leedrush_status import leedrush_status_sensor
from lead_assets.settings import generect_slots

ASSET_MODULES = [ingestion, prospecting, enrichment, resolution, qualification]


def _warehouse() -> WarehouseResource:
    # The URL may carry a password: pass it as an EnvVar when set, else use the embedded default.
    if os.environ.get("LEAD_ASSETS_DATABASE_URL"):
        return WarehouseResource(database_url=dg.EnvVar("LEAD_ASSETS_DATABASE_URL"))
    return WarehouseResource()


def _optional(name: str, default: str) -> str:
    # Non-secret settings with a default: read now so the UI shows the value in use.
    return os.environ.get(name) or default


def _shared_limiter() -> dict:
    # A Redis URL may carry a password: an EnvVar, and only when set (issue 14).
    if os.environ.get(LIMITER_REDIS_ENV):
        return {"shared_limiter_url": dg.EnvVar(LIMITER_REDIS_ENV)}
    return {}


def build_definitions() -> dg.Definitions:
    """Assets, checks, jobs, sensors and resources of the code location."""
    return dg.Definitions(
        assets=[
            # The modules hold only @asset / @multi_asset definitions (no source assets).
            *with_ui_attributes(
                cast("list[dg.AssetsDefinition]", dg.load_assets_from_modules(ASSET_MODULES))
            ),
            *VENDOR_STATE_ASSETS,
            landing_files,
            operations_report,
        ],
        asset_checks=[*dg.load_asset_checks_from_modules(ASSET_MODULES), *ASSET_CHECKS],
        jobs=[
            ingest_job,
            prospect_job,
            enrich_job,
            collect_job,
            resolution.recluster_job,
            maintenance_job,
            reverify_job,
        ],
        schedules=SCHEDULES,
        sensors=[
            file_drop_sensor,
            credits_sensor,
            leedrush_status_sensor,
            generect_counts_sensor,
            run_failure_alert_sensor,
            ops_alert_sensor,
            free_assets_automation_sensor,
        ],
        resources={
            "warehouse": _warehouse(),
            "generect": GenerectResource(
                api_key=dg.EnvVar("GENERECT_API_KEY"),
                base_url=_optional("GENERECT_BASE_URL", "https://api.generect.com"),
                # This step's share of the account's parallel caps (pool `generect` slots).
                concurrency=step_share(generect_slots()),
            ),
            "leedrush": LeedrushResource(
                email=dg.EnvVar("LEEDRUSH_EMAIL"),
                password=dg.EnvVar("LEEDRUSH_PASSWORD"),
                base_url=_optional("LEEDRUSH_BASE_URL", "https://leedrush.com"),
                plan=_optional("LEEDRUSH_PLAN", ""),
                **_shared_limiter(),
            ),
        },
    )


defs = build_definitions()
