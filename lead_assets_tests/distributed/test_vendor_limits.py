"""Vendor limits across processes: pool slots and step shares of Generect's parallel caps, and
a Leedrush requests-per-minute window shared through Redis.

The processes here are real (spawned interpreters), the Generect sandbox is served over HTTP and
counts every request in flight per operation, and answers 429 past its caps.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import dagster as dg
import pytest

from lead_assets.clients.generect import DEFAULT_CONCURRENCY
from lead_assets.distributed.limiter import SharedRequestLimiter, account_key
from lead_assets.distributed.local import redis_database
from lead_assets.distributed.pools import apply_pool_limits, pool_limits, step_share
from lead_assets.resources.leedrush import LeedrushResource
from lead_assets.sandbox.generect import GenerectSandboxConfig
from lead_assets.sandbox.server import running_sandbox
from lead_assets_tests.distributed.procs import run_steps, take


@pytest.mark.parametrize("slots", [1, 2, 4, 8])
def test_shares_of_all_slots_stay_within_the_budget(slots: int) -> None:
    share = step_share(slots)
    for op, total in DEFAULT_CONCURRENCY.items():
        if op != "uncapped":
            assert share[op] >= 1 and share[op] * slots <= total


def test_more_slots_than_a_cap_allows_is_refused_with_a_sentence() -> None:
    with pytest.raises(ValueError, match="LEAD_ASSETS_GENERECT_SLOTS to at most 18"):
        step_share(19)


def test_pool_limits_are_set_on_the_instance(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        applied = apply_pool_limits(instance, pool_limits(4))
        assert applied == {"generect": 4, "leedrush": 1, "entity_resolution": 1}
        for pool, slots in applied.items():
            assert instance.event_log_storage.get_concurrency_info(pool).slot_count == slots


@pytest.mark.slow
def test_generect_caps_hold_across_four_step_processes(tmp_path: Path) -> None:
    cap, processes = 20, 4
    budget = {"company_enrich": cap * 9 // 10}
    share = step_share(processes, budget)["company_enrich"]
    config = GenerectSandboxConfig(caps={"company_enrich": cap}, latency_s=0.1, balance=100.0)
    with running_sandbox(config) as sandbox:
        stats = sandbox.generect.state.sandbox.stats
        answered = run_steps(sandbox.generect_url, processes, share, 40, tmp_path / "shared")
        assert answered == processes * 40
        # Each process alone respects its semaphore; together they must respect the account.
        assert stats["throttled"] == 0
        assert stats["max_inflight"]["company_enrich"] <= cap
        # The steps used the headroom they were given (not one request at a time).
        assert stats["max_inflight"]["company_enrich"] > share
        # Control: the same processes each taking the whole budget do exceed the cap.
        run_steps(sandbox.generect_url, processes, budget["company_enrich"], 40, tmp_path / "whole")
        assert stats["throttled"] > 0


@pytest.mark.slow
def test_shared_window_holds_across_processes() -> None:
    rpm, window, per_process, processes = 5, 1.0, 6, 3
    with redis_database() as url:
        ctx = multiprocessing.get_context("spawn")
        key = account_key("leedrush", "ops@example.com")
        with ProcessPoolExecutor(processes, mp_context=ctx) as pool:
            runs = pool.map(
                take, *zip(*[(url, key, rpm, window, per_process)] * processes, strict=True)
            )
            stamps = sorted(t for run in runs for t in run)
    assert len(stamps) == processes * per_process
    # No window (less a margin for the time between Redis's clock and ours) saw more than rpm.
    for i, start in enumerate(stamps):
        assert sum(1 for t in stamps[i:] if t < start + window * 0.9) <= rpm
    # ...and the budget was used: 18 starts at 5 per second take a little over 3 windows.
    assert stamps[-1] - stamps[0] >= 2.5 * window


def test_leedrush_resource_shares_its_window_through_redis() -> None:
    with redis_database() as url:
        resource = LeedrushResource(
            email="ops@example.com", password="x", plan="starter", shared_limiter_url=url
        )
        client = resource.get_client()
        limiter = client._limiter
        assert isinstance(limiter, SharedRequestLimiter)
        assert limiter.rpm == 60  # the plan's requests per minute, account-wide
        assert "ops@example.com" not in limiter.key  # the login is hashed, not stored
