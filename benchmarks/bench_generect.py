"""Benchmark: enrich 10,000 leads against the Generect sandbox over loopback HTTP.

The sandbox runs in its own process (so the client and the server do not share one GIL) with the
vendor's real concurrency caps and a fixed latency per paid call. The client runs one worker per
semaphore slot. Printed figures:

- throughput (enrich calls per second) and its share of what the caps allow, where the ceiling is
  ``in-flight slots / latency`` (slots = the client's semaphore for the operation, which sits
  below the vendor cap on purpose), target >= 90 %;
- 429 answers seen by the client (target 0: the semaphores keep us under the caps);
- USD charged by the sandbox vs. what the spend hook recorded (must be equal).

A single Python process cannot drive 450 slots at 50 ms (a 9,000 calls/s ceiling), so the
defaults use the lead-enrich operation with ``--slots 20`` at 50 ms (400 calls/s); pass
``--slots 450 --latency 0.5`` to use the full default semaphore with a slower vendor.

Run: ``.venv/bin/python benchmarks/bench_generect.py`` (``--quick`` for 2,000 leads).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from lead_assets.clients.generect import DEFAULT_CONCURRENCY, GenerectClient
from lead_assets.clients.http_policy import RetryPolicy
from lead_assets.clients.spend import MemorySpendHook
from lead_assets.sandbox.generect import CAPS

SERVER = """
import json, sys, uvicorn
from lead_assets.sandbox.generect import GenerectSandboxConfig, create_generect_app
opts = json.loads(sys.argv[1])
config = GenerectSandboxConfig(balance=1e6, latency_s=opts["latency"])
uvicorn.run(create_generect_app(config), host="127.0.0.1", port=opts["port"],
            log_level="error", access_log=False, backlog=4096)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(port: int, deadline_s: float = 20.0) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("sandbox did not start")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="2,000 leads")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per enrich call")
    parser.add_argument(
        "--slots", type=int, default=20, help="client in-flight slots for lead enrich"
    )
    args = parser.parse_args(argv)
    n = 2_000 if args.quick else args.leads
    slots = min(args.slots, DEFAULT_CONCURRENCY["lead_enrich"])
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, json.dumps({"port": port, "latency": args.latency})], env=env
    )
    try:
        _wait_for(port)
        url = f"http://127.0.0.1:{port}"
        hook = MemorySpendHook()
        client = GenerectClient(
            "test_sandbox",
            url,
            spend_hook=hook,
            policy=RetryPolicy(backoff_base=0.05, backoff_cap=0.4),
            concurrency={"lead_enrich": slots},
        )
        ids = [p["id"] for p in _lead_ids(client, n)]
        client.enrich_lead(lead_id=ids[0])  # warm the connection pool and the sandbox world
        hook = MemorySpendHook()  # count only the measured calls
        client.spend = hook
        before = client.balance()
        start = time.perf_counter()
        # A few more workers than slots keep every slot busy (the semaphore caps in-flight calls).
        with ThreadPoolExecutor(slots + max(4, slots // 4)) as pool:
            results = list(pool.map(lambda i: client.enrich_lead(lead_id=i), ids))
        elapsed = time.perf_counter() - start
        charged = round(before - client.balance(), 6)
        ceiling = slots / args.latency
        rate = n / elapsed
        print(f"leads enriched       : {n} ({sum(1 for r in results if r)} found)")
        print(f"latency per call     : {args.latency * 1000:.0f} ms")
        print(f"in-flight slots      : {slots} (vendor cap {CAPS['lead_enrich']})")
        print(f"elapsed              : {elapsed:.2f} s")
        print(f"throughput           : {rate:.0f} calls/s")
        print(f"ceiling (slots/lat.) : {ceiling:.0f} calls/s")
        print(f"share of ceiling     : {100 * rate / ceiling:.1f} % (target >= 90 %)")
        print(f"429 answers          : {client.throttled} (target 0)")
        print(f"charged by sandbox   : ${charged:.2f}; spend hook: ${hook.total('generect'):.2f}")
        client.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    return 0


def _lead_ids(client: GenerectClient, n: int) -> list[dict]:
    """Lead ids from the sandbox's deterministic world (same seed as the server), no spending."""
    from lead_assets.sandbox.world import build_world

    people = build_world(20261122).people
    return [{"id": people[i % len(people)].lead_id} for i in range(n)]


if __name__ == "__main__":
    raise SystemExit(main())
