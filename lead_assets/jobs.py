"""Jobs: the per-batch graph is cut where money and waiting begin.

- ``ingest_job`` (free): raw_uploads -> standardized_leads. Started by the file-drop sensor.
- ``prospect_job`` (paid search): icp_prospects, on the ``icp_pulls`` partitions. Started by the
  Generect counts sensor or an ICP schedule; once the pull is complete the file-drop sensor
  starts ``ingest_job`` for the same key (a job cannot span two partition sets).
- ``enrich_job`` (paid): generect_enrichment -> leedrush_submission. Started by the credits
  sensor only for batches the credits, budgets and plan concurrency can pay for.
- ``collect_job``: leedrush_results -> enriched_leads -> deduplicated_accounts ->
  qualified_leads -> lead_exports. Started by the Leedrush batch-status sensor once the remote
  batch is terminal, so no run sits waiting for minutes on a vendor.

All run in process by default: single-asset batch steps gain ~40 % throughput over the
multiprocess executor (design notes), and the heavy work is inside one asset anyway.
``LEAD_ASSETS_EXECUTOR=celery`` sends their steps to Celery workers instead (lead_assets.distributed).
"""

import dagster as dg

from lead_assets.distributed.executor import job_executor

INGEST_ASSETS = ("raw_uploads", "standardized_leads")
ENRICH_ASSETS = ("generect_enrichment", "leedrush_submission")
COLLECT_ASSETS = (
    "leedrush_results",
    "enriched_leads",
    "deduplicated_accounts",
    "qualified_leads",
    "lead_exports",
)

ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=dg.AssetSelection.assets(*INGEST_ASSETS),
    executor_def=job_executor(),
    description="Parse a lead batch and standardize it (no vendor calls).",
)

prospect_job = dg.define_asset_job(
    "prospect_job",
    selection=dg.AssetSelection.assets("icp_prospects"),
    executor_def=job_executor(),
    description="Pull new ICP leads from Generect (paid, budget-capped); ingestion follows.",
)

enrich_job = dg.define_asset_job(
    "enrich_job",
    selection=dg.AssetSelection.assets(*ENRICH_ASSETS),
    executor_def=job_executor(),
    description="Spend on a batch: Generect email find/validate/company enrich, Leedrush submit.",
)

collect_job = dg.define_asset_job(
    "collect_job",
    selection=dg.AssetSelection.assets(*COLLECT_ASSETS),
    executor_def=job_executor(),
    description="Merge vendor results, resolve entities, score and export a batch.",
)
