"""Issue 5's money guarantees, end to end against the sandbox and a real Dagster instance."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from lead_assets.clients.generect import GenerectClient
from lead_assets.sandbox.leedrush import LeedrushSandboxConfig
from lead_assets_tests.enrichment.conftest import lead_file


def ledger_total(engine, unit: str = "usd") -> float:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return float(
            conn.execute(
                text(
                    "SELECT COALESCE(SUM(amount), 0) FROM spend_ledger WHERE state = 'settled' AND unit = :u"
                ),
                {"u": unit},
            ).scalar_one()
        )


def batch_keys(engine) -> list[str]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return [
            r[0]
            for r in conn.execute(
                text("SELECT batch_key FROM lead_batches ORDER BY batch_key")
            ).all()
        ]


def test_rerun_and_backfill_leave_the_ledger_unchanged(pipeline_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    p = pipeline_factory()
    p.drop(lead_file(tmp_path / "a.csv", 60, seed=1))
    p.drop(lead_file(tmp_path / "b.csv", 40, seed=2))
    runs = p.drain()
    assert all(ok for _, _, ok in runs) and {j for j, _, _ in runs} == {
        "ingest_job",
        "enrich_job",
        "collect_job",
    }
    spent_usd, spent_credits = ledger_total(p.engine), ledger_total(p.engine, "credits")
    vendor_usd, vendor_credits = p.generect_charged, p.leedrush_charged
    assert (
        spent_usd == pytest.approx(vendor_usd)
        and spent_usd > 0
        and spent_credits == vendor_credits > 0
    )
    # Re-run one batch and backfill every batch through both paid jobs.
    for key in batch_keys(p.engine):
        for job in ("enrich_job", "collect_job"):
            assert (
                p.defs.resolve_job_def(job)
                .execute_in_process(instance=p.instance, partition_key=key)
                .success
            )
    assert p.generect_charged == pytest.approx(vendor_usd)  # the vendor was not paid again
    assert p.leedrush_charged == vendor_credits
    assert (
        ledger_total(p.engine) == pytest.approx(spent_usd)
        and ledger_total(p.engine, "credits") == spent_credits
    )


def test_killed_run_pays_only_for_what_was_not_bought(
    pipeline_factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    reference = pipeline_factory()
    reference.drop(lead_file(tmp_path / "ref.csv", 160, seed=3, with_email=0.7))
    reference.drain()
    full_price = reference.generect_charged

    p = pipeline_factory()
    p.drop(lead_file(tmp_path / "ref.csv", 160, seed=3, with_email=0.7))
    p.drain("file_drop_sensor")  # ingest only
    calls = {"n": 0}
    original = GenerectClient.validate_emails

    def dies_on_second_chunk(self, emails, **kw):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise SystemExit("worker killed")  # the process dies mid-enrichment
        return original(self, emails, **kw)

    monkeypatch.setattr(GenerectClient, "validate_emails", dies_on_second_chunk)
    key = batch_keys(p.engine)[0]
    with pytest.raises(SystemExit):
        p.defs.resolve_job_def("enrich_job").execute_in_process(
            instance=p.instance, partition_key=key, raise_on_error=True
        )
    partial = p.generect_charged
    assert 0 < partial < full_price
    monkeypatch.setattr(GenerectClient, "validate_emails", original)
    assert (
        p.defs.resolve_job_def("enrich_job")
        .execute_in_process(instance=p.instance, partition_key=key)
        .success
    )
    assert p.generect_charged == pytest.approx(full_price)  # the second run bought only the rest


def test_credits_for_two_and_a_half_batches_run_two(pipeline_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    p = pipeline_factory(leedrush=LeedrushSandboxConfig(credits=250, time_scale=0.1))
    for i in range(4):
        p.drop(lead_file(tmp_path / f"part{i}.csv", 100, seed=10 + i, with_email=1.0))
    p.drain("file_drop_sensor")
    runs = p.drain("credits_sensor", "leedrush_status_sensor")
    enriched = sorted(k for j, k, ok in runs if j == "enrich_job" and ok)
    assert len(enriched) == 2 and enriched == batch_keys(p.engine)[:2]  # oldest first
    assert p.leedrush_charged == 200
    with p.engine.connect() as conn:
        waiting = conn.execute(
            text("SELECT COUNT(*) FROM lead_batches WHERE state = 'ingested'")
        ).scalar_one()
    assert waiting == 2  # still visible as waiting partitions
    p.sandbox.leedrush.state.sandbox.account.add_credits(1000)
    runs = p.drain("credits_sensor", "leedrush_status_sensor")
    assert sorted(k for j, k, ok in runs if j == "enrich_job" and ok) == batch_keys(p.engine)[2:]
    assert p.leedrush_charged == 400


def test_402_mid_run_stops_all_spending_and_keeps_what_was_paid(
    pipeline_factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    p = pipeline_factory()
    p.drop(lead_file(tmp_path / "big.csv", 400, seed=4, with_email=1.0))
    p.drain("file_drop_sensor")
    key = batch_keys(p.engine)[0]
    account = p.sandbox.generect.state.sandbox.account
    original = GenerectClient.validate_emails
    calls = {"n": 0, "after_402": 0}

    def someone_else_spends_the_balance(self, emails, **kw):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if account.balance < 0.25:
            calls["after_402"] += 1
        result = original(self, emails, **kw)
        account.balance = 0.10  # another team's job drains the account meanwhile
        return result

    monkeypatch.setattr(GenerectClient, "validate_emails", someone_else_spends_the_balance)
    result = p.defs.resolve_job_def("enrich_job").execute_in_process(
        instance=p.instance, partition_key=key, raise_on_error=False
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "Insufficient funds" in failure.event_specific_data.error.message
    assert (
        calls["after_402"] <= 4
    )  # at most the calls already in flight on the 4 workers; then nothing
    paid = account.total_charged
    assert paid > 0 and ledger_total(p.engine) == pytest.approx(
        paid
    )  # every paid call is in the ledger
    with p.engine.connect() as conn:
        state, rnd = conn.execute(
            text("SELECT state, enrich_round FROM lead_batches WHERE batch_key = :k"), {"k": key}
        ).one()
        cached = conn.execute(
            text("SELECT COUNT(*) FROM api_cache WHERE operation = 'email_validate'")
        ).scalar_one()
    assert state == "waiting_credits" and rnd == 1
    assert cached == round(paid / 0.005)  # nothing paid for is lost: every bought verdict is cached
    # Credits come back: the credits sensor starts round 2, which buys only what is missing.
    monkeypatch.setattr(GenerectClient, "validate_emails", original)
    account.balance = 100.0
    runs = p.drain("credits_sensor", "leedrush_status_sensor")
    assert any(j == "enrich_job" and ok for j, _, ok in runs)
    with p.engine.connect() as conn:
        validated = conn.execute(
            text("SELECT COUNT(*) FROM api_cache WHERE operation = 'email_validate'")
        ).scalar_one()
        spent_on_validation = conn.execute(
            text(
                "SELECT SUM(amount) FROM spend_ledger WHERE operation = 'email_validate' AND state = 'settled'"
            )
        ).scalar_one()
    assert validated == 400 and spent_on_validation == pytest.approx(
        0.005 * 400
    )  # each address paid once


def test_plan_estimate_is_within_five_percent(pipeline_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from lead_assets.pipeline.planning import plan_waiting_batches

    p = pipeline_factory()
    # A realistic list spans many companies; with few domains the per-domain catch-all draw dominates.
    p.drop(lead_file(tmp_path / "est.csv", 800, seed=5, with_email=0.5, domains=800))
    p.drain("file_drop_sensor")
    resources = {
        k: p.defs.resources[k].process_config_and_initialize() for k in ("generect", "leedrush")
    }
    plan = plan_waiting_batches(p.engine, resources["generect"], resources["leedrush"])
    assert len(plan.launch) == 1 and p.generect_charged == 0  # planning spends nothing
    estimate = plan.launch[0].estimate
    p.drain("credits_sensor", "leedrush_status_sensor")
    assert estimate.usd == pytest.approx(p.generect_charged, rel=0.05)
    assert estimate.credits == pytest.approx(p.leedrush_charged, rel=0.05)


def test_a_started_leedrush_batch_is_adopted_not_bought_again(
    pipeline_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    p = pipeline_factory()
    p.drop(lead_file(tmp_path / "adopt.csv", 30, seed=6, with_email=1.0))
    p.drain("file_drop_sensor")
    key = batch_keys(p.engine)[0]
    assert (
        p.defs.resolve_job_def("enrich_job")
        .execute_in_process(instance=p.instance, partition_key=key)
        .success
    )
    credits = p.leedrush_charged
    # The worker died after Leedrush accepted the batch but before the warehouse recorded it.
    with p.engine.begin() as conn:
        conn.execute(text("DELETE FROM leedrush_submissions WHERE batch_key = :k"), {"k": key})
    assert (
        p.defs.resolve_job_def("enrich_job")
        .execute_in_process(instance=p.instance, partition_key=key)
        .success
    )
    assert p.leedrush_charged == credits  # found by its deterministic upload name, not bought again
    with p.engine.connect() as conn:
        detail = conn.execute(
            text("SELECT detail FROM leedrush_submissions WHERE batch_key = :k"), {"k": key}
        ).scalar_one()
    assert detail == "adopted after an interrupted run"
