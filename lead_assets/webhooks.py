"""The vendor webhook receiver (``lead-assets webhooks``): a small Starlette app on its own port.

- ``POST /webhooks/leedrush``: ``X-Leedrush-Signature`` = hex HMAC-SHA256 of the raw body with
  ``LEEDRUSH_WEBHOOK_SECRET``.
- ``POST /webhooks/generect``: ``X-Webhook-Signature`` = base64 HMAC-SHA256 of the raw body with
  ``GENERECT_WEBHOOK_SECRET``.

The signature is checked on the bytes as received (``lead_assets.clients.webhooks``); a bad or
missing signature, an event older than ``LEAD_ASSETS_WEBHOOK_TOLERANCE_S`` (default 300 s) and an
event already recorded (a replay) are refused with 401. A good event is written once to
``vendor_events`` (vendor + event id; Leedrush sends no id, so the id is the body's SHA-256). A
Leedrush ``batch.completed`` / ``batch.failed`` also moves the open submission to that status,
so the batch-status sensor requests the collect run at its next tick without polling Leedrush.
Polling stays the fallback: a lost webhook only costs the poll interval.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from lead_assets.clients.webhooks import verify_generect_signature, verify_leedrush_signature
from lead_assets.warehouse.engine import write_transaction

TERMINAL_EVENTS = {"batch.completed": "completed", "batch.failed": "failed"}


def tolerance() -> timedelta:
    """How old an event may be (``LEAD_ASSETS_WEBHOOK_TOLERANCE_S``, default 300 s)."""
    from lead_assets.settings import webhook_tolerance_seconds

    return timedelta(seconds=webhook_tolerance_seconds())


@dataclass(frozen=True)
class Outcome:
    """The receiver's answer: HTTP status and a sentence (never the payload)."""

    status: int
    detail: str


def _event_time(payload: dict) -> datetime | None:
    raw = payload.get("timestamp") or payload.get("created_at")
    if not raw:
        return None
    try:
        ts = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def record_event(engine: Engine, vendor: str, body: bytes, now: datetime | None = None) -> Outcome:
    """Record one verified delivery idempotently; 401 for stale or replayed events."""
    now = now or datetime.now(UTC)
    try:
        payload = json.loads(body)
    except ValueError:
        return Outcome(400, "the body is not JSON")
    if not isinstance(payload, dict) or not payload.get("event"):
        return Outcome(400, "the body has no event name")
    at = _event_time(payload)
    if at is not None and abs(now - at) > tolerance():
        return Outcome(401, "the event is outside the accepted time window (replay?)")
    event_id = str(payload.get("id") or payload.get("event_id") or hashlib.sha256(body).hexdigest())
    batch_id = payload.get("batch_id") or (payload.get("data") or {}).get("batch_id")
    naive_now = now.astimezone(UTC).replace(tzinfo=None)
    try:
        with write_transaction(engine) as conn:
            conn.execute(
                text(
                    "INSERT INTO vendor_events (vendor, event_id, event, batch_id, payload, received_at)"
                    " VALUES (:v, :i, :e, :b, :p, :t)"
                ),
                {
                    "v": vendor,
                    "i": event_id,
                    "e": payload["event"],
                    "b": str(batch_id) if batch_id else None,
                    "p": body.decode("utf-8", "replace"),
                    "t": naive_now,
                },
            )
            status = TERMINAL_EVENTS.get(payload["event"]) if vendor == "leedrush" else None
            if status and batch_id:
                conn.execute(
                    text(
                        "UPDATE leedrush_submissions SET status = :s, updated_at = :t, "
                        "detail = 'status from webhook' WHERE leedrush_batch_id = :b "
                        "AND status IN ('queued', 'processing')"
                    ),
                    {"s": status, "t": naive_now, "b": str(batch_id)},
                )
    except IntegrityError:
        return Outcome(401, "the event was already received (replay)")
    return Outcome(200, f"recorded {payload['event']}")


def create_app(engine: Engine, *, leedrush_secret: str, generect_secret: str) -> Starlette:
    """The receiver app; secrets are passed in, never read from a request."""

    async def leedrush(request: Request) -> JSONResponse:
        body = await request.body()
        if not verify_leedrush_signature(
            leedrush_secret, body, request.headers.get("X-Leedrush-Signature")
        ):
            return JSONResponse({"detail": "bad signature"}, status_code=401)
        outcome = record_event(engine, "leedrush", body)
        return JSONResponse({"detail": outcome.detail}, status_code=outcome.status)

    async def generect(request: Request) -> JSONResponse:
        body = await request.body()
        if not verify_generect_signature(
            generect_secret, body, request.headers.get("X-Webhook-Signature")
        ):
            return JSONResponse({"detail": "bad signature"}, status_code=401)
        outcome = record_event(engine, "generect", body)
        return JSONResponse({"detail": outcome.detail}, status_code=outcome.status)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route("/webhooks/leedrush", leedrush, methods=["POST"]),
            Route("/webhooks/generect", generect, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
        ]
    )
