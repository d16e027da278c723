"""UI attributes added to the assets in one place: ``kinds`` naming the systems each asset talks
to, and the warehouse table's column schema (``dagster/column_schema``, the key
``TableMetadataSet`` writes) read from the SQL migrations, so the UI's column list can never
disagree with the schema that ``sql/`` creates."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

import dagster as dg

from lead_assets.settings import PROJECT_ROOT

# Every asset writes the warehouse (PostgreSQL in production); vendor assets name their vendor.
KINDS: dict[str, set[str]] = {
    "icp_prospects": {"generect", "postgres"},
    "generect_enrichment": {"generect", "postgres"},
    "leedrush_submission": {"leedrush", "postgres"},
    "leedrush_results": {"leedrush", "postgres"},
    "lead_exports": {"csv", "parquet"},
}
DEFAULT_KINDS = {"python", "postgres"}

#: What users receive goes red in the UI when nothing new reached it for this long: drops are
#: expected at least daily (``LEAD_ASSETS_OUTPUT_FRESHNESS_HOURS``, default 48; warn at half).
OUTPUT_ASSETS = ("qualified_leads", "lead_exports")


def output_freshness() -> dg.FreshnessPolicy:
    """The freshness policy of the output assets."""
    from datetime import timedelta

    from lead_assets.settings import output_freshness_hours

    hours = output_freshness_hours()
    return dg.FreshnessPolicy.time_window(
        fail_window=timedelta(hours=hours), warn_window=timedelta(hours=hours / 2)
    )


_CREATE = re.compile(r"CREATE TABLE (\w+) \((.*?)\n\);", re.S)
_ALTER = re.compile(r"ALTER TABLE (\w+) ADD COLUMN (\w+) ([A-Z ]+?)(?: NOT NULL| DEFAULT|;)")
_COLUMN = re.compile(
    r"^\s*(\w+)\s+([A-Z][A-Z ]*?)(?:\s+(?:NOT NULL|DEFAULT|PRIMARY KEY).*)?,?\s*(?:--\s*(.*))?$"
)


@cache
def table_schemas() -> dict[str, dg.TableSchema]:
    """Column name, type and the migration's comment for every table created in ``sql/``."""
    columns: dict[str, list[dg.TableColumn]] = {}
    for path in sorted((PROJECT_ROOT / "sql").glob("*.sql")):
        body = path.read_text()
        for table, block in _CREATE.findall(body):
            for line in block.splitlines():
                match = _COLUMN.match(line)
                if match and match.group(1).upper() not in ("PRIMARY", "UNIQUE"):
                    name, kind, comment = match.groups()
                    columns.setdefault(table, []).append(
                        dg.TableColumn(name, kind.strip().lower(), description=comment or None)
                    )
        for table, name, kind in _ALTER.findall(body):
            columns.setdefault(table, []).append(dg.TableColumn(name, kind.strip().lower()))
    return {table: dg.TableSchema(columns=cols) for table, cols in columns.items()}


def _decorate(spec: dg.AssetSpec) -> dg.AssetSpec:
    name = spec.key.to_user_string()
    metadata = dict(spec.metadata or {})
    table = str(metadata.get("warehouse_table") or "").split(",")[0].strip()
    schema = table_schemas().get(table)
    extra: dict[str, object] = {}
    if schema is not None:
        extra["dagster/column_schema"] = schema
        extra["dagster/table_name"] = table
    spec = spec.replace_attributes(
        kinds=KINDS.get(name, DEFAULT_KINDS), metadata={**metadata, **extra}
    )
    if name in OUTPUT_ASSETS:
        spec = spec.replace_attributes(freshness_policy=output_freshness())
    return spec


def with_ui_attributes(assets: Sequence[dg.AssetsDefinition]) -> list[dg.AssetsDefinition]:
    """The assets with kinds and column schemas added (checks and behaviour unchanged)."""
    return list(dg.map_asset_specs(_decorate, assets))
