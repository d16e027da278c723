"""Generect as a Dagster resource."""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from lead_assets.clients.generect import DEFAULT_BASE_URL, GenerectClient
from lead_assets.clients.http_policy import RetryPolicy
from lead_assets.clients.spend import SpendHook


class GenerectResource(dg.ConfigurableResource):
    """Hands out :class:`GenerectClient` objects. Bind ``api_key`` with ``dg.EnvVar`` so the key is
    resolved at run time and never stored in the definitions, the UI or run config."""

    api_key: str = Field(description="GENERECT_API_KEY (secret)")
    base_url: str = Field(default=DEFAULT_BASE_URL, description="GENERECT_BASE_URL")
    backoff_base_s: float = Field(default=1.0, description="first backoff step after a 429 or 5xx")

    def get_client(self, spend_hook: SpendHook | None = None) -> GenerectClient:
        """A client whose paid calls report to ``spend_hook`` (the run's spend ledger)."""
        return GenerectClient(
            self.api_key,
            self.base_url,
            spend_hook=spend_hook,
            policy=RetryPolicy(backoff_base=self.backoff_base_s),
        )
