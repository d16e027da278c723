"""A ``lead-assets run`` process killed mid-run leaves its Dagster run STARTED for ever, holding
its pool slots; the recovery pass finds it by the process tags and marks it failed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import dagster as dg

from lead_assets.sensors.recovery import _dead_in_process_runs, bury_dead_runs

SLOW_JOB = textwrap.dedent(
    """
    import time
    import dagster as dg
    from lead_assets.inprocess_daemon import execute_run

    @dg.asset
    def slow() -> None:
        time.sleep(120)

    defs = dg.Definitions(assets=[slow], jobs=[dg.define_asset_job("slow_job")])
    with dg.DagsterInstance.get() as instance:
        execute_run(defs, instance, "slow_job", None, {"dagster/run_key": "slow:1"})
    """
)


def test_a_killed_in_process_run_is_found_and_marked_failed(tmp_path: Path) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    script = tmp_path / "slow_job.py"
    script.write_text(SLOW_JOB)
    process = subprocess.Popen([sys.executable, str(script)], env=env)
    try:
        with dg.DagsterInstance.from_config(str(home)) as instance:
            deadline = time.monotonic() + 120
            started = []
            while not started and time.monotonic() < deadline:
                started = instance.get_runs(
                    filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])
                )
                time.sleep(0.2)
            assert started, "the run never started"
            (run,) = started
            assert _dead_in_process_runs(instance) == set()  # alive: left alone
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            assert _dead_in_process_runs(instance) == {run.run_id}
            assert bury_dead_runs(instance, {run.run_id}) == [run.run_id]
            assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE
            assert _dead_in_process_runs(instance) == set()
    finally:
        if process.poll() is None:
            process.kill()
