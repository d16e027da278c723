"""Leedrush's billing family: subscription, plan changes, checkout, usage, invoices, refunds
(A-L9..A-L11; the paths marked [I] in the contract are the sandbox's guesses)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from lead_assets.sandbox.leedrush.config import PLAN_CREDITS, PLAN_NAMES, PLANS
from lead_assets.sandbox.leedrush.rows import Json, detail
from lead_assets.sandbox.leedrush.webhooks import WebhookEndpoints

_INVOICE = "INV-2026-001"


async def plan_body(request: Request) -> str | Response:
    """The ``plan_id`` of a plan-change body, or its 400."""
    try:
        body = await request.json()
    except json.JSONDecodeError:
        return detail(400, "Malformed JSON")
    plan = body.get("plan_id") if isinstance(body, dict) else None
    if plan not in PLANS:
        return detail(400, f"Unknown plan_id {plan!r}")
    return str(plan)


class BillingEndpoints(WebhookEndpoints):
    """``/api/billing/...``: one method per endpoint."""

    def subscription_body(self) -> Json:
        """The subscription: plan, credits and this calendar month as the billing cycle."""
        today = datetime.now(UTC).date()
        next_month = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
        return {
            "plan_id": self.account.plan,
            "plan_name": PLAN_NAMES[self.account.plan],
            "credits_total": self.account.credits_total,
            "credits_remaining": self.account.credits_remaining,
            "billing_cycle_start": today.replace(day=1).isoformat(),
            "billing_cycle_end": next_month.isoformat(),
            "status": "active",
        }

    async def subscription(self, request: Request, user: str) -> Response:
        """The current subscription."""
        return JSONResponse(self.subscription_body())

    async def upgrade(self, request: Request, user: str) -> Response:
        """Immediate, and resets credits [S]; the credit allowance per plan is a guess."""
        plan = await plan_body(request)
        if isinstance(plan, Response):
            return plan
        with self.account.lock:
            self.account.plan = plan
            self.account.credits_total = self.account.credits_remaining = PLAN_CREDITS[plan]
        self.spawn(self.fire("subscription.upgraded", None, self.credit_data()))
        return JSONResponse(self.subscription_body())

    async def downgrade(self, request: Request, user: str) -> Response:  # [I] path
        """Scheduled for the end of the billing cycle [S]: the plan does not change now."""
        plan = await plan_body(request)
        if isinstance(plan, Response):
            return plan
        self.scheduled_downgrade = plan
        return JSONResponse(
            {"plan_id": plan, "effective": self.subscription_body()["billing_cycle_end"]}
        )

    async def checkout(self, request: Request, user: str) -> Response:
        """A (fake) Stripe checkout session for a plan."""
        plan = await plan_body(request)
        if isinstance(plan, Response):
            return plan
        session = f"cs_test_{uuid.uuid4().hex[:16]}"
        return JSONResponse(
            {"checkout_url": f"https://checkout.stripe.com/c/pay/{session}", "session_id": session}
        )

    async def usage(self, request: Request, user: str) -> Response:  # [I] path and parameters
        """Credits charged per day, optionally between ``start_date`` and ``end_date``."""
        start = request.query_params.get("start_date")
        end = request.query_params.get("end_date")
        daily: dict[str, int] = {}
        for c in self.account.charges:
            if (start and c["date"] < start) or (end and c["date"] > end):
                continue
            daily[c["date"]] = daily.get(c["date"], 0) + c["credits"]
        return JSONResponse(
            {
                "total_consumed": sum(daily.values()),
                "daily_usage": [{"date": d, "credits": n} for d, n in sorted(daily.items())],
            }
        )

    async def invoices(self, request: Request, user: str) -> Response:  # [I] path
        """The one sample invoice."""
        # Invoice amounts are decimal major units (dollars), A-L11.
        return JSONResponse(
            [
                {
                    "invoice_number": _INVOICE,
                    "amount": 499.00,
                    "status": "paid",
                    "created_at": "2026-02-01T10:00:00Z",
                }
            ]
        )

    async def invoice_pdf(self, request: Request, user: str) -> Response:  # [I] path
        """The sample invoice's PDF (404 for any other number)."""
        if request.path_params["invoice_number"] != _INVOICE:
            return detail(404, "Invoice not found")
        return Response(b"%PDF-1.4\n% sandbox invoice\n%%EOF\n", media_type="application/pdf")

    async def refund(self, request: Request, user: str) -> Response:  # [I] path
        """Accept a refund request (always pending)."""
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return detail(400, "Malformed JSON")
        if not isinstance(body, dict) or not body.get("order_id"):
            return detail(400, "order_id is required")
        amount = body.get("amount")
        if not isinstance(amount, int) or amount <= 0:
            # Refund amounts are integer minor units (cents), A-L11.
            return detail(422, "amount must be a positive integer number of cents")
        return JSONResponse({"order_id": body["order_id"], "amount": amount, "status": "pending"})
