"""Issue 11: an ICP pull keeps every page it paid for, and a re-run buys no page twice."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from lead_assets.clients.errors import UpstreamError
from lead_assets.clients.generect import GenerectClient
from lead_assets_tests.enrichment.test_sensors import tick

PROFILE = (
    "profiles:\n  - name: vp_software\n    lead_criteria: {seniorities: [vp, director],"
    " company_industries: [Software Development]}\n    max_leads_per_pull: 30\n"
    "    budget_usd: 5.0\n"
)


def search_charges(p) -> list[dict]:  # type: ignore[no-untyped-def]
    return [c for c in p.sandbox.generect.state.sandbox.account.charges if "search" in c["type"]]


def pulled_ids(p) -> list[str]:  # type: ignore[no-untyped-def]
    with p.engine.connect() as conn:
        return [r[0] for r in conn.execute(text("SELECT lead_id FROM icp_prospects"))]


def test_a_pull_failing_on_its_third_page_keeps_two_and_a_rerun_buys_no_page_twice(
    pipeline_factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from lead_assets.pipeline import prospecting

    profiles = tmp_path / "icp.yaml"
    profiles.write_text(PROFILE)
    monkeypatch.setenv("LEAD_ASSETS_ICP_PROFILES", str(profiles))
    monkeypatch.setattr(prospecting, "PAGE_SIZE", 10)  # three pages of ten
    p = pipeline_factory()
    [request] = tick(p, "generect_counts_sensor").run_requests
    key = request.partition_key
    original = GenerectClient.search_leads
    calls = {"n": 0}

    def third_page_fails(self, criteria, **kw):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:
            raise UpstreamError("Generect answered 503 on every attempt")
        return original(self, criteria, **kw)

    monkeypatch.setattr(GenerectClient, "search_leads", third_page_fails)
    job = p.defs.resolve_job_def("prospect_job")
    assert not job.execute_in_process(
        instance=p.instance, partition_key=key, raise_on_error=False
    ).success
    kept = pulled_ids(p)
    assert len(kept) == len(set(kept)) == 20  # pages 1 and 2 were stored before page 3 was tried
    assert len(search_charges(p)) == 2
    assert p.generect_charged == pytest.approx(20 * 0.02)

    monkeypatch.setattr(GenerectClient, "search_leads", original)
    sent: list[list[str]] = []

    def watch(self, criteria, **kw):  # type: ignore[no-untyped-def]
        sent.append(list(kw.get("exclude_ids") or []))
        return original(self, criteria, **kw)

    monkeypatch.setattr(GenerectClient, "search_leads", watch)
    assert job.execute_in_process(instance=p.instance, partition_key=key).success
    assert sent and set(kept) <= set(sent[0])  # the re-run excluded what it already had
    ids = pulled_ids(p)
    assert len(ids) == len(set(ids)) == 30
    # By the sandbox's books: three pages, thirty leads, each bought once.
    assert len(search_charges(p)) == 3
    assert p.generect_charged == pytest.approx(30 * 0.02)
    assert job.execute_in_process(instance=p.instance, partition_key=key).success
    assert p.generect_charged == pytest.approx(30 * 0.02)  # a third run pays nothing


def test_a_pull_stops_at_the_usd_reserve_and_keeps_what_it_bought(
    pipeline_factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from lead_assets.pipeline import prospecting
    from lead_assets.sandbox.generect import GenerectSandboxConfig

    profiles = tmp_path / "icp.yaml"
    profiles.write_text(PROFILE)
    monkeypatch.setenv("LEAD_ASSETS_ICP_PROFILES", str(profiles))
    monkeypatch.setattr(prospecting, "PAGE_SIZE", 10)
    # $1.00 balance, $0.55 reserve: two pages of ten ($0.40) fit, a third ($0.20) would not.
    monkeypatch.setenv("LEAD_ASSETS_RESERVE_USD", "0.55")
    p = pipeline_factory(generect=GenerectSandboxConfig(balance=1.0))
    [request] = tick(p, "generect_counts_sensor").run_requests
    job = p.defs.resolve_job_def("prospect_job")
    assert not job.execute_in_process(
        instance=p.instance, partition_key=request.partition_key, raise_on_error=False
    ).success
    assert len(pulled_ids(p)) == 20 and p.generect_charged == pytest.approx(0.40)
