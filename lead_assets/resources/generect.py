"""Generect as a Dagster resource (Dagster stays out of ``lead_assets.clients``)."""

from __future__ import annotations

from typing import Any

import dagster as dg
from pydantic import Field

from lead_assets.clients.generect import DEFAULT_BASE_URL, DEFAULT_CONCURRENCY, GenerectClient
from lead_assets.clients.http_policy import RetryPolicy
from lead_assets.clients.spend import SpendHook


class GenerectResource(dg.ConfigurableResource):
    """Hands out :class:`GenerectClient` objects. Bind ``api_key`` with ``dg.EnvVar`` so the key is
    resolved at run time and never stored in the definitions, the UI or run config; ``repr`` hides
    it too."""

    api_key: str = Field(description="GENERECT_API_KEY (secret)")
    base_url: str = Field(default=DEFAULT_BASE_URL, description="GENERECT_BASE_URL")
    backoff_base_s: float = Field(default=1.0, description="first backoff step after a 429 or 5xx")
    timeout_scale: float = Field(
        default=1.0, description="multiplies the contract's per-operation timeouts"
    )
    concurrency: dict[str, int] = Field(
        default_factory=dict,
        description="per-operation in-flight caps overriding the defaults "
        f"{DEFAULT_CONCURRENCY} (keep them below the vendor's caps)",
    )

    def __repr_args__(self) -> Any:  # pydantic's repr: never show the key
        return [(k, "<hidden>" if k == "api_key" else v) for k, v in super().__repr_args__()]

    def get_client(self, spend_hook: SpendHook | None = None) -> GenerectClient:
        """A client whose paid calls report to ``spend_hook`` (the run's spend ledger)."""
        return GenerectClient(
            self.api_key,
            self.base_url,
            spend_hook=spend_hook,
            policy=RetryPolicy(backoff_base=self.backoff_base_s),
            concurrency=dict(self.concurrency) or None,
            timeout_scale=self.timeout_scale,
        )
