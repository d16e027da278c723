"""Wire-level contract tests: the vendor pages' examples and the contract's rules, checked against
the strict sandbox with a bare HTTP client (no adapters), over loopback and in process."""

from __future__ import annotations

import json
import time

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lead_assets.clients.webhooks import verify_generect_signature
from lead_assets.sandbox.generect import GenerectSandboxConfig, create_generect_app
from lead_assets.sandbox.server import serve_in_thread
from lead_assets_tests.generect.conftest import SEED_COUNT_EXAMPLE, SEED_PREVIEW_EXAMPLE, Env


def test_seed_count_example_is_rejected_with_a_field_map(env: Env) -> None:
    r = env.post("/api/v1/search/database/leads/count/", SEED_COUNT_EXAMPLE)
    assert r.status_code == 400
    body = r.json()
    assert body["status"] == "error" and body["status_code"] == 400
    assert "locations" in body["detail"]  # "San Francisco, CA" is not a LinkedIn location
    fixed = {
        **SEED_COUNT_EXAMPLE,
        "locations": ["San Francisco, California, United States"],
        "company_industries": ["Software Development"],
    }
    ok = env.post("/api/v1/search/database/leads/count/", fixed)
    assert ok.status_code == 200
    assert set(ok.json()["data"]) == {"results_count"}  # no "count" alias, limit_by ignored
    assert ok.json()["meta"]["amount_charged"] == 0


def test_seed_curl_without_token_prefix_is_unauthorised(env: Env) -> None:
    for auth in ("test_sandbox", "Bearer test_sandbox", None, "Token wrong"):
        r = env.post("/api/v1/search/database/leads/count/", {"seniorities": ["vp"]}, auth=auth)
        assert r.status_code == 401, auth
    r = env.post("/api/v1/search/database/leads/count/", {"seniorities": ["vp"]})
    assert r.status_code == 200 and r.headers["X-Generect-Mode"] == "test"


def test_missing_trailing_slash_is_404_without_redirect(env: Env) -> None:
    r = env.post("/api/v1/search/database/leads/count", {})
    assert r.status_code == 404 and "location" not in r.headers


def test_seed_preview_example_answers_preview_shapes_and_costs(env: Env) -> None:
    before = env.state.account.total_charged
    r = env.post("/api/v1/preview/leads/", SEED_PREVIEW_EXAMPLE)
    assert r.status_code == 200
    rows = r.json()["data"]["leads"]
    assert rows and len(rows) <= 25
    assert all("id" in row and "lead_id" not in row for row in rows)  # preview ids are `id`
    assert all(row["seniority"] == "CXO" for row in rows)  # emitted as the short label
    charged = r.json()["meta"]["amount_charged"]
    assert charged == pytest.approx(0.002 * len(rows))
    assert env.state.account.total_charged - before == pytest.approx(charged)
    count = env.post("/api/v1/preview/leads/count/", SEED_PREVIEW_EXAMPLE)
    assert set(count.json()["data"]) == {"count"} and count.json()["meta"]["amount_charged"] == 0


def test_search_row_ids_per_endpoint(env: Env) -> None:
    leads = env.post(
        "/api/v1/search/database/leads/", {"seniorities": ["vp"], "limit_by": 3}
    ).json()
    assert len(leads["data"]["leads"]) == 3
    assert all(
        "lead_id" in r and "email" not in r and "phone" not in r for r in leads["data"]["leads"]
    )
    assert leads["meta"]["amount_charged"] == pytest.approx(0.06)
    companies = env.post(
        "/api/v1/search/database/companies/",
        {"industries": ["Software Development"], "limit_by": 2},
    ).json()
    assert all("linkedin_id" in r for r in companies["data"]["companies"])


def test_page_ceilings_and_vocabulary_errors(env: Env) -> None:
    r = env.post("/api/v1/search/database/leads/", {"seniorities": ["vp"], "limit_by": 2401})
    assert r.status_code == 400
    r = env.post("/api/v1/search/database/leads/count/", {"seniorities": ["boss"]})
    assert r.status_code == 400
    assert r.json()["detail"] == {"seniorities": ["Object with name=boss does not exist."]}
    r = env.post("/api/v1/search/database/leads/count/", {"company_headcounts": ["10001+"]})
    assert r.status_code == 400  # strict: canonical labels only ("10 000+")
    r = env.post("/api/v1/search/database/leads/count/", {"company_headcounts": ["10 000+"]})
    assert r.status_code == 200
    r = env.post("/api/v1/search/database/leads/count/", {"personas": [["x", [], [], []]]})
    assert r.status_code == 400  # realtime-only field in database mode


def test_switches_prod_silent_zero_and_lenient() -> None:
    app = create_generect_app(GenerectSandboxConfig(prod_silent_zero=True, lenient=True))
    with serve_in_thread(app) as url:
        env = Env(url, app, None)
        r = env.post("/api/v1/search/database/leads/count/", {"seniorities": ["boss"]})
        assert r.status_code == 200 and r.json()["data"]["results_count"] == 0
        r = env.post("/api/v1/search/database/leads/count/", {"company_headcounts": ["10001+"]})
        assert r.status_code == 200 and r.json()["data"]["results_count"] > 0


def test_insufficient_funds_is_402_or_legacy_400() -> None:
    for legacy, code in ((False, 402), (True, 400)):
        app = create_generect_app(GenerectSandboxConfig(balance=0.0, legacy_400_funds=legacy))
        with serve_in_thread(app) as url:
            r = Env(url, app, None).post("/api/v1/email/validate/", {"emails": ["a@b.com"]})
            assert r.status_code == code
            assert "insufficient funds" in r.json()["detail"].lower()


def test_bulk_job_lifecycle_limits_and_retention(env: Env) -> None:
    leads = [{"first_name": f"A{i}", "last_name": "Bee", "domain": "bee-co.com"} for i in range(51)]
    assert env.post("/api/v1/email/find/bulk/", {"leads": leads}).status_code == 400
    assert env.post("/api/v1/enrich/database/leads/bulk/", {"items": leads[:2]}).status_code == 400
    submit = env.post("/api/v1/email/find/bulk/", {"leads": leads[:50]})
    assert submit.status_code == 202
    meta = submit.json()["meta"]
    assert submit.json()["data"] is None and meta["status"] == "pending" and meta["processed"] == 0
    raw, headers = env.raw(), {"Authorization": "Token test_sandbox"}
    url = f"{env.url}/api/v1/email/find/bulk/{meta['job_id']}/"
    statuses = [raw.get(url, headers=headers).json()["meta"]["status"] for _ in range(3)]
    assert statuses == ["processing", "completed", "completed"]
    done = raw.get(url, headers=headers).json()
    assert [r["input"] for r in done["data"]] == leads[:50]  # input order, input echoed
    assert done["meta"]["found"] + done["meta"]["not_found"] == 50
    missing = raw.get(
        f"{env.url}/api/v1/email/find/bulk/00000000-0000-0000-0000-000000000000/", headers=headers
    )
    assert missing.status_code == 404 and missing.json() == {"detail": "Job not found"}


def test_throttle_envelope_without_retry_after(env: Env) -> None:
    r = env.raw().post(
        env.url + "/api/v1/email/validate/",
        json={"emails": ["a@b.com"]},
        headers={"Authorization": "Token test_sandbox", "X-Generect-Test-Behaviour": "429"},
    )
    assert r.status_code == 429 and "retry-after" not in r.headers
    assert r.json() == {"status": "error", "status_code": 429, "detail": "Request was throttled."}


def test_concurrency_cap_429_and_retry_after_switch() -> None:
    import concurrent.futures as cf

    import httpx

    for retry_after in (False, True):
        config = GenerectSandboxConfig(latency_s=0.2, retry_after=retry_after)
        config.caps["lead_enrich"] = 2
        app = create_generect_app(config)
        lead_id = app.state.sandbox.world.people[0].lead_id
        with serve_in_thread(app) as url, httpx.Client(timeout=10) as http:

            def one(_: int, lead_id: str = lead_id) -> httpx.Response:
                return http.post(
                    url + "/api/v1/enrich/database/lead/",
                    json={"id": lead_id},
                    headers={"Authorization": "Token test_sandbox"},
                )

            with cf.ThreadPoolExecutor(6) as pool:
                answers = list(pool.map(one, range(6)))
        throttled = [a for a in answers if a.status_code == 429]
        assert throttled and len(answers) - len(throttled) >= 2
        assert all(("retry-after" in a.headers) == retry_after for a in throttled)
        paid = sum(1 for a in answers if a.status_code == 200)
        assert app.state.sandbox.account.total_charged == pytest.approx(0.02 * paid)


def test_accounts_reflect_charges(env: Env) -> None:
    env.post("/api/v1/email/validate/", {"emails": ["a@b.com", "c@d.com"]})
    raw, headers = env.raw(), {"Authorization": "Token test_sandbox"}
    me = raw.get(env.url + "/api/v1/accounts/me/", headers=headers).json()["data"]
    assert me["credits"]["balance"] == pytest.approx(100.0 - 0.01)
    tx = raw.get(env.url + "/api/v1/accounts/transactions/?limit=10&offset=0", headers=headers)
    assert tx.status_code == 200
    usage = raw.get(env.url + "/api/v1/accounts/usage/", headers=headers)
    assert usage.status_code == 200


def test_signed_webhook_delivery_verifies() -> None:
    received: list[tuple[bytes, dict]] = []

    async def hook(request: Request) -> Response:
        received.append((await request.body(), dict(request.headers)))
        return Response(status_code=200)

    receiver = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    app = create_generect_app(GenerectSandboxConfig())
    with serve_in_thread(receiver) as hook_url, serve_in_thread(app) as url:
        env = Env(url, app, None)
        r = env.post(
            "/api/v1/webhooks/",
            {
                "url": hook_url + "/hook",
                "events": ["email.find.bulk.completed"],
                "secret": "s3cret",
            },
        )
        assert r.status_code == 201
        listed = env.raw().get(
            url + "/api/v1/webhooks/", headers={"Authorization": "Token test_sandbox"}
        )
        assert listed.status_code == 200
        job = env.post(
            "/api/v1/email/find/bulk/",
            {"leads": [{"first_name": "A", "last_name": "B", "domain": "c.com"}]},
        )
        job_url = f"{url}/api/v1/email/find/bulk/{job.json()['meta']['job_id']}/"
        for _ in range(2):
            env.raw().get(job_url, headers={"Authorization": "Token test_sandbox"})
        deadline = time.monotonic() + 5
        while not received and time.monotonic() < deadline:
            time.sleep(0.02)
    body, headers = received[0]
    assert headers["x-webhook-event"] == "email.find.bulk.completed"
    assert verify_generect_signature("s3cret", body, headers["x-webhook-signature"])
    assert not verify_generect_signature("other", body, headers["x-webhook-signature"])
    assert json.loads(body)["meta"]["status"] == "completed"
