"""The in-process drain behind ``lead-assets run``: its timeout bounds waiting, not work."""

from __future__ import annotations

import time

import dagster as dg

from lead_assets.inprocess_daemon import drain


def test_the_timeout_bounds_time_without_progress_not_a_long_files_runs(sqlite_instance) -> None:  # type: ignore[no-untyped-def]
    @dg.asset
    def slow_step() -> None:
        time.sleep(0.6)

    job = dg.define_asset_job("slow_job", selection=[slow_step])

    @dg.sensor(job=job)
    def one_run_per_tick(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        # Like the credits sensor releasing one batch per tick: four runs, one at a time.
        done = int(context.cursor or 0)
        if done >= 4:
            return dg.SensorResult(run_requests=[], cursor=str(done))
        return dg.SensorResult(
            run_requests=[dg.RunRequest(run_key=f"r{done}")], cursor=str(done + 1)
        )

    defs = dg.Definitions(assets=[slow_step], jobs=[job], sensors=[one_run_per_tick])
    started = time.monotonic()
    # Each run takes longer than a third of the timeout; four of them take longer than it.
    outcome = drain(defs, sqlite_instance, ["one_run_per_tick"], timeout_seconds=2.0)
    assert [ok for _, _, ok in outcome.runs] == [True] * 4
    assert time.monotonic() - started > 2.0  # the work outlasted the timeout and finished
