"""The whole ``lead-assets dedupe IN.csv -o OUT.csv`` command on independent labeled data.

    .venv/bin/python benchmarks/bench_dedupe_independent.py [--sizes 100000] [--seeds 1,2,3]

The data come from ``benchmarks/labeled_b2b.py``, a generator that shares nothing with the matcher
(see its docstring). Each run generates a raw lead file (not timed), then times the command as a
user runs it (read, standardize, resolve, write) in its own process; peak RSS is that process's
maximum resident set, and the tree's sum is sampled (the standardizer forks a worker per
core on large files). Scores are pairwise precision / recall / F1 of ``lead_cluster_id`` against
the true ``entity_id`` carried through the output file. Figures taken on a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from labeled_b2b import generate, pairwise_scores  # noqa: E402


def run_once(rows: int, seed: int, workdir: Path) -> dict:
    """Generate, run the command, score."""
    import pandas as pd

    source = workdir / f"leads_{rows}_{seed}.csv"
    out = workdir / f"out_{rows}_{seed}.csv"
    generate(rows, seed=seed).to_csv(source, index=False)
    cli = Path(sys.executable).with_name("lead-assets")
    start = time.perf_counter()
    # A wrapper process so RUSAGE_CHILDREN holds this run's peak alone (the largest single
    # process); the sampler adds up the whole process tree, forked standardizers included.
    wrapper = (
        "import resource,subprocess,sys;"
        "subprocess.run(sys.argv[1:],check=True,stdout=subprocess.DEVNULL);"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", wrapper, str(cli), "dedupe", str(source), "-o", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    tree_peak = 0
    while proc.poll() is None:
        tree_peak = max(tree_peak, tree_rss_kib(proc.pid))
        time.sleep(0.2)
    stdout, stderr = proc.communicate()
    if proc.returncode:
        raise SystemExit(f"lead-assets dedupe failed:\n{stderr}")
    seconds = time.perf_counter() - start
    peak_gib = int(stdout.strip().splitlines()[-1]) / 2**20
    result = pd.read_csv(out, usecols=["entity_id", "lead_cluster_id"])
    scores = pairwise_scores(result["lead_cluster_id"], result["entity_id"])
    return {
        "rows": rows,
        "seed": seed,
        "seconds": seconds,
        "peak_gib": peak_gib,
        "tree_gib": tree_peak / 2**20,
        **scores,
    }


def tree_rss_kib(pid: int) -> int:
    """Resident memory of ``pid`` and all its descendants now (KiB), from /proc."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(
                next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1]
            )
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, StopIteration):
            continue  # ended between the listing and the read
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=os.environ.get("DEDUPE_BENCH_SIZES", "100000"))
    parser.add_argument("--seeds", default="1,2,3")
    args, _unknown = parser.parse_known_args()
    print(
        f"{'rows':>9} {'seed':>4} {'precision':>9} {'recall':>7} {'F1':>7} {'wall s':>7}"
        f" {'peak GiB':>8} {'tree GiB':>8}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            for seed in (int(s) for s in args.seeds.split(",")):
                r = run_once(size, seed, Path(tmp))
                print(
                    f"{r['rows']:>9,} {r['seed']:>4} {r['precision']:>9.4f} {r['recall']:>7.4f} "
                    f"{r['f1']:>7.4f} {r['seconds']:>7.1f} {r['peak_gib']:>8.2f}"
                    f" {r['tree_gib']:>8.2f}",
                    flush=True,
                )
    print(
        "(peak GiB: the largest single process; tree GiB: the whole process tree, sampled every"
        " 0.2 s; wall and RSS on a shared 2-core machine are noisy)"
    )


if __name__ == "__main__":
    main()
