"""Leedrush's webhooks: signed event delivery with retries, the batch watcher that fires the
batch events, and the sandbox-only endpoint that fires any event on demand."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from lead_assets.sandbox.leedrush.base import LeedrushBase
from lead_assets.sandbox.leedrush.config import EVENTS
from lead_assets.sandbox.leedrush.rows import Json, detail, now_iso

_BATCH_EVENTS = ("batch.completed", "batch.failed", "lead.qualified")


def sample_batch_data(event: str) -> Json:
    """The ``batch.completed`` data shape, as a failed batch for ``batch.failed``."""
    failed = event == "batch.failed"
    data: Json = {
        "filename": "test.csv",
        "rows_total": 500,
        "rows_qualified": 0 if failed else 382,
        "rows_failed": 500 if failed else 23,
        "quality_yield": 0.0 if failed else 76.4,
        "processing_time_s": 47,
    }
    if failed:
        data["error_reason"] = "processing failed"
    return data


class WebhookEndpoints(LeedrushBase):
    """Event delivery to ``config.webhook_url`` and ``/api/sandbox/webhooks/test/{event}``."""

    async def fire(self, event: str, batch_id: str | None, data: Json) -> None:
        """Deliver one signed event; [I] 3 attempts with doubling backoff on non-2xx."""
        url = self.config.webhook_url
        if not url:
            return
        payload = json.dumps(
            {"event": event, "batch_id": batch_id, "timestamp": now_iso(), "data": data}
        ).encode()
        secret = self.config.webhook_secret.encode()
        signature = hmac.new(secret, payload, hashlib.sha256).hexdigest()
        headers = {"X-Leedrush-Signature": signature, "Content-Type": "application/json"}
        delay = self.config.webhook_backoff_s
        async with httpx.AsyncClient(timeout=10) as client:
            for attempt in range(1, 4):
                code: int | None = None
                try:
                    response = await client.post(url, content=payload, headers=headers)
                    code = response.status_code
                except httpx.HTTPError:
                    pass
                self.webhook_log.append((event, code, attempt))
                if code is not None and code < 300:
                    return
                if attempt < 3:
                    await asyncio.sleep(delay)
                    delay *= 2

    async def watch(self, batch: Json) -> None:
        """Wait out a batch's clock, then fire batch.completed or batch.failed."""
        await asyncio.sleep(batch["queued_s"] + batch["processing_s"] + 0.01)
        status = self.status_of(batch)
        event = "batch.completed" if status == "completed" else "batch.failed"
        await self.fire(event, batch["batch_id"], self.batch_data(batch))

    async def test_event(self, request: Request, user: str) -> Response:
        """Fire one of the seven events now, with the ``batch.completed`` data shape for batch
        events and the credit balance for account events (shapes other than batch.completed
        are [I])."""
        event = request.path_params["event"]
        if event not in EVENTS:
            return detail(404, f"Unknown event; one of {', '.join(EVENTS)}")
        if not self.config.webhook_url:
            return detail(409, "No webhook_url is configured")
        if event in _BATCH_EVENTS:
            await self.fire(event, "batch_test0000", sample_batch_data(event))
        else:
            await self.fire(event, None, self.credit_data())
        return JSONResponse({"sent": event})
