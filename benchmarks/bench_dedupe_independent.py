"""The whole ``lead-assets dedupe IN.csv -o OUT.csv`` command on independent labeled data.

    .venv/bin/python benchmarks/bench_dedupe_independent.py [--sizes 100000] [--seeds 1,2,3]

The data come from ``benchmarks/labeled_b2b.py``, a generator that shares nothing with the matcher
(see its docstring). Each run generates a raw lead file (not timed), then times the command as a
user runs it (read, standardize, resolve, write) in its own process; peak RSS is that process's
maximum resident set, and the whole tree's RSS and PSS are sampled (the standardizer forks a
worker per core on large files). Scores are pairwise precision / recall / F1 of ``lead_cluster_id`` against
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
    tree_rss = tree_pss = 0
    while proc.poll() is None:
        rss, pss = tree_memory_kib(proc.pid)
        tree_rss, tree_pss = max(tree_rss, rss), max(tree_pss, pss)
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
        "tree_rss_gib": tree_rss / 2**20,
        "tree_pss_gib": tree_pss / 2**20,
        **scores,
    }


def tree_memory_kib(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of ``pid`` and all its descendants now (KiB), from /proc. RSS counts the pages
    a forked worker shares with its parent in both; PSS splits each shared page among its
    sharers, so the tree's PSS is the memory it really holds."""
    rss = pss = 0
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            rollup = Path(f"/proc/{current}/smaps_rollup").read_text().splitlines()
            rss += _kib(rollup, "Rss:")
            pss += _kib(rollup, "Pss:")
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, StopIteration):
            continue  # ended between the listing and the read
    return rss, pss


def _kib(lines: list[str], field: str) -> int:
    return int(next(line for line in lines if line.startswith(field)).split()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=os.environ.get("DEDUPE_BENCH_SIZES", "100000"))
    parser.add_argument("--seeds", default="1,2,3")
    args, _unknown = parser.parse_known_args()
    print(
        f"{'rows':>9} {'seed':>4} {'precision':>9} {'recall':>7} {'F1':>7} {'wall s':>7}"
        f" {'peak GiB':>8} {'tree RSS':>8} {'tree PSS':>8}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            for seed in (int(s) for s in args.seeds.split(",")):
                r = run_once(size, seed, Path(tmp))
                print(
                    f"{r['rows']:>9,} {r['seed']:>4} {r['precision']:>9.4f} {r['recall']:>7.4f} "
                    f"{r['f1']:>7.4f} {r['seconds']:>7.1f} {r['peak_gib']:>8.2f}"
                    f" {r['tree_rss_gib']:>8.2f} {r['tree_pss_gib']:>8.2f}",
                    flush=True,
                )
    print(
        "(peak GiB: the largest single process; tree RSS / PSS: the whole process tree, sampled"
        " every 0.2 s, shared pages counted in every process / split among them; wall and memory"
        " on a shared 2-core machine are noisy)"
    )


if __name__ == "__main__":
    main()
