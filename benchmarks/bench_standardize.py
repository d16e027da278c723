"""Standardizing messy rows: rows per second and peak memory.

    .venv/bin/python benchmarks/bench_standardize.py [--rows 1000000]

Rows are generated with realistic cardinalities: every email is distinct (as in a real list),
names, companies, titles and places repeat. Peak memory is the process's maximum RSS, measured in
a fresh subprocess so generation and measurement do not share a peak.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FIRST = [
    "james",
    "MARY",
    "Robert",
    "patricia",
    "John",
    "Jennifer",
    "michael",
    "Linda",
    "William",
    "Elizabeth",
    "José",
    "Zoë",
]
LAST = [
    "Smith",
    "JOHNSON",
    "williams",
    "Brown",
    "O'Brien",
    "McDonald",
    "van der Berg",
    "Müller",
    "Nguyen",
    "garcía-lópez",
]
TITLES = [
    "CEO",
    "Sr. VP of sales",
    "Head of Growth",
    "marketing mgr",
    "Software Engineer",
    "CFO",
    "SDR",
    "Intern",
    "Director of Engineering",
    "Chief Revenue Officer",
    "Operations Manager",
    "Account Executive",
    "Founder",
]
PLACES = [
    ("San Francisco", "CA", "USA", ""),
    ("", "", "", "London, United Kingdom"),
    ("Berlin", "", "Deutschland", ""),
    ("", "", "", "Austin, TX"),
    ("Paris", "", "France", ""),
    ("", "", "", "Toronto, Ontario, Canada"),
]
SIZES = ["51-200", "10,001+", "250", "11-50", "", "1001-5000", "7"]


def make_rows(n: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    companies = [
        f"Company {i} {s}"
        for i, s in zip(
            range(20000), ["Inc.", "LLC", "GmbH", "Ltd", "S.A.", ""] * 4000, strict=False
        )
    ]
    domains = [
        f"company{i}.{t}"
        for i, t in zip(range(20000), ["com", "io", "de", "co.uk", "fr", "ai"] * 4000, strict=False)
    ]
    ci = rng.integers(0, len(companies), n)
    fi, li = rng.integers(0, len(FIRST), n), rng.integers(0, len(LAST), n)
    pi = rng.integers(0, len(PLACES), n)
    frame = pd.DataFrame(
        {
            "row_id": np.char.add("r", np.arange(n).astype(str)),
            "first_name": np.array(FIRST)[fi],
            "last_name": np.array(LAST)[li],
            "email": [f"user{i}.{'x' if i % 3 else 'Y'}@{domains[c]}" for i, c in enumerate(ci)],
            # Phones are as distinct as emails in a real list: random numbers, several formats.
            "phone": [
                ["", f"({a}) {b}-{c:04d}", f"+1 {a} {b} {c:04d}", f"+44 20 7{b} {c:04d}"][k]
                if k
                else ""
                for a, b, c, k in zip(
                    rng.choice([212, 415, 646, 312, 617, 512, 206, 650], n),
                    rng.integers(200, 999, n),
                    rng.integers(0, 10000, n),
                    rng.integers(0, 4, n),
                    strict=True,
                )
            ],
            "title": np.array(TITLES)[rng.integers(0, len(TITLES), n)],
            "company_name": np.array(companies)[ci],
            "domain": [f"https://www.{domains[c]}/about" if c % 2 else "" for c in ci],
            "city": [PLACES[p][0] for p in pi],
            "region": [PLACES[p][1] for p in pi],
            "country": [PLACES[p][2] for p in pi],
            "location": [PLACES[p][3] for p in pi],
            "headcount": np.array(SIZES)[rng.integers(0, len(SIZES), n)],
        }
    )
    return frame


def measure(n: int) -> dict:
    from lead_assets.core.standardize import standardize_rows

    frame = make_rows(n)
    start = time.perf_counter()
    result = standardize_rows(frame)
    seconds = time.perf_counter() - start
    assert result.stats.rows_in == n == result.stats.ok + result.stats.rejected
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "rows": n,
        "seconds": round(seconds, 2),
        "rows_per_s": round(n / seconds),
        "peak_gib": round(peak_kib / 2**20, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.rows)))
        return
    out = subprocess.run(
        [sys.executable, __file__, "--rows", str(args.rows), "--child"],
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"standardize {figures['rows']:,} rows: {figures['seconds']} s, {figures['rows_per_s']:,} rows/s, "
        f"peak RSS {figures['peak_gib']} GiB (targets: <= 60 s, <= 3 GiB)"
    )


if __name__ == "__main__":
    main()
