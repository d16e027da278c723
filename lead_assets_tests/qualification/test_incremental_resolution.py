"""Incremental resolution in the warehouse gives the same clusters as a full re-cluster."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import Engine, text

from lead_assets.core.matching.synthetic_b2b import generate
from lead_assets.pipeline.resolve import recluster_all, resolve_batch
from lead_assets.warehouse import replace_partition


def _clusters(engine: Engine) -> dict[tuple[str, str], str]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT batch_key, row_id, lead_cluster_id FROM lead_clusters")
        ).all()
    return {(b, r): c for b, r, c in rows}


def test_batches_resolved_one_by_one_match_a_full_recluster(warehouse: Engine) -> None:
    leads = generate(1500, seed=3).sample(frac=1.0, random_state=1).reset_index(drop=True)
    batches = [f"2026-11-22T0{i}00Z-part-000000-0001" for i in range(3)]
    for i, key in enumerate(batches):
        part = leads.iloc[i * 500 : (i + 1) * 500]
        frame = pd.DataFrame(
            {
                "row_id": part["key"],
                "source": "file",
                "status": "ok",
                "reasons": "",
                "first_name": part["first_name"],
                "last_name": part["last_name"],
                "email_match_key": part["email_match_key"],
                "phone_e164": part["phone_e164"],
                "company_name": part["company_name"],
                "company_key": part["company_key"],
                "domain": part["domain"],
                "standardized_at": datetime.now(UTC),
            }
        )
        replace_partition(warehouse, "standardized_leads", key, frame)
        stats = resolve_batch(warehouse, key)  # each batch against what is already resolved
        assert stats.batch_leads == 500
    incremental = _clusters(warehouse)
    with warehouse.connect() as conn:
        golden_before = dict(
            conn.execute(text("SELECT lead_cluster_id, field_sources FROM lead_survivors")).all()
        )
    recluster_all(warehouse)
    assert _clusters(warehouse) == incremental
    with warehouse.connect() as conn:
        golden_after = dict(
            conn.execute(text("SELECT lead_cluster_id, field_sources FROM lead_survivors")).all()
        )
    assert golden_after == golden_before and set(golden_after) == set(incremental.values())
    with warehouse.connect() as conn:
        accounts = conn.execute(
            text("SELECT COUNT(*), SUM(lead_count) FROM deduplicated_accounts")
        ).one()
    assert accounts[0] > 0 and accounts[1] == len(set(incremental.values()))
