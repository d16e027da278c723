"""A local Leedrush that follows ``shared/contracts/api_contracts.md`` (section 2 and A-L1..A-L13).

JWT login with a short lifetime (so clients exercise re-login), a sliding 60-second request window
per token (429 with ``Retry-After``), the plan table (requests per minute, concurrent batches, rows
per batch), credits charged one per row at ``process``, a batch clock queued -> processing ->
completed|failed that tests run fast, CSV or JSON results with QUALIFIED rows only, signed
webhooks, and fault injection.

Choices where the contract is silent, all marked [I] there: ``process`` charges 1 credit per row
and reports it as ``credits_charged`` (a sandbox extra); insufficient credits answer
``402 {"detail": "Insufficient credits"}``; over-size batches a 422; too many running batches a
429 with ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import hmac
import io
import json
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lead_assets.sandbox.faults import FaultInjector
from lead_assets.sandbox.world import h

#: plan_id -> (requests per minute, concurrent batches, max rows per batch); None = unlimited.
PLANS: dict[str, tuple[int | None, int | None, int | None]] = {
    "payg": (30, 3, 10_000),
    "starter": (60, 5, 25_000),
    "professional": (120, 10, 100_000),  # same as Scale [I]
    "scale": (120, 10, 100_000),
    "enterprise": (None, None, None),
}
PLAN_NAMES = {
    "payg": "Pay As You Go",
    "starter": "Starter",
    "professional": "Professional",
    "scale": "Scale",
    "enterprise": "Enterprise",
}
ADVANCED_PLANS = {"professional", "scale", "enterprise"}
EVENTS = (
    "batch.completed",
    "batch.failed",
    "lead.qualified",
    "credits.low",
    "credits.exhausted",
    "subscription.upgraded",
    "topup.completed",
)
_SECRET = "leedrush-sandbox-signing-key-not-a-secret-0001"


@dataclass
class LeedrushSandboxConfig:
    """Switches of the sandbox (see ``lead-assets sandbox --help``)."""

    email: str = "demo@example.com"
    password: str = "demo-password"
    plan: str = "starter"
    credits: int = 100_000
    fault_rate: float = 0.0
    fault_seed: int = 11
    realistic: bool = False
    time_scale: float = 1.0  # multiplies the batch clock
    webhook_url: str | None = None
    webhook_secret: str = "whsec_sandbox"
    jwt_lifetime_s: int = 900
    batches_shape: str = "auto"  # auto | array | envelope (A-L2)
    phase3: bool = False
    status_variety: bool = False  # emit catch_all_risky / invalid / unknown email statuses too


@dataclass
class LeedrushAccount:
    """Mutable account state (tests read and change it)."""

    plan: str
    credits_total: int
    credits_remaining: int
    charges: list[dict] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_credits(self, n: int) -> None:
        """A top-up."""
        with self.lock:
            self.credits_remaining += n
            self.credits_total += n


def _detail(status: int, detail: object, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers or {})


def create_leedrush_app(config: LeedrushSandboxConfig | None = None) -> Starlette:
    """The Leedrush sandbox as a Starlette app; state on ``app.state.sandbox``."""
    config = config or LeedrushSandboxConfig()
    if config.plan not in PLANS:
        raise ValueError(f"unknown plan {config.plan!r}; choose one of {', '.join(PLANS)}")
    account = LeedrushAccount(config.plan, config.credits, config.credits)
    faults = FaultInjector(
        rate=config.fault_rate,
        seed=config.fault_seed,
        kinds=("429", "500", "502", "malformed", "drop"),
    )
    uploads: dict[str, dict] = {}
    batches: dict[str, dict] = {}
    windows: dict[str, deque[float]] = {}
    stats = {"requests": 0, "rate_limited": 0, "logins": 0}
    scale = config.time_scale * (30.0 if config.realistic else 1.0)

    def now() -> float:
        return time.time()

    # ------------------------------------------------------------ lifecycle
    def status_of(batch: dict) -> str:
        if batch["status"] in ("completed", "failed"):
            return batch["status"]
        elapsed = now() - batch["created"]
        if elapsed < batch["queued_s"]:
            return "queued"
        if elapsed < batch["queued_s"] + batch["processing_s"]:
            return "processing"
        batch["status"] = "failed" if batch["fail"] else "completed"
        batch["completed_at"] = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        return batch["status"]

    def public(batch: dict) -> dict:
        status = status_of(batch)
        out = {
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
            out.update(
                rows_qualified=qualified,
                rows_failed=failed,
                quality_yield=round(100 * qualified / batch["rows_total"], 1)
                if batch["rows_total"]
                else 0.0,
            )
        elif status == "failed":
            out.update(
                rows_qualified=0,
                rows_failed=batch["rows_total"],
                quality_yield=0.0,
                error_reason="processing failed",
            )
        if config.phase3:
            out.update(
                leads_processed=batch["rows_total"],
                leads_qualified=out["rows_qualified"],
                phase3_metrics={
                    "cache_hit_rate": 0.9,
                    "predictive_matches": 0,
                    "multi_source_validated": 0,
                    "avg_confidence": 0.95,
                },
            )
        return out

    def result_for(row: dict) -> dict:
        email = (row.get("email") or "").strip().lower()
        key = email or f"{row.get('first_name')}|{row.get('last_name')}|{row.get('company')}"
        bucket = h("leedrush", key) % 100
        if not email or "@" not in email:
            status = "FAILED"
        elif bucket < 70:
            status = "QUALIFIED"
        elif bucket < 90:
            status = "DISQUALIFIED"
        else:
            status = "FAILED"
        email_status = "verified_deliverable"
        if config.status_variety:
            email_status = ("verified_deliverable", "catch_all_risky", "invalid", "unknown")[
                h("es", key) % 4
            ]
        phone = row.get("phone") or ""
        name = (
            row.get("full_name") or f"{row.get('first_name', '')} {row.get('last_name', '')}"
        ).strip()
        domain = email.split("@")[-1] if "@" in email else (row.get("domain") or "")
        signals = [
            s
            for i, s in enumerate(("Series B", "Hiring", "New funding", "Expanding"))
            if h("sig", domain, i) % 3 == 0
        ]
        tech = [
            t
            for i, t in enumerate(("AWS", "Salesforce", "HubSpot", "Snowflake", "Stripe"))
            if h("tech", domain, i) % 3 == 0
        ]
        return {
            "status": status,
            "score": round(50 + (h("score", key) % 5000) / 100, 1),
            "account": {
                "name": row.get("company") or row.get("company_name") or "",
                "domain": domain,
                "signals": signals,
                "technologies": tech,
            },
            "contact": {
                "full_name": name,
                "title_normalized": row.get("title") or "",
                "email": email,
                "email_status": email_status,
                "phone": phone,
                "phone_status": "mobile_active" if phone else "",
            },
            "dedup_confidence": round(0.8 + (h("dc", key) % 20) / 100, 2),
        }

    async def fire(event: str, batch: dict) -> None:
        if not config.webhook_url:
            return
        data = public(batch)
        payload = json.dumps(
            {
                "event": event,
                "batch_id": batch["batch_id"],
                "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                "data": {
                    "filename": data["filename"],
                    "rows_total": data["rows_total"],
                    "rows_qualified": data["rows_qualified"],
                    "rows_failed": data["rows_failed"],
                    "quality_yield": data["quality_yield"],
                    "processing_time_s": round(batch["queued_s"] + batch["processing_s"], 1),
                },
            }
        ).encode()
        signature = hmac.new(config.webhook_secret.encode(), payload, hashlib.sha256).hexdigest()
        headers = {"X-Leedrush-Signature": signature, "Content-Type": "application/json"}
        delay = 0.2
        async with httpx.AsyncClient(timeout=10) as client:
            for _ in range(3):  # [I] 3 attempts with backoff on non-2xx
                try:
                    response = await client.post(
                        config.webhook_url, content=payload, headers=headers
                    )
                    if response.status_code < 300:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(delay)
                delay *= 2

    async def watch(batch: dict) -> None:
        await asyncio.sleep(batch["queued_s"] + batch["processing_s"] + 0.01)
        status = status_of(batch)
        await fire("batch.completed" if status == "completed" else "batch.failed", batch)

    # --------------------------------------------------------------- guards
    def authenticate(request: Request) -> str | Response:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme != "Bearer" or not token:
            return _detail(401, "Not authenticated")
        try:
            claims = jwt.decode(token, _SECRET, algorithms=["HS256"])
        except jwt.ExpiredSignatureError:
            return _detail(401, "Token expired")
        except jwt.InvalidTokenError:
            return _detail(401, "Invalid token")
        return str(claims["sub"])

    def throttle(user: str) -> Response | None:
        rpm = PLANS[account.plan][0]
        if rpm is None:
            return None
        window = windows.setdefault(user, deque())
        t = now()
        while window and window[0] <= t - 60:
            window.popleft()
        if len(window) >= rpm:
            stats["rate_limited"] += 1
            wait = max(1, int(window[0] + 60 - t + 0.999))
            return _detail(429, "Rate limit exceeded", {"Retry-After": str(wait)})
        window.append(t)
        return None

    def guarded(fn):  # type: ignore[no-untyped-def]
        async def handler(request: Request) -> Response:
            stats["requests"] += 1
            user = authenticate(request)
            if isinstance(user, Response):
                return user
            limited = throttle(user)
            if limited is not None:
                return limited
            fault = await faults.apply(
                faults.pick(request.headers.get("x-sandbox-fault")), envelope="leedrush"
            )
            if fault is not None:
                return fault
            return await fn(request, user)

        return handler

    # ------------------------------------------------------------ endpoints
    async def login(request: Request) -> Response:
        stats["logins"] += 1
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return _detail(400, "Malformed JSON")
        if not isinstance(body, dict) or "email" not in body or "password" not in body:
            return _detail(400, "email and password are required")
        if body["email"] != config.email or body["password"] != config.password:
            return _detail(401, "Invalid credentials")
        token = jwt.encode(
            {"sub": body["email"], "exp": int(now()) + config.jwt_lifetime_s},
            _SECRET,
            algorithm="HS256",
        )
        return JSONResponse(
            {"access_token": token, "token_type": "bearer", "expires_in": config.jwt_lifetime_s}
        )

    @guarded
    async def upload(request: Request, user: str) -> Response:
        form = await request.form()
        file = form.get("file")
        if file is None or not hasattr(file, "read"):
            return _detail(400, "multipart field 'file' is required")
        raw = await file.read()
        name = file.filename or "upload.csv"
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            return _detail(422, "The file could not be decoded as UTF-8")
        try:
            if text.lstrip().startswith("["):
                rows = [r for r in json.loads(text) if isinstance(r, dict)]
            else:
                rows = list(csv.DictReader(io.StringIO(text)))
        except (json.JSONDecodeError, csv.Error) as exc:
            return _detail(422, f"The file could not be parsed: {exc}")
        rows = [
            {
                (k or "").strip().lower(): (v or "").strip() if isinstance(v, str) else v
                for k, v in r.items()
            }
            for r in rows
        ]
        if not rows or not any("email" in r for r in rows[:1]):
            return _detail(422, "No recognised email column")
        stored = f"/uploads/{name.rsplit('.', 1)[0]}_{datetime.now(UTC):%Y-%m-%d}_{uuid.uuid4().hex[:6]}.{name.rsplit('.', 1)[-1]}"
        uploads[name] = uploads[stored] = {
            "filename": name,
            "file_path": stored,
            "rows": rows,
            "user": user,
        }
        return JSONResponse(
            {"filename": name, "size": len(raw), "file_path": stored, "rows_detected": len(rows)}
        )

    @guarded
    async def process(request: Request, user: str) -> Response:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return _detail(400, "Malformed JSON")
        key = body.get("filename") or body.get("file_path") if isinstance(body, dict) else None
        if not key:
            return _detail(400, "filename is required")
        upload = uploads.get(key)
        if upload is None:
            return _detail(404, f"Unknown file {key!r}; upload it first")
        _, concurrent, max_rows = PLANS[account.plan]
        n = len(upload["rows"])
        if max_rows is not None and n > max_rows:
            return _detail(
                422,
                f"The file has {n} rows; the {PLAN_NAMES[account.plan]} plan allows at most {max_rows} rows per batch",
            )
        running = sum(1 for b in batches.values() if status_of(b) in ("queued", "processing"))
        if concurrent is not None and running >= concurrent:
            return _detail(
                429,
                f"{running} batches are running; the plan allows {concurrent} at once",
                {"Retry-After": "5"},
            )
        with account.lock:
            if account.credits_remaining < n:
                return _detail(402, "Insufficient credits")
            account.credits_remaining -= n
            account.charges.append(
                {
                    "date": datetime.now(UTC).date().isoformat(),
                    "credits": n,
                    "filename": upload["filename"],
                }
            )
        batch_id = f"batch_{uuid.uuid4().hex[:8]}"
        created = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        batch = {
            "batch_id": batch_id,
            "status": "queued",
            "filename": upload["filename"],
            "rows_total": n,
            "created": now(),
            "created_at": created,
            "queued_s": 0.2 * scale,
            "processing_s": (0.3 + n * 0.00005) * scale,
            "fail": "fail" in upload["filename"].lower(),
            "results": [result_for(r) for r in upload["rows"]],
        }
        batches[batch_id] = batch
        asyncio.get_running_loop().create_task(watch(batch))
        return JSONResponse(
            {
                "batch_id": batch_id,
                "status": "queued",
                "filename": upload["filename"],
                "rows_total": n,
                "created_at": created,
                "credits_charged": n,
            }
        )

    @guarded
    async def list_batches(request: Request, user: str) -> Response:
        params = request.query_params
        try:
            limit = int(params.get("limit", 20))
            offset = int(params.get("offset", 0))
        except ValueError:
            return _detail(
                422,
                [
                    {
                        "loc": ["query", "limit"],
                        "msg": "value is not a valid integer",
                        "type": "type_error.integer",
                    }
                ],
            )
        if limit > 100 or limit < 1:
            return _detail(
                422,
                [
                    {
                        "loc": ["query", "limit"],
                        "msg": "ensure this value is less than or equal to 100",
                        "type": "value_error",
                    }
                ],
            )
        if offset < 0:
            return _detail(
                422,
                [
                    {
                        "loc": ["query", "offset"],
                        "msg": "ensure this value is greater than or equal to 0",
                        "type": "value_error",
                    }
                ],
            )
        sort, order = params.get("sort", "created_at"), params.get("order", "desc")
        if sort not in ("created_at", "status", "rows_total") or order not in ("asc", "desc"):
            return _detail(
                422,
                [
                    {
                        "loc": ["query", "sort"],
                        "msg": "unsupported sort or order",
                        "type": "value_error",
                    }
                ],
            )
        items = [public(b) for b in batches.values()]
        key = {
            "created_at": lambda b: b["created_at"],
            "status": lambda b: b["status"],
            "rows_total": lambda b: b["rows_total"],
        }[sort]
        items.sort(key=key, reverse=order == "desc")
        envelope = config.batches_shape == "envelope" or (
            config.batches_shape == "auto"
            and any(k in params for k in ("limit", "offset", "sort", "order"))
        )
        if not envelope:
            return JSONResponse(items)
        page = items[offset : offset + limit]
        return JSONResponse(
            {
                "items": page,
                "total": len(items),
                "limit": limit,
                "offset": offset,
                "has_more": offset + limit < len(items),
            }
        )

    @guarded
    async def download(request: Request, user: str) -> Response:
        batch = batches.get(request.path_params["job_id"])
        if batch is None:
            return _detail(404, "Batch not found")
        status = status_of(batch)
        if status != "completed":
            return _detail(409, f"Batch is {status}; results are available once it is completed")
        qualified = [r for r in batch["results"] if r["status"] == "QUALIFIED"]
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse(qualified)
        columns = [
            "status",
            "score",
            "account.name",
            "account.domain",
            "account.signals",
            "account.technologies",
            "contact.full_name",
            "contact.title_normalized",
            "contact.email",
            "contact.email_status",
            "contact.phone",
            "contact.phone_status",
            "dedup_confidence",
        ]
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(columns)
        for r in qualified:
            writer.writerow(
                [
                    r["status"],
                    r["score"],
                    r["account"]["name"],
                    r["account"]["domain"],
                    ";".join(r["account"]["signals"]),
                    ";".join(r["account"]["technologies"]),
                    r["contact"]["full_name"],
                    r["contact"]["title_normalized"],
                    r["contact"]["email"],
                    r["contact"]["email_status"],
                    r["contact"]["phone"],
                    r["contact"]["phone_status"],
                    r["dedup_confidence"],
                ]
            )
        return Response(buf.getvalue(), media_type="text/csv")

    @guarded
    async def subscription(request: Request, user: str) -> Response:
        return JSONResponse(
            {
                "plan_id": account.plan,
                "plan_name": PLAN_NAMES[account.plan],
                "credits_total": account.credits_total,
                "credits_remaining": account.credits_remaining,
                "billing_cycle_start": datetime.now(UTC).date().replace(day=1).isoformat(),
                "billing_cycle_end": datetime.now(UTC).date().isoformat(),
                "status": "active",
            }
        )

    @guarded
    async def usage(request: Request, user: str) -> Response:  # [I] path
        daily: dict[str, int] = {}
        for c in account.charges:
            daily[c["date"]] = daily.get(c["date"], 0) + c["credits"]
        return JSONResponse(
            {
                "total_consumed": sum(daily.values()),
                "daily_usage": [{"date": d, "credits": n} for d, n in sorted(daily.items())],
            }
        )

    @guarded
    async def cache_stats(request: Request, user: str) -> Response:  # [I] path
        if account.plan not in ADVANCED_PLANS:
            return _detail(403, "This endpoint requires a higher plan tier")
        return JSONResponse(
            {
                "l1_cache": {
                    "hit_rate": 0.94,
                    "avg_latency_ms": 0.8,
                    "total_hits": 1,
                    "total_misses": 0,
                },
                "l2_cache": {
                    "hit_rate": 0.89,
                    "avg_latency_ms": 12.5,
                    "total_hits": 1,
                    "total_misses": 0,
                },
                "similarity_matches": {"total": 0, "threshold": 0.85},
                "cost_savings": {"api_calls_saved": 0, "estimated_savings_usd": 0.0},
            }
        )

    @guarded
    async def multi_source(request: Request, user: str) -> Response:
        if account.plan not in ADVANCED_PLANS:
            return _detail(403, "This endpoint requires a higher plan tier")
        email = request.query_params.get("email", "")
        if "@" not in email:
            return _detail(400, "email is required")
        return JSONResponse(
            {
                "lead": {
                    "email": email,
                    "name": None,
                    "title": None,
                    "company": None,
                    "phone": None,
                    "linkedin": None,
                },
                "validation": {"confidence_score": 0.9, "data_quality": 0.9, "coverage": 0.5},
                "sources": {
                    "hunter_io": {
                        "agreement": True,
                        "confidence": 0.9,
                        "fields_provided": ["email"],
                    }
                },
                "consensus": {"email": {"agreement_score": 1.0, "sources": 1}},
            }
        )

    @guarded
    async def test_event(request: Request, user: str) -> Response:
        event = request.path_params["event"]
        if event not in EVENTS:
            return _detail(404, f"Unknown event; one of {', '.join(EVENTS)}")
        fake = {
            "batch_id": "batch_test0000",
            "filename": "test.csv",
            "rows_total": 0,
            "queued_s": 0,
            "processing_s": 0,
            "status": "completed",
            "results": [],
            "created_at": "",
            "created": now(),
        }
        await fire(event, fake)
        return JSONResponse({"sent": event})

    routes = [
        Route("/api/auth/login", login, methods=["POST"]),
        Route("/api/upload", upload, methods=["POST"]),
        Route("/api/process", process, methods=["POST"]),
        Route("/api/batches", list_batches, methods=["GET"]),
        Route("/api/download/{job_id}", download, methods=["GET"]),
        Route("/api/billing/subscription", subscription, methods=["GET"]),
        Route("/api/billing/usage", usage, methods=["GET"]),
        Route("/api/v1/cache/stats", cache_stats, methods=["GET"]),
        Route("/api/v1/validation/multi-source", multi_source, methods=["GET"]),
        Route("/v1/validation/multi-source", multi_source, methods=["GET"]),
        Route("/api/sandbox/webhooks/test/{event}", test_event, methods=["POST"]),
    ]
    app = Starlette(routes=routes)
    app.state.sandbox = type(
        "LeedrushState",
        (),
        {
            "config": config,
            "account": account,
            "batches": batches,
            "uploads": uploads,
            "stats": stats,
            "faults": faults,
        },
    )()
    return app
