"""Blocking asset checks on a real instance with the sandbox over real HTTP: a clean batch passes
every check and is exported; a batch whose emails are 60 % undeliverable is stopped before
export by ``enriched_leads.email_deliverable_rate``, and the run-failure alert reaches a local
webhook receiver with the batch, the reason and a run link, and no email address."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import text

from lead_assets.sandbox.world import h
from lead_assets_tests.enrichment.conftest import lead_file


def undeliverable_file(path: Path, n: int, bad_share: float) -> Path:
    """A CSV of ``n`` leads with emails; ``bad_share`` of them are addresses the Generect
    sandbox's validator answers ``invalid`` for (its verdict is a stable hash of the address,
    and domains it treats as catch-all are avoided)."""
    bad_target = int(n * bad_share)
    lines = ["first_name,last_name,email,company,website,title,country"]
    bad = good = i = 0
    while bad + good < n:
        i += 1
        domain = f"bounce{i % 29}.com"
        if h("catchall", domain) % 100 < 8:  # the sandbox's catch-all domains answer catch_all
            continue
        email = f"lee{i}@{domain}"
        bucket = h("validate", email) % 100
        is_bad = 75 <= bucket < 88
        if (is_bad and bad < bad_target) or (bucket < 75 and good < n - bad_target):
            bad += is_bad
            good += not is_bad
            lines.append(f"Pat{i},Lee{i},{email},Bounce {i % 29},{domain},VP Sales,USA")
    path.write_text("\n".join(lines) + "\n")
    return path


def check_results(instance: dg.DagsterInstance, key: str) -> dict[str, tuple[bool, str]]:
    """check name -> (passed, why) of the latest evaluation per check for the batch."""
    out: dict[str, tuple[bool, str]] = {}
    for run in instance.get_runs(filters=dg.RunsFilter(tags={"dagster/partition": key})):
        for record in instance.get_records_for_run(
            run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
        ).records:
            ev = record.event_log_entry.dagster_event.event_specific_data
            out[f"{ev.asset_key.to_user_string()}.{ev.check_name}"] = (
                ev.passed,
                ev.description or "",
            )
    return out


def batch_keys(p) -> list[str]:  # type: ignore[no-untyped-def]
    with p.engine.connect() as conn:
        return [r[0] for r in conn.execute(text("SELECT batch_key FROM lead_batches ORDER BY 1"))]


def exported(p, key: str) -> bool:  # type: ignore[no-untyped-def]
    return bool(
        p.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey("lead_exports"), asset_partitions=[key]),
            limit=1,
        ).records
    )


def test_clean_batch_passes_every_check_and_is_exported(pipeline_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    p = pipeline_factory()
    p.drop(lead_file(tmp_path / "clean.csv", 80, seed=31, with_email=0.5))
    runs = p.drain()
    assert runs and all(ok for _, _, ok in runs), runs
    [key] = batch_keys(p)
    assert exported(p, key)
    results = check_results(p.instance, key)
    blocking = {
        "standardized_leads.rejected_share",
        "standardized_leads.required_columns",
        "standardized_leads.no_row_lost",
        "enriched_leads.email_deliverable_rate",
        "deduplicated_accounts.largest_cluster",
        "deduplicated_accounts.clusters_mixing_organizations",
        "qualified_leads.every_row_has_reason",
        "qualified_leads.every_row_accounted_for",
    }
    assert blocking <= set(results), sorted(results)
    assert all(results[name][0] for name in blocking), results
    assert "raw rows are accounted for" in results["standardized_leads.no_row_lost"][1]
    # The enrichment metadata tells the truth: paid calls beside the spend, balance after.
    [record] = p.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("generect_enrichment"), asset_partitions=[key]),
        limit=1,
    ).records
    meta = {k: v.value for k, v in record.asset_materialization.metadata.items()}
    assert meta["spend_usd"] > 0 and meta["paid_calls"] > 0
    assert meta["generect_balance_after_usd"] == pytest.approx(
        meta["generect_balance_before_usd"] - meta["spend_usd"], abs=1e-6
    )


def test_undeliverable_batch_is_blocked_before_export_and_alerted(
    pipeline_factory, tmp_path: Path, alert_receiver
) -> None:  # type: ignore[no-untyped-def]
    p = pipeline_factory()
    sensor = p.defs.resolve_sensor_def("run_failure_alert_sensor")

    def alert_tick(cursor: str | None) -> str | None:
        context = dg.build_sensor_context(
            instance=p.instance, cursor=cursor, definitions=p.defs, resources=dict(p.defs.resources)
        )
        sensor.evaluate_tick(context)
        return context.cursor

    cursor = alert_tick(None)  # a run-status sensor starts watching from its first tick
    p.drop(undeliverable_file(tmp_path / "bouncy.csv", 100, 0.6))
    runs = p.drain()
    [key] = batch_keys(p)
    assert ("collect_job", key, False) in runs, runs
    results = check_results(p.instance, key)
    passed, why = results["enriched_leads.email_deliverable_rate"]
    assert not passed
    assert "60 of 100 emails (60.0 %) are undeliverable" in why and "not exported" in why
    # Blocked: nothing downstream of the failed check was materialized or written.
    assert not exported(p, key)
    for asset in ("deduplicated_accounts", "qualified_leads"):
        assert not p.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[key]), limit=1
        ).records
    outbox = tmp_path / "p0" / "outbox"
    assert not (outbox / key).exists()
    # Blocked in the warehouse too: the collect is not resumed as if its run had died, and the
    # summary gives every ok row an outcome (failed) with the check's sentence as the reason.
    assert [r for r in runs if r[0] == "collect_job"] == [("collect_job", key, False)], runs
    from lead_assets.pipeline.summary import batch_figures

    figures = batch_figures(p.engine, key)
    assert figures["failed"] == figures["ok"] > 0
    assert figures["blocked"].startswith("blocked by enriched_leads.email_deliverable_rate: 60 of")
    # The alert: batch, reason, run link; no PII.
    alert_tick(cursor)
    body = alert_receiver.wait(lambda b: b["lead_assets"].get("batch_key") == key)
    facts = body["lead_assets"]
    assert facts["kind"] == "check_failure" and facts["job"] == "collect_job"
    assert "email_deliverable_rate" in facts["reason"] and "undeliverable" in facts["reason"]
    assert facts["run_url"].endswith(f"/runs/{facts['run_id']}")
    assert "@" not in body["text"] and "@" not in facts["reason"]


def test_a_batch_blocked_at_standardization_is_never_enriched(
    pipeline_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Dagster blocks the rest of the ingest run only; the paid stage is another run, started by
    the credits sensor from the warehouse state, so the block must be recorded there (money)."""
    p = pipeline_factory()
    path = tmp_path / "mostly_junk.csv"
    good = [f"p{i}@acme{i}.com,Pat,Lee{i},Acme {i}" for i in range(10)]
    junk = [",,,Head of Nothing" for _ in range(20)]  # no email, no name: rejected
    path.write_text("email,first_name,last_name,title\n" + "\n".join(good + junk) + "\n")
    p.drop(path)
    runs = p.drain()
    [key] = batch_keys(p)
    assert runs == [("ingest_job", key, False)], runs  # no enrich run followed
    assert p.generect_charged == 0 and p.leedrush_charged == 0
    from lead_assets.pipeline.summary import batch_figures

    figures = batch_figures(p.engine, key)
    assert (figures["ok"], figures["rejected"], figures["failed"]) == (10, 20, 10)
    assert figures["blocked"].startswith("blocked by standardized_leads.rejected_share")
