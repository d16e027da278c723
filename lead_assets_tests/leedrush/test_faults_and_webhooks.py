"""Faults and webhooks: 10 % injected faults (throttling, 5xx, garbled and dropped answers,
timeouts) still give correct results with every credit paid once; answers lost after the work
was done are reconciled by the unique upload name; signed webhooks with retries."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from lead_assets.clients.leedrush import LeedrushClient, parse_webhook_event, verify_webhook
from lead_assets.clients.spend import MemorySpendHook
from lead_assets.sandbox.leedrush import EVENTS
from lead_assets.sandbox.server import serve_in_thread
from lead_assets_tests.clients.harness import fast_policy
from lead_assets_tests.leedrush.conftest import (
    EMAIL,
    PASSWORD,
    Env,
    MakeEnv,
    leads_csv,
    sleep_until,
    wait_done,
)


def expected_results(make_env: MakeEnv, files: list[bytes]) -> list[list[tuple[Any, ...]]]:
    """What a fault-free sandbox returns for the same files."""
    clean: Env = make_env("in_process", plan="enterprise")
    client = clean.client()
    out = []
    for i, content in enumerate(files):
        submission = client.submit(f"part{i}.csv", content, run_id="clean")
        wait_done(client, submission.batch_id)
        out.append(_key(client.download(submission.batch_id)))
    return out


def _key(leads: list[Any]) -> list[tuple[Any, ...]]:
    return [(lead.email, lead.score, lead.email_status, tuple(lead.signals)) for lead in leads]


def test_ten_percent_faults_complete_correctly_without_double_charge(make_env: MakeEnv) -> None:
    files = [leads_csv(50, start=100 * i) for i in range(10)]
    expected = expected_results(make_env, files)
    # Enterprise: no rpm window, so ~80 requests need not wait a minute for the limiter.
    env: Env = make_env(
        "loopback",
        plan="enterprise",
        fault_rate=0.10,
        fault_seed=8,
        fault_kinds=("429", "500", "502", "malformed", "drop", "timeout", "slow"),
        timeout_fault_s=1.0,
    )
    env.sandbox.faults.slow_seconds = 0.05
    hook = MemorySpendHook()
    client = env.client(hook, timeout_s=0.5, policy=fast_policy(max_attempts=12))
    got = []
    for i, content in enumerate(files):
        submission = client.submit(f"part{i}.csv", content, run_id="run-7", request_key=f"p{i}")
        batch = wait_done(client, submission.batch_id)
        assert batch.status == "completed" and batch.rows_total == 50
        got.append(_key(client.download(submission.batch_id)))
    assert got == expected
    injected = env.sandbox.faults.injected
    assert sum(injected.values()) >= 5 and len(injected) >= 5, injected
    assert len(env.sandbox.account.charges) == len(files)  # one batch per file, never two
    assert env.sandbox.account.charged == 500 == hook.total("leedrush", "credits")
    assert all(e.state == "settled" for e in hook.entries.values()) and len(hook.entries) == 10


class FaultOnce(httpx.HTTPTransport):
    """Adds ``X-Sandbox-Fault`` to the first ``process`` call only."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind, self.used = kind, False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/process" and not self.used:
            self.used = True
            request.headers["X-Sandbox-Fault"] = self.kind
        return super().handle_request(request)


@pytest.mark.parametrize("kind", ["drop", "malformed", "timeout", "500", "429"])
def test_lost_or_failed_process_answer_is_paid_once(make_env: MakeEnv, kind: str) -> None:
    env: Env = make_env("loopback", timeout_fault_s=1.0)
    hook = MemorySpendHook()
    client = LeedrushClient(
        EMAIL,
        PASSWORD,
        env.url,
        spend_hook=hook,
        policy=fast_policy(),
        http=httpx.Client(transport=FaultOnce(kind)),
        timeout_s=0.5,
        reconcile_grace_s=1.0,
    )
    submission = client.submit("once.csv", leads_csv(20), run_id="r", request_key="once")
    assert submission.reconciled == (kind in ("drop", "malformed", "timeout"))
    assert wait_done(client, submission.batch_id).status == "completed"
    assert len(env.sandbox.batches) == 1 and env.sandbox.account.charged == 20
    [entry] = hook.entries.values()
    assert (entry.state, entry.amount) == ("settled", 20)


#: The webhook receiver: its URL, the (body, signature) pairs it got, status codes to answer first.
Receiver = tuple[str, list[tuple[bytes, str]], list[int]]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A loopback webhook receiver; ``fail`` holds status codes to answer first."""
    received: list[tuple[bytes, str]] = []
    fail: list[int] = []

    async def hook(request: Request) -> JSONResponse:
        received.append((await request.body(), request.headers.get("x-leedrush-signature", "")))
        if fail:
            return JSONResponse({"ok": False}, status_code=fail.pop(0))
        return JSONResponse({"ok": True})

    with serve_in_thread(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as url:
        yield url + "/hook", received, fail


def test_signed_webhooks_for_batches_and_all_seven_test_events(
    make_env: MakeEnv, receiver: Receiver
) -> None:
    url, received, _ = receiver
    env: Env = make_env("loopback", webhook_url=url, webhook_secret="whsec_test")
    client = env.client()
    submission = client.submit("hooked.csv", leads_csv(10), run_id="r")
    wait_done(client, submission.batch_id)
    sleep_until(lambda: len(received) >= 1)
    body, signature = received[0]
    assert verify_webhook("whsec_test", body, signature)
    event = parse_webhook_event(body)
    assert event.event == "batch.completed" and event.batch_id == submission.batch_id
    assert event.data["rows_total"] == 10 and event.batch.rows_qualified is not None
    received.clear()
    http = httpx.Client()
    token = http.post(env.url + "/api/auth/login", json={"email": EMAIL, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    for name in EVENTS:
        answer = http.post(f"{env.url}/api/sandbox/webhooks/test/{name}", headers=headers)
        assert answer.status_code == 200
    sleep_until(lambda: len(received) == 7)
    assert [json.loads(b)["event"] for b, _ in received] == list(EVENTS)
    assert all(verify_webhook("whsec_test", b, s) for b, s in received)
    assert not verify_webhook("other-secret", *received[0])


def test_webhook_retried_three_times_on_non_2xx(make_env: MakeEnv, receiver: Receiver) -> None:
    url, received, fail = receiver
    env: Env = make_env("loopback", webhook_url=url, webhook_backoff_s=0.01)
    fail.extend([500, 503, 500])
    client = env.client()
    wait_done(client, client.submit("r.csv", leads_csv(3), run_id="r").batch_id)
    sleep_until(lambda: len(env.sandbox.webhook_log) == 3)
    codes = [(event, code) for event, code, _ in env.sandbox.webhook_log]
    assert codes == [("batch.completed", 500), ("batch.completed", 503), ("batch.completed", 500)]
    assert len({b for b, _ in received}) == 1  # the same body each time


def test_credit_events_fire_when_balance_crosses_thresholds(
    make_env: MakeEnv, receiver: Receiver
) -> None:
    url, received, _ = receiver
    env: Env = make_env("loopback", webhook_url=url, credits=100)
    client = env.client()
    client.submit("a.csv", leads_csv(85), run_id="r")  # 15 left: still above 10 %
    client.submit("b.csv", leads_csv(10), run_id="r")  # 5 left: below 10 % -> credits.low
    client.submit("c.csv", leads_csv(5), run_id="r")  # 0 left -> credits.exhausted
    sleep_until(
        lambda: (
            {"credits.low", "credits.exhausted"} <= {json.loads(b)["event"] for b, _ in received}
        )
    )
    events = [json.loads(b) for b, _ in received]
    low = next(e for e in events if e["event"] == "credits.low")
    assert low["data"]["credits_remaining"] == 5 and low["batch_id"] is None
