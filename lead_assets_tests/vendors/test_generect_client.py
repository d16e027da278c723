"""The Generect client against the sandbox: contract rules, money, errors, faults."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from lead_assets.clients.errors import (
    AmbiguousChargeError,
    AuthenticationError,
    InsufficientFundsError,
    ValidationError,
)
from lead_assets.clients.generect import (
    GenerectClient,
    clean_key,
    email_status,
    lead_id_of,
    parse_count,
    verify_webhook,
)
from lead_assets.clients.spend import MemorySpendHook
from lead_assets.sandbox.generect_app import GenerectSandboxConfig, create_generect_app
from lead_assets.sandbox.server import serve_in_thread
from lead_assets_tests.vendors.conftest import fast_policy


def client_for(
    env, key: str = "test_sandbox", hook: MemorySpendHook | None = None
) -> GenerectClient:  # type: ignore[no-untyped-def]
    url, _app, http = env
    return GenerectClient(
        key, url, spend_hook=hook or MemorySpendHook(), policy=fast_policy(), http=http
    )


def test_adapters_and_key_cleaning() -> None:
    assert clean_key("Token abc") == clean_key("Bearer abc") == clean_key(" abc ") == "abc"
    assert parse_count({"results_count": 3}) == 3 and parse_count({"count": 4}) == 4
    assert parse_count({"results_count": "within limit"}) is None
    assert (
        lead_id_of({"lead_id": "a"}) == "a"
        and lead_id_of({"id": "b"}) == "b"
        and lead_id_of({"sales_id": 7}) == "7"
    )
    assert (
        email_status("valid", True) == "catch_all"
        and email_status("SMTP") == "unknown"
        and email_status("catch-all") == "catch_all"
    )
    assert email_status("valid", "false") == "valid"


def test_webhook_signature_is_base64_hmac() -> None:
    body = b'{"event":"email.find.bulk.completed"}'
    good = base64.b64encode(hmac.new(b"s3cret", body, hashlib.sha256).digest()).decode()
    assert verify_webhook("s3cret", body, good)
    assert not verify_webhook("s3cret", body + b" ", good)
    assert not verify_webhook(
        "s3cret", body, hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    )  # hex is Leedrush's


def test_count_is_free_and_pasted_prefix_is_stripped(generect_env) -> None:  # type: ignore[no-untyped-def]
    hook = MemorySpendHook()
    client = client_for(generect_env, key="Token test_sandbox", hook=hook)
    n = client.count_leads({"seniorities": ["CXO"], "locations": ["United States"], "limit_by": 50})
    assert isinstance(n, int) and n > 0
    assert hook.entries == {}  # counts never touch the ledger
    assert generect_env[1].state.sandbox.account.total_charged == 0


def test_seed_example_is_rejected_with_a_readable_error(generect_env) -> None:  # type: ignore[no-untyped-def]
    client = client_for(generect_env)
    seed = {
        "job_titles": ["CEO", "Founder"],
        "seniorities": ["CXO"],
        "locations": ["San Francisco, CA"],
        "company_industries": ["Software"],
        "company_headcounts": ["51-200"],
        "limit_by": 50,
    }
    with pytest.raises(ValidationError, match="San Francisco, CA"):
        client.count_leads(seed)


def test_local_validation_happens_before_any_call(generect_env) -> None:  # type: ignore[no-untyped-def]
    client = client_for(generect_env)
    before = generect_env[1].state.sandbox.stats["requests"]
    with pytest.raises(ValidationError, match="unknown seniority 'boss'"):
        client.count_leads({"seniorities": ["boss"]})
    with pytest.raises(ValidationError, match="realtime"):
        client.count_leads({"personas": [["x"]]})
    assert generect_env[1].state.sandbox.stats["requests"] == before
    assert client.check_lead_criteria({"company_headcounts": ["10001+", "10,000+"]})[
        "company_headcounts"
    ] == ["10 000+", "10 000+"]


def test_wrong_key_is_an_authentication_error_without_the_key(generect_env) -> None:  # type: ignore[no-untyped-def]
    client = client_for(generect_env, key="sk_live_SECRET123")
    with pytest.raises(AuthenticationError) as info:
        client.count_leads({"seniorities": ["vp"]})
    assert "SECRET123" not in str(info.value) and "SECRET123" not in repr(client)


def test_search_pages_with_exclude_ids_and_pays_what_the_sandbox_charges(generect_env) -> None:  # type: ignore[no-untyped-def]
    hook = MemorySpendHook()
    client = client_for(generect_env, hook=hook)
    criteria = {"seniorities": ["vp"], "company_industries": ["Software Development"]}
    total = client.count_leads(criteria)
    page = client.search_leads(criteria, max_rows=230, page_size=100)
    ids = [lead_id_of(r) for r in page.rows]
    assert len(ids) == len(set(ids)) == min(230, total)
    assert all("email" not in r for r in page.rows)
    assert page.amount_charged == pytest.approx(0.02 * len(ids))
    assert hook.total("generect") == pytest.approx(
        generect_env[1].state.sandbox.account.total_charged
    )
    more = client.search_leads(criteria, max_rows=50, exclude_ids=ids)
    assert not set(ids) & {lead_id_of(r) for r in more.rows}


def test_small_audience_never_pays_past_results_count(generect_env) -> None:  # type: ignore[no-untyped-def]
    client = client_for(generect_env)
    criteria = {
        "seniorities": ["intern"],
        "company_industries": ["Online Media"],
        "company_headcounts": ["1-10"],
    }
    total = client.count_leads(criteria)
    page = client.search_leads(criteria, max_rows=2000, page_size=2)
    assert len(page.rows) == total
    assert generect_env[1].state.sandbox.account.total_charged == pytest.approx(0.02 * total)


def test_email_find_validate_and_company_enrich(generect_env) -> None:  # type: ignore[no-untyped-def]
    hook = MemorySpendHook()
    client = client_for(generect_env, hook=hook)
    found = [
        client.find_email(first_name=f"Ann{i}", last_name="Lee", domain="acme-widgets.com")
        for i in range(10)
    ]
    hits = [f for f in found if f.email]
    assert hits and all(f.status == "valid" and f.amount_charged == 0.02 for f in hits)
    assert all(f.amount_charged == 0 for f in found if not f.email)  # a miss is free
    verdicts = client.validate_emails([f"p{i}@example.org" for i in range(120)])
    assert len(verdicts) == 120 and {v.status for v in verdicts} <= {
        "valid",
        "invalid",
        "catch_all",
        "unknown",
    }
    company = client.enrich_company(domain="acme-widgets.com")
    missing = [
        d for d in (f"zz{i}.com" for i in range(40)) if client.enrich_company(domain=d) is None
    ]
    assert company is None or company["domain"] == "acme-widgets.com"
    assert missing  # some domains are unknown and cost nothing
    charged = generect_env[1].state.sandbox.account.total_charged
    assert hook.total("generect") == pytest.approx(charged)
    assert charged == pytest.approx(
        0.02 * len(hits) + 0.005 * 120 + 0.02 * (1 + 40 - len(missing) - (company is None))
    )


def test_bulk_email_find_job_polls_to_completion(generect_env) -> None:  # type: ignore[no-untyped-def]
    hook = MemorySpendHook()
    client = client_for(generect_env, hook=hook)
    leads = [
        {"first_name": f"Bo{i}", "last_name": "Ray", "domain": "ray-labs.io"} for i in range(50)
    ]
    job = client.submit_email_find_bulk(leads)
    results = client.wait_email_find_bulk(job, poll_s=0.0)
    assert [r.input["first_name"] for r in results] == [x["first_name"] for x in leads]
    assert hook.total("generect") == pytest.approx(0.02 * sum(1 for r in results if r.email))
    with pytest.raises(ValueError):
        client.submit_email_find_bulk(leads + leads[:1])  # 51 items: refused before sending


def test_insufficient_funds_is_never_retried(generect_env) -> None:  # type: ignore[no-untyped-def]
    app = generect_env[1]
    app.state.sandbox.account.balance = 0.01
    hook = MemorySpendHook()
    client = client_for(generect_env, hook=hook)
    before = app.state.sandbox.stats["requests"]
    with pytest.raises(InsufficientFundsError, match="Insufficient funds"):
        client.validate_emails(["a@b.com", "c@d.com", "e@f.com"])
    assert app.state.sandbox.stats["requests"] == before + 1
    assert [e.state for e in hook.entries.values()] == ["released"]
    assert client.count_leads({"seniorities": ["vp"]}) > 0  # free calls keep working


def test_legacy_400_funds_is_recognised() -> None:
    app = create_generect_app(GenerectSandboxConfig(balance=0.0, legacy_400_funds=True))
    with serve_in_thread(app) as url:
        client = GenerectClient("test_sandbox", url, policy=fast_policy())
        with pytest.raises(InsufficientFundsError):
            client.find_email(first_name="A", last_name="B", domain="c.com")


def test_throttling_without_retry_after_backs_off_and_succeeds() -> None:
    app = create_generect_app(GenerectSandboxConfig(latency_s=0.05, caps={"company_enrich": 2}))
    with serve_in_thread(app) as url:
        client = GenerectClient(
            "test_sandbox",
            url,
            policy=fast_policy(max_attempts=50),
            concurrency={"company_enrich": 8},
        )
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(8) as pool:
            results = list(
                pool.map(
                    lambda d: client.enrich_company(domain=d), [f"site{i}.com" for i in range(24)]
                )
            )
        assert len(results) == 24
        assert (
            app.state.sandbox.stats["throttled"] > 0
            and client.throttled == app.state.sandbox.stats["throttled"]
        )
        assert app.state.sandbox.stats["max_inflight"]["company_enrich"] <= 2


@pytest.mark.parametrize("fault", ["drop", "malformed"])
def test_ambiguous_billable_failure_is_not_retried(fault: str) -> None:
    app = create_generect_app(GenerectSandboxConfig())
    with serve_in_thread(app) as url:
        hook = MemorySpendHook()
        client = GenerectClient("test_sandbox", url, spend_hook=hook, policy=fast_policy())
        client._http.headers["X-Generect-Test-Behaviour"] = fault
        before = app.state.sandbox.stats["requests"]
        with pytest.raises(AmbiguousChargeError):
            client.validate_emails(["a@b.com"])
        assert app.state.sandbox.stats["requests"] == before + 1  # one attempt, no second payment
        assert [e.state for e in hook.entries.values()] == ["unknown"]


def test_ten_thousand_leads_under_ten_percent_faults_no_double_charge() -> None:
    config = GenerectSandboxConfig(fault_rate=0.10, fault_seed=3, balance=1000.0)
    app = create_generect_app(config)
    app.state.sandbox.faults.kinds = ("429", "500", "502")  # answered failures: never billed
    with serve_in_thread(app) as url:
        hook = MemorySpendHook()
        client = GenerectClient(
            "test_sandbox", url, spend_hook=hook, policy=fast_policy(max_attempts=12)
        )
        emails = [f"lead{i}@company{i % 700}.com" for i in range(10_000)]
        verdicts = client.validate_emails(emails)
    assert [v.email for v in verdicts] == emails  # complete and in order
    assert sum(app.state.sandbox.faults.injected.values()) > 10  # faults really happened
    charged = app.state.sandbox.account.total_charged
    assert charged == pytest.approx(0.005 * 10_000)  # each address paid exactly once
    assert hook.total("generect") == pytest.approx(charged)
