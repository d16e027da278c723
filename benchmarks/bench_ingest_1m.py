"""Ingesting a 1,000,000-row CSV through the file-drop path: the sensor tick, then every batch's
ingest run, with wall time and peak memory of each.

    .venv/bin/python benchmarks/bench_ingest_1m.py [--rows 1000000] [--gzip]

What a user's drop costs, measured through what runs it: the file is written into a landing
folder, then

1. one tick of ``file_drop_sensor`` (a fresh process, as the daemon evaluates it): identify the
   file, read it once streamed to quarantine or count it, register its 25k-row batches, archive;
2. ``lead_assets.inprocess_daemon.drain`` with the file-drop sensor only (a fresh process; what
   ``lead-assets run`` does before the paid steps): one ``ingest_job`` run per batch, in order.
   The first run parses the file once, streamed, into Parquet row groups; each run reads only its
   slice, writes ``raw_uploads`` and ``standardized_leads`` and runs the blocking checks.

Peak memory is each process's maximum RSS (``ru_maxrss``), so generation and the two phases do
not share a peak. Targets (issue 9): the tick well under Dagster's 60 s limit, peak under 1.5 GiB.
The warehouse is the embedded SQLite default.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FIRST = ["James", "MARY", "robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "José"]
LAST = ["Smith", "Johnson", "O'Brien", "García", "Nguyen", "van der Berg", "Müller", "Lee", "Kim"]
TITLES = ["VP Sales", "Head of RevOps", "CTO", "account executive", "Dir. Marketing", "", "CEO"]
COUNTRIES = ["USA", "United States", "DE", "Germany", "UK", "France", "", "Canada"]
# A HubSpot-style contacts export's columns.
HEADER = (  # noqa: SIM905 - the header line of a real export, kept as one line
    "First Name,Last Name,Email,Phone Number,Company Name,Website URL,Job Title,Country/Region,"
    "City,Number of Employees,Lead Source,Notes"
).split(",")


def write_file(path: Path, rows: int, *, compress: bool, seed: int = 7) -> Path:
    """A CRM-style export: every email distinct, blanks in every column, a multi-line note now
    and then, companies repeating."""
    rng = random.Random(seed)
    opener = gzip.open if compress else open
    with opener(path, "wt", newline="", encoding="utf-8") as fh:  # type: ignore[operator]
        out = csv.writer(fh)
        out.writerow(HEADER)
        for i in range(rows):
            company = i // 40
            domain = f"company{company}.com"
            first, last = rng.choice(FIRST), rng.choice(LAST)
            out.writerow(
                [
                    first,
                    last,
                    f"{first[0].lower()}{i}@{domain}" if i % 7 else "",
                    f"+1 (646) {200 + i % 800:03d}-{i % 10000:04d}" if i % 3 else "",
                    f"Company {company} Inc." if i % 11 else "",
                    f"https://www.{domain}/" if i % 5 else "",
                    rng.choice(TITLES),
                    rng.choice(COUNTRIES),
                    "New York" if i % 2 else "",
                    str(10 * (1 + i % 500)) if i % 4 else "",
                    "webinar",
                    "called twice\nleft a message" if i % 97 == 0 else "",
                ]
            )
    return path


def _phase(name: str, env: dict[str, str], code: str) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON line of figures."""
    wrapped = (
        "import json, resource, time\n"
        "t0 = time.perf_counter()\n"
        f"{code}\n"
        "figures['seconds'] = round(time.perf_counter() - t0, 2)\n"
        "figures['peak_rss_mib'] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
        "print('FIGURES ' + json.dumps(figures))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", wrapped], env=env, capture_output=True, text=True, check=False
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("FIGURES ")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"{name} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(lines[-1].removeprefix("FIGURES "))


TICK = """
import dagster as dg
from lead_assets.definitions import defs
from lead_assets.resources.warehouse import WarehouseResource
from lead_assets.sensors.file_drop import file_drop_sensor
from lead_assets.settings import database_url as warehouse_url
with dg.DagsterInstance.get() as instance:
    t0 = time.perf_counter()
    context = dg.build_sensor_context(
        instance=instance, resources={"warehouse": WarehouseResource(database_url=warehouse_url())},
        definitions=defs,
    )
    result = file_drop_sensor(context)
    for request in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions("lead_batches", list(request.partition_keys))
    figures = {"batches": len(result.run_requests)}
"""

DRAIN = """
import dagster as dg
from lead_assets.definitions import defs
from lead_assets.inprocess_daemon import drain
from sqlalchemy import create_engine, text
from lead_assets.settings import database_url as warehouse_url
times = []
last = [time.perf_counter()]
def on_run(job, key, ok):
    now = time.perf_counter()
    times.append(round(now - last[0], 2))
    last[0] = now
    assert ok, (job, key)
with dg.DagsterInstance.get() as instance:
    outcome = drain(defs, instance, ["file_drop_sensor"], on_run=on_run, timeout_seconds=3600)
    assert not outcome.failures, outcome.failures
engine = create_engine(warehouse_url())
with engine.connect() as conn:
    raw = conn.execute(text("SELECT COUNT(*) FROM raw_uploads")).scalar()
    std = conn.execute(text("SELECT status, COUNT(*) FROM standardized_leads GROUP BY status")).all()
figures = {"runs": len(times), "first_run_s": times[0] if times else None,
           "other_runs_median_s": sorted(times[1:])[len(times[1:]) // 2] if len(times) > 1 else None,
           "raw_rows": raw, "standardized": dict(std)}
"""


def main() -> None:
    """Generate the file, run the two phases, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--gzip", action="store_true", help="drop a .csv.gz instead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_ingest_") as tmp:
        root = Path(tmp)
        landing, home = root / "landing", root / "dagster_home"
        landing.mkdir()
        home.mkdir()
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        staging = root / ("leads.csv.gz" if args.gzip else "leads.csv")
        t0 = time.perf_counter()
        write_file(staging, args.rows, compress=args.gzip)
        size = staging.stat().st_size
        print(
            f"generated {args.rows:,} rows, {size / 2**20:.0f} MiB in {time.perf_counter() - t0:.0f} s"
        )
        target = landing / staging.name
        staging.replace(target)
        (landing / (target.name + ".done")).write_text("")
        env = {
            **os.environ,
            "DAGSTER_HOME": str(home),
            "LEAD_ASSETS_LANDING_DIR": str(landing),
            "LEAD_ASSETS_DATABASE_URL": f"sqlite:///{root / 'warehouse.sqlite'}",
            "LEAD_ASSETS_OUTBOX_DIR": str(root / "outbox"),
            # Ingestion makes no vendor call; the resources only need to be configured.
            "GENERECT_API_KEY": "bench-unused",
            "GENERECT_BASE_URL": "http://127.0.0.1:9",
            "LEEDRUSH_EMAIL": "bench@example.com",
            "LEEDRUSH_PASSWORD": "bench-unused",
            "LEEDRUSH_BASE_URL": "http://127.0.0.1:9",
        }
        tick = _phase("sensor tick", env, TICK)
        print(
            f"file-drop sensor tick: {tick['seconds']} s, peak RSS {tick['peak_rss_mib']} MiB, "
            f"{tick['batches']} batches registered"
        )
        runs = _phase("ingest runs", env, DRAIN)
        print(
            f"ingest runs: {runs['runs']} runs in {runs['seconds']} s (first, which parses the "
            f"file: {runs['first_run_s']} s; median of the others {runs['other_runs_median_s']} s), "
            f"peak RSS {runs['peak_rss_mib']} MiB"
        )
        print(f"rows: {runs['raw_rows']:,} raw, standardized {runs['standardized']}")
        assert runs["raw_rows"] == args.rows, "every row is kept"
        peak = max(tick["peak_rss_mib"], runs["peak_rss_mib"])
        print(f"peak RSS {peak} MiB (target < 1536); tick {tick['seconds']} s (limit 60)")


if __name__ == "__main__":
    main()
