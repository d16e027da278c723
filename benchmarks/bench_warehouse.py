"""Rows per second of a bulk load into each warehouse backend.

    .venv/bin/python benchmarks/bench_warehouse.py [--rows 1000000]

SQLite is a file in a temporary folder. PostgreSQL is LEAD_ASSETS_TEST_PG_URL when set, otherwise
a throwaway cluster started from the machine's binaries (as in the tests). The table is
``raw_uploads`` loaded through ``replace_partition`` (one transaction: delete + COPY/executemany).
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

from lead_assets.warehouse import apply_migrations, make_engine, replace_partition
from lead_assets.warehouse.throwaway_pg import ThrowawayCluster
from lead_assets_tests.conftest import create_database, drop_database


def make_frame(n: int) -> pd.DataFrame:
    now = datetime.now(UTC)
    idx = pd.RangeIndex(n)
    return pd.DataFrame(
        {
            "row_id": "f" + idx.astype(str),
            "file_id": "0123456789abcdef",
            "file_name": "leads.csv",
            "line_no": idx + 2,
            "source": "file",
            "raw_json": '{"Email": "person'
            + idx.astype(str)
            + '@example.com", "First Name": "Ann", "Company": "Acme Inc"}',
            "parse_error": None,
            "loaded_at": now,
        }
    )


def load(url: str, frame: pd.DataFrame) -> float:
    engine = make_engine(url)
    apply_migrations(engine)
    start = time.perf_counter()
    replace_partition(engine, "raw_uploads", "bench", frame)
    elapsed = time.perf_counter() - start
    engine.dispose()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    frame = make_frame(args.rows)
    print(f"bulk load of {args.rows:,} raw_uploads rows")
    with tempfile.TemporaryDirectory() as tmp:
        secs = load(f"sqlite:///{tmp}/bench.sqlite", frame)
        print(f"  sqlite      {secs:7.2f} s  {args.rows / secs:12,.0f} rows/s")
    cluster = None
    server = os.environ.get("LEAD_ASSETS_TEST_PG_URL")
    if not server:
        cluster = ThrowawayCluster.start()
        server = cluster.url
    try:
        url = create_database(server, "lead_assets_bench")
        try:
            secs = load(url, frame)
            print(f"  postgresql  {secs:7.2f} s  {args.rows / secs:12,.0f} rows/s  (COPY)")
        finally:
            drop_database(server, url)
    finally:
        if cluster:
            cluster.stop()


if __name__ == "__main__":
    main()
