"""The Generect counts, Leedrush batch-status and credits sensors on a real instance
(build_sensor_context): run keys, cursors kept in the warehouse, terminal and failed batches,
timeouts."""

from __future__ import annotations

import time
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import text

from lead_assets.sandbox.generect import GenerectSandboxConfig
from lead_assets.sandbox.leedrush import LeedrushSandboxConfig
from lead_assets_tests.enrichment.conftest import lead_file


def tick(p, name: str):  # type: ignore[no-untyped-def]
    sensor = p.defs.resolve_sensor_def(name)
    context = dg.build_sensor_context(
        instance=p.instance, resources=dict(p.defs.resources), definitions=p.defs
    )
    result = sensor(context)
    if isinstance(result, dg.SensorResult):
        for request in result.dynamic_partitions_requests or []:
            p.instance.add_dynamic_partitions(
                request.partitions_def_name, list(request.partition_keys)
            )
    return result


def enrich(p, key: str) -> None:  # type: ignore[no-untyped-def]
    assert (
        p.defs.resolve_job_def("enrich_job")
        .execute_in_process(instance=p.instance, partition_key=key)
        .success
    )


def keys(p) -> list[str]:  # type: ignore[no-untyped-def]
    with p.engine.connect() as conn:
        return [
            r[0]
            for r in conn.execute(
                text("SELECT batch_key FROM lead_batches ORDER BY batch_key")
            ).all()
        ]


def test_status_sensor_waits_then_requests_collect_once(pipeline_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    p = pipeline_factory(leedrush=LeedrushSandboxConfig(plan="enterprise", time_scale=3.0))
    p.drop(lead_file(tmp_path / "slow.csv", 30, seed=21, with_email=1.0))
    p.drain("file_drop_sensor")
    key = keys(p)[0]
    enrich(p, key)
    first = tick(p, "leedrush_status_sensor")
    assert isinstance(first, dg.SkipReason) and first.skip_message.startswith("waiting:")
    deadline = time.monotonic() + 30
    result = first
    while isinstance(result, dg.SkipReason) and time.monotonic() < deadline:
        time.sleep(0.3)
        result = tick(p, "leedrush_status_sensor")
    assert isinstance(result, dg.SensorResult)
    [request] = result.run_requests
    with p.engine.connect() as conn:
        batch_id = conn.execute(
            text("SELECT leedrush_batch_id FROM leedrush_submissions WHERE batch_key = :k"),
            {"k": key},
        ).scalar_one()
    assert request.run_key == f"collect:{key}:{batch_id}" and request.partition_key == key
    assert request.tags["lead_assets/leedrush_status"] == "completed"
    # The same work keeps the same run key until collected (Dagster drops the duplicate) ...
    again = tick(p, "leedrush_status_sensor")
    assert [r.run_key for r in again.run_requests] == [request.run_key]
    assert (
        p.defs.resolve_job_def("collect_job")
        .execute_in_process(instance=p.instance, partition_key=key)
        .success
    )
    # ... and nothing once collected.
    done = tick(p, "leedrush_status_sensor")
    assert isinstance(done, dg.SensorResult) and done.run_requests == []


def test_failed_and_timed_out_batches_are_terminal(
    pipeline_factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    p = pipeline_factory(leedrush=LeedrushSandboxConfig(plan="enterprise", time_scale=0.1))
    p.drop(lead_file(tmp_path / "will_fail.csv", 20, seed=22, with_email=1.0))
    p.drain("file_drop_sensor")
    [key] = keys(p)
    enrich(p, key)
    deadline = time.monotonic() + 20
    result = tick(p, "leedrush_status_sensor")
    while isinstance(result, dg.SkipReason) and time.monotonic() < deadline:
        time.sleep(0.2)
        result = tick(p, "leedrush_status_sensor")
    assert result.run_requests[0].tags["lead_assets/leedrush_status"] == "failed"
    assert (
        p.defs.resolve_job_def("collect_job")
        .execute_in_process(instance=p.instance, partition_key=key)
        .success
    )
    # A failed remote batch still yields scored leads (without Leedrush fields): nothing is lost.
    with p.engine.connect() as conn:
        scored = conn.execute(
            text("SELECT COUNT(*) FROM qualified_leads WHERE batch_key = :k"), {"k": key}
        ).scalar_one()
    assert scored == 20

    q = pipeline_factory(leedrush=LeedrushSandboxConfig(plan="enterprise", time_scale=500.0))
    q.drop(lead_file(tmp_path / "never.csv", 10, seed=23, with_email=1.0))
    q.drain("file_drop_sensor")
    [slow] = keys(q)
    enrich(q, slow)
    monkeypatch.setenv("LEAD_ASSETS_LEEDRUSH_TIMEOUT_S", "0")
    timed_out = tick(q, "leedrush_status_sensor")
    assert timed_out.run_requests[0].tags["lead_assets/leedrush_status"] == "timed_out"


def _one_icp_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One ICP profile (VPs at 51-200 software companies), 25 leads a pull, $1 a pull."""
    profiles = tmp_path / "icp.yaml"
    profiles.write_text(
        "profiles:\n  - name: vp_software\n    lead_criteria: {seniorities: [vp], company_industries: [Software Development],"
        " company_headcounts: ['51-200']}\n    max_leads_per_pull: 25\n    budget_usd: 1.0\n"
    )
    monkeypatch.setenv("LEAD_ASSETS_ICP_PROFILES", str(profiles))


def test_counts_sensor_registers_a_batch_only_when_the_count_grows(
    pipeline_factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    _one_icp_profile(tmp_path, monkeypatch)
    p = pipeline_factory()
    first = tick(p, "generect_counts_sensor")
    [request] = first.run_requests
    assert (
        request.run_key == f"prospect:{request.partition_key}"
        and "icp_vp_software" in request.partition_key
    )
    assert p.generect_charged == 0  # counting is free
    # While that batch waits to be pulled, a second tick does not register another.
    again = tick(p, "generect_counts_sensor")
    assert isinstance(again, dg.SkipReason)
    # The pull has partitions of its own (icp_pulls): file batches are not its missing partitions.
    assert request.partition_key in p.instance.get_dynamic_partitions("icp_pulls")
    assert request.partition_key in p.instance.get_dynamic_partitions("lead_batches")
    # Before the pull, the file-drop sensor does not ingest the batch (it would ingest nothing).
    assert not [r for r in p.drain("file_drop_sensor") if r[1] == request.partition_key]
    run = p.defs.resolve_job_def("prospect_job").execute_in_process(
        instance=p.instance, partition_key=request.partition_key
    )
    assert run.success
    assert p.generect_charged == pytest.approx(0.02 * 25)  # 25 leads bought, within the budget
    # The pull is complete: the file-drop sensor's next tick ingests the batch (a run of its own).
    assert p.drain("file_drop_sensor") == [("ingest_job", request.partition_key, True)]
    with p.engine.connect() as conn:
        pulled = conn.execute(
            text("SELECT COUNT(DISTINCT lead_id) FROM icp_prospects")
        ).scalar_one()
        std = conn.execute(
            text(
                "SELECT COUNT(*) FROM standardized_leads WHERE source = 'generect' AND status = 'ok'"
            )
        ).scalar_one()
    assert pulled == 25 and std == 25
    # Re-running the pull pays nothing; the next tick pulls the next leads, never the same ones.
    assert (
        p.defs.resolve_job_def("prospect_job")
        .execute_in_process(instance=p.instance, partition_key=request.partition_key)
        .success
    )
    assert p.generect_charged == pytest.approx(0.02 * 25)
    nxt = tick(p, "generect_counts_sensor")
    assert nxt.run_requests and nxt.run_requests[0].partition_key != request.partition_key
    assert (
        p.defs.resolve_job_def("prospect_job")
        .execute_in_process(instance=p.instance, partition_key=nxt.run_requests[0].partition_key)
        .success
    )
    with p.engine.connect() as conn:
        audience = conn.execute(text("SELECT MAX(results_count) FROM icp_counts")).scalar_one()
        distinct = conn.execute(
            text("SELECT COUNT(DISTINCT lead_id) FROM icp_prospects")
        ).scalar_one()
        rows = conn.execute(text("SELECT COUNT(*) FROM icp_prospects")).scalar_one()
    assert distinct == rows == min(50, audience)  # new leads only: exclude_ids paging never re-buys


def test_credits_sensor_explains_why_batches_wait(pipeline_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    p = pipeline_factory(leedrush=LeedrushSandboxConfig(credits=10, time_scale=0.1))
    p.drop(lead_file(tmp_path / "a.csv", 40, seed=24, with_email=1.0))
    p.drain("file_drop_sensor")
    result = tick(p, "credits_sensor")
    # A skip that also observes the vendor state (issue 13): the reason and the observations.
    assert isinstance(result, dg.SensorResult) and result.skip_reason is not None
    assert "insufficient_credits" in result.skip_reason.skip_message
    observed = {e.asset_key.to_user_string(): e.metadata for e in result.asset_events}
    assert set(observed) == {"generect_balance", "leedrush_credits"}
    assert observed["leedrush_credits"]["credits_remaining"].value == 10
    assert observed["generect_balance"]["balance_usd"].value > 0
    p.sandbox.leedrush.state.sandbox.account.add_credits(100)
    result = tick(p, "credits_sensor")
    [request] = result.run_requests
    assert request.run_key == f"enrich:{keys(p)[0]}:r0"


def test_a_failed_pull_is_requested_again_and_keeps_what_it_bought(
    pipeline_factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    _one_icp_profile(tmp_path, monkeypatch)
    p = pipeline_factory(generect=GenerectSandboxConfig(balance=0.0))
    [request] = tick(p, "generect_counts_sensor").run_requests  # counting is free
    key = request.partition_key
    job = p.defs.resolve_job_def("prospect_job")
    # Run as the daemon runs a request: tagged with its run key.
    failed = job.execute_in_process(
        instance=p.instance,
        partition_key=key,
        tags={"dagster/run_key": request.run_key},
        raise_on_error=False,
    )
    assert not failed.success
    # The next tick asks for the pull again (a run key of its own, so the daemon launches it).
    [retry] = tick(p, "generect_counts_sensor").run_requests
    assert retry.partition_key == key and retry.run_key == f"prospect:{key}:r1"
    p.sandbox.generect.state.sandbox.account.balance = 50.0  # the account is topped up
    assert job.execute_in_process(
        instance=p.instance, partition_key=key, tags={"dagster/run_key": retry.run_key}
    ).success
    with p.engine.connect() as conn:
        pulled = conn.execute(text("SELECT COUNT(*) FROM icp_prospects")).scalar_one()
    assert pulled == 25
    # Done: no retry, and no new batch while this one waits to be ingested.
    assert isinstance(tick(p, "generect_counts_sensor"), dg.SkipReason)
