"""The Leedrush client against the sandbox: login, paging, batches, results, limits, faults."""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest

from lead_assets.clients.errors import InsufficientFundsError, ValidationError
from lead_assets.clients.leedrush import (
    Batch,
    LeedrushClient,
    email_status,
    plan_limits,
    verify_webhook,
)
from lead_assets.clients.spend import MemorySpendHook
from lead_assets.sandbox.leedrush_app import LeedrushSandboxConfig, create_leedrush_app
from lead_assets.sandbox.server import serve_in_thread
from lead_assets_tests.vendors.conftest import fast_policy

CSV = "email,first_name,last_name,company\n" + "".join(
    f"p{i}@acme{i % 4}.com,P{i},L{i},Acme {i % 4}\n" for i in range(40)
)


def client_for(env, hook: MemorySpendHook | None = None, **kwargs) -> LeedrushClient:  # type: ignore[no-untyped-def]
    url, _app, http = env
    return LeedrushClient(
        "demo@example.com",
        "demo-password",
        url,
        spend_hook=hook or MemorySpendHook(),
        policy=fast_policy(throttled_wait=0.01),
        http=http,
        **kwargs,
    )


def wait_terminal(client: LeedrushClient, batch_id: str, timeout: float = 20) -> Batch:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = client.find_batches(batch_ids={batch_id})
        if batch_id in found and found[batch_id].terminal:
            return found[batch_id]
        time.sleep(0.1)
    raise AssertionError("batch did not finish")


def test_mappings_and_signature() -> None:
    assert [
        email_status(s) for s in ("verified_deliverable", "catch_all_risky", "invalid", "mystery")
    ] == ["valid", "catch_all", "invalid", "unknown"]
    assert (
        plan_limits("professional").requests_per_minute == 120
        and plan_limits("gold").plan_id == "payg"
    )
    body = b'{"event":"batch.completed"}'
    assert verify_webhook("k", body, hmac.new(b"k", body, hashlib.sha256).hexdigest())
    assert not verify_webhook("k", body, "00" * 32)
    assert (
        Batch.from_json(
            {"batch_id": "b", "status": "completed", "leads_processed": 10, "leads_qualified": 7}
        ).rows_qualified
        == 7
    )


def test_full_batch_lifecycle_and_credit_accounting(leedrush_env) -> None:  # type: ignore[no-untyped-def]
    hook = MemorySpendHook()
    client = client_for(leedrush_env, hook)
    sub = client.subscription()
    assert sub["plan_id"] == "starter" and client.limits.requests_per_minute == 60
    up = client.upload("2026-11-22T0630Z-demo-abc123-0001.csv", CSV.encode())
    assert up["rows_detected"] == 40
    sub_before = sub["credits_remaining"]
    submission = client.process(up["filename"], rows=40, request_key="batch-1")
    assert submission.rows_total == 40 and submission.credits_charged == 40
    batch = wait_terminal(client, submission.batch_id)
    assert batch.status == "completed" and batch.rows_total == 40
    leads = client.download(submission.batch_id)
    assert len(leads) == batch.rows_qualified > 0
    assert all(lead.email and lead.email_status == "valid" for lead in leads)
    assert client.credits_remaining() == sub_before - 40
    assert hook.total("leedrush", "credits") == 40


def test_both_batches_shapes_and_paging(leedrush_env) -> None:  # type: ignore[no-untyped-def]
    client = client_for(leedrush_env)
    ids = []
    for i in range(3):
        up = client.upload(f"f{i}.csv", CSV.encode())
        ids.append(client.process(up["filename"], rows=40, request_key=f"k{i}").batch_id)
    paged = list(client.iter_batches(page_size=2))
    assert {b.batch_id for b in paged} == set(ids)  # three batches over two pages
    app = leedrush_env[1]
    app.state.sandbox.config.batches_shape = "array"
    assert {b.batch_id for b in client.iter_batches(page_size=2)} == set(
        ids
    )  # the bare array works too


def test_relogin_once_on_expired_token() -> None:
    app = create_leedrush_app(LeedrushSandboxConfig(jwt_lifetime_s=1))
    with serve_in_thread(app) as url:
        client = LeedrushClient("demo@example.com", "demo-password", url, policy=fast_policy())
        client.subscription()
        time.sleep(2.1)
        client.subscription()
        assert app.state.sandbox.stats["logins"] == 2
        assert "demo-password" not in repr(client) and "eyJ" not in repr(client)


def test_limits_checked_before_sending_and_refusals_release(leedrush_env) -> None:  # type: ignore[no-untyped-def]
    hook = MemorySpendHook()
    client = client_for(leedrush_env, hook)
    client.subscription()
    with pytest.raises(ValidationError, match="rows per batch"):
        client.process("x.csv", rows=30_000, request_key="big")
    assert hook.entries == {}  # refused before any reservation
    app = leedrush_env[1]
    app.state.sandbox.account.credits_remaining = 10
    up = client.upload("small.csv", CSV.encode())
    with pytest.raises(InsufficientFundsError):
        client.process(up["filename"], rows=40, request_key="poor")
    assert [e.state for e in hook.entries.values()] == ["released"]


def test_rate_limit_retry_after_is_honoured() -> None:
    app = create_leedrush_app(LeedrushSandboxConfig(plan="payg"))
    with serve_in_thread(app) as url:
        waits: list[float] = []
        client = LeedrushClient(
            "demo@example.com",
            "demo-password",
            url,
            plan="enterprise",  # no client-side limiter
            policy=fast_policy(sleep=lambda s: waits.append(s) or time.sleep(0)),
        )
        for _ in range(35):
            try:
                client.subscription()
            except Exception:
                break
        assert app.state.sandbox.stats["rate_limited"] > 0
        assert any(w > 0.01 for w in waits)  # Retry-After (capped for the test) was used


def test_plan_gated_endpoints_tolerate_403(leedrush_env) -> None:  # type: ignore[no-untyped-def]
    client = client_for(leedrush_env)
    assert client.cache_stats() is None and client.multi_source("a@b.com") is None
    leedrush_env[1].state.sandbox.account.plan = "professional"
    assert client.cache_stats()["l1_cache"]["hit_rate"] == 0.94
    assert client.multi_source("a@b.com")["lead"]["email"] == "a@b.com"


def test_json_results_and_underscore_csv_headers() -> None:
    from lead_assets.clients.leedrush import _qualified

    row = {
        "status": "QUALIFIED",
        "score": "98.5",
        "account_name": "TechFlow",
        "account_domain": "techflow.com",
        "account_signals": "Series B;Hiring",
        "contact_email": "Sarah@TechFlow.com",
        "contact_email_status": "verified_deliverable",
        "dedup_confidence": "0.99",
    }
    lead = _qualified(row)
    assert (
        lead.email == "sarah@techflow.com"
        and lead.signals == ["Series B", "Hiring"]
        and lead.score == 98.5
    )


def test_failed_batch_is_terminal(leedrush_env) -> None:  # type: ignore[no-untyped-def]
    client = client_for(leedrush_env)
    up = client.upload("will_fail.csv", CSV.encode())
    batch = wait_terminal(client, client.process(up["filename"], rows=40, request_key="f").batch_id)
    assert batch.status == "failed" and batch.terminal


def test_batch_under_faults_completes_without_double_charge() -> None:
    app = create_leedrush_app(LeedrushSandboxConfig(fault_rate=0.10, fault_seed=5, time_scale=0.2))
    app.state.sandbox.faults.kinds = ("429", "500", "502")
    with serve_in_thread(app) as url:
        hook = MemorySpendHook()
        client = LeedrushClient(
            "demo@example.com",
            "demo-password",
            url,
            spend_hook=hook,
            policy=fast_policy(max_attempts=15, throttled_wait=0.01),
        )
        for i in range(5):
            up = client.upload(f"part{i}.csv", CSV.encode())
            submission = client.process(up["filename"], rows=40, request_key=f"p{i}")
            wait_terminal(client, submission.batch_id)
            assert client.download(submission.batch_id)
    assert sum(app.state.sandbox.faults.injected.values()) > 0
    charged = sum(c["credits"] for c in app.state.sandbox.account.charges)
    assert charged == 200 == hook.total("leedrush", "credits")
