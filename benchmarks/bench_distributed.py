"""Benchmark: lead batches on Dagster's Celery executor with 1 and then 2 Celery workers.

Each round starts from nothing (a fresh Dagster database and warehouse on one throwaway
PostgreSQL cluster, an own RabbitMQ vhost, ``N`` ``celery worker`` processes) and processes the
same input: ``--batches`` lead files of ``--rows`` rows, registered as the file-drop sensor does,
then ``ingest_job`` for every batch with ``--concurrent-runs`` run workers at once (threads of
this process, which only orchestrate: every step runs on a Celery worker). Printed per round:
batches per minute, rows per second, steps per worker.

Then, on the two-worker deployment with the vendor sandbox:

- the paid path (credits sensor -> enrich_job, Leedrush status sensor -> collect_job), with the
  vendor calls the sandbox counted against its caps (requests, 429s, most requests in flight
  per operation next to the cap);
- the entity-resolution queue: every batch's ``collect_job`` launched at once, so batches arrive
  faster than ``deduplicated_accounts`` (pool ``entity_resolution``, one slot) resolves them; the
  longest queue of steps waiting for that slot and the time each resolution held it.

Run: ``.venv/bin/python benchmarks/bench_distributed.py`` (``--quick`` for a smaller input).
Timings on a shared 2-core host are noisy: compare the ratio, not the absolute figures.
"""

from __future__ import annotations

import argparse
import faulthandler
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import dagster as dg


def write_input(folder: Path, batches: int, rows: int) -> list[Path]:
    """``batches`` lead files of ``rows`` rows each (distinct people, some shared companies)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for b in range(batches):
        lines = ["email,first_name,last_name,company,title,phone,country"]
        lines += [
            f"p{b}x{i}@firm{i % 211}.com,Ann{i},Lee{b}x{i},Firm {i % 211} Ltd,Head of Sales,"
            f"+44 20 7946 {i % 10000:04d},GB"
            for i in range(rows)
        ]
        path = folder / f"leads_{b:02d}.csv"
        path.write_text("\n".join(lines) + "\n")
        files.append(path)
    return files


@contextmanager
def deployment(server: str, broker_kind: str, workers: int, root: Path) -> Iterator[dict]:
    """A fresh deployment: Dagster DB + warehouse DB, broker namespace, N workers."""
    from lead_assets.distributed.demo import own_database, write_instance
    from lead_assets.distributed.local import (
        broker_namespace,
        distributed_environment,
        local_workers,
    )

    with ExitStack() as stack:
        warehouse = stack.enter_context(own_database(server, "bench_dist_wh"))
        dagster_db = stack.enter_context(own_database(server, "bench_dist_dg"))
        broker = stack.enter_context(broker_namespace(broker_kind))
        home = root / "dagster_home"
        write_instance(home, dagster_db)
        os.environ.update(
            distributed_environment(broker, {}),
            LEAD_ASSETS_STATE_DIR=str(root),
            LEAD_ASSETS_DATABASE_URL=warehouse,
            DAGSTER_HOME=str(home),
            LEAD_ASSETS_LANDING_DIR=str(root / "landing"),
            LEAD_ASSETS_OUTBOX_DIR=str(root / "outbox"),
        )
        names = [f"w{i + 1}" for i in range(workers)]
        started = stack.enter_context(local_workers(names, os.environ, root / "logs"))
        instance = stack.enter_context(dg.DagsterInstance.get())
        yield {"instance": instance, "workers": started}


def register(instance: dg.DagsterInstance, files: list[Path]) -> list[str]:
    """Land the files and register their batches as the file-drop sensor does."""
    from lead_assets.resources.warehouse import WarehouseResource
    from lead_assets.sensors.file_drop import landing_sensor_result
    from lead_assets.settings import landing_dir

    landing = landing_dir()
    landing.mkdir(parents=True, exist_ok=True)
    for path in files:
        shutil.copyfile(path, landing / path.name)
    result, _ = landing_sensor_result(instance, WarehouseResource(), None, all_complete=True)
    keys = [k for r in result.dynamic_partitions_requests or [] for k in r.partition_keys]
    instance.add_dynamic_partitions("lead_batches", keys)
    return sorted(keys)


def run_all(instance: dg.DagsterInstance, job: str, keys: list[str], at_once: int) -> list[bool]:
    """``job`` for every key, ``at_once`` run workers at a time; returns success per key.

    Each run worker is its own process (``python -m lead_assets.distributed.runs``), as the run
    launcher starts them: its start-up is part of the measured time, as it is in production.
    """
    todo, running, outcome = list(keys), {}, {}
    while todo or running:
        while todo and len(running) < at_once:
            key = todo.pop(0)
            running[key] = subprocess.Popen(
                [sys.executable, "-m", "lead_assets.distributed.runs", job, key],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        for key, process in list(running.items()):
            if process.poll() is not None:
                outcome[key] = process.returncode == 0
                del running[key]
        time.sleep(0.2)
    return [outcome[k] for k in keys]


def throughput_round(
    server: str, broker: str, workers: int, files: list[Path], rows: int, at_once: int
) -> dict:
    """One round of ingest_job over the input on ``workers`` workers."""
    from lead_assets.distributed.runs import step_placements, steps_per_worker, workers_line

    root = Path(tempfile.mkdtemp(prefix=f"bench_dist_{workers}w_"))
    try:
        with deployment(server, broker, workers, root) as dep:
            instance = dep["instance"]
            keys = register(instance, files)
            start = time.perf_counter()
            ok = run_all(instance, "ingest_job", keys, at_once)
            elapsed = time.perf_counter() - start
            counts = steps_per_worker(
                step_placements(instance, [r.run_id for r in instance.get_runs()])
            )
        return {
            "workers": workers,
            "batches": len(keys),
            "failed": ok.count(False),
            "seconds": elapsed,
            "batches_per_min": 60 * len(keys) / elapsed,
            "rows_per_s": rows * len(keys) / elapsed,
            "line": workers_line(counts),
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)


class PoolSampler:
    """Samples Dagster's pool tables every ``every`` seconds while in a ``with`` block: per pool,
    the steps waiting for a slot and the slots claimed, so the report can say how long steps
    waited and whether any waited while a slot was free (the account had headroom)."""

    def __init__(self, instance: dg.DagsterInstance, pools: list[str], every: float = 0.2):
        self.instance, self.pools, self.every = instance, pools, every
        self.samples: dict[str, list[tuple[int, int, int]]] = {p: [] for p in pools}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for pool in self.pools:
                info = self.instance.event_log_storage.get_concurrency_info(pool)
                self.samples[pool].append(
                    (info.pending_step_count, info.active_slot_count, info.slot_count)
                )
            time.sleep(self.every)

    def __enter__(self) -> PoolSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def line(self, pool: str) -> str:
        """One line: slots, longest queue, seconds with steps waiting, and of those the seconds
        with a slot free (waiting while the pool had headroom)."""
        rows = self.samples[pool]
        waiting = [r for r in rows if r[0] > 0]
        free = [r for r in waiting if r[1] < r[2]]
        slots = max((r[2] for r in rows), default=0)
        return (
            f"pool {pool} ({slots} slot(s)): longest queue {max((r[0] for r in rows), default=0)} "
            f"step(s); steps waiting {len(waiting) * self.every:.1f} s, of which "
            f"{len(free) * self.every:.1f} s with a slot free"
        )


def paid_round(server: str, broker: str, files: list[Path]) -> None:
    """Two workers, the vendor sandbox, the paid path, then the resolution queue."""
    from lead_assets.definitions import build_definitions
    from lead_assets.inprocess_daemon import drain
    from lead_assets.sandbox.generect import CAPS, GenerectSandboxConfig
    from lead_assets.sandbox.leedrush import LeedrushSandboxConfig
    from lead_assets.sandbox.server import running_sandbox

    root = Path(tempfile.mkdtemp(prefix="bench_dist_paid_"))
    os.environ.setdefault("LEAD_ASSETS_GENERECT_SLOTS", "2")
    try:
        with running_sandbox(
            GenerectSandboxConfig(balance=1000.0, latency_s=0.02),
            LeedrushSandboxConfig(plan="starter", credits=10**6, time_scale=0.05),
        ) as sandbox:
            os.environ.update(sandbox.environment())
            with deployment(server, broker, 2, root) as dep:
                instance = dep["instance"]
                from lead_assets.distributed.pools import apply_pool_limits

                print(f"pools: {apply_pool_limits(instance)}")
                keys = register(instance, files)
                defs = build_definitions()
                start = time.perf_counter()
                with PoolSampler(instance, ["generect", "leedrush"]) as pools:
                    done = drain(
                        defs,
                        instance,
                        ["file_drop_sensor", "credits_sensor", "leedrush_status_sensor"],
                        poll_seconds=0.5,
                        timeout_seconds=1800,
                    )
                elapsed = time.perf_counter() - start
                failed = [r for r in done.runs if not r[2]]
                print(
                    f"paid path: {len(done.runs)} runs ({len(failed)} failed) for {len(keys)} "
                    f"batches in {elapsed:.0f} s"
                )
                g = sandbox.generect.state.sandbox.stats
                caps = sandbox.generect.state.sandbox.config.caps
                inflight = ", ".join(
                    f"{op} {n}/{caps.get(op, CAPS.get(op, '-'))}"
                    for op, n in sorted(g["max_inflight"].items())
                )
                print(
                    f"Generect: {g['requests']} requests, {g['throttled']} x 429; most in flight/cap: {inflight}"
                )
                lstats = sandbox.leedrush.state.sandbox.stats
                print(
                    f"Leedrush: {lstats['requests']} requests, {lstats['rate_limited']} x 429 "
                    f"(plan starter: 60/min, 5 concurrent batches)"
                )
                print(pools.line("generect"))
                print(pools.line("leedrush"))
                resolution_queue(instance, keys)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def resolution_queue(instance: dg.DagsterInstance, keys: list[str]) -> None:
    """Every batch's collect_job at once; sample the steps waiting for entity_resolution."""
    start = time.perf_counter()
    with PoolSampler(instance, ["entity_resolution"]) as pools:
        ok = run_all(instance, "collect_job", keys, len(keys))
    elapsed = time.perf_counter() - start
    held = []
    for run in instance.get_runs(filters=dg.RunsFilter(job_name="collect_job")):
        stats = instance.get_run_step_stats(run.run_id, step_keys=["deduplicated_accounts"])
        held += [s.end_time - s.start_time for s in stats if s.end_time and s.start_time]
    mean_held = sum(held) / len(held) if held else float("nan")
    print(
        f"entity resolution: {len(keys)} collect runs at once ({ok.count(False)} failed) in "
        f"{elapsed:.0f} s; {pools.line('entity_resolution')}; deduplicated_accounts held the slot "
        f"{mean_held:.1f} s on average over {len(held)} runs"
    )


def main() -> int:
    # `kill -USR1 <pid>` prints every thread's stack: a stuck round can be seen, not guessed.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", type=int, default=6)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--concurrent-runs", type=int, default=4)
    parser.add_argument("--broker", choices=["rabbitmq", "redis"], default="rabbitmq")
    parser.add_argument("--quick", action="store_true", help="4 batches of 2,000 rows")
    parser.add_argument("--skip-paid", action="store_true", help="throughput rounds only")
    args = parser.parse_args()
    if args.quick:
        args.batches, args.rows = 4, 2000
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import logging

    from lead_assets.warehouse.throwaway_pg import ThrowawayCluster

    logging.getLogger("dagster").setLevel(logging.WARNING)
    saved = dict(os.environ)
    cluster = ThrowawayCluster.start()
    inputs = Path(tempfile.mkdtemp(prefix="bench_dist_input_"))
    try:
        files = write_input(inputs, args.batches, args.rows)
        print(
            f"input: {args.batches} batches x {args.rows} rows; {args.concurrent_runs} runs at once; "
            f"broker {args.broker}; host has {os.cpu_count()} cores (load {os.getloadavg()[0]:.1f})"
        )
        rounds = []
        for workers in (1, 2):
            r = throughput_round(
                cluster.url, args.broker, workers, files, args.rows, args.concurrent_runs
            )
            os.environ.clear()
            os.environ.update(saved)
            rounds.append(r)
            print(
                f"{workers} worker(s): {r['batches_per_min']:.1f} batches/min, {r['rows_per_s']:.0f} rows/s "
                f"({r['seconds']:.0f} s, {r['failed']} failed); {r['line']}"
            )
        ratio = rounds[1]["rows_per_s"] / rounds[0]["rows_per_s"]
        print(
            f"2 workers / 1 worker: {ratio:.2f}x. On this 2-core host the second worker competes "
            "with the first, the run workers and PostgreSQL for the same two cores, so the ratio "
            "bounds the overlap of I/O waits, not what a second host would add."
        )
        if not args.skip_paid:
            paid_round(cluster.url, args.broker, files)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        cluster.stop()
        shutil.rmtree(inputs, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
