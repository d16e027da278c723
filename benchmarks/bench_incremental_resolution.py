"""The deduplicated_accounts asset's incremental path: one 25k batch against a warehouse that
already holds N resolved leads (clusters, survivors and accounts), on SQLite and PostgreSQL.

    .venv/bin/python benchmarks/bench_incremental_resolution.py [--warehouse 100000,1000000]

The warehouse is seeded with N standardized leads in 25k batches and a resolved state stored as
the asset stores it (clusters, golden records, accounts with their votes, blocking keys). By
default the state is the matcher's own clustering of the N leads (``--seed-clusters matcher``,
computed once in memory, not through the warehouse): what the asset leaves behind, so the pass
rewrites only what the batch changes. ``--seed-clusters truth`` seeds the true clusters with a
placeholder link rule instead, so every neighbour the pass meets is rewritten (a worst case).
Then ``resolve_batch`` runs for a new batch whose people partly exist already; the time is the whole call (reads, resolution, survivors, accounts, writes, commit). The
claim to check: the time per batch stays flat as N grows. PostgreSQL is LEAD_ASSETS_TEST_PG_URL or
a throwaway cluster. Figures taken on a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lead_assets.core.matching.resolve import cluster, cluster_labels, survivors
from lead_assets.pipeline.incremental_resolution import (
    CLUSTER_COLUMNS,
    resolve_batch,
    write_account_state,
    write_blocks,
)
from lead_assets.sandbox.synthetic_b2b import generate
from lead_assets.warehouse import apply_migrations, make_engine, replace_partition
from lead_assets.warehouse.engine import write_transaction
from lead_assets.warehouse.partition_writes import bulk_insert, frame_rows
from lead_assets.warehouse.throwaway_pg import ThrowawayCluster
from lead_assets_tests.conftest import create_database, drop_database

BATCH = 25_000


def _standardized(part: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row_id": part["row_id"],
            "source": "file",
            "status": "ok",
            "reasons": "",
            "first_name": part["first_name"],
            "last_name": part["last_name"],
            "email_match_key": part["email_match_key"],
            "email_is_free": False,
            "phone_e164": part["phone_e164"],
            "company_name": part["company_name"],
            "company_key": part["company_key"],
            "domain": part["domain"],
            "standardized_at": datetime.now(UTC),
        }
    )


def _batched(leads: pd.DataFrame) -> pd.DataFrame:
    """The seeded leads with their batch keys (25k per batch) and warehouse keys."""
    batch_key = [f"2026-01-01T00{i // BATCH:04d}Z" for i in range(len(leads))]
    leads = leads.assign(batch_key=batch_key, source="file")
    return leads.assign(key=leads["batch_key"] + "|" + leads["row_id"])


def seed_clusters(leads: pd.DataFrame, how: str) -> pd.DataFrame:
    """The resolved state to seed: ``matcher``, what a full re-cluster of these leads gives (the
    state the asset leaves behind, so the measured pass rewrites only what the batch changes), or
    ``truth``, the true clusters under the ids the matcher would give them, with a placeholder
    link rule (every neighbour the pass meets then looks changed and is rewritten: a worst case)."""
    leads = _batched(leads)
    if how == "matcher":
        stored = _standardized(leads).assign(batch_key=leads["batch_key"], key=leads["key"])
        # In key order, as resolve_batch re-clusters.
        return cluster(stored.sort_values("key", kind="stable").reset_index(drop=True))
    orgs = [
        d or c or ""
        for d, c in zip(leads["domain"].fillna(""), leads["company_key"].fillna(""), strict=True)
    ]
    ids, account_ids = cluster_labels(leads["entity_id"].to_numpy(), leads["key"].tolist(), orgs)
    return pd.DataFrame(
        {
            "key": leads["key"],
            "lead_cluster_id": ids,
            "account_id": account_ids,
            "link_confidence": 1.0,
            "link_rule": "seed",
            "is_survivor": ~pd.Series(ids).duplicated().to_numpy(),
        }
    )


def seed(url: str, leads: pd.DataFrame, resolved: pd.DataFrame) -> None:
    """N leads in 25k batches plus a resolved state (``resolved``, see :func:`seed_clusters`)
    stored as the asset stores it."""
    engine = make_engine(url)
    apply_migrations(engine)
    leads = _batched(leads)
    for key, part in leads.groupby("batch_key"):
        replace_partition(engine, "standardized_leads", key, _standardized(part))
    clusters = resolved.merge(leads[["key", "batch_key", "row_id"]], on="key").assign(
        updated_at=datetime.now(UTC)
    )
    now = datetime.now(UTC)
    # Golden records, accounts and their votes from the fields the warehouse holds.
    stored = _standardized(leads).assign(batch_key=leads["batch_key"], key=leads["key"])
    golden = survivors(stored, clusters).assign(updated_at=now)
    with write_transaction(engine) as conn:
        sqlite = conn.dialect.name == "sqlite"
        write_blocks(conn, stored)
        accounts = write_account_state(conn, stored, clusters).assign(updated_at=now)
        for table, frame, columns in (
            ("lead_clusters", clusters, CLUSTER_COLUMNS),
            ("lead_survivors", golden, list(golden.columns)),
            ("deduplicated_accounts", accounts, list(accounts.columns)),
        ):
            bulk_insert(conn, table, columns, frame_rows(frame, columns, datetimes_as_text=sqlite))
    engine.dispose()


def one_batch(url: str, batch: pd.DataFrame) -> float:
    engine = make_engine(url)
    key = "2026-12-01T000000Z"
    replace_partition(engine, "standardized_leads", key, _standardized(batch))
    start = time.perf_counter()
    resolve_batch(engine, key)
    seconds = time.perf_counter() - start
    engine.dispose()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--warehouse", default=os.environ.get("INCREMENTAL_BENCH_SIZES", "100000,200000")
    )
    parser.add_argument(
        "--seed-clusters",
        choices=["matcher", "truth"],
        default="matcher",
        help="the resolved state the batch meets (see seed_clusters)",
    )
    args, _unknown = parser.parse_known_args()
    sizes = [int(s) for s in args.warehouse.split(",")]
    pg = None
    server = os.environ.get("LEAD_ASSETS_TEST_PG_URL")
    if not server:
        pg = ThrowawayCluster.start()
        server = pg.url
    print(f"seeded resolved state: {args.seed_clusters}")
    print(f"{'resolved leads':>14} {'backend':>10} {'25k batch s':>11}")
    try:
        for size in sizes:
            data = generate(size + BATCH, seed=5).reset_index(drop=True)
            data["row_id"] = data["key"]
            # The batch: the last 25k generated rows, so some of its people exist already.
            old, batch = data.iloc[:size], data.iloc[size:]
            resolved = seed_clusters(old, args.seed_clusters)
            with tempfile.TemporaryDirectory() as tmp:
                url = f"sqlite:///{tmp}/bench.sqlite"
                seed(url, old, resolved)
                print(f"{size:>14,} {'sqlite':>10} {one_batch(url, batch):>11.2f}", flush=True)
            url = create_database(server, "lead_assets_bench_inc")
            try:
                seed(url, old, resolved)
                print(f"{size:>14,} {'postgresql':>10} {one_batch(url, batch):>11.2f}", flush=True)
            finally:
                drop_database(server, url)
    finally:
        if pg:
            pg.stop()
    print("(measured on a shared 2-core machine: noisy)")


if __name__ == "__main__":
    main()
