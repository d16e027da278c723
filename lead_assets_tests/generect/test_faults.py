"""Under 10 % injected faults a 10,000-lead enrichment (bulk email find + 1,000 single finds +
validation of 10,000 addresses) completes with the same results as a clean run, in input order,
and pays every item exactly once (sandbox charges == spend hook)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from starlette.applications import Starlette

from lead_assets.clients.generect import GenerectClient
from lead_assets.clients.spend import MemorySpendHook
from lead_assets.sandbox.generect import GenerectSandboxConfig, create_generect_app
from lead_assets.sandbox.server import serve_in_thread
from lead_assets_tests.clients.harness import fast_policy

N = 10_000


def _leads(app: Starlette) -> list[dict]:
    """Half world members (by lead_id), half arbitrary people from a user's file."""
    people = app.state.sandbox.world.people
    out: list[dict] = []
    for i in range(N):
        if i % 2:
            out.append({"lead_id": people[i].lead_id})
        else:
            out.append({"first_name": f"Fn{i}", "last_name": "Ln", "domain": f"co{i % 900}.com"})
    return out


SINGLE = 1_000  # leads also sent one by one (the single-call path under the same faults)
EMAILS = [f"user{i}@co{i % 900}.com" for i in range(N)]  # the addresses validated
SLICE = 313  # addresses per validate_emails call: the client chunks each into 50s (+ a rest)


def _enrich(url: str, leads: list[dict], hook: MemorySpendHook) -> tuple[list, list, list, int]:
    """Bulk email find for every lead (jobs of 50), single finds for the first SINGLE leads,
    and validation of 10,000 addresses: 32 concurrent calls the client splits into chunks."""
    client = GenerectClient(
        "test_sandbox", url, spend_hook=hook, policy=fast_policy(max_attempts=12)
    )

    def bulk(part: list[dict]) -> list:
        return client.wait_email_find_bulk(client.submit_email_find_bulk(part), poll_s=0.0)

    with ThreadPoolExecutor(32) as pool:
        jobs = [leads[k : k + 50] for k in range(0, N, 50)]
        found = [f for part in pool.map(bulk, jobs) for f in part]
        single = list(pool.map(lambda lead: client.find_email(**lead), leads[:SINGLE]))
        slices = [EMAILS[k : k + SLICE] for k in range(0, N, SLICE)]
        verdicts = [v for part in pool.map(client.validate_emails, slices) for v in part]
    client.close()
    return found, single, verdicts, client.throttled


def test_ten_thousand_leads_under_ten_percent_faults_no_double_charge() -> None:
    faulty = create_generect_app(
        GenerectSandboxConfig(fault_rate=0.10, fault_seed=11, balance=10_000.0)
    )
    faulty.state.sandbox.faults.kinds = (
        "429",
        "500",
        "502",
        "slow",
    )  # answered or late: never ambiguous
    faulty.state.sandbox.faults.slow_seconds = 0.01
    clean = create_generect_app(GenerectSandboxConfig(balance=10_000.0))
    leads = _leads(clean)
    hook_faulty, hook_clean = MemorySpendHook(), MemorySpendHook()
    with serve_in_thread(faulty) as f_url, serve_in_thread(clean) as c_url:
        found, single, verdicts, throttled = _enrich(f_url, leads, hook_faulty)
        found_ref, single_ref, verdicts_ref, _ = _enrich(c_url, leads, hook_clean)
    injected = faulty.state.sandbox.faults.injected
    assert sum(injected.values()) > 100  # faults really happened, all kinds
    assert set(injected) == {"429", "500", "502", "slow"} and throttled > 0
    assert [(f.email, f.status) for f in found] == [(f.email, f.status) for f in found_ref]
    assert [(f.email, f.status) for f in single] == [(f.email, f.status) for f in single_ref]
    assert [f.email for f in single] == [f.email for f in found[:SINGLE]]  # same answer both ways
    assert [(v.email, v.status) for v in verdicts] == [(v.email, v.status) for v in verdicts_ref]
    assert [v.email for v in verdicts] == EMAILS  # complete and in input order
    charged = faulty.state.sandbox.account.total_charged
    hits = sum(1 for f in found_ref if f.email) + sum(1 for f in single_ref if f.email)
    expected = 0.02 * hits + 0.005 * N
    assert charged == pytest.approx(expected)  # every item paid exactly once
    assert hook_faulty.total("generect") == pytest.approx(charged)
    assert charged == pytest.approx(clean.state.sandbox.account.total_charged)
    states = {e.state for e in hook_faulty.entries.values()}
    assert states <= {"settled", "released"}  # nothing left unknown or reserved
