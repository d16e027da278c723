"""A killed run worker under the real ``dagster-daemon``: its batch completes without a human.

The project's instance config (``dagster.yaml`` with embedded SQLite storage: queued run
coordinator, pools, run monitoring), the daemon ticking the project's sensors, a sandbox process
at a fault rate, a lead file dropped into the landing folder. When Generect enrichment is under
way, the run worker's process (found from its lease) is SIGKILLed. The credits sensor then sees
the lease's process gone, marks the run failed, frees its pool slot, reconciles the reservations
it left and launches the batch again; the status sensor collects it. Prints the timeline and
checks the invariants against the sandbox's books (``make test-e2e`` runs a smaller case).

    .venv/bin/python benchmarks/bench_daemon_kill.py [--rows 300] [--fault-rate 0.1] [--timeout 900]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from lead_assets.sandbox import chaos


def main() -> int:
    """Run the scenario; exit 0 when the batch completed and every invariant holds."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300)
    parser.add_argument("--fault-rate", type=float, default=0.1)
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_daemon_") as tmp:
        out = chaos.daemon_kill(
            Path(tmp),
            rows=args.rows,
            fault_rate=args.fault_rate,
            timeout_s=args.timeout,
            log=lambda line: print(line, flush=True),
        )
    print(f"batches (key, resumes, round, state): {out.batches}")
    print(f"sandbox charged ${out.books.generect_usd:.4f} + {out.books.leedrush_credits} credits")
    print("violations:", out.problems or "none")
    return 0 if out.killed_pid and out.exported and not out.problems else 1


if __name__ == "__main__":
    sys.exit(main())
