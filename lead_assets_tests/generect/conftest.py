"""Generect fixtures: a fresh strict sandbox reached over real loopback HTTP and in process (the
``env`` fixture runs each test on both), a client factory with fast retries, and the vendor
page's own request examples."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from lead_assets.clients.generect import GenerectClient
from lead_assets.clients.spend import MemorySpendHook
from lead_assets.sandbox.generect import GenerectSandboxConfig, create_generect_app
from lead_assets_tests.clients.harness import TRANSPORTS, fast_policy, reach

# The seed page's own count example: CXO, "San Francisco, CA", "Software", limit_by on a count.
SEED_COUNT_EXAMPLE = {
    "job_titles": ["CEO", "Founder"],
    "seniorities": ["CXO"],
    "locations": ["San Francisco, CA"],
    "company_industries": ["Software"],
    "company_headcounts": ["51-200"],
    "limit_by": 50,
}
# The seed preview example (valid as written once the Token prefix is added).
SEED_PREVIEW_EXAMPLE = {
    "company_search_criteria": {
        "industries": ["Software Development"],
        "headcounts": ["51-200"],
        "locations": ["United States"],
    },
    "lead_search_criteria": {
        "job_titles": ["CEO", "Founder"],
        "seniorities": ["c_suite"],
        "locations": ["United States"],
        "limit_by": 25,
    },
}


@dataclass
class Env:
    """One sandbox under test and how to reach it."""

    url: str
    app: Starlette
    http: httpx.Client | None

    @property
    def state(self) -> Any:
        """The app's mutable state (account, world, stats, faults)."""
        return self.app.state.sandbox

    def client(
        self, key: str = "test_sandbox", hook: MemorySpendHook | None = None, **kw: Any
    ) -> GenerectClient:
        """A client with fast retries and a memory spend hook."""
        kw.setdefault("policy", fast_policy())
        return GenerectClient(
            key, self.url, spend_hook=hook or MemorySpendHook(), http=self.http, **kw
        )

    def raw(self) -> httpx.Client:
        """A bare HTTP client for wire-level contract checks (no adapters, no retries)."""
        return self.http or httpx.Client(base_url=self.url, timeout=10)

    def post(
        self, path: str, body: object, auth: str | None = "Token test_sandbox"
    ) -> httpx.Response:
        headers = {"Authorization": auth} if auth else {}
        return self.raw().post(self.url + path, json=body, headers=headers)


@pytest.fixture(params=TRANSPORTS)
def env(request: pytest.FixtureRequest) -> Iterator[Env]:
    """A fresh strict Generect sandbox ($100 balance), once per transport."""
    app = create_generect_app(GenerectSandboxConfig(balance=100.0))
    with reach(app, request.param, "generect.test") as (url, http):
        yield Env(url, app, http)
