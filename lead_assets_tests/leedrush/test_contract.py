"""Contract tests built from the vendor page's own examples (shared/seeds/leedrush_api.txt),
served verbatim through ``httpx.MockTransport`` so the client is checked against what the real
API documents, not only against our sandbox."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from lead_assets.clients.errors import AmbiguousChargeError, NotEntitledError, ValidationError
from lead_assets.clients.leedrush import (
    PLANS,
    LeedrushBatch,
    LeedrushClient,
    RequestLimiter,
    email_status,
    parse_webhook_event,
    phone_status,
    plan_limits,
    unique_upload_name,
    verify_webhook,
)
from lead_assets.clients.spend import MemorySpendHook
from lead_assets_tests.clients.harness import fast_policy

BATCH_EXAMPLE = {
    "batch_id": "batch_a1b2c3d4",
    "status": "completed",
    "filename": "leads.csv",
    "rows_total": 500,
    "rows_qualified": 382,
    "rows_failed": 23,
    "quality_yield": 76.4,
    "created_at": "2026-03-19T11:00:00Z",
    "completed_at": "2026-03-19T11:04:37Z",
}
LEAD_EXAMPLE = {
    "status": "QUALIFIED",
    "score": 98.5,
    "account": {
        "name": "TechFlow Systems",
        "domain": "techflow.com",
        "signals": ["Series B", "Hiring"],
        "technologies": ["AWS", "Salesforce"],
    },
    "contact": {
        "full_name": "Sarah Miller",
        "title_normalized": "VP of Sales",
        "email": "sarah@techflow.com",
        "email_status": "verified_deliverable",
        "phone": "+1-555-0199",
        "phone_status": "mobile_active",
    },
    "dedup_confidence": 0.99,
}
SUBSCRIPTION_EXAMPLE = {
    "plan_id": "professional",
    "plan_name": "Professional",
    "credits_total": 5000,
    "credits_remaining": 3250,
    "billing_cycle_start": "2026-02-01",
    "billing_cycle_end": "2026-03-01",
    "status": "active",
}
WEBHOOK_EXAMPLE = {
    "event": "batch.completed",
    "batch_id": "batch_a1b2c3d4",
    "timestamp": "2026-03-21T11:00:00Z",
    "data": {
        "filename": "leads.csv",
        "rows_total": 500,
        "rows_qualified": 382,
        "rows_failed": 23,
        "quality_yield": 76.4,
        "processing_time_s": 47,
    },
}
TOKEN = "eyJhbGciOiJIUzI1NiJ9.e30.sig"


def mock_client(
    route: Callable[[httpx.Request], httpx.Response], **kwargs: Any
) -> tuple[LeedrushClient, list[httpx.Request]]:
    """A client whose HTTP goes to ``route`` (login answered here)."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/api/auth/login":
            return httpx.Response(200, json={"access_token": TOKEN})
        return route(request)

    kwargs.setdefault("policy", fast_policy())
    kwargs.setdefault("plan", "enterprise")  # no limiter unless a test wants one
    client = LeedrushClient(
        "you@company.com",
        "yourpassword",
        "https://leedrush.com",
        http=httpx.Client(transport=httpx.MockTransport(handler)),
        **kwargs,
    )
    return client, seen


def test_batches_bare_array_example_is_one_page() -> None:
    client, seen = mock_client(lambda r: httpx.Response(200, json=[BATCH_EXAMPLE]))
    [batch] = client.batches()
    assert batch == LeedrushBatch.from_json(BATCH_EXAMPLE)
    assert (batch.rows_qualified, batch.quality_yield, batch.terminal) == (382, 76.4, True)
    assert seen[-1].headers["authorization"] == f"Bearer {TOKEN}"
    assert len([r for r in seen if r.url.path == "/api/batches"]) == 1


def test_batches_envelope_pages_with_limit_offset() -> None:
    items = [{**BATCH_EXAMPLE, "batch_id": f"batch_{i:03d}"} for i in range(143)]

    def route(request: httpx.Request) -> httpx.Response:
        limit, offset = int(request.url.params["limit"]), int(request.url.params["offset"])
        assert limit <= 100 and "cursor" not in request.url.params  # limit/offset paging only
        page = items[offset : offset + limit]
        return httpx.Response(
            200,
            json={
                "items": page,
                "total": len(items),
                "limit": limit,
                "offset": offset,
                "has_more": offset + limit < len(items),
            },
        )

    client, seen = mock_client(route)
    assert [b.batch_id for b in client.batches()] == [b["batch_id"] for b in items]
    offsets = [r.url.params["offset"] for r in seen if r.url.path == "/api/batches"]
    assert offsets == ["0", "100"]
    assert client.find_batch("batch_142").batch_id == "batch_142"
    assert client.find_batch("batch_nope") is None


def test_phase3_leads_fields_map_to_rows() -> None:
    batch = LeedrushBatch.from_json(
        {
            "batch_id": "batch_123",
            "status": "completed",
            "leads_processed": 1000,
            "leads_qualified": 847,
            "phase3_metrics": {"cache_hit_rate": 0.94},
        }
    )
    assert (batch.rows_total, batch.rows_qualified) == (1000, 847)
    assert not LeedrushBatch.from_json({"batch_id": "b", "status": "weird"}).terminal


def test_download_json_schema_example_and_non_qualified_skipped() -> None:
    body = [LEAD_EXAMPLE, {**LEAD_EXAMPLE, "status": "DISQUALIFIED"}]
    client, _ = mock_client(lambda r: httpx.Response(200, json=body))
    [lead] = client.download("batch_a1b2c3d4")
    assert lead.status == "QUALIFIED" and lead.score == 98.5
    assert (lead.account_name, lead.account_domain) == ("TechFlow Systems", "techflow.com")
    assert lead.signals == ["Series B", "Hiring"] and lead.technologies == ["AWS", "Salesforce"]
    assert (lead.full_name, lead.title_normalized) == ("Sarah Miller", "VP of Sales")
    assert (lead.email, lead.email_status, lead.email_status_raw) == (
        "sarah@techflow.com",
        "valid",
        "verified_deliverable",
    )
    assert (lead.phone, lead.phone_status, lead.phone_status_internal) == (
        "+1-555-0199",
        "mobile_active",
        "mobile",
    )
    assert lead.dedup_confidence == 0.99


@pytest.mark.parametrize("sep", [".", "_"])
def test_download_csv_dotted_and_underscore_headers(sep: str) -> None:
    # The CSV columns are the JSON example's fields, nested ones as dotted paths.
    cols = [
        "status",
        "score",
        *(f"account.{k}" for k in LEAD_EXAMPLE["account"]),
        *(f"contact.{k}" for k in LEAD_EXAMPLE["contact"]),
        "dedup_confidence",
    ]
    header = ",".join(c.replace(".", sep) for c in cols)
    rows = [
        "QUALIFIED,98.5,TechFlow Systems,techflow.com,Series B;Hiring,AWS;Salesforce,"
        "Sarah Miller,VP of Sales,Sarah@TechFlow.com,verified_deliverable,+1-555-0199,"
        "mobile_active,0.99",
        "DISQUALIFIED,12,Other,other.com,,,Bob,,bob@other.com,invalid,,,0.5",
    ]
    csv_text = "\n".join([header, *rows]) + "\n"
    client, _ = mock_client(
        lambda r: httpx.Response(200, text=csv_text, headers={"content-type": "text/csv"})
    )
    [lead] = client.download("batch_a1b2c3d4")
    assert lead.email == "sarah@techflow.com" and lead.signals == ["Series B", "Hiring"]
    assert lead.technologies == ["AWS", "Salesforce"] and lead.score == 98.5
    assert lead.dedup_confidence == 0.99 and lead.email_status == "valid"


def test_subscription_example_sets_limits_and_override_wins() -> None:
    client, _ = mock_client(lambda r: httpx.Response(200, json=SUBSCRIPTION_EXAMPLE), plan=None)
    sub = client.subscription()
    assert (sub.plan_id, sub.credits_total, sub.credits_remaining) == ("professional", 5000, 3250)
    assert sub.plan_name == sub.raw["plan_name"] == "Professional"  # the raw JSON is kept
    assert (
        client.limits
        == PLANS["professional"]
        == plan_limits("scale").__class__("professional", 120, 10, 100_000)
    )
    overridden, _ = mock_client(
        lambda r: httpx.Response(200, json=SUBSCRIPTION_EXAMPLE), plan="payg"
    )
    overridden.subscription()
    assert overridden.limits.requests_per_minute == 30  # LEEDRUSH_PLAN beats the subscription


def test_plan_table_and_unknown_plan_is_strictest() -> None:
    assert plan_limits("starter") == PLANS["starter"]
    assert (PLANS["starter"].requests_per_minute, PLANS["starter"].concurrent_batches) == (60, 5)
    assert plan_limits("Gold").plan_id == "payg" and plan_limits(None).max_rows_per_batch == 10_000
    assert plan_limits("enterprise").requests_per_minute is None


def test_email_and_phone_status_mappings() -> None:
    raw = ["verified_deliverable", "catch_all_risky", "accept_all", "invalid", "undeliverable", "x"]
    assert [email_status(r) for r in raw] == [
        "valid",
        "catch_all",
        "catch_all",
        "invalid",
        "invalid",
        "unknown",
    ]
    assert [phone_status(r) for r in ("mobile_active", "landline", "voip", "disconnected", "")] == [
        "mobile",
        "landline",
        "voip",
        "invalid",
        "unknown",
    ]


def test_webhook_example_verifies_and_parses() -> None:
    body = json.dumps(WEBHOOK_EXAMPLE).encode()
    signature = hmac.new(b"your_webhook_secret", body, hashlib.sha256).hexdigest()
    assert verify_webhook("your_webhook_secret", body, signature)
    assert not verify_webhook("your_webhook_secret", body + b" ", signature)
    event = parse_webhook_event(body)
    assert event.dedup_key == ("batch.completed", "batch_a1b2c3d4", "2026-03-21T11:00:00Z")
    assert event.batch is not None and event.batch.rows_qualified == 382
    assert event.batch.status == "completed"
    with pytest.raises(ValueError):
        parse_webhook_event(b"not json")


def test_errors_are_readable_from_string_and_fastapi_list_details() -> None:
    def route(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/upload":
            return httpx.Response(422, json={"detail": "CSV has no recognised email column"})
        return httpx.Response(
            422,
            json={
                "detail": [
                    {"loc": ["query", "limit"], "msg": "ensure this value is <= 100", "type": "x"}
                ]
            },
        )

    client, _ = mock_client(route)
    with pytest.raises(ValidationError, match="no recognised email column"):
        client.upload("leads.csv", b"name\nx\n")
    with pytest.raises(ValidationError, match=r"query\.limit: ensure this value is <= 100"):
        client.batches()


def test_429_without_retry_after_waits_the_configured_60s() -> None:
    answers = iter([httpx.Response(429, json={"detail": "Rate limit exceeded"})])
    waits: list[float] = []
    client, _ = mock_client(
        lambda r: next(answers, httpx.Response(200, json=[])),
        policy=fast_policy(throttled_wait=60.0, sleep=waits.append),
    )
    assert client.batches() == []
    assert waits == [60.0]


def test_429_retry_after_header_is_honoured() -> None:
    answers = iter([httpx.Response(429, headers={"Retry-After": "7"}, json={"detail": "x"})])
    waits: list[float] = []
    client, _ = mock_client(
        lambda r: next(answers, httpx.Response(200, json=[])),
        policy=fast_policy(max_retry_after=120, sleep=waits.append),
    )
    client.batches()
    assert waits == [7.0]


def test_403_on_phase3_endpoints_is_none_and_multi_source_falls_back_on_404() -> None:
    def route(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/validation/multi-source":
            return httpx.Response(404, json={"detail": "Not Found"})
        if request.url.path == "/v1/validation/multi-source":
            return httpx.Response(200, json={"lead": {"email": request.url.params["email"]}})
        return httpx.Response(403, json={"detail": "Endpoint requires a higher plan tier"})

    client, seen = mock_client(route)
    assert client.cache_stats() is None and client.predictive_status() is None
    assert client.multi_source("john.smith@techcorp.com")["lead"]["email"] == (
        "john.smith@techcorp.com"
    )
    assert [r.url.path for r in seen][-2:] == [
        "/api/v1/validation/multi-source",
        "/v1/validation/multi-source",
    ]
    gated, _ = mock_client(lambda r: httpx.Response(403, json={"detail": "higher plan"}))
    assert gated.multi_source("a@b.com") is None
    with pytest.raises(NotEntitledError):
        gated.subscription()  # a 403 elsewhere is still an error


def test_timeout_after_process_sent_is_unknown_and_never_retried() -> None:
    calls = {"process": 0}

    def route(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/process":
            calls["process"] += 1
            raise httpx.ReadTimeout("timed out", request=request)
        return httpx.Response(200, json=[])  # the batch list never shows it

    hook = MemorySpendHook()
    client, _ = mock_client(route, spend_hook=hook, reconcile_grace_s=0.05)
    with pytest.raises(AmbiguousChargeError, match="may still have been billed"):
        client.process("leads--run1.csv", rows=10, request_key="k")
    assert calls["process"] == 1
    [entry] = hook.entries.values()
    assert entry.state == "unknown" and entry.estimate == 10


def test_success_without_batch_id_is_reconciled_from_the_list() -> None:
    listed = {**BATCH_EXAMPLE, "filename": "leads--run1.csv", "status": "queued"}

    def route(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/process":
            return httpx.Response(200, json={"status": "queued"})
        return httpx.Response(200, json=[listed])

    hook = MemorySpendHook()
    client, seen = mock_client(route, spend_hook=hook)
    submission = client.process("leads--run1.csv", rows=500, request_key="k")
    assert submission.reconciled and submission.batch_id == "batch_a1b2c3d4"
    assert [e.state for e in hook.entries.values()] == ["settled"]
    assert sum(r.url.path == "/api/process" for r in seen) == 1


def test_unique_upload_names() -> None:
    a = unique_upload_name("leads.csv", "run-1")
    assert a == "leads--run-1.csv" and unique_upload_name(a, "run-1") == a
    assert unique_upload_name("leads.csv", "run-2") != a
    assert unique_upload_name("../x/my leads.json", "r") == "my-leads--r.json"
    assert unique_upload_name("leads.csv") != unique_upload_name("leads.csv")


def test_request_limiter_never_exceeds_the_window() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    limiter = RequestLimiter(3, window_s=60.0, sleep=sleep, clock=lambda: now[0])
    for _ in range(3):
        limiter.acquire()
    assert slept == []
    limiter.acquire()  # the fourth waits for the first slot to leave the window
    assert now[0] == pytest.approx(60.0)
    assert RequestLimiter(None).acquire() is None


def test_secrets_never_in_repr_or_errors() -> None:
    client, _ = mock_client(lambda r: httpx.Response(401, json={"detail": "Invalid token"}))
    assert "yourpassword" not in repr(client) and TOKEN not in repr(client)
    with pytest.raises(Exception) as info:
        client.subscription()
    assert TOKEN not in str(info.value) and "yourpassword" not in str(info.value)
