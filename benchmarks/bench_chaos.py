"""Chaos at scale: a 2,000-lead file through the real ``lead-assets run`` against a sandbox
process faulting 10 % of requests, clean, then SIGKILLed during ingestion, during Generect
enrichment, during the Leedrush submission and during the collect, each followed by runs until done.

Prints, per scenario: attempts, seconds, what the sandbox charged (USD, credits), whether the
invariants hold (every row one outcome, nothing bought twice, ledger == the sandbox's books) and
whether the total equals the clean run's. A re-drop of the same file must spend nothing.

    .venv/bin/python benchmarks/bench_chaos.py [--rows 2000] [--fault-rate 0.1] [--only clean,generect]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from lead_assets.sandbox import chaos

SCENARIOS = ("clean", "ingest", "generect", "leedrush", "collect")


def scenario(name: str, rows: int, fault_rate: float, root: Path) -> dict:
    """One scenario in its own sandbox process and state folder."""
    folder = root / name
    folder.mkdir()
    leads = chaos.write_lead_file(folder / "leads.csv", rows, seed=42)
    state = folder / "state"
    kills = {
        "clean": [],
        "ingest": [chaos.during_ingest(state)],
        "generect": [chaos.during_generect(state, paid_calls=10)],
        "leedrush": [chaos.during_leedrush(state)],
        "collect": [chaos.during_collect(state)],
    }[name]
    started = time.monotonic()
    with chaos.sandbox_process(fault_rate=fault_rate, seed=11) as sandbox:
        env = chaos.pipeline_environment(sandbox, state)
        attempts = chaos.run_until_done(env, leads, kills=kills, max_attempts=6)
        books = sandbox.books()
        problems = chaos.violations(state, books, rows)
        again = chaos.run_once(env, leads)
        after = sandbox.books()
    last = attempts[-1]
    return {
        "scenario": name,
        "attempts": len(attempts),
        "killed": sum(a.killed for a in attempts),
        "seconds": round(time.monotonic() - started, 1),
        "status": [r.get("status") for r in last.rows if r.get("batch")],
        "usd": books.generect_usd,
        "credits": books.leedrush_credits,
        "violations": problems,
        "redrop_spent": (
            round(after.generect_usd - books.generect_usd, 6),
            after.leedrush_credits - books.leedrush_credits,
        ),
        "redrop_rc": again.returncode,
    }


def main() -> int:
    """Run the scenarios and print one line each, then the comparison with the clean run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--fault-rate", type=float, default=0.1)
    parser.add_argument("--only", default=",".join(SCENARIOS))
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n in SCENARIOS]
    results = []
    with tempfile.TemporaryDirectory(prefix="bench_chaos_") as tmp:
        for name in names:
            result = scenario(name, args.rows, args.fault_rate, Path(tmp))
            results.append(result)
            print(
                f"{name:9s} attempts={result['attempts']} killed={result['killed']} "
                f"{result['seconds']:7.1f}s status={result['status']} ${result['usd']:.4f} "
                f"+ {result['credits']} credits; violations={result['violations'] or 'none'}; "
                f"re-drop spent {result['redrop_spent']}",
                flush=True,
            )
    clean = next((r for r in results if r["scenario"] == "clean"), None)
    ok = all(not r["violations"] and r["redrop_spent"] == (0.0, 0) for r in results)
    if clean:
        for r in results:
            same = abs(r["usd"] - clean["usd"]) < 1e-6 and r["credits"] == clean["credits"]
            print(f"{r['scenario']:9s} total equals the clean run's: {same}")
    print("all invariants hold" if ok else "INVARIANTS VIOLATED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
