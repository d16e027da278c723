"""The Generect client against the sandbox (loopback and in process): every contract rule the
client owns, money through the spend hook, errors, retries and concurrency."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
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
    request_key,
)
from lead_assets.clients.http_policy import RetryPolicy
from lead_assets.clients.spend import MemorySpendHook
from lead_assets.core.generect_vocabulary import normalize_headcount, normalize_seniority
from lead_assets.resources.generect import GenerectResource
from lead_assets.sandbox.generect import GenerectSandboxConfig, create_generect_app
from lead_assets.sandbox.server import serve_in_thread
from lead_assets_tests.clients.harness import fast_policy
from lead_assets_tests.generect.conftest import SEED_COUNT_EXAMPLE, Env


class Recorder:
    """An httpx.Client that remembers every request body it sent (to check wire placement)."""

    def __init__(self, base: httpx.Client | None = None) -> None:
        self.bodies: list[tuple[str, dict]] = []
        self.headers: list[httpx.Headers] = []
        self.http = base or httpx.Client(timeout=10)
        self.http.event_hooks["request"].append(self._record)

    def _record(self, request: httpx.Request) -> None:
        self.headers.append(request.headers)
        body = json.loads(request.content) if request.content else {}
        self.bodies.append((request.url.path, body))


# ---------------------------------------------------------------------------- pure adapters
def test_pure_adapters_vocab_and_keys() -> None:
    assert clean_key("  Token abc ") == clean_key("Bearer abc") == clean_key(" abc ") == "abc"
    assert parse_count({"results_count": 5}) == 5 and parse_count({"count": 7}) == 7
    assert parse_count({"results_count": "within limit"}) is None
    assert lead_id_of({"lead_id": "a", "id": "b"}) == "a"
    assert lead_id_of({"id": "b"}) == "b" and lead_id_of({"sales_id": "c"}) == "c"
    assert lead_id_of({"sales_id": 7}) == "7"  # ids are strings whatever the JSON type
    for raw, internal in [
        ("CXO", "c_suite"),
        ("c_suite", "c_suite"),
        ("Vice President", "vp"),
        ("VP", "vp"),
        ("In Training", "intern"),
        ("Entry Level", "entry"),
        ("director", "director"),
    ]:
        assert normalize_seniority(raw) == internal, raw
    assert normalize_seniority("boss") is None
    assert {normalize_headcount(x) for x in ("10001+", "10,000+", "10000+", "10 000+")} == {
        "10 000+"
    }
    assert email_status("valid") == "valid" and email_status("risky") == "unknown"
    assert email_status("valid", catch_all=True) == "catch_all"
    assert email_status("valid", True) == "catch_all"
    assert email_status("valid", "false") == "valid"  # a "false" string is not a catch-all
    assert email_status("catch-all") == "catch_all" and email_status("SMTP") == "unknown"
    assert email_status("do-not-mail") == "do_not_mail" and email_status(None) == "unknown"
    a = request_key("email_validate", {"emails": ["a@b.com"], "x": 1})
    assert a == request_key("email_validate", {"x": 1, "emails": ["a@b.com"]})  # canonical JSON
    assert a != request_key("email_validate", {"emails": ["c@d.com"], "x": 1})


def test_resource_hides_the_key_and_builds_a_client() -> None:
    res = GenerectResource(api_key="sk_live_TOPSECRET", concurrency={"lead_enrich": 7})
    client = res.get_client(MemorySpendHook())
    assert "TOPSECRET" not in repr(res) and "TOPSECRET" not in str(res)
    assert "TOPSECRET" not in repr(client)
    assert client.base_url == "https://api.generect.com"
    client.close()


# ------------------------------------------------------------------ wire rules and validation
def test_wire_rules_token_slash_limit_placement_and_count_bodies(env: Env) -> None:
    rec = Recorder(env.http)
    client = GenerectClient("Token test_sandbox", env.url, http=rec.http, policy=fast_policy())
    criteria = {"seniorities": ["Vice President"], "company_headcounts": ["10001+"], "limit_by": 9}
    client.count_leads(criteria)
    client.count_preview({"industries": ["Software Development"]}, {"seniorities": ["vp"]})
    client.preview_leads({"industries": ["Software Development"]}, {"seniorities": ["vp"]}, limit=5)
    client.search_company_leads(
        {"industries": ["Software Development"]}, {"seniorities": ["vp"]}, limit=4
    )
    assert all(h["authorization"] == "Token test_sandbox" for h in rec.headers)
    assert all(path.endswith("/") for path, _ in rec.bodies)
    (_, count), (_, pcount), (_, preview), (_, two_level) = rec.bodies
    assert "limit_by" not in count and "offset_by" not in count
    assert count["seniorities"] == ["vp"] and count["company_headcounts"] == ["10 000+"]
    assert "limit_by" not in pcount["lead_search_criteria"]
    assert preview["lead_search_criteria"]["limit_by"] == 5 and "limit_by" not in preview
    assert two_level["lead_search_criteria"]["limit_by"] == 4 and "limit_by" not in two_level


def test_count_is_free_and_pasted_prefix_is_stripped(env: Env) -> None:
    hook = MemorySpendHook()
    client = env.client(key="Token test_sandbox", hook=hook)
    n = client.count_leads({"seniorities": ["CXO"], "locations": ["United States"], "limit_by": 50})
    assert isinstance(n, int) and n > 0
    assert hook.entries == {}  # counts never touch the ledger
    assert env.state.account.total_charged == 0


def test_invalid_criteria_rejected_locally_before_any_call(env: Env) -> None:
    client = env.client()
    before = env.state.stats["requests"]
    for bad, words in [
        ({"seniorities": ["boss"]}, "unknown seniority 'boss'"),
        ({"company_headcounts": ["11-49"]}, "headcount"),
        ({"personas": [["x"]]}, "realtime"),
    ]:
        with pytest.raises(ValidationError, match=words):
            client.count_leads(bad)
    assert env.state.stats["requests"] == before
    assert client.check_lead_criteria({"company_headcounts": ["10001+", "10,000+"]})[
        "company_headcounts"
    ] == ["10 000+", "10 000+"]


def test_seed_count_example_is_refused_by_the_server_with_a_readable_error(env: Env) -> None:
    client = env.client()
    before = env.state.stats["requests"]
    with pytest.raises(ValidationError, match="San Francisco, CA"):
        client.count_leads(SEED_COUNT_EXAMPLE)
    assert env.state.stats["requests"] == before + 1  # the location is the server's to judge


def test_wrong_key_is_an_authentication_error_without_the_key(env: Env) -> None:
    client = env.client(key="sk_live_SECRET123")
    with pytest.raises(AuthenticationError) as info:
        client.count_leads({"seniorities": ["vp"]})
    assert "SECRET123" not in str(info.value) and "SECRET123" not in repr(client)


# ------------------------------------------------------------------------- search and paging
def test_paging_uses_exclude_ids_offset_zero_and_never_pays_past_the_count(env: Env) -> None:
    rec = Recorder(env.http)
    hook = MemorySpendHook()
    client = GenerectClient(
        "test_sandbox", env.url, http=rec.http, policy=fast_policy(), spend_hook=hook
    )
    criteria = {"seniorities": ["intern"], "company_industries": ["Online Media"]}
    total = client.count_leads(criteria)
    assert total and total < 200
    page = client.search_leads(criteria, max_rows=5000, page_size=max(2, total // 3))
    ids = [lead_id_of(r) for r in page.rows]
    assert len(ids) == len(set(ids)) == total
    searches = [b for p, b in rec.bodies if p.endswith("/search/database/leads/")]
    assert all(b["offset_by"] == 0 for b in searches)
    assert searches[-1]["exclude_ids"] and len(searches) <= 4
    assert (
        env.state.account.total_charged
        == pytest.approx(0.02 * total)
        == pytest.approx(hook.total())
    )
    assert page.amount_charged == pytest.approx(0.02 * total)


def test_search_stops_at_max_rows_and_honours_the_callers_exclude_ids(env: Env) -> None:
    hook = MemorySpendHook()
    client = env.client(hook=hook)
    criteria = {"seniorities": ["vp"], "company_industries": ["Software Development"]}
    total = client.count_leads(criteria)
    page = client.search_leads(criteria, max_rows=230, page_size=100)
    ids = [lead_id_of(r) for r in page.rows]
    assert len(ids) == len(set(ids)) == min(230, total)
    assert all("email" not in r for r in page.rows)
    assert page.amount_charged == pytest.approx(0.02 * len(ids))
    assert hook.total("generect") == pytest.approx(env.state.account.total_charged)
    more = client.search_leads(criteria, max_rows=50, exclude_ids=ids)
    assert not set(ids) & {lead_id_of(r) for r in more.rows}


def test_exclude_ids_paging_survives_shuffled_pages() -> None:
    app = create_generect_app(GenerectSandboxConfig(shuffle_pages=True))
    with serve_in_thread(app) as url:
        client = GenerectClient("test_sandbox", url, policy=fast_policy())
        criteria = {"seniorities": ["intern"], "company_industries": ["Online Media"]}
        total = client.count_leads(criteria)
        page = client.search_leads(criteria, max_rows=5000, page_size=max(2, total // 4))
        raw = httpx.Client(base_url=url, headers={"Authorization": "Token test_sandbox"})
        a = raw.post("/api/v1/search/database/leads/", json={**criteria, "limit_by": total})
        b = raw.post("/api/v1/search/database/leads/", json={**criteria, "limit_by": total})
    ids = {lead_id_of(r) for r in page.rows}
    assert len(ids) == len(page.rows) == total  # complete and without duplicates
    order = [[r["lead_id"] for r in x.json()["data"]["leads"]] for x in (a, b)]
    assert order[0] != order[1] and set(order[0]) == set(order[1])  # ordering really is unstable


# ------------------------------------------------------------- email, enrich and bulk jobs
def test_email_find_validate_and_enrich_with_typed_results(env: Env) -> None:
    hook = MemorySpendHook()
    client = env.client(hook=hook)
    person = env.state.world.people[3]
    found = client.find_email(lead_id=person.lead_id)
    arbitrary = [
        client.find_email(first_name=f"Zed{i}", last_name="Quill", domain="quill-works.io")
        for i in range(6)
    ]
    again = client.find_email(first_name="Zed0", last_name="Quill", domain="quill-works.io")
    assert again.email == arbitrary[0].email  # arbitrary inputs answer deterministically
    for f in [found, *arbitrary]:
        assert f.amount_charged == (0.02 if f.email else 0.0)
    verdicts = client.validate_emails([f"x{i}@example.org" for i in range(101)])
    assert len(verdicts) == 101 and all(v.status_raw is not None for v in verdicts)
    lead = client.enrich_lead(lead_id=person.lead_id)
    assert lead is not None and lead["first_name"] == person.first_name
    assert client.enrich_lead(lead_id="no-such-lead") is None
    company = client.enrich_company(domain=person.company.domain)
    assert company and company["domain"] == person.company.domain
    assert hook.total("generect") == pytest.approx(env.state.account.total_charged)
    assert client.balance() == pytest.approx(100.0 - env.state.account.total_charged)
    assert client.transactions(limit=5, offset=0)


def test_misses_are_free_and_the_bill_is_exactly_what_was_found(env: Env) -> None:
    hook = MemorySpendHook()
    client = env.client(hook=hook)
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
    charged = env.state.account.total_charged
    assert hook.total("generect") == pytest.approx(charged)
    assert charged == pytest.approx(
        0.02 * len(hits) + 0.005 * 120 + 0.02 * (1 + 40 - len(missing) - (company is None))
    )


def test_bulk_enrich_jobs_poll_to_completion_and_settle(env: Env) -> None:
    hook = MemorySpendHook()
    client = env.client(hook=hook)
    people = env.state.world.people[:30]
    leads = client.enrich_bulk(
        "leads", [{"id": p.lead_id} for p in people] + [{"id": "ghost"}], poll_s=0
    )
    assert [r and r["first_name"] for r in leads[:30]] == [p.first_name for p in people]
    assert leads[30] is None
    companies = client.enrich_bulk(
        "companies", [{"domain": p.company.domain} for p in people[:5]], poll_s=0
    )
    assert all(
        c and c["domain"] == p.company.domain for c, p in zip(companies, people[:5], strict=True)
    )
    assert (
        hook.total("generect")
        == pytest.approx(0.02 * 35)
        == pytest.approx(env.state.account.total_charged)
    )
    assert {e.state for e in hook.entries.values()} == {"settled"}


def test_bulk_email_find_job_polls_to_completion(env: Env) -> None:
    hook = MemorySpendHook()
    client = env.client(hook=hook)
    leads = [
        {"first_name": f"Bo{i}", "last_name": "Ray", "domain": "ray-labs.io"} for i in range(50)
    ]
    job = client.submit_email_find_bulk(leads)
    results = client.wait_email_find_bulk(job, poll_s=0.0)
    assert [r.input["first_name"] for r in results] == [x["first_name"] for x in leads]
    assert hook.total("generect") == pytest.approx(0.02 * sum(1 for r in results if r.email))
    with pytest.raises(ValueError):
        client.submit_email_find_bulk(leads + leads[:1])  # 51 items: refused before sending


# ------------------------------------------------------------------ money and failed calls
def test_insufficient_funds_is_never_retried(env: Env) -> None:
    env.state.account.balance = 0.01
    hook = MemorySpendHook()
    client = env.client(hook=hook)
    before = env.state.stats["requests"]
    with pytest.raises(InsufficientFundsError, match="Insufficient funds"):
        client.validate_emails(["a@b.com", "c@d.com", "e@f.com"])
    assert env.state.stats["requests"] == before + 1
    assert [e.state for e in hook.entries.values()] == ["released"]
    assert client.count_leads({"seniorities": ["vp"]}) > 0  # free calls keep working


def test_legacy_400_insufficient_funds_is_the_same_error() -> None:
    app = create_generect_app(GenerectSandboxConfig(balance=0.0, legacy_400_funds=True))
    with serve_in_thread(app) as url:
        client = GenerectClient("test_sandbox", url, policy=fast_policy())
        with pytest.raises(InsufficientFundsError):
            client.validate_emails(["a@b.com"])
        with pytest.raises(InsufficientFundsError):
            client.find_email(first_name="A", last_name="B", domain="c.com")


def test_5xx_on_a_billable_call_is_released_and_retried(env: Env) -> None:
    hook = MemorySpendHook()
    client = env.client(hook=hook)
    env.state.faults.rate, env.state.faults.kinds = 1.0, ("500",)
    with pytest.raises(Exception, match="server error 500"):
        client.validate_emails(["a@b.com"])
    assert [e.state for e in hook.entries.values()] == ["released"]
    env.state.faults.rate = 0.0
    assert client.validate_emails(["a@b.com"])[0].email == "a@b.com"
    assert env.state.account.total_charged == pytest.approx(0.005)


@pytest.mark.parametrize("fault", ["drop", "malformed", "timeout"])
def test_ambiguous_billable_outcome_is_marked_unknown_not_retried(fault: str) -> None:
    app = create_generect_app(GenerectSandboxConfig())
    app.state.sandbox.faults.timeout_seconds = 1.0
    with serve_in_thread(app) as url:
        hook = MemorySpendHook()
        client = GenerectClient(
            "test_sandbox", url, spend_hook=hook, policy=fast_policy(), timeout_scale=0.005
        )
        client._http.headers["X-Generect-Test-Behaviour"] = fault
        before = app.state.sandbox.stats["requests"]
        with pytest.raises(AmbiguousChargeError) as info:
            client.validate_emails(["a@b.com"])
        assert "test_sandbox" not in str(info.value)
        assert app.state.sandbox.stats["requests"] == before + 1
        assert [e.state for e in hook.entries.values()] == ["unknown"]
        client._http.headers.pop("X-Generect-Test-Behaviour")
        assert client.count_leads({"seniorities": ["vp"]})  # free reads still work afterwards


# ------------------------------------------------------------- retries and concurrency
def test_free_reads_retry_through_dropped_connections() -> None:
    app = create_generect_app(GenerectSandboxConfig(fault_rate=0.5, fault_seed=1))
    app.state.sandbox.faults.kinds = ("drop", "malformed", "500")
    with serve_in_thread(app) as url:
        client = GenerectClient("test_sandbox", url, policy=fast_policy(max_attempts=20))
        counts = {client.count_leads({"seniorities": ["vp"]}) for _ in range(10)}
    assert len(counts) == 1 and sum(app.state.sandbox.faults.injected.values()) > 0


def test_connection_refused_is_retried_then_reported_without_charge() -> None:
    hook = MemorySpendHook()
    slept: list[float] = []
    policy = RetryPolicy(max_attempts=3, backoff_base=0.001, sleep=slept.append)
    client = GenerectClient("test_sandbox", "http://127.0.0.1:9", spend_hook=hook, policy=policy)
    with pytest.raises(Exception, match="could not connect"):
        client.validate_emails(["a@b.com"])
    assert len(slept) == 3 and [e.state for e in hook.entries.values()] == ["released"]


def test_throttling_without_retry_after_backs_off_and_succeeds() -> None:
    app = create_generect_app(GenerectSandboxConfig(latency_s=0.05, caps={"company_enrich": 2}))
    with serve_in_thread(app) as url:
        client = GenerectClient(
            "test_sandbox",
            url,
            policy=fast_policy(max_attempts=50),
            concurrency={"company_enrich": 8},
        )
        with ThreadPoolExecutor(8) as pool:
            results = list(
                pool.map(
                    lambda d: client.enrich_company(domain=d), [f"site{i}.com" for i in range(24)]
                )
            )
        assert len(results) == 24
        assert app.state.sandbox.stats["throttled"] > 0
        assert client.throttled == app.state.sandbox.stats["throttled"]
        assert app.state.sandbox.stats["max_inflight"]["company_enrich"] <= 2


def test_semaphores_keep_in_flight_below_the_vendor_cap() -> None:
    config = GenerectSandboxConfig(latency_s=0.02)
    config.caps["lead_enrich"] = 8
    app = create_generect_app(config)
    people = app.state.sandbox.world.people[:120]
    with serve_in_thread(app) as url:
        client = GenerectClient(
            "test_sandbox", url, policy=fast_policy(), concurrency={"lead_enrich": 7}
        )
        threads = [
            threading.Thread(target=lambda ids=ids: [client.enrich_lead(lead_id=i) for i in ids])
            for ids in ([p.lead_id for p in people[k::24]] for k in range(24))
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    stats = app.state.sandbox.stats
    assert stats["throttled"] == 0 and client.throttled == 0
    assert 1 < stats["max_inflight"]["lead_enrich"] <= 7
    assert app.state.sandbox.account.total_charged == pytest.approx(0.02 * 120)
