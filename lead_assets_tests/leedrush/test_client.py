"""The client against the sandbox, over loopback HTTP and in process (``env`` runs each test on
both): login and re-login, upload/process/poll/download, paging, limits, plan gating, credits."""

from __future__ import annotations

import logging
import threading
import time

import httpx
import pytest

from lead_assets.clients.errors import (
    AuthenticationError,
    InsufficientFundsError,
    NotFoundError,
    RateLimitedError,
    ValidationError,
)
from lead_assets.clients.leedrush import BatchTooLargeError, ConcurrentBatchLimitError
from lead_assets.clients.spend import MemorySpendHook
from lead_assets.resources.leedrush import LeedrushResource
from lead_assets_tests.clients.harness import fast_policy
from lead_assets_tests.leedrush.conftest import (
    EMAIL,
    PASSWORD,
    Env,
    MakeEnv,
    leads_csv,
    wait_done,
)


def test_full_lifecycle_charges_once_and_returns_qualified_rows(env: Env) -> None:
    hook = MemorySpendHook()
    client = env.client(hook)
    sub = client.subscription()
    assert (sub.plan_id, sub.credits_remaining) == ("starter", 100_000)
    assert client.limits.requests_per_minute == 60
    submission = client.submit("leads.csv", leads_csv(60), run_id="run-1", request_key="b1")
    assert submission.filename == "leads--run-1.csv" and submission.rows_total == 60
    assert submission.status == "queued" and submission.batch_id.startswith("batch_")
    batch = wait_done(client, submission.batch_id)
    assert batch.status == "completed" and batch.rows_total == 60
    assert batch.quality_yield == round(100 * batch.rows_qualified / 60, 1)
    leads = client.download(submission.batch_id)
    assert len(leads) == batch.rows_qualified > 0
    assert all(lead.status == "QUALIFIED" and lead.email_status == "valid" for lead in leads)
    assert all(0 <= lead.score <= 100 and 0 <= lead.dedup_confidence <= 1 for lead in leads)
    phones = [lead for lead in leads if lead.phone]
    assert phones and all(lead.phone.startswith("+1-") for lead in phones)
    assert all(lead.phone_status_internal == "mobile" for lead in phones)
    assert client.credits_remaining() == 100_000 - 60
    assert env.sandbox.account.charged == 60 == hook.total("leedrush", "credits")
    usage = client.usage()
    assert usage.total_consumed == 60


def test_results_are_deterministic_and_json_matches_csv(env: Env) -> None:
    client = env.client()
    first = client.submit("a.csv", leads_csv(30), run_id="r1")
    second = client.submit("a.csv", leads_csv(30), run_id="r2")
    wait_done(client, first.batch_id), wait_done(client, second.batch_id)
    a, b = client.download(first.batch_id), client.download(second.batch_id)
    key = [(lead.email, lead.score, tuple(lead.signals)) for lead in a]
    assert key == [(lead.email, lead.score, tuple(lead.signals)) for lead in b]
    http = env.http or httpx.Client()
    token = http.post(env.url + "/api/auth/login", json={"email": EMAIL, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    as_json = http.get(
        f"{env.url}/api/download/{first.batch_id}",
        headers={**headers, "Accept": "application/json"},
    )
    as_csv = http.get(f"{env.url}/api/download/{first.batch_id}", headers=headers)
    assert as_json.headers["content-type"].startswith("application/json")
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.text.splitlines()[0].startswith("status,score,account.name,account.domain")
    assert [r["contact"]["email"] for r in as_json.json()] == [lead.email for lead in a]


def test_upload_names_are_unique_per_run_and_latest_upload_wins(env: Env) -> None:
    client = env.client()
    one = client.upload("leads.csv", leads_csv(5), run_id="run-1")
    again = client.upload("leads.csv", leads_csv(8), run_id="run-1")  # a retried upload
    other = client.upload("leads.csv", leads_csv(3), run_id="run-2")
    assert one.filename == again.filename != other.filename
    assert one.file_path != again.file_path and one.file_path.startswith("/uploads/")
    assert (one.rows_detected, again.rows_detected, other.rows_detected) == (5, 8, 3)
    submission = client.process(again.filename, rows=8, request_key="k")
    assert submission.rows_total == 8  # the latest upload of the name was processed


def test_upload_refusals_and_json_files(env: Env) -> None:
    client = env.client()
    with pytest.raises(ValidationError, match="email column"):
        client.upload("names.csv", b"name,company\nAda,Acme\n")
    with pytest.raises(ValidationError, match="decoded"):
        client.upload("bad.csv", b"email\n\xff\xfe\xfa@x.com\n")
    up = client.upload(
        "leads.json", b'[{"email": "a@b.com"}, {"email": "c@d.com"}]', "application/json"
    )
    assert up.rows_detected == 2 and up.filename.endswith(".json")
    with pytest.raises(NotFoundError):
        client.process("never-uploaded.csv", rows=1, request_key="missing")


def test_paging_both_shapes_and_query_validation(env: Env) -> None:
    client = env.client()
    ids = [client.submit(f"f{i}.csv", leads_csv(3), run_id="r").batch_id for i in range(5)]
    newest_first = [b.batch_id for b in client.iter_batches(page_size=2)]
    assert newest_first == ids[::-1]
    assert [b.batch_id for b in client.iter_batches(page_size=2, order="asc")] == ids
    env.sandbox.config.batches_shape = "array"  # the documented bare array
    assert [b.batch_id for b in client.iter_batches(page_size=2)] == ids[::-1]
    assert client.find_batch(ids[2]).batch_id == ids[2]
    http = env.http or httpx.Client()
    token = http.post(env.url + "/api/auth/login", json={"email": EMAIL, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    env.sandbox.config.batches_shape = "auto"
    assert isinstance(http.get(env.url + "/api/batches", headers=headers).json(), list)
    page = http.get(env.url + "/api/batches?limit=2&offset=4", headers=headers).json()
    assert (page["total"], page["limit"], page["offset"], page["has_more"]) == (5, 2, 4, False)
    for bad in ("limit=101", "offset=-1"):
        answer = http.get(f"{env.url}/api/batches?{bad}", headers=headers)
        assert answer.status_code == 422 and isinstance(answer.json()["detail"], list)


def test_bad_password_and_relogin_on_expired_token(make_env: MakeEnv) -> None:
    env: Env = make_env("loopback", jwt_lifetime_s=1)
    with pytest.raises(AuthenticationError, match="LEEDRUSH_EMAIL"):
        env.client(password="wrong").subscription()
    client = env.client()
    client.subscription()
    logins = env.sandbox.stats["logins"]
    time.sleep(1.1)  # the JWT expires (lifetime 1 s)
    client.subscription()
    assert env.sandbox.stats["logins"] == logins + 1 and client.relogins == 1
    assert PASSWORD not in repr(client) and "eyJ" not in repr(client)  # nor the token it holds


def test_threads_share_one_token(env: Env) -> None:
    client = env.client(plan="enterprise")
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(3):
                client.batches()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and env.sandbox.stats["logins"] == 1


def test_server_rpm_window_429_with_retry_after(make_env: MakeEnv) -> None:
    env: Env = make_env("loopback", plan="payg")
    waits: list[float] = []
    # The client thinks it is on enterprise (no limiter) so the server's window is what bites.
    client = env.client(
        plan="enterprise",
        policy=fast_policy(max_attempts=2, max_retry_after=120, sleep=waits.append),
    )
    with pytest.raises(RateLimitedError):
        for _ in range(31):
            client.batches()
    assert env.sandbox.stats["rate_limited"] >= 1
    assert waits and all(50 <= w <= 60 for w in waits)  # seconds until the oldest slot frees


def test_row_and_concurrency_limits_refused_before_sending(env: Env) -> None:
    hook = MemorySpendHook()
    client = env.client(hook)
    with pytest.raises(BatchTooLargeError, match="25,000 rows per batch"):
        client.process("big.csv", rows=25_001, request_key="big")
    for i in range(5):  # starter: 5 concurrent batches
        env.sandbox.config.time_scale = 50  # keep them running
        client.submit(f"c{i}.csv", leads_csv(2), run_id="r")
    processed = env.sandbox.stats["processed"]
    with pytest.raises(ConcurrentBatchLimitError, match="allows 5 at once"):
        client.submit("c5.csv", leads_csv(2), run_id="r")
    assert env.sandbox.stats["processed"] == processed
    assert [e.state for e in hook.entries.values()] == ["settled"] * 5


def test_sandbox_enforces_limits_itself(env: Env) -> None:
    """A client that skips its own checks meets the server's 422 and 429 + Retry-After."""
    env.sandbox.set_plan("payg")
    client = env.client(
        plan="enterprise", check_concurrency=False, policy=fast_policy(max_attempts=1)
    )
    up = client.upload("big.csv", leads_csv(10_001), run_id="r")
    with pytest.raises(ValidationError, match="at most 10000 rows per batch"):
        client.process(up.filename, rows=10_001, request_key="big")
    env.sandbox.config.time_scale = 50
    for i in range(3):
        client.submit(f"s{i}.csv", leads_csv(2), run_id="r")
    with pytest.raises(RateLimitedError) as info:
        client.submit("s3.csv", leads_csv(2), run_id="r")
    assert "allows 3 at once" in str(info.value)


def test_insufficient_credits_refused_released_not_retried(env: Env) -> None:
    hook = MemorySpendHook()
    client = env.client(hook)
    env.sandbox.account.credits_remaining = 10
    up = client.upload("poor.csv", leads_csv(40), run_id="r")
    with pytest.raises(InsufficientFundsError, match="Insufficient credits"):
        client.process(up.filename, rows=40, request_key="poor")
    assert [e.state for e in hook.entries.values()] == ["released"]
    assert env.sandbox.account.charged == 0 and env.sandbox.account.credits_remaining == 10
    env.sandbox.add_credits(100)
    assert client.process(up.filename, rows=40, request_key="poor-2").credits_charged == 40


def test_plan_gated_endpoints_return_none_below_tier(env: Env) -> None:
    client = env.client()
    assert client.cache_stats() is None
    assert client.predictive_status() is None
    assert client.multi_source("john.smith@techcorp.com") is None
    env.sandbox.set_plan("professional")
    assert client.cache_stats()["l1_cache"]["hit_rate"] == 0.94
    assert "patterns_detected" in client.predictive_status()
    result = client.multi_source("john.smith@techcorp.com")
    assert (
        result["lead"]["name"] == "John Smith"
        and 0 <= result["validation"]["confidence_score"] <= 1
    )
    fallback = env.client(paths={"multi_source": "/api/v2/nowhere"})
    assert fallback.multi_source("a@b.com")["lead"]["email"] == "a@b.com"


def test_failed_batches_are_terminal_and_not_downloadable(env: Env) -> None:
    client = env.client()
    failing = client.submit("will_fail.csv", leads_csv(4), run_id="r")
    batch = wait_done(client, failing.batch_id)
    assert batch.status == "failed" and batch.terminal and batch.error_reason
    with pytest.raises(ValidationError, match="failed"):
        client.download(failing.batch_id)
    with pytest.raises(NotFoundError):
        client.download("batch_nope")


def test_download_before_completion_is_409(make_env: MakeEnv) -> None:
    env: Env = make_env("in_process", time_scale=100)
    client = env.client()
    submission = client.submit("slow.csv", leads_csv(3), run_id="r")
    with pytest.raises(ValidationError, match="results are available once it is completed"):
        client.download(submission.batch_id)
    assert client.find_batch(submission.batch_id).status in ("queued", "processing")


def test_status_variety_mapped(make_env: MakeEnv) -> None:
    env: Env = make_env("in_process", status_variety=True)
    client = env.client()
    submission = client.submit("v.csv", leads_csv(80), run_id="r")
    wait_done(client, submission.batch_id)
    leads = client.download(submission.batch_id)
    assert {lead.email_status for lead in leads} == {"valid", "catch_all", "invalid", "unknown"}
    assert {lead.email_status_raw for lead in leads} == {
        "verified_deliverable",
        "catch_all_risky",
        "invalid",
        "unknown",
    }


def test_resource_hands_out_configured_clients(env: Env, caplog: pytest.LogCaptureFixture) -> None:
    resource = LeedrushResource(email=EMAIL, password=PASSWORD, base_url=env.url, plan="scale")
    client = resource.get_client(spend_hook=MemorySpendHook())
    assert client.limits.requests_per_minute == 120 and client.base_url == env.url
    if env.http is None:  # loopback only: the resource builds its own httpx client
        with caplog.at_level(logging.DEBUG):
            assert client.subscription().plan_id == "starter"
            assert client.limits.plan_id == "scale"  # LEEDRUSH_PLAN wins
        assert PASSWORD not in caplog.text and "eyJ" not in caplog.text
