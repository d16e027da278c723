"""Incremental resolution in the warehouse gives the same clusters, golden records, accounts and
blocking keys as a full re-cluster: batch by batch, on a re-run of a batch, and on a warehouse
resolved before lead_blocks existed (migration 0014)."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest
from sqlalchemy import Engine, text

from lead_assets.pipeline.incremental_resolution import recluster_all, resolve_batch
from lead_assets.sandbox.synthetic_b2b import generate
from lead_assets.warehouse import replace_partition

BATCHES = [f"2026-11-22T0{i}00Z-part-000000-0001" for i in range(3)]


@pytest.fixture(scope="module")
def leads() -> pd.DataFrame:
    return generate(1500, seed=3).sample(frac=1.0, random_state=1).reset_index(drop=True)


def _load(engine: Engine, key: str, part: pd.DataFrame) -> None:
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
    replace_partition(engine, "standardized_leads", key, frame)


def _rows(engine: Engine, sql: str) -> set[tuple]:
    with engine.connect() as conn:
        return {tuple(row) for row in conn.execute(text(sql)).all()}


def _state(engine: Engine) -> dict[str, set[tuple]]:
    """Everything a resolution pass writes, without its timestamps."""
    return {
        "clusters": _rows(
            engine,
            "SELECT batch_key, row_id, lead_cluster_id, account_id, link_confidence, link_rule,"
            " is_survivor FROM lead_clusters",
        ),
        "survivors": _rows(
            engine,
            "SELECT lead_cluster_id, first_name, last_name, email_match_key, phone_e164,"
            " title_normalized, company_name, domain, country, linkedin_url, field_sources"
            " FROM lead_survivors",
        ),
        "accounts": _rows(
            engine,
            "SELECT account_id, name, company_key, domain, industry, headcount_bucket, country,"
            " lead_count, field_sources FROM deduplicated_accounts",
        ),
        "blocks": _rows(engine, "SELECT batch_key, row_id, block FROM lead_blocks"),
    }


def _assert_same_as_full_recluster(engine: Engine) -> dict[str, set[tuple]]:
    incremental = _state(engine)
    recluster_all(engine)
    full = _state(engine)
    for part in full:
        assert incremental[part] == full[part], part
    return full


def test_batches_resolved_one_by_one_match_a_full_recluster(
    warehouse: Engine, leads: pd.DataFrame
) -> None:
    for i, key in enumerate(BATCHES):
        _load(warehouse, key, leads.iloc[i * 500 : (i + 1) * 500])
        stats = resolve_batch(warehouse, key)  # each batch against what is already resolved
        assert stats.batch_leads == 500
    state = _assert_same_as_full_recluster(warehouse)
    clusters = {c[2] for c in state["clusters"]}
    assert {s[0] for s in state["survivors"]} == clusters
    assert len(clusters) < 1500  # duplicates across batches were linked
    assert state["accounts"] and sum(a[7] for a in state["accounts"]) == len(clusters)
    assert {(b, r) for b, r, _ in state["blocks"]} <= {(c[0], c[1]) for c in state["clusters"]}


def test_a_batch_resolved_again_after_later_batches_changes_nothing(
    warehouse: Engine, leads: pd.DataFrame
) -> None:
    for i, key in enumerate(BATCHES):
        _load(warehouse, key, leads.iloc[i * 500 : (i + 1) * 500])
        resolve_batch(warehouse, key)
    settled = _state(warehouse)
    # The first batch re-standardized (the same rows) and resolved again, as a re-run does.
    _load(warehouse, BATCHES[0], leads.iloc[:500])
    resolve_batch(warehouse, BATCHES[0])
    assert _state(warehouse) == settled
    _assert_same_as_full_recluster(warehouse)


def test_a_warehouse_resolved_before_blocks_existed_is_backfilled(
    warehouse: Engine, leads: pd.DataFrame
) -> None:
    for i, key in enumerate(BATCHES[:2]):
        _load(warehouse, key, leads.iloc[i * 500 : (i + 1) * 500])
        resolve_batch(warehouse, key)
    with warehouse.begin() as conn:  # as migration 0014 finds a resolved warehouse
        for table in ("lead_blocks", "account_members", "account_votes"):
            conn.execute(text(f"DELETE FROM {table}"))
    _load(warehouse, BATCHES[2], leads.iloc[1000:1500])
    resolve_batch(warehouse, BATCHES[2])
    blocked = {b for b, _r, _block in _state(warehouse)["blocks"]}
    assert blocked == set(BATCHES)
    # Without the backfill the third batch would meet the first two only by exact keys and
    # miss the typo'd and nicknamed duplicates a full re-cluster links, and its accounts would
    # be counted from its own leads only.
    _assert_same_as_full_recluster(warehouse)


def test_a_cluster_a_lead_leaves_keeps_the_golden_record_of_those_who_stay(
    warehouse: Engine, leads: pd.DataFrame
) -> None:
    first = leads.iloc[:500]
    _load(warehouse, BATCHES[0], first)
    resolve_batch(warehouse, BATCHES[0])
    with warehouse.connect() as conn:
        singles = conn.execute(
            text(
                "SELECT row_id, lead_cluster_id FROM lead_clusters WHERE lead_cluster_id IN"
                " (SELECT lead_cluster_id FROM lead_clusters GROUP BY lead_cluster_id"
                "  HAVING COUNT(*) = 1) ORDER BY row_id"
            )
        ).all()
    with_email = set(first.loc[first["email_match_key"].notna(), "key"])
    (a, kept_id), (b, b_id) = [(r, c) for r, c in singles if r in with_email][:2]
    # Two people stored as one cluster under the first one's id (a looser rule once merged them).
    with warehouse.begin() as conn:
        conn.execute(
            text("UPDATE lead_clusters SET lead_cluster_id = :c WHERE row_id = :r"),
            {"c": kept_id, "r": b},
        )
        conn.execute(text("DELETE FROM lead_survivors WHERE lead_cluster_id = :c"), {"c": b_id})
    # The second batch brings the second person again: the matcher parts them; the first stays
    # alone under the id it had, and must keep its golden record.
    again = first[first["key"] == b].assign(key=f"{b}-again")
    _load(warehouse, BATCHES[1], again)
    resolve_batch(warehouse, BATCHES[1])
    state = _assert_same_as_full_recluster(warehouse)
    assert kept_id in {s[0] for s in state["survivors"]}
    assert (BATCHES[0], a, kept_id) in {(c[0], c[1], c[2]) for c in state["clusters"]}


def test_the_drift_measure_sees_clusters_a_full_recluster_would_change(
    warehouse: Engine, leads: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lead_assets.pipeline.incremental_resolution import incremental_drift
    from lead_assets.pipeline.maintenance import recluster_if_drifted

    for i, key in enumerate(BATCHES):
        _load(warehouse, key, leads.iloc[i * 500 : (i + 1) * 500])
        resolve_batch(warehouse, key)
    assert incremental_drift(warehouse) == 0.0  # incremental decided as a full pass would
    monkeypatch.setenv("LEAD_ASSETS_RECLUSTER_DRIFT", "0.02")
    assert not recluster_if_drifted(warehouse).done
    # Stored clusters no full pass would make: a fifth of the clusters glued onto one.
    with warehouse.begin() as conn:
        ids = sorted(r[0] for r in conn.execute(text("SELECT lead_cluster_id FROM lead_survivors")))
        glued = ids[1 : len(ids) // 5]
        conn.execute(
            text("UPDATE lead_clusters SET lead_cluster_id = :a WHERE lead_cluster_id = :b"),
            [{"a": ids[0], "b": b} for b in glued],
        )
    drift = incremental_drift(warehouse)
    assert 0.1 < drift < 0.5
    outcome = recluster_if_drifted(warehouse)
    assert outcome.done and f"drift {drift:.4f}" in outcome.detail
    assert incremental_drift(warehouse) == 0.0
