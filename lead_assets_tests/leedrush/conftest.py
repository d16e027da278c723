"""Leedrush fixtures: a sandbox reached over real loopback HTTP and in process (``env`` runs each
test on both; ``make_env`` builds one with a given config), a client factory with fast retries,
lead files and polling helpers."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from lead_assets.clients.leedrush import LeedrushClient
from lead_assets.clients.spend import MemorySpendHook
from lead_assets.sandbox.leedrush import LeedrushSandboxConfig, create_leedrush_app
from lead_assets_tests.clients.harness import TRANSPORTS, fast_policy, reach

EMAIL, PASSWORD = "demo@example.com", "demo-password"


def leads_csv(n: int, *, start: int = 0) -> bytes:
    """A small lead file with an email column (and a few phones)."""
    lines = ["email,first_name,last_name,company,title,phone"]
    for i in range(start, start + n):
        phone = f"415555{i % 10000:04d}" if i % 3 else ""
        lines.append(f"p{i}@acme{i % 7}.com,P{i},L{i},Acme {i % 7},VP Sales,{phone}")
    return ("\n".join(lines) + "\n").encode()


@dataclass
class Env:
    """A running sandbox and a way to make clients for it."""

    url: str
    app: Starlette
    http: TestClient | None

    @property
    def sandbox(self) -> Any:
        """The app's mutable state (account, batches, stats, faults)."""
        return self.app.state.sandbox

    def client(self, hook: MemorySpendHook | None = None, **kwargs: Any) -> LeedrushClient:
        """A client with fast retries, reporting spend to ``hook``."""
        kwargs.setdefault("policy", fast_policy())
        kwargs.setdefault("reconcile_grace_s", 0.5)
        return LeedrushClient(
            kwargs.pop("email", EMAIL),
            kwargs.pop("password", PASSWORD),
            self.url,
            spend_hook=hook,
            http=self.http,
            **kwargs,
        )


#: The ``make_env`` fixture: ``make_env(transport, **config) -> Env``.
MakeEnv = Callable[..., Env]


@pytest.fixture
def make_env() -> Iterator[MakeEnv]:
    """Factory: ``make_env(transport="loopback"|"in_process", **config)``; all stopped after."""
    with ExitStack() as stack:

        def make(transport: str = "loopback", **config: Any) -> Env:
            config.setdefault("time_scale", 0.2)
            app = create_leedrush_app(LeedrushSandboxConfig(**config))
            url, http = stack.enter_context(reach(app, transport, "leedrush.test"))
            return Env(url, app, http)

        yield make


@pytest.fixture(params=TRANSPORTS)
def env(request: pytest.FixtureRequest, make_env: MakeEnv) -> Env:
    """A default sandbox (starter plan), once per transport."""
    return make_env(request.param)


def wait_done(client: LeedrushClient, batch_id: str, timeout_s: float = 20.0) -> Any:
    """Poll quickly until the batch is terminal."""
    return client.wait_for_batch(batch_id, timeout_s=timeout_s, poll_s=0.05)


def sleep_until(predicate: Callable[[], bool], timeout_s: float = 10.0) -> None:
    """Wait for a background effect (webhook delivery) without a fixed long sleep."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)
