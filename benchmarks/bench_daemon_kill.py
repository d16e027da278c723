"""A killed run worker under the real ``dagster-daemon``: its batch completes without a human.

The project's instance config (``dagster.yaml`` with embedded SQLite storage: queued run
coordinator, pools, run monitoring), the daemon ticking the project's sensors, a sandbox process
at a fault rate, a lead file dropped into the landing folder. When Generect enrichment is under
way, the run worker's process (found from its lease) is SIGKILLed. The credits sensor then sees
the lease's process gone, marks the run failed, frees its pool slot, reconciles the reservations
it left and launches the batch again; the status sensor collects it. Prints the timeline and
checks the invariants against the sandbox's books.

    .venv/bin/python benchmarks/bench_daemon_kill.py [--rows 300] [--fault-rate 0.1] [--timeout 900]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lead_assets.sandbox import chaos

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    """Run the scenario; exit 0 when the batch completed and every invariant holds."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300)
    parser.add_argument("--fault-rate", type=float, default=0.1)
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_daemon_") as tmp:
        state = Path(tmp) / "state"
        leads = chaos.write_lead_file(Path(tmp) / "leads.csv", args.rows, seed=77)
        query = chaos.warehouse_state(state)
        with chaos.sandbox_process(fault_rate=args.fault_rate, seed=5) as sandbox:
            env = chaos.pipeline_environment(sandbox, state)
            env["DAGSTER_HOME"] = str(state / "dagster_home")
            subprocess.run(
                [
                    sys.executable,
                    "-c",
                    "from lead_assets.instance import ensure_dagster_home as e; e()",
                ],
                env=env,
                check=True,
            )
            started = time.monotonic()
            daemon = subprocess.Popen(
                [
                    str(Path(sys.executable).parent / "dagster-daemon"),
                    "run",
                    "-w",
                    str(ROOT / "workspace.yaml"),
                ],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            try:
                landing = state / "landing"
                landing.mkdir(parents=True, exist_ok=True)
                (landing / leads.name).write_bytes(leads.read_bytes())
                (landing / (leads.name + ".done")).write_text("")
                kill = chaos.during_generect(state, paid_calls=3)
                killed_pid = None
                while time.monotonic() - started < args.timeout:
                    elapsed = time.monotonic() - started
                    if killed_pid is None and kill(elapsed):
                        rows = query(
                            "SELECT l.pid FROM run_leases l JOIN lead_batches b ON b.batch_key ="
                            " l.batch_key WHERE b.state = 'enriching' ORDER BY l.started_at DESC"
                        )
                        if rows:
                            killed_pid = int(rows[0][0])
                            os.kill(killed_pid, signal.SIGKILL)
                            print(
                                f"{elapsed:6.1f}s SIGKILL run worker pid {killed_pid}", flush=True
                            )
                    done = query(
                        "SELECT COUNT(*) FROM lead_batches b WHERE EXISTS (SELECT 1 FROM"
                        " batch_exports e WHERE e.batch_key = b.batch_key)"
                    )
                    total = query("SELECT COUNT(*) FROM lead_batches")
                    if killed_pid and total and total[0][0] and done[0][0] == total[0][0]:
                        print(f"{elapsed:6.1f}s every batch exported", flush=True)
                        break
                    time.sleep(1)
                else:
                    print(f"timed out after {args.timeout:.0f} s", flush=True)
                resumed = query("SELECT batch_key, resumes, enrich_round, state FROM lead_batches")
                print(f"batches (key, resumes, round, state): {resumed}")
                books = sandbox.books()
                problems = chaos.violations(state, books, args.rows)
            finally:
                os.killpg(daemon.pid, signal.SIGTERM)
                try:
                    daemon.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(daemon.pid, signal.SIGKILL)
        print(f"sandbox charged ${books.generect_usd:.4f} + {books.leedrush_credits} credits")
        print("violations:", problems or "none")
        return 0 if killed_pid and not problems else 1


if __name__ == "__main__":
    sys.exit(main())
