"""Generect's account family: the account, its usage breakdown and its transactions (all free)."""

from __future__ import annotations

from collections import defaultdict

from starlette.requests import Request
from starlette.responses import Response

from lead_assets.sandbox.generect.base import GenerectBase, Json, envelope
from lead_assets.sandbox.generect.matching import transaction_matches


class AccountEndpoints(GenerectBase):
    """``/accounts/{me,usage,transactions}/``: one method per endpoint."""

    async def accounts_me(self, request: Request, body: Json, mode: str | None) -> Response:
        """The account with its USD balance and this month's spend."""
        return envelope(
            {
                "id": 1,
                "email": "sandbox@example.com",
                "name": "Sandbox",
                "plan": "sandbox",
                "credits": {
                    "balance": self.account.balance,
                    "used_this_month": self.account.total_charged,
                    "monthly_limit": 10000,
                },
                "preview_tier": self.config.preview_free,
            }
        )

    async def accounts_usage(self, request: Request, body: Json, mode: str | None) -> Response:
        """Spend in total and per charge type."""
        breakdown: dict[str, float] = defaultdict(float)
        for c in self.account.charges:
            breakdown[c["type"]] += -c["credits"]
        return envelope(
            {
                "period": request.query_params.get("period", "month"),
                "total_credits": self.account.total_charged,
                "breakdown": dict(breakdown),
            }
        )

    async def accounts_transactions(
        self, request: Request, body: Json, mode: str | None
    ) -> Response:
        """The charges, newest first, filtered (``transaction_matches``) and paged."""
        try:
            limit = int(request.query_params.get("limit", 100))
            offset = int(request.query_params.get("offset", 0))
        except ValueError:  # unparseable filters are silently dropped by the real API
            limit, offset = 100, 0
        q = request.query_params
        rows = [t for t in reversed(self.account.charges) if transaction_matches(t, q)]
        return envelope({"transactions": rows[offset : offset + limit]})
