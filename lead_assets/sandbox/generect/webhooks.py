"""Generect's webhooks family: subscriptions and the signed, retried delivery of job events."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from datetime import UTC, datetime

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from lead_assets.sandbox.generect.base import GenerectBase, Json, Problem
from lead_assets.sandbox.generect.config import WEBHOOK_EVENTS


async def post_with_retries(url: str, payload: bytes, headers: dict[str, str]) -> None:
    """Deliver a webhook: 2xx is success, 4xx final, 5xx/timeouts retried (5 attempts in all)."""
    delay = 0.5
    async with httpx.AsyncClient(timeout=10) as client:
        for _ in range(5):
            try:
                response = await client.post(url, content=payload, headers=headers)
                if response.status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(delay)
            delay *= 2


def signed_headers(event: str, secret: str, payload: bytes) -> dict[str, str]:
    """The delivery headers: event, timestamp and the base64 HMAC-SHA256 of the raw body."""
    signature = base64.b64encode(hmac.new(secret.encode(), payload, hashlib.sha256).digest())
    return {
        "X-Webhook-Event": event,
        "X-Webhook-Timestamp": str(int(time.time())),
        "X-Webhook-Signature": signature.decode(),
        "Content-Type": "application/json",
    }


class WebhookEndpoints(GenerectBase):
    """``/webhooks/`` (list and subscribe) and the delivery of events to the subscribers."""

    async def webhooks_root(self, request: Request, body: Json, mode: str | None) -> Response:
        """GET lists the subscriptions; POST subscribes a URL to some of ``WEBHOOK_EVENTS``."""
        if request.method == "GET":
            return JSONResponse(list(self.webhooks.values()))
        bad = [e for e in body.get("events") or [] if e not in WEBHOOK_EVENTS]
        if not body.get("url") or not body.get("events") or bad:
            raise Problem(400, {"events": [f"Allowed events: {', '.join(WEBHOOK_EVENTS)}"]})
        hook_id = uuid.uuid4().hex
        now = datetime.now(UTC).isoformat()
        self.webhooks[hook_id] = {
            "id": hook_id,
            "url": body["url"],
            "events": body["events"],
            "secret": body.get("secret") or uuid.uuid4().hex,
            "is_active": True,
            "created_at": now,
            "updated_at": now,
        }
        return JSONResponse(self.webhooks[hook_id], status_code=201)

    async def deliver(self, event: str, job_id: str, job: Json) -> None:
        """Send a job's event to each active subscriber, in the background (never awaited, so a
        slow receiver cannot hold up the poll that completed the job)."""
        for hook in list(self.webhooks.values()):
            if event not in hook["events"] or not hook["is_active"]:
                continue
            payload = json.dumps(
                {
                    "event": event,
                    "timestamp": datetime.now(UTC).isoformat(),
                    "data": job.get("results"),
                    "meta": {
                        "job_id": job_id,
                        "status": job["status"],
                        "amount_charged": job.get("amount", 0),
                    },
                }
            ).encode()
            headers = signed_headers(event, hook["secret"], payload)
            asyncio.get_running_loop().create_task(post_with_retries(hook["url"], payload, headers))
