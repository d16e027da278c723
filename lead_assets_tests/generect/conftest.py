"""Generect fixtures: the sandbox over real loopback HTTP, or in process through Starlette's
TestClient (an httpx.Client that runs the ASGI app without a socket)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from lead_assets.clients.generect import GenerectClient
from lead_assets.clients.http_policy import RetryPolicy
from lead_assets.clients.spend import MemorySpendHook
from lead_assets.sandbox.generect_app import GenerectSandboxConfig, create_generect_app
from lead_assets.sandbox.server import serve_in_thread


def fast_policy(**kwargs: object) -> RetryPolicy:
    """The real backoff logic with millisecond waits, so fault tests finish in seconds."""
    return RetryPolicy(backoff_base=0.005, backoff_cap=0.05, max_retry_after=0.05, **kwargs)  # type: ignore[arg-type]


@dataclass
class Env:
    """One sandbox under test and how to reach it."""

    url: str
    app: Starlette
    http: httpx.Client | None

    @property
    def state(self):  # type: ignore[no-untyped-def]
        return self.app.state.sandbox

    def client(
        self, key: str = "test_sandbox", hook: MemorySpendHook | None = None, **kw: object
    ) -> GenerectClient:
        """A client with fast retries and a memory spend hook."""
        kw.setdefault("policy", fast_policy())
        return GenerectClient(
            key, self.url, spend_hook=hook or MemorySpendHook(), http=self.http, **kw
        )  # type: ignore[arg-type]

    def raw(self) -> httpx.Client:
        """A bare HTTP client for wire-level contract checks (no adapters, no retries)."""
        return self.http or httpx.Client(base_url=self.url, timeout=10)

    def post(
        self, path: str, body: object, auth: str | None = "Token test_sandbox"
    ) -> httpx.Response:
        headers = {"Authorization": auth} if auth else {}
        return self.raw().post(self.url + path, json=body, headers=headers)


@pytest.fixture(params=["loopback", "in_process"])
def env(request: pytest.FixtureRequest) -> Iterator[Env]:
    """A fresh strict Generect sandbox, once over loopback HTTP and once in process."""
    config = getattr(request, "param_config", None) or GenerectSandboxConfig(balance=100.0)
    app = create_generect_app(config)
    if request.param == "loopback":
        with serve_in_thread(app) as url:
            yield Env(url, app, None)
    else:
        with TestClient(app, base_url="http://generect.test") as http:
            yield Env("http://generect.test", app, http)


def make_env(config: GenerectSandboxConfig) -> Iterator[Env]:
    """A loopback sandbox with ``config`` (for switch-specific tests)."""
    app = create_generect_app(config)
    with serve_in_thread(app) as url:
        yield Env(url, app, None)
