"""Functions the vendor-limit tests run in spawned processes.

Kept apart from the test module so a spawned interpreter imports only the client and the limiter,
not Dagster: spawning is the slow part of those tests on a small host.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

from lead_assets.clients.generect import GenerectClient
from lead_assets.clients.http_policy import RetryPolicy
from lead_assets.distributed.limiter import SharedRequestLimiter


def generect_step(base_url: str, share: int, calls: int, gate: str) -> int:  # calls answered
    """One Generect step in its own process: many threads, the step's share of the cap.

    Every process waits at ``gate`` so that they all call at once (spawning is slow and uneven).
    """
    client = GenerectClient(
        "test_sandbox",
        base_url,
        concurrency={"company_enrich": share},
        policy=RetryPolicy(backoff_base=0.01),
    )
    Path(gate, f"ready-{os.getpid()}").touch()
    while not Path(gate, "go").exists():
        time.sleep(0.02)

    def call(i: int) -> bool:
        try:
            client.enrich_company(domain=f"firm{i}.com")
            return True
        except Exception:  # throttled past the retries (the control case): count, go on
            return False

    with client, ThreadPoolExecutor(16) as pool:
        return sum(pool.map(call, range(calls)))


def run_steps(base_url: str, processes: int, share: int, calls: int, gate: Path) -> int:
    gate.mkdir()
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(processes, mp_context=ctx) as pool:
        futures = [
            pool.submit(generect_step, base_url, share, calls, str(gate)) for _ in range(processes)
        ]
        deadline = time.monotonic() + 120
        while len(list(gate.glob("ready-*"))) < processes and time.monotonic() < deadline:
            time.sleep(0.05)
        (gate / "go").touch()
        return sum(future.result() for future in futures)


def take(redis_url: str, key: str, rpm: int, window: float, n: int) -> list[float]:
    limiter = SharedRequestLimiter(redis_url, key, rpm, window_s=window)
    stamps = []
    for _ in range(n):
        limiter.acquire()
        stamps.append(time.time())
    return stamps
