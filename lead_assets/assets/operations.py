"""operations_report: the pipeline's state at a glance, refreshed by declarative automation.

Free (warehouse reads only), so it is the one asset that materializes itself: hourly through
``AutomationCondition.on_cron``, evaluated by ``free_assets_automation_sensor`` (running by
default; it targets this asset alone). No asset that spends has an automation condition: paid
work starts only from the credits sensor's plan.
"""

import dagster as dg

from lead_assets.pipeline.ops_report import operations_figures
from lead_assets.resources.warehouse import WarehouseResource

REPORT_CRON = "0 * * * *"


@dg.asset(
    group_name="operations",
    kinds={"python", "postgres"},
    automation_condition=dg.AutomationCondition.on_cron(REPORT_CRON, cron_timezone="UTC"),
)
def operations_report(warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Hourly: lead batches by state (exported, in flight, blocked, failed, waiting for credits),
    spend settled in the last 24 h and 30 days (Generect USD, Leedrush credits), ledger entries
    still open and their estimate, files quarantined in the last 24 h. Each figure is numeric
    metadata, so the asset's page plots credit burn and the backlog over time."""
    figures = operations_figures(warehouse.engine())
    return dg.MaterializeResult(metadata=figures)


free_assets_automation_sensor = dg.AutomationConditionSensorDefinition(
    "free_assets_automation_sensor",
    target=dg.AssetSelection.assets(operations_report),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Evaluates the automation conditions of free assets (operations_report, hourly). Paid "
        "assets have none: the credits sensor starts every purchase."
    ),
)
