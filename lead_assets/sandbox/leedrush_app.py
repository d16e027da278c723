"""A local Leedrush that follows ``docs/vendor_contract.md`` (Leedrush, A-L1..A-L13).

JWT login with a short lifetime (so clients exercise re-login), a sliding 60-second request window
per token (429 with ``Retry-After``), the plan table (requests per minute, concurrent batches, rows
per batch), credits charged one per row at ``process``, a batch clock queued -> processing ->
completed|failed that tests run fast, CSV or JSON results with QUALIFIED rows only, signed
webhooks, and fault injection.

Choices where the contract is silent, all marked [I] there: ``process`` charges 1 credit per row
and reports it as ``credits_charged`` (a sandbox extra; the real response may not carry it);
insufficient credits answer ``402 {"detail": "Insufficient credits"}``; over-size batches a 422;
too many running batches a 429 with ``Retry-After`` (seconds until the first running batch ends);
the rpm window is kept per account (the token's subject), which is stricter than per token.

Faults (shared :class:`~lead_assets.sandbox.faults.FaultInjector`, by seeded rate or by the
``X-Sandbox-Fault`` header): ``429``, ``500``, ``502`` and ``slow`` strike *before* the handler (the
call was not served); ``malformed``, ``drop`` and ``timeout`` strike *after* it (the work was done
and charged, the answer was lost), the case that tempts a client to pay twice.

Batches fail when the filename contains ``fail``, when ``process`` carries ``X-Sandbox-Fail: 1``,
or for a deterministic share ``fail_rate`` of filenames.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import hmac
import io
import json
import math
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lead_assets.sandbox.faults import AFTER_FAULTS, FaultInjector
from lead_assets.sandbox.world import h

#: plan_id -> (requests per minute, concurrent batches, max rows per batch); None = unlimited.
PLANS: dict[str, tuple[int | None, int | None, int | None]] = {
    "payg": (30, 3, 10_000),
    "starter": (60, 5, 25_000),
    "professional": (120, 10, 100_000),  # same as Scale [I]
    "scale": (120, 10, 100_000),
    "enterprise": (None, None, None),
}
#: Credits a plan's cycle starts with after an upgrade [I: the page gives only professional=5000].
PLAN_CREDITS = {
    "payg": 1_000,
    "starter": 25_000,
    "professional": 5_000,
    "scale": 100_000,
    "enterprise": 1_000_000,
}
PLAN_NAMES = {
    "payg": "Pay As You Go",
    "starter": "Starter",
    "professional": "Professional",
    "scale": "Scale",
    "enterprise": "Enterprise",
}
#: Plan order for tier gating of the Phase-3 endpoints (403 below ``advanced_tier``).
PLAN_RANK = {"payg": 0, "starter": 1, "professional": 2, "scale": 2, "enterprise": 3}
RESULT_COLUMNS = [
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
    fault_kinds: tuple[str, ...] = ("429", "500", "502", "malformed", "drop")
    timeout_fault_s: float = 120.0  # how long a "timeout" fault holds the answer back
    fail_rate: float = 0.0  # deterministic share of batches (by filename) that fail
    advanced_tier: str = "professional"  # lowest plan allowed the Phase-3 endpoints
    webhook_backoff_s: float = 0.2  # first retry delay of a failed webhook delivery


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

    def set_plan(self, plan: str) -> None:
        """Change the plan (limits apply from the next request)."""
        if plan not in PLANS:
            raise ValueError(f"unknown plan {plan!r}")
        self.plan = plan

    @property
    def charged(self) -> int:
        """Credits charged so far by ``process``."""
        return sum(c["credits"] for c in self.charges)


@dataclass
class LeedrushSandboxState:
    """Everything a test may read or change, on ``app.state.sandbox``."""

    config: LeedrushSandboxConfig
    account: LeedrushAccount
    faults: FaultInjector
    batches: dict[str, dict] = field(default_factory=dict)
    uploads: dict[tuple[str, str], dict] = field(default_factory=dict)
    stats: dict[str, int] = field(
        default_factory=lambda: {"requests": 0, "rate_limited": 0, "logins": 0, "processed": 0}
    )
    #: Webhook deliveries: (event, status code or None, attempt).
    webhook_log: list[tuple[str, int | None, int]] = field(default_factory=list)
    scheduled_downgrade: str | None = None

    def add_credits(self, n: int) -> None:
        """A top-up on the account."""
        self.account.add_credits(n)

    def set_plan(self, plan: str) -> None:
        """Change the account's plan."""
        self.account.set_plan(plan)


def _detail(status: int, detail: object, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers or {})


def _format_phone(raw: str) -> str:
    """Vendor-style ``+1-555-0199`` formatting: NANP numbers grouped, others ``+<digits>``."""
    digits = "".join(c for c in str(raw) if c.isdigit())
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) == 10:
        return f"+1-{digits[:3]}-{digits[3:6]}-{digits[6:]}"
    if len(digits) == 7:
        return f"+1-{digits[:3]}-{digits[3:]}"
    return f"+{digits}" if len(digits) >= 8 else ""


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def create_leedrush_app(config: LeedrushSandboxConfig | None = None) -> Starlette:
    """The Leedrush sandbox as a Starlette app; state on ``app.state.sandbox``."""
    config = config or LeedrushSandboxConfig()
    if config.plan not in PLANS:
        raise ValueError(f"unknown plan {config.plan!r}; choose one of {', '.join(PLANS)}")
    account = LeedrushAccount(config.plan, config.credits, config.credits)
    faults = FaultInjector(
        rate=config.fault_rate,
        seed=config.fault_seed,
        kinds=tuple(config.fault_kinds),
        timeout_seconds=config.timeout_fault_s,
    )
    state = LeedrushSandboxState(config, account, faults)
    uploads, batches, stats = state.uploads, state.batches, state.stats
    windows: dict[str, deque[float]] = {}

    def scale() -> float:
        # Read at each batch's creation, so a test or operator can change the clock of a
        # running sandbox (config.time_scale) and the next batches follow it.
        return config.time_scale * (30.0 if config.realistic else 1.0)

    sequence = iter(range(1, 10**12))

    background: set[asyncio.Task] = set()

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
        phone = _format_phone(row.get("phone") or row.get("phone_number") or "")
        phone_status = ""
        if phone:
            phone_status = "mobile_active"
            if config.status_variety:
                phone_status = ("mobile_active", "landline", "voip", "disconnected")[
                    h("ps", key) % 4
                ]
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
                "phone_status": phone_status,
            },
            "dedup_confidence": round(0.8 + (h("dc", key) % 20) / 100, 2),
        }

    def batch_data(batch: dict) -> dict:
        data = public(batch)
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

    def credit_data() -> dict:
        return {
            "plan_id": account.plan,
            "credits_total": account.credits_total,
            "credits_remaining": account.credits_remaining,
        }

    async def fire(event: str, batch_id: str | None, data: dict) -> None:
        """Deliver one signed event; [I] 3 attempts with doubling backoff on non-2xx."""
        if not config.webhook_url:
            return
        payload = json.dumps(
            {"event": event, "batch_id": batch_id, "timestamp": _now_iso(), "data": data}
        ).encode()
        signature = hmac.new(config.webhook_secret.encode(), payload, hashlib.sha256).hexdigest()
        headers = {"X-Leedrush-Signature": signature, "Content-Type": "application/json"}
        delay = config.webhook_backoff_s
        async with httpx.AsyncClient(timeout=10) as client:
            for attempt in range(1, 4):
                code: int | None = None
                try:
                    response = await client.post(
                        config.webhook_url, content=payload, headers=headers
                    )
                    code = response.status_code
                except httpx.HTTPError:
                    pass
                state.webhook_log.append((event, code, attempt))
                if code is not None and code < 300:
                    return
                if attempt < 3:
                    await asyncio.sleep(delay)
                    delay *= 2

    def spawn(coro) -> None:  # type: ignore[no-untyped-def]
        task = asyncio.get_running_loop().create_task(coro)
        background.add(task)  # keep a reference so the task is not garbage-collected
        task.add_done_callback(background.discard)

    async def watch(batch: dict) -> None:
        await asyncio.sleep(batch["queued_s"] + batch["processing_s"] + 0.01)
        status = status_of(batch)
        event = "batch.completed" if status == "completed" else "batch.failed"
        await fire(event, batch["batch_id"], batch_data(batch))

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
            kind = faults.pick(request.headers.get("x-sandbox-fault"))
            if kind in AFTER_FAULTS:
                # The work is done (and charged); only the answer is lost.
                response = await fn(request, user)
                lost = await faults.apply(kind, envelope="leedrush")
                return lost if lost is not None else response
            fault = await faults.apply(kind, envelope="leedrush")
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
        # Data rows only: a CSV's blank trailing lines are not leads.
        rows = [r for r in rows if any(v not in (None, "") for v in r.values())]
        columns = set().union(*(r.keys() for r in rows)) if rows else set()
        email_column = next(
            (c for c in ("email", "email_address", "work_email", "e-mail") if c in columns),
            next((c for c in sorted(columns) if "email" in c), None),
        )
        if email_column is None:
            return _detail(422, "CSV has no recognised email column")
        for r in rows:
            r.setdefault("email", r.get(email_column))
        stem, dot, ext = name.rpartition(".")
        stem, ext = (stem, ext) if dot else (name, "csv")
        stored = f"/uploads/{stem}_{datetime.now(UTC):%Y-%m-%d}_{uuid.uuid4().hex[:6]}.{ext}"
        entry = {"filename": name, "file_path": stored, "rows": rows, "user": user}
        # Keyed by (user, filename): the latest upload of a name wins (A-L5).
        uploads[(user, name)] = uploads[(user, stored)] = entry
        return JSONResponse(
            {"filename": name, "size": len(raw), "file_path": stored, "rows_detected": len(rows)}
        )

    @guarded
    async def process(request: Request, user: str) -> Response:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return _detail(400, "Malformed JSON")
        if not isinstance(body, dict):
            return _detail(400, "Malformed JSON")
        key = body.get("filename") or body.get("file_path")
        if not key or not isinstance(key, str):
            return _detail(
                400,
                [{"loc": ["body", "filename"], "msg": "field required", "type": "value_error"}],
            )
        upload = uploads.get((user, key))
        if upload is None:
            return _detail(404, f"Unknown file {key!r}; upload it first")
        _, concurrent, max_rows = PLANS[account.plan]
        n = len(upload["rows"])
        if max_rows is not None and n > max_rows:
            return _detail(
                422,
                f"The file has {n} rows; the {PLAN_NAMES[account.plan]} plan allows at most "
                f"{max_rows} rows per batch",
            )
        running = [b for b in batches.values() if status_of(b) in ("queued", "processing")]
        if concurrent is not None and len(running) >= concurrent:
            first_end = min(b["created"] + b["queued_s"] + b["processing_s"] for b in running)
            wait = max(1, math.ceil(first_end - now()))
            return _detail(
                429,
                f"{len(running)} batches are running; the plan allows {concurrent} at once",
                {"Retry-After": str(wait)},
            )
        with account.lock:
            if account.credits_remaining < n:
                exhausted = True
            else:
                exhausted = False
                before = account.credits_remaining
                account.credits_remaining -= n
                account.charges.append(
                    {
                        "date": datetime.now(UTC).date().isoformat(),
                        "credits": n,
                        "filename": upload["filename"],
                    }
                )
                after = account.credits_remaining
        if exhausted:
            if account.credits_remaining == 0:  # "processing paused" only at a zero balance
                spawn(fire("credits.exhausted", None, credit_data()))
            return _detail(402, "Insufficient credits")
        low = account.credits_total * 0.10
        if after == 0:
            spawn(fire("credits.exhausted", None, credit_data()))
        elif after < low <= before:
            spawn(fire("credits.low", None, credit_data()))
        stats["processed"] += 1
        batch_id = f"batch_{uuid.uuid4().hex[:8]}"
        created = _now_iso()
        forced = request.headers.get("x-sandbox-fail", "").strip().lower() in ("1", "true", "yes")
        share = config.fail_rate > 0 and h("fail", upload["filename"]) % 10_000 < (
            config.fail_rate * 10_000
        )
        batch = {
            "batch_id": batch_id,
            "status": "queued",
            "filename": upload["filename"],
            "rows_total": n,
            "created": now(),
            "seq": next(sequence),
            "created_at": created,
            "queued_s": 0.2 * scale(),
            "processing_s": (0.3 + n * 0.00005) * scale(),
            "fail": forced or share or "fail" in upload["filename"].lower(),
            "results": [result_for(r) for r in upload["rows"]],
        }
        batches[batch_id] = batch
        spawn(watch(batch))
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
        ordered = sorted(batches.values(), key=lambda b: b["seq"])  # creation order breaks ties
        items = [public(b) for b in ordered]
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
        accept = request.headers.get("accept", "")
        if "application/json" in accept and "text/csv" not in accept:
            return JSONResponse(qualified)
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(RESULT_COLUMNS)
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
    async def batch_detail(request: Request, user: str) -> Response:
        """Sandbox extra (A-L3 allows it); the client must not depend on it."""
        batch = batches.get(request.path_params["batch_id"])
        if batch is None:
            return _detail(404, "Batch not found")
        return JSONResponse(public(batch))

    # ------------------------------------------------------------------ billing
    def subscription_body() -> dict:
        today = datetime.now(UTC).date()
        return {
            "plan_id": account.plan,
            "plan_name": PLAN_NAMES[account.plan],
            "credits_total": account.credits_total,
            "credits_remaining": account.credits_remaining,
            "billing_cycle_start": today.replace(day=1).isoformat(),
            "billing_cycle_end": (today.replace(day=28) + timedelta(days=4))
            .replace(day=1)
            .isoformat(),
            "status": "active",
        }

    @guarded
    async def subscription(request: Request, user: str) -> Response:
        return JSONResponse(subscription_body())

    async def plan_body(request: Request) -> str | Response:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return _detail(400, "Malformed JSON")
        plan = body.get("plan_id") if isinstance(body, dict) else None
        if plan not in PLANS:
            return _detail(400, f"Unknown plan_id {plan!r}")
        return str(plan)

    @guarded
    async def upgrade(request: Request, user: str) -> Response:
        """Immediate, and resets credits [S]; the credit allowance per plan is a guess."""
        plan = await plan_body(request)
        if isinstance(plan, Response):
            return plan
        with account.lock:
            account.plan = plan
            account.credits_total = account.credits_remaining = PLAN_CREDITS[plan]
        spawn(fire("subscription.upgraded", None, credit_data()))
        return JSONResponse(subscription_body())

    @guarded
    async def downgrade(request: Request, user: str) -> Response:  # [I] path
        """Scheduled for the end of the billing cycle [S]: the plan does not change now."""
        plan = await plan_body(request)
        if isinstance(plan, Response):
            return plan
        state.scheduled_downgrade = plan
        return JSONResponse(
            {"plan_id": plan, "effective": subscription_body()["billing_cycle_end"]}
        )

    @guarded
    async def checkout(request: Request, user: str) -> Response:
        plan = await plan_body(request)
        if isinstance(plan, Response):
            return plan
        session = f"cs_test_{uuid.uuid4().hex[:16]}"
        return JSONResponse(
            {"checkout_url": f"https://checkout.stripe.com/c/pay/{session}", "session_id": session}
        )

    @guarded
    async def usage(request: Request, user: str) -> Response:  # [I] path and parameters
        start = request.query_params.get("start_date")
        end = request.query_params.get("end_date")
        daily: dict[str, int] = {}
        for c in account.charges:
            if (start and c["date"] < start) or (end and c["date"] > end):
                continue
            daily[c["date"]] = daily.get(c["date"], 0) + c["credits"]
        return JSONResponse(
            {
                "total_consumed": sum(daily.values()),
                "daily_usage": [{"date": d, "credits": n} for d, n in sorted(daily.items())],
            }
        )

    @guarded
    async def invoices(request: Request, user: str) -> Response:  # [I] path
        # Invoice amounts are decimal major units (dollars), A-L11.
        return JSONResponse(
            [
                {
                    "invoice_number": "INV-2026-001",
                    "amount": 499.00,
                    "status": "paid",
                    "created_at": "2026-02-01T10:00:00Z",
                }
            ]
        )

    @guarded
    async def invoice_pdf(request: Request, user: str) -> Response:  # [I] path
        if request.path_params["invoice_number"] != "INV-2026-001":
            return _detail(404, "Invoice not found")
        return Response(b"%PDF-1.4\n% sandbox invoice\n%%EOF\n", media_type="application/pdf")

    @guarded
    async def refund(request: Request, user: str) -> Response:  # [I] path
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return _detail(400, "Malformed JSON")
        if not isinstance(body, dict) or not body.get("order_id"):
            return _detail(400, "order_id is required")
        amount = body.get("amount")
        if not isinstance(amount, int) or amount <= 0:
            # Refund amounts are integer minor units (cents), A-L11.
            return _detail(422, "amount must be a positive integer number of cents")
        return JSONResponse({"order_id": body["order_id"], "amount": amount, "status": "pending"})

    # ------------------------------------------------------------------ phase 3 (tier-gated)
    def entitled() -> Response | None:
        if PLAN_RANK[account.plan] < PLAN_RANK.get(config.advanced_tier, 2):
            return _detail(403, "This endpoint requires a higher plan tier")
        return None

    @guarded
    async def cache_stats(request: Request, user: str) -> Response:  # [I] path
        if (refused := entitled()) is not None:
            return refused
        done = sum(1 for b in batches.values() if status_of(b) == "completed")
        return JSONResponse(
            {
                "l1_cache": {
                    "hit_rate": 0.94,
                    "avg_latency_ms": 0.8,
                    "total_hits": 94 * done,
                    "total_misses": 6 * done,
                },
                "l2_cache": {
                    "hit_rate": 0.89,
                    "avg_latency_ms": 12.5,
                    "total_hits": 89 * done,
                    "total_misses": 11 * done,
                },
                "similarity_matches": {"total": 3 * done, "threshold": 0.85},
                "cost_savings": {"api_calls_saved": 94 * done, "estimated_savings_usd": 4.7 * done},
            }
        )

    @guarded
    async def predictive_status(request: Request, user: str) -> Response:  # [I] path
        if (refused := entitled()) is not None:
            return refused
        return JSONResponse(
            {
                "patterns_detected": {
                    "company_batches": len(batches),
                    "sequential_patterns": 0,
                    "domain_patterns": 0,
                },
                "predictions": {"total_generated": 0, "pre_enriched": 0, "success_rate": 0.0},
                "performance": {
                    "avg_prediction_accuracy": 0.0,
                    "zero_latency_requests": 0.0,
                    "throughput_increase": 1.0,
                },
                "background_queue": {"pending": 0, "processing": 0, "completed": 0},
            }
        )

    @guarded
    async def multi_source(request: Request, user: str) -> Response:
        if (refused := entitled()) is not None:
            return refused
        email = request.query_params.get("email", "").strip().lower()
        if "@" not in email:
            return _detail(
                422, [{"loc": ["query", "email"], "msg": "field required", "type": "value_error"}]
            )
        local, domain = email.split("@", 1)
        name = " ".join(p.capitalize() for p in local.replace("_", ".").split(".") if p)
        score = round(0.85 + (h("ms", email) % 15) / 100, 2)
        return JSONResponse(
            {
                "lead": {
                    "email": email,
                    "name": name or None,
                    "title": None,
                    "company": domain.split(".")[0].capitalize(),
                    "phone": None,
                    "linkedin": None,
                },
                "validation": {"confidence_score": score, "data_quality": 0.9, "coverage": 0.5},
                "sources": {
                    "hunter_io": {
                        "agreement": True,
                        "confidence": score,
                        "fields_provided": ["email", "name"],
                    },
                    "clearbit": {
                        "agreement": True,
                        "confidence": 0.9,
                        "fields_provided": ["name", "company"],
                    },
                },
                "consensus": {
                    "email": {"agreement_score": 1.0, "sources": 2},
                    "name": {"agreement_score": 1.0, "sources": 2},
                },
            }
        )

    # ------------------------------------------------------------------ webhooks (sandbox only)
    @guarded
    async def test_event(request: Request, user: str) -> Response:
        """Fire one of the seven events now, with the ``batch.completed`` data shape for batch
        events and the credit balance for account events (shapes other than batch.completed
        are [I])."""
        event = request.path_params["event"]
        if event not in EVENTS:
            return _detail(404, f"Unknown event; one of {', '.join(EVENTS)}")
        if not config.webhook_url:
            return _detail(409, "No webhook_url is configured")
        if event in ("batch.completed", "batch.failed", "lead.qualified"):
            data = {
                "filename": "test.csv",
                "rows_total": 500,
                "rows_qualified": 0 if event == "batch.failed" else 382,
                "rows_failed": 500 if event == "batch.failed" else 23,
                "quality_yield": 0.0 if event == "batch.failed" else 76.4,
                "processing_time_s": 47,
            }
            if event == "batch.failed":
                data["error_reason"] = "processing failed"
            await fire(event, "batch_test0000", data)
        else:
            await fire(event, None, credit_data())
        return JSONResponse({"sent": event})

    routes = [
        Route("/api/auth/login", login, methods=["POST"]),
        Route("/api/upload", upload, methods=["POST"]),
        Route("/api/process", process, methods=["POST"]),
        Route("/api/batches", list_batches, methods=["GET"]),
        Route("/api/batches/{batch_id}", batch_detail, methods=["GET"]),
        Route("/api/download/{job_id}", download, methods=["GET"]),
        Route("/api/billing/subscription", subscription, methods=["GET"]),
        Route("/api/billing/subscription/upgrade", upgrade, methods=["POST"]),
        Route("/api/billing/subscription/downgrade", downgrade, methods=["POST"]),  # [I]
        Route("/api/billing/create-checkout", checkout, methods=["POST"]),
        Route("/api/billing/usage", usage, methods=["GET"]),  # [I]
        Route("/api/billing/invoices", invoices, methods=["GET"]),  # [I]
        Route("/api/billing/invoices/{invoice_number}/pdf", invoice_pdf, methods=["GET"]),  # [I]
        Route("/api/billing/refund", refund, methods=["POST"]),  # [I]
        # Phase 3 at both roots (A-L6): the page prints /v1/..., the base URL says /api.
        Route("/api/v1/cache/stats", cache_stats, methods=["GET"]),  # [I]
        Route("/v1/cache/stats", cache_stats, methods=["GET"]),  # [I]
        Route("/api/v1/predictive/status", predictive_status, methods=["GET"]),  # [I]
        Route("/v1/predictive/status", predictive_status, methods=["GET"]),  # [I]
        Route("/api/v1/validation/multi-source", multi_source, methods=["GET"]),
        Route("/v1/validation/multi-source", multi_source, methods=["GET"]),
        Route("/api/sandbox/webhooks/test/{event}", test_event, methods=["POST"]),
    ]
    app = Starlette(routes=routes)
    app.state.sandbox = state
    return app
