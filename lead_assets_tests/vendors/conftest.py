"""Sandbox fixtures: both vendors over real loopback HTTP, or in process through Starlette's
TestClient (an httpx.Client that runs the ASGI app in a worker thread)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from lead_assets.clients.http_policy import RetryPolicy
from lead_assets.sandbox.generect_app import GenerectSandboxConfig, create_generect_app
from lead_assets.sandbox.leedrush_app import LeedrushSandboxConfig, create_leedrush_app
from lead_assets.sandbox.server import serve_in_thread


def fast_policy(**kwargs: object) -> RetryPolicy:
    """Real backoff logic with millisecond waits, so fault tests finish in seconds."""
    return RetryPolicy(backoff_base=0.005, backoff_cap=0.05, max_retry_after=0.05, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(params=["loopback", "in_process"])
def generect_env(request: pytest.FixtureRequest) -> Iterator[tuple[str, object, object]]:
    """(base_url, app, http client or None) for a fresh Generect sandbox, both transports."""
    app = create_generect_app(GenerectSandboxConfig())
    if request.param == "loopback":
        with serve_in_thread(app) as url:
            yield url, app, None
    else:
        with TestClient(app, base_url="http://generect.test") as http:
            yield "http://generect.test", app, http


@pytest.fixture(params=["loopback", "in_process"])
def leedrush_env(request: pytest.FixtureRequest) -> Iterator[tuple[str, object, object]]:
    """(base_url, app, http client or None) for a fresh Leedrush sandbox, both transports."""
    app = create_leedrush_app(LeedrushSandboxConfig(time_scale=0.2))
    if request.param == "loopback":
        with serve_in_thread(app) as url:
            yield url, app, None
    else:
        with TestClient(app, base_url="http://leedrush.test") as http:
            yield "http://leedrush.test", app, http
