"""State and shared helpers of the Leedrush sandbox: the batch clock, batch rendering, JWT
login and authentication, the per-account request window and the guard every endpoint runs in."""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

import jwt
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from lead_assets.sandbox.faults import AFTER_FAULTS, FaultInjector
from lead_assets.sandbox.leedrush.config import (
    PLANS,
    SIGNING_KEY,
    LeedrushAccount,
    LeedrushSandboxConfig,
)
from lead_assets.sandbox.leedrush.rows import Json, detail

#: A guarded endpoint method: the request and the authenticated user (the token's subject) in.
Endpoint = Callable[[Request, str], Awaitable[Response]]
#: What Starlette routes to.
Handler = Callable[[Request], Awaitable[Response]]

_PHASE3_METRICS = {
    "cache_hit_rate": 0.9,
    "predictive_matches": 0,
    "multi_source_validated": 0,
    "avg_confidence": 0.95,
}


class LeedrushBase:
    """Everything a test may read or change (config, account, faults, batches, uploads, stats,
    webhook_log) and the helpers the endpoint families share.

    The endpoint families are mixins over this class; :class:`~lead_assets.sandbox.leedrush.app.
    LeedrushSandbox` combines them and is what ``app.state.sandbox`` holds."""

    def __init__(self, config: LeedrushSandboxConfig | None = None) -> None:
        config = config or LeedrushSandboxConfig()
        if config.plan not in PLANS:
            raise ValueError(f"unknown plan {config.plan!r}; choose one of {', '.join(PLANS)}")
        self.config = config
        self.account = LeedrushAccount(config.plan, config.credits, config.credits)
        self.faults = FaultInjector(
            rate=config.fault_rate,
            seed=config.fault_seed,
            kinds=tuple(config.fault_kinds),
            timeout_seconds=config.timeout_fault_s,
        )
        self.batches: dict[str, Json] = {}
        #: Uploads by (user, filename) and by (user, stored file_path).
        self.uploads: dict[tuple[str, str], Json] = {}
        self.stats: dict[str, int] = {"requests": 0, "rate_limited": 0, "logins": 0, "processed": 0}
        #: Webhook deliveries: (event, status code or None, attempt).
        self.webhook_log: list[tuple[str, int | None, int]] = []
        self.scheduled_downgrade: str | None = None
        #: Request times of the sliding 60 s window, per account.
        self.windows: dict[str, deque[float]] = {}
        #: Creation order of batches (ties of ``created_at`` in listings).
        self.sequence = iter(range(1, 10**12))
        #: Running background tasks, referenced so they are not garbage-collected mid-flight.
        self.background: set[asyncio.Task[None]] = set()

    def add_credits(self, n: int) -> None:
        """A top-up on the account."""
        self.account.add_credits(n)

    def set_plan(self, plan: str) -> None:
        """Change the account's plan."""
        self.account.set_plan(plan)

    # ------------------------------------------------------------------ clock
    def now(self) -> float:
        """The sandbox clock (wall time)."""
        return time.time()

    def scale(self) -> float:
        """The factor of the batch clock."""
        # Read at each batch's creation, so a test or operator can change the clock of a
        # running sandbox (config.time_scale) and the next batches follow it.
        return self.config.time_scale * (30.0 if self.config.realistic else 1.0)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run ``coro`` in the background of the serving loop."""
        task = asyncio.get_running_loop().create_task(coro)
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    # ------------------------------------------------------------------ batches
    def status_of(self, batch: Json) -> str:
        """A batch's status by the clock: queued -> processing -> completed|failed (final once
        reached, with its ``completed_at``)."""
        if batch["status"] in ("completed", "failed"):
            return batch["status"]
        elapsed = self.now() - batch["created"]
        if elapsed < batch["queued_s"]:
            return "queued"
        if elapsed < batch["queued_s"] + batch["processing_s"]:
            return "processing"
        batch["status"] = "failed" if batch["fail"] else "completed"
        batch["completed_at"] = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        return batch["status"]

    def public(self, batch: Json) -> Json:
        """A batch as the API shows it (counts once it is done; Phase-3 fields if enabled)."""
        status = self.status_of(batch)
        out: Json = {
            "batch_id": batch["batch_id"],
            "status": status,
            "filename": batch["filename"],
            "rows_total": batch["rows_total"],
            "rows_qualified": None,
            "rows_failed": None,
            "quality_yield": None,
            "created_at": batch["created_at"],
            "completed_at": batch.get("completed_at"),
        }
        if status == "completed":
            qualified = sum(1 for r in batch["results"] if r["status"] == "QUALIFIED")
            failed = sum(1 for r in batch["results"] if r["status"] == "FAILED")
            total = batch["rows_total"]
            out.update(
                rows_qualified=qualified,
                rows_failed=failed,
                quality_yield=round(100 * qualified / total, 1) if total else 0.0,
            )
        elif status == "failed":
            out.update(
                rows_qualified=0,
                rows_failed=batch["rows_total"],
                quality_yield=0.0,
                error_reason="processing failed",
            )
        if self.config.phase3:
            out.update(
                leads_processed=batch["rows_total"],
                leads_qualified=out["rows_qualified"],
                phase3_metrics=dict(_PHASE3_METRICS),
            )
        return out

    def batch_data(self, batch: Json) -> Json:
        """The ``data`` of a batch.completed / batch.failed event."""
        data = self.public(batch)
        out = {
            "filename": data["filename"],
            "rows_total": data["rows_total"],
            "rows_qualified": data["rows_qualified"],
            "rows_failed": data["rows_failed"],
            "quality_yield": data["quality_yield"],
            "processing_time_s": round(batch["queued_s"] + batch["processing_s"], 1),
        }
        if data.get("error_reason"):
            out["error_reason"] = data["error_reason"]
        return out

    def credit_data(self) -> Json:
        """The ``data`` of the account events (credits.*, subscription.upgraded)."""
        return {
            "plan_id": self.account.plan,
            "credits_total": self.account.credits_total,
            "credits_remaining": self.account.credits_remaining,
        }

    # ------------------------------------------------------------------ auth and guard
    async def login(self, request: Request) -> Response:
        """``POST /api/auth/login``: a short-lived HS256 JWT for the configured credentials."""
        self.stats["logins"] += 1
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return detail(400, "Malformed JSON")
        if not isinstance(body, dict) or "email" not in body or "password" not in body:
            return detail(400, "email and password are required")
        if body["email"] != self.config.email or body["password"] != self.config.password:
            return detail(401, "Invalid credentials")
        lifetime = self.config.jwt_lifetime_s
        token = jwt.encode(
            {"sub": body["email"], "exp": int(self.now()) + lifetime},
            SIGNING_KEY,
            algorithm="HS256",
        )
        return JSONResponse({"access_token": token, "token_type": "bearer", "expires_in": lifetime})

    def authenticate(self, request: Request) -> str | Response:
        """The token's subject, or the 401 to answer."""
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme != "Bearer" or not token:
            return detail(401, "Not authenticated")
        try:
            claims = jwt.decode(token, SIGNING_KEY, algorithms=["HS256"])
        except jwt.ExpiredSignatureError:
            return detail(401, "Token expired")
        except jwt.InvalidTokenError:
            return detail(401, "Invalid token")
        return str(claims["sub"])

    def throttle(self, user: str) -> Response | None:
        """Count the request in ``user``'s 60 s window, or the 429 once the plan's rpm is used."""
        rpm = PLANS[self.account.plan][0]
        if rpm is None:
            return None
        window = self.windows.setdefault(user, deque())
        t = self.now()
        while window and window[0] <= t - 60:
            window.popleft()
        if len(window) >= rpm:
            self.stats["rate_limited"] += 1
            wait = max(1, int(window[0] + 60 - t + 0.999))
            return detail(429, "Rate limit exceeded", {"Retry-After": str(wait)})
        window.append(t)
        return None

    def guarded(self, fn: Endpoint) -> Handler:
        """Wrap an endpoint method with authentication, the rate window and fault injection."""

        async def handler(request: Request) -> Response:
            self.stats["requests"] += 1
            user = self.authenticate(request)
            if isinstance(user, Response):
                return user
            limited = self.throttle(user)
            if limited is not None:
                return limited
            kind = self.faults.pick(request.headers.get("x-sandbox-fault"))
            if kind in AFTER_FAULTS:
                # The work is done (and charged); only the answer is lost.
                response = await fn(request, user)
                lost = await self.faults.apply(kind, envelope="leedrush")
                return lost if lost is not None else response
            fault = await self.faults.apply(kind, envelope="leedrush")
            if fault is not None:
                return fault
            return await fn(request, user)

        return handler
