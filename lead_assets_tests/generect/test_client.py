"""The Generect client against the sandbox (loopback and in process): every contract rule the
client owns, money through the spend hook, errors, retries and concurrency."""

from __future__ import annotations

import json
import threading

import httpx
import pytest

from lead_assets.clients.errors import (
    AmbiguousChargeError,
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
from lead_assets.clients.generect_vocab import normalize_headcount, normalize_seniority
from lead_assets.clients.http_policy import RetryPolicy, error_message
from lead_assets.clients.spend import MemorySpendHook
from lead_assets.clients.webhooks import (
    generect_signature,
    leedrush_signature,
    verify_generect_signature,
    verify_leedrush_signature,
)
from lead_assets.resources.generect import GenerectResource
from lead_assets.sandbox.generect_app import GenerectSandboxConfig, create_generect_app
from lead_assets.sandbox.server import serve_in_thread
from lead_assets_tests.generect.conftest import Env, fast_policy


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


def test_pure_adapters_vocab_and_keys() -> None:
    assert clean_key("  Token abc ") == clean_key("Bearer abc") == "abc"
    assert parse_count({"results_count": 5}) == 5 and parse_count({"count": 7}) == 7
    assert parse_count({"results_count": "within limit"}) is None
    assert lead_id_of({"lead_id": "a", "id": "b"}) == "a"
    assert lead_id_of({"id": "b"}) == "b" and lead_id_of({"sales_id": "c"}) == "c"
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
    assert email_status("do-not-mail") == "do_not_mail" and email_status(None) == "unknown"
    a = request_key("email_validate", {"emails": ["a@b.com"], "x": 1})
    assert a == request_key("email_validate", {"x": 1, "emails": ["a@b.com"]})  # canonical JSON
    assert a != request_key("email_validate", {"emails": ["c@d.com"], "x": 1})


def test_webhook_verifiers() -> None:
    body = b'{"event":"email.find.bulk.completed"}'
    g = generect_signature("sec", body)
    assert verify_generect_signature("sec", body, g)
    assert not verify_generect_signature("sec", body + b" ", g)
    assert not verify_generect_signature("", body, g) and not verify_generect_signature(
        "sec", body, None
    )
    h = leedrush_signature("sec", body)
    assert len(h) == 64 and verify_leedrush_signature("sec", body, h.upper())
    assert verify_leedrush_signature("sec", body, "sha256=" + h)
    assert not verify_leedrush_signature("sec", body, g)


def test_error_envelopes_become_sentences() -> None:
    def resp(status: int, body: object) -> httpx.Response:
        if isinstance(body, str):
            return httpx.Response(status, text=body)
        return httpx.Response(status, json=body)

    assert (
        error_message(resp(400, {"status": "error", "status_code": 400, "detail": "Bad."}))
        == "Bad."
    )
    assert (
        error_message(resp(400, {"detail": {"seniorities": ["No boss."]}}))
        == "seniorities: No boss."
    )
    assert error_message(resp(400, {"detail": {"non_field_errors": ["Pick one."]}})) == "Pick one."
    assert (
        error_message(resp(403, {"error": "You are not authorized."})) == "You are not authorized."
    )
    assert error_message(resp(502, "<html>Bad gateway</html>")) == "<html>Bad gateway</html>"


def test_resource_hides_the_key_and_builds_a_client() -> None:
    res = GenerectResource(api_key="sk_live_TOPSECRET", concurrency={"lead_enrich": 7})
    client = res.get_client(MemorySpendHook())
    assert "TOPSECRET" not in repr(res) and "TOPSECRET" not in str(res)
    assert "TOPSECRET" not in repr(client)
    assert client.base_url == "https://api.generect.com"
    client.close()


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


def test_invalid_criteria_rejected_locally_before_any_call(env: Env) -> None:
    client = env.client()
    before = env.state.stats["requests"]
    for bad, words in [
        ({"seniorities": ["boss"]}, "seniority"),
        ({"company_headcounts": ["11-49"]}, "headcount"),
        ({"personas": [["x"]]}, "realtime"),
    ]:
        with pytest.raises(ValidationError, match=words):
            client.count_leads(bad)
    assert env.state.stats["requests"] == before


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


def test_insufficient_funds_stops_without_retry(env: Env) -> None:
    env.state.account.balance = 0.001
    hook = MemorySpendHook()
    client = env.client(hook=hook)
    before = env.state.stats["requests"]
    with pytest.raises(InsufficientFundsError):
        client.validate_emails(["a@b.com"])
    assert env.state.stats["requests"] == before + 1
    assert [e.state for e in hook.entries.values()] == ["released"]


def test_legacy_400_insufficient_funds_is_the_same_error() -> None:
    app = create_generect_app(GenerectSandboxConfig(balance=0.0, legacy_400_funds=True))
    with serve_in_thread(app) as url, pytest.raises(InsufficientFundsError):
        GenerectClient("test_sandbox", url, policy=fast_policy()).validate_emails(["a@b.com"])


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


def test_throttling_backs_off_exponentially_or_honours_retry_after() -> None:
    policy = RetryPolicy(backoff_base=1.0, backoff_cap=8.0)
    waits = [policy.throttle_wait(n, None) for n in range(1, 7)]
    assert all(c / 2 <= w <= c for w, c in zip(waits, [1, 2, 4, 8, 8, 8], strict=True))
    assert policy.throttle_wait(3, 1.5) == 1.5


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
