"""Leedrush as a Dagster resource."""

from __future__ import annotations

from typing import Any

import dagster as dg
from pydantic import Field

from lead_assets.clients.http_policy import RetryPolicy
from lead_assets.clients.leedrush import DEFAULT_BASE_URL, LeedrushClient
from lead_assets.clients.spend import SpendHook


class LeedrushResource(dg.ConfigurableResource):
    """Hands out :class:`LeedrushClient` objects. Bind ``email`` and ``password`` with
    ``dg.EnvVar("LEEDRUSH_EMAIL")`` / ``dg.EnvVar("LEEDRUSH_PASSWORD")``; the JWT they buy lives
    only in the client's memory and is never logged."""

    email: str = Field(description="LEEDRUSH_EMAIL (secret)")
    password: str = Field(description="LEEDRUSH_PASSWORD (secret)")
    base_url: str = Field(default=DEFAULT_BASE_URL, description="LEEDRUSH_BASE_URL")
    plan: str = Field(
        default="",
        description="LEEDRUSH_PLAN: override the plan read from the subscription "
        "(payg, starter, professional, scale, enterprise); empty = read it",
    )
    throttled_wait_s: float = Field(
        default=60.0, description="wait after a 429 without Retry-After (the vendor says 60 s)"
    )
    timeout_s: float = Field(default=60.0, description="timeout of every request, in seconds")
    reconcile_grace_s: float = Field(
        default=5.0,
        description="after a lost process answer, how long to look for the batch by its "
        "unique filename before declaring the charge unknown",
    )
    shared_limiter_url: str = Field(
        default="",
        description="LEAD_ASSETS_LIMITER_REDIS_URL: a Redis URL whose per-account window every "
        "process shares (workers, daemon), so the plan's requests per minute hold across them; "
        "empty = each process keeps its own window",
    )

    def __repr_args__(self) -> Any:  # pydantic's repr: never show the login or a URL's password
        from lead_assets.settings import mask_url_password

        def shown(k: str | None, v: Any) -> Any:
            if k in ("email", "password"):
                return "<hidden>"
            return mask_url_password(v) if k == "shared_limiter_url" and v else v

        return [(k, shown(k, v)) for k, v in super().__repr_args__()]

    def get_client(self, spend_hook: SpendHook | None = None) -> LeedrushClient:
        """A client whose billable calls report to ``spend_hook``."""
        limiter = None
        if self.shared_limiter_url:
            from lead_assets.distributed.limiter import SharedRequestLimiter, account_key

            limiter = SharedRequestLimiter(
                self.shared_limiter_url, account_key("leedrush", self.email)
            )
        return LeedrushClient(
            self.email,
            self.password,
            self.base_url,
            plan=self.plan or None,
            spend_hook=spend_hook,
            policy=RetryPolicy(throttled_wait=self.throttled_wait_s),
            timeout_s=self.timeout_s,
            reconcile_grace_s=self.reconcile_grace_s,
            limiter=limiter,
        )
