"""Leedrush API client (httpx), following ``docs/vendor_contract.md`` (Leedrush, A-L1..A-L13).

- Auth (A-L13): the JWT lives in memory only, is never logged or shown in ``repr``/errors, and is
  renewed once on a 401 (the request is then retried once).
- Rate limits (A-L9, A-L10): a client-side limiter keeps requests under the plan's per-minute
  budget; a 429 honours ``Retry-After`` (else waits ``RetryPolicy.throttled_wait``, 60 s by
  default). Concurrent batches and rows per batch are checked *before* ``process`` is sent.
- Retries: reads (login, batches, subscription, usage, download) and the free upload are retried
  on 5xx, timeouts, dropped connections and unreadable bodies. ``process`` is the billable call:
  credits are reserved on the :class:`SpendHook` first and settled with what was charged.
- ``process`` never pays twice: upload names are unique per run/batch (A-L5), so after any doubtful
  outcome the client looks the batch up by that name in ``GET /api/batches``. Found: the call
  succeeded, settle it. A 5xx with no batch: certainly not started, so it is retried. A timeout,
  dropped connection or garbled 200 with no batch after ``reconcile_grace_s``: the reservation is
  marked unknown and :class:`AmbiguousChargeError` is raised, never retried.
- Every path lives in :data:`DEFAULT_PATHS` and can be overridden (A-L6).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from lead_assets.clients.errors import (
    AmbiguousChargeError,
    AuthenticationError,
    InsufficientFundsError,
    NotEntitledError,
    NotFoundError,
    RateLimitedError,
    UpstreamError,
    ValidationError,
    VendorError,
)
from lead_assets.clients.http_policy import (
    LOST,
    NOT_SENT,
    REAUTH,
    RETRY,
    UNREADABLE,
    RetryPolicy,
    error_message,
    retry_after_seconds,
    should_retry,
)
from lead_assets.clients.spend import NullSpendHook, SpendHook
from lead_assets.core.parsing import flatten_record

log = logging.getLogger(__name__)

VENDOR = "leedrush"
DEFAULT_BASE_URL = "https://leedrush.com"
#: Every path is configuration (A-L6). Entries marked [I] are inferred, not documented.
DEFAULT_PATHS: dict[str, str] = {
    "login": "/api/auth/login",
    "upload": "/api/upload",
    "process": "/api/process",
    "batches": "/api/batches",
    "download": "/api/download/{batch_id}",
    "subscription": "/api/billing/subscription",
    "usage": "/api/billing/usage",  # [I]
    "cache_stats": "/api/v1/cache/stats",  # [I]
    "predictive_status": "/api/v1/predictive/status",  # [I]
    "multi_source": "/api/v1/validation/multi-source",  # [I] root, A-L6
    "multi_source_fallback": "/v1/validation/multi-source",  # as printed on the page
}
#: Terminal batch statuses; ``error`` is defensive (A-L3). Anything else counts as running.
TERMINAL = frozenset({"completed", "failed", "error"})
#: Internal email statuses (A-L8).
EMAIL_STATUSES = ("valid", "invalid", "catch_all", "unknown")
#: Internal phone statuses: the raw value is always kept beside them.
PHONE_STATUSES = ("mobile", "landline", "voip", "invalid", "unknown")


# ---------------------------------------------------------------------------------------- plans
@dataclass(frozen=True)
class PlanLimits:
    """Requests per minute, concurrent batches and rows per batch (None = unlimited)."""

    plan_id: str
    requests_per_minute: int | None
    concurrent_batches: int | None
    max_rows_per_batch: int | None


#: The documented table; ``professional`` (a billing id) is treated as Scale [I]; unknown plans get
#: the strictest limits (A-L9).
PLANS: dict[str, PlanLimits] = {
    "payg": PlanLimits("payg", 30, 3, 10_000),
    "starter": PlanLimits("starter", 60, 5, 25_000),
    "professional": PlanLimits("professional", 120, 10, 100_000),
    "scale": PlanLimits("scale", 120, 10, 100_000),
    "enterprise": PlanLimits("enterprise", None, None, None),
}


def plan_limits(plan_id: str | None) -> PlanLimits:
    """Limits for a plan id; the strictest (PAYG) when unknown or missing."""
    return PLANS.get((plan_id or "").strip().lower(), PLANS["payg"])


# -------------------------------------------------------------------------------- status maps
def email_status(raw: object) -> str:
    """Leedrush ``email_status`` -> ``valid|invalid|catch_all|unknown`` (A-L8)."""
    value = str(raw or "").strip().lower()
    if value == "verified_deliverable":
        return "valid"
    if "catch" in value or "accept" in value:
        return "catch_all"
    if "invalid" in value or "undeliverable" in value:
        return "invalid"
    return "unknown"


def phone_status(raw: object) -> str:
    """Leedrush ``phone_status`` (an open string; only ``mobile_active`` is documented) ->
    ``mobile|landline|voip|invalid|unknown``. The raw value is kept on the lead."""
    value = str(raw or "").strip().lower()
    if not value:
        return "unknown"
    if any(w in value for w in ("invalid", "disconnected", "inactive", "unreachable")):
        return "invalid"
    if "mobile" in value or "cell" in value or "wireless" in value:
        return "mobile"
    if "landline" in value or "fixed" in value:
        return "landline"
    if "voip" in value:
        return "voip"
    return "unknown"


def verify_webhook(secret: str, body: bytes, signature: str) -> bool:
    """Hex HMAC-SHA256 over the raw body, compared in constant time (A-L12): the one Leedrush
    verifier, :func:`lead_assets.clients.webhooks.verify_leedrush_signature`, re-exported."""
    from lead_assets.clients.webhooks import verify_leedrush_signature

    return verify_leedrush_signature(secret, body, signature)


# ------------------------------------------------------------------------------ typed results
def _int(value: Any) -> int | None:
    try:
        return int(float(value)) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _num(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class LeedrushBatch:
    """A batch as listed by ``GET /api/batches`` (``leads_*`` mapped to ``rows_*``, A-L4).

    Ids are opaque strings; ``quality_yield`` is a percentage 0-100."""

    batch_id: str
    status: str
    filename: str | None
    rows_total: int | None
    rows_qualified: int | None
    rows_failed: int | None
    quality_yield: float | None
    created_at: str | None
    completed_at: str | None
    error_reason: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def terminal(self) -> bool:
        """Completed, failed (or error); unknown statuses count as still running (A-L3)."""
        return self.status in TERMINAL

    @property
    def succeeded(self) -> bool:
        """True when results can be downloaded."""
        return self.status == "completed"

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> LeedrushBatch:
        """Read one batch object, whatever naming drift it carries."""

        def first(*keys: str) -> Any:
            for k in keys:
                if item.get(k) is not None:
                    return item[k]
            return None

        return cls(
            batch_id=str(first("batch_id", "job_id", "id")),
            status=str(item.get("status") or "unknown").strip().lower(),
            filename=item.get("filename"),
            rows_total=_int(first("rows_total", "leads_processed")),
            rows_qualified=_int(first("rows_qualified", "leads_qualified")),
            rows_failed=_int(first("rows_failed", "leads_failed")),
            quality_yield=_num(item.get("quality_yield")),
            created_at=item.get("created_at"),
            completed_at=item.get("completed_at"),
            error_reason=first("error_reason", "error"),
            raw=dict(item),
        )


@dataclass(frozen=True)
class UploadResult:
    """What ``POST /api/upload`` answered. ``filename`` is what ``process`` must be sent (A-L5)."""

    filename: str
    size: int | None
    file_path: str | None
    rows_detected: int | None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Submission:
    """What ``process`` answered (or what reconciliation found). ``credits_charged`` is the
    sandbox's extra field when present, else ``rows_total`` (1 credit per row [I])."""

    batch_id: str
    status: str
    filename: str
    rows_total: int
    credits_charged: float
    created_at: str | None = None
    #: True when the answer was lost and the batch was found by its unique filename instead.
    reconciled: bool = False


@dataclass(frozen=True)
class Subscription:
    """``GET /api/billing/subscription``: plan and credit balance."""

    plan_id: str | None
    plan_name: str | None
    credits_total: int | None
    credits_remaining: int | None
    billing_cycle_start: str | None
    billing_cycle_end: str | None
    status: str | None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Subscription:
        """Read the documented fields; the rest stays in ``raw``."""
        return cls(
            plan_id=data.get("plan_id"),
            plan_name=data.get("plan_name"),
            credits_total=_int(data.get("credits_total")),
            credits_remaining=_int(data.get("credits_remaining")),
            billing_cycle_start=data.get("billing_cycle_start"),
            billing_cycle_end=data.get("billing_cycle_end"),
            status=data.get("status"),
            raw=dict(data),
        )


@dataclass(frozen=True)
class Usage:
    """``GET /api/billing/usage`` [I path]: credits consumed, per day."""

    total_consumed: int
    daily_usage: list[tuple[str, int]]
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class QualifiedLead:
    """One QUALIFIED row of a batch result (A-L7). ``score`` is 0-100, ``dedup_confidence`` 0-1;
    statuses are mapped to internal enums with the raw values kept."""

    status: str
    score: float | None
    account_name: str | None
    account_domain: str | None
    signals: list[str]
    technologies: list[str]
    full_name: str | None
    title_normalized: str | None
    email: str | None
    email_status: str
    email_status_raw: str | None
    phone: str | None
    phone_status: str | None
    phone_status_internal: str
    dedup_confidence: float | None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class LeedrushWebhookEvent:
    """A parsed webhook body (verify the signature first, on the raw bytes)."""

    event: str
    batch_id: str | None
    timestamp: str | None
    data: dict[str, Any]
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def dedup_key(self) -> tuple[str, str | None, str | None]:
        """Deliveries carry no id, so (event, batch_id, timestamp) identifies one (A-L12)."""
        return (self.event, self.batch_id, self.timestamp)

    @property
    def batch(self) -> LeedrushBatch | None:
        """The batch counts carried by ``batch.*`` events (confirm by polling before acting)."""
        if not self.batch_id:
            return None
        status = {"batch.completed": "completed", "batch.failed": "failed"}.get(self.event)
        return LeedrushBatch.from_json(
            {**self.data, "batch_id": self.batch_id, "status": status or "unknown"}
        )


def parse_webhook_event(body: bytes) -> LeedrushWebhookEvent:
    """Parse a Leedrush webhook body. Raises ``ValueError`` when it is not an event object."""
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"Leedrush webhook body is not JSON: {exc}") from exc
    if not isinstance(payload, dict) or not payload.get("event"):
        raise ValueError("Leedrush webhook body has no 'event'")
    data: dict[str, Any] = payload["data"] if isinstance(payload.get("data"), dict) else {}
    return LeedrushWebhookEvent(
        event=str(payload["event"]),
        batch_id=str(payload["batch_id"]) if payload.get("batch_id") else None,
        timestamp=payload.get("timestamp"),
        data=dict(data),
        raw=payload,
    )


# ----------------------------------------------------------------------------- upload naming
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def unique_upload_name(filename: str, token: str | None = None) -> str:
    """``leads.csv`` -> ``leads--<token>.csv`` (A-L5). The same (name, token) gives the same name,
    so a retried upload in the same run replaces itself; a new run or batch gets a new name. The
    token defaults to a random one; a name that already ends in the token is left alone."""
    token = _SAFE.sub("-", token or uuid.uuid4().hex[:12]).strip("-")[:48] or uuid.uuid4().hex[:12]
    base = filename.replace("\\", "/").rsplit("/", 1)[-1] or "upload.csv"
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, "csv"
    stem = _SAFE.sub("-", stem).strip("-") or "upload"
    if stem.endswith(f"--{token}"):
        return f"{stem}.{ext}"
    return f"{stem}--{token}.{ext}"


# ---------------------------------------------------------------------------------- limiter
class Limiter(Protocol):
    """What the client needs of a limiter: ``acquire()`` before each request, a settable ``rpm``
    (``RequestLimiter`` here, ``distributed.limiter.SharedRequestLimiter`` across processes)."""

    rpm: int | None

    def acquire(self) -> None: ...


class RequestLimiter:
    """At most ``rpm`` request starts in any ``window_s`` seconds, shared by all threads.

    The plan's budget is a token bucket of ``rpm`` per minute; the server counts it as a sliding
    60 s window, so a refilling bucket with a full burst could send ~2x rpm in the first minute and
    earn 429s. A sliding log refills each token exactly 60 s (plus a small margin for clock and
    transit skew) after it was spent, which never exceeds the server's window."""

    def __init__(
        self,
        rpm: int | None,
        *,
        window_s: float = 60.5,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rpm = rpm
        self.window_s = window_s
        self._sleep = sleep
        self._clock = clock
        self._times: deque[float] = deque()
        self._lock = threading.Lock()
        self.waited_s = 0.0

    def acquire(self) -> None:
        """Block until a request may start."""
        while True:
            with self._lock:
                if not self.rpm:
                    return
                now = self._clock()
                while self._times and self._times[0] <= now - self.window_s:
                    self._times.popleft()
                if len(self._times) < self.rpm:
                    self._times.append(now)
                    return
                wait = self._times[0] + self.window_s - now
            wait = max(wait, 0.01)
            self.waited_s += wait
            self._sleep(wait)


#: The name used by earlier callers.
_RateLimiter = RequestLimiter


# --------------------------------------------------------------------------------- errors
class BatchTooLargeError(ValidationError):
    """The file has more rows than the plan allows per batch; nothing was sent. Split it."""


class ConcurrentBatchLimitError(RateLimitedError):
    """The plan's concurrent-batch limit is reached; nothing was sent. Try again later."""


class _Lost(Exception):
    """Internal: no usable answer; ``sent`` says whether the request may have reached the server."""

    def __init__(self, reason: str, *, sent: bool, unreadable: bool = False) -> None:
        super().__init__(reason)
        self.reason, self.sent = reason, sent
        self.failure = UNREADABLE if unreadable else LOST if sent else NOT_SENT


# ---------------------------------------------------------------------------------- client
class LeedrushClient:
    """Thread-safe Leedrush client. The password and token never appear in repr, logs or errors.

    ``http`` may be any ``httpx.Client`` (for tests, a ``starlette.testclient.TestClient``, which
    runs the app in-process). ``plan`` (``LEEDRUSH_PLAN``) overrides what the subscription says.
    """

    def __init__(
        self,
        email: str,
        password: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        plan: str | None = None,
        spend_hook: SpendHook | None = None,
        policy: RetryPolicy | None = None,
        http: httpx.Client | None = None,
        paths: Mapping[str, str] | None = None,
        timeout_s: float = 60.0,
        reconcile_grace_s: float = 5.0,
        plan_ttl_s: float = 300.0,
        check_concurrency: bool = True,
        limiter: Limiter | None = None,
    ) -> None:
        self._email, self._password = email, password
        self._token: str | None = None
        self._token_lock = threading.Lock()
        self.base_url = base_url.rstrip("/")
        self.paths = {**DEFAULT_PATHS, **(paths or {})}
        self.spend: SpendHook = spend_hook or NullSpendHook()
        # Leedrush documents "wait 60 s" when a 429 has no Retry-After (A-L10).
        self.policy = policy or RetryPolicy(throttled_wait=60.0)
        self.timeout = httpx.Timeout(timeout_s, connect=min(10.0, timeout_s))
        self._own_http = http is None
        # Short keep-alive: see GenerectClient (a stale connection turns a paid call ambiguous).
        self._http = http or httpx.Client(
            timeout=self.timeout, limits=httpx.Limits(keepalive_expiry=2.0)
        )
        self._plan_override = (plan or "").strip().lower() or None
        #: Limits in force: the override, else the subscription's plan once read, else PAYG.
        self.limits: PlanLimits | None = plan_limits(plan) if self._plan_override else None
        self._plan_read_at: float | None = None
        self._plan_ttl_s = plan_ttl_s
        limits = self.limits or PLANS["payg"]
        # ``limiter``: one with the same interface shared by other processes (a Redis window).
        self._limiter: Limiter = limiter or RequestLimiter(None, sleep=self.policy.sleep)
        self._limiter.rpm = limits.requests_per_minute
        self.reconcile_grace_s = reconcile_grace_s
        self.check_concurrency = check_concurrency
        #: Counters for metadata and benchmarks.
        self.throttled = 0
        self.requests = 0
        self.relogins = 0

    def __repr__(self) -> str:
        return f"LeedrushClient(base_url={self.base_url!r}, email=<hidden>, token=<hidden>)"

    def __enter__(self) -> LeedrushClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP connections this client opened."""
        if self._own_http:
            self._http.close()

    # ---------------------------------------------------------------------------- transport
    def _url(self, key: str, **fmt: str) -> str:
        return self.base_url + self.paths[key].format(**fmt)

    def _error(self, response: httpx.Response, operation: str) -> VendorError:
        status = response.status_code
        message = error_message(response)
        text = f"Leedrush {operation} failed ({status}): {message}"
        kwargs: dict[str, Any] = {
            "vendor": VENDOR,
            "operation": operation,
            "status_code": status,
            "detail": message,
        }
        if status == 402 or "insufficient" in message.lower():
            return InsufficientFundsError(text, **kwargs)
        if status == 429:
            return RateLimitedError(text, retry_after=retry_after_seconds(response), **kwargs)
        if status >= 500:
            return UpstreamError(text, **kwargs)
        error_class: type[VendorError] = {
            401: AuthenticationError,
            403: NotEntitledError,
            404: NotFoundError,
        }.get(status, ValidationError)
        return error_class(text, **kwargs)

    def _once(
        self, method: str, url: str, *, auth: bool, parse: str, **kwargs: Any
    ) -> tuple[httpx.Response, Any]:
        """One attempt: limiter, auth header, request, body check. Raises :class:`_Lost`."""
        self._limiter.acquire()
        headers = dict(kwargs.pop("headers", None) or {})
        if auth:
            headers["Authorization"] = f"Bearer {self._bearer()}"
        self.requests += 1
        try:
            response = self._http.request(
                method, url, headers=headers, timeout=self.timeout, **kwargs
            )
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise _Lost(f"could not connect ({exc.__class__.__name__})", sent=False) from None
        except httpx.TransportError as exc:
            # Timeouts after connect, resets, truncated bodies: the server may have acted.
            raise _Lost(f"{exc.__class__.__name__} after the request was sent", sent=True) from None
        body: Any = None
        if response.status_code < 300:
            try:
                body = self._parse(response, parse)
            except (ValueError, csv.Error, UnicodeDecodeError):
                raise _Lost("the answer could not be read", sent=True, unreadable=True) from None
        return response, body

    @staticmethod
    def _parse(response: httpx.Response, parse: str) -> Any:
        if parse == "json":
            return response.json()
        if parse == "result":  # download: JSON list or CSV, by Content-Type (A-L7)
            kind = response.headers.get("content-type", "").lower()
            if "json" in kind:
                records = response.json()
                if isinstance(records, dict):
                    records = records.get("items") or records.get("leads") or []
                if not isinstance(records, list):
                    raise ValueError("result JSON is not a list")
                return [flatten_record(r) for r in records if isinstance(r, dict)]
            text = response.text
            reader = csv.DictReader(io.StringIO(text), strict=True)
            rows = list(reader)
            if text.strip() and not reader.fieldnames:
                raise ValueError("result CSV has no header")
            return rows
        return None

    def _call(
        self,
        method: str,
        key: str,
        operation: str,
        *,
        fmt: Mapping[str, str] | None = None,
        auth: bool = True,
        parse: str = "json",
        ok_statuses: tuple[int, ...] = (),
        **kwargs: Any,
    ) -> tuple[httpx.Response, Any]:
        """A free or idempotent call: retried on 429 (after Retry-After), 5xx, timeouts, dropped
        connections and unreadable bodies; one re-login on 401. Returns (response, parsed body)
        for 2xx and for ``ok_statuses``; raises a readable :class:`VendorError` otherwise."""
        url = self._url(key, **(fmt or {}))
        relogged = False
        last = "no attempt made"
        last_response: httpx.Response | None = None
        for attempt in range(1, self.policy.max_attempts + 1):
            token_used = self._token
            try:
                response, body = self._once(method, url, auth=auth, parse=parse, **kwargs)
            except _Lost as lost:
                # Free or idempotent: whatever happened to the request, sending it again is safe.
                should_retry(failure=lost.failure, idempotent=True)
                last, last_response = lost.reason, None
                log.info("leedrush %s: %s (attempt %d)", operation, lost.reason, attempt)
                self.policy.sleep(self.policy.backoff(attempt))
                continue
            status, last_response = response.status_code, response
            if status < 300 or status in ok_statuses:
                return response, body
            decision = should_retry(
                status=status, idempotent=True, can_reauth=auth and not relogged
            )
            if decision == REAUTH:
                relogged = True  # expired or revoked token: log in again, retry once (A-L13)
                self._drop_token(token_used)
                continue
            if decision != RETRY:
                raise self._error(response, operation)
            if status == 429:
                self.throttled += 1
                last = "throttled (429)"
                wait = self.policy.throttle_wait(attempt, retry_after_seconds(response))
                log.info("leedrush %s: 429, waiting %.1f s", operation, wait)
                self.policy.sleep(wait)
                continue
            last = f"server error {status}"
            self.policy.sleep(self.policy.backoff(attempt))
        if last_response is not None:  # still throttled or failing: the vendor's own words
            raise self._error(last_response, operation)
        raise UpstreamError(
            f"Leedrush {operation}: gave up after {self.policy.max_attempts} attempts: {last}",
            vendor=VENDOR,
            operation=operation,
        )

    # ---------------------------------------------------------------------------- auth
    def login(self) -> None:
        """Obtain a JWT (kept in memory only)."""
        with self._token_lock:
            self._login_locked()

    def _login_locked(self) -> None:
        try:
            _, body = self._call(
                "POST",
                "login",
                "login",
                auth=False,
                json={"email": self._email, "password": self._password},
            )
        except AuthenticationError:
            raise AuthenticationError(
                "Leedrush login refused: check LEEDRUSH_EMAIL and LEEDRUSH_PASSWORD",
                vendor=VENDOR,
                operation="login",
                status_code=401,
            ) from None
        token = body.get("access_token") if isinstance(body, dict) else None
        if not token:
            raise AuthenticationError(
                "Leedrush login answered without an access_token", vendor=VENDOR, operation="login"
            )
        self._token = str(token)

    def _bearer(self) -> str:
        with self._token_lock:
            if self._token is None:
                self._login_locked()
            assert self._token is not None  # _login_locked sets it or raises
            return self._token

    def _drop_token(self, used: str | None) -> None:
        with self._token_lock:
            # Only the thread holding the rejected token forgets it: others may have renewed it.
            if self._token is None or self._token == used:
                self._token = None
                self.relogins += 1

    # ---------------------------------------------------------------------------- plan, billing
    def subscription(self) -> Subscription:
        """Plan and credits. Sets the rate limits from ``plan_id`` unless ``LEEDRUSH_PLAN``
        overrides it; an unknown plan gets the strictest (PAYG) limits (A-L9)."""
        _, body = self._call("GET", "subscription", "subscription")
        sub = Subscription.from_json(body if isinstance(body, dict) else {})
        if not self._plan_override:
            self._apply_limits(plan_limits(sub.plan_id))
        self._plan_read_at = time.monotonic()
        return sub

    def _apply_limits(self, limits: PlanLimits) -> None:
        self.limits = limits
        self._limiter.rpm = limits.requests_per_minute

    def plan(self) -> PlanLimits:
        """The limits in force, reading the subscription when they are unknown or stale."""
        if self._plan_override and self.limits:
            return self.limits
        stale = self._plan_read_at is None or (
            time.monotonic() - self._plan_read_at > self._plan_ttl_s
        )
        if self.limits is None or stale:
            self.subscription()
        return self.limits or PLANS["payg"]

    def credits_remaining(self) -> int:
        """Credits left on the subscription."""
        return int(self.subscription().credits_remaining or 0)

    def usage(self, **params: str) -> Usage:
        """Credit usage for a period (path and parameter names inferred, A-L6)."""
        _, body = self._call("GET", "usage", "usage", params=params)
        body = body if isinstance(body, dict) else {}
        daily = [
            (str(d.get("date")), int(d.get("credits") or 0))
            for d in body.get("daily_usage") or []
            if isinstance(d, dict)
        ]
        return Usage(int(body.get("total_consumed") or 0), daily, dict(body))

    def cache_stats(self) -> dict[str, Any] | None:
        """Advanced-tier cache statistics; None when the plan is not entitled (403) or the path
        does not exist (404): an optional feature never blocks the pipeline (A-L6)."""
        response, body = self._call("GET", "cache_stats", "cache_stats", ok_statuses=(403, 404))
        return None if response.status_code in (403, 404) else body

    def predictive_status(self) -> dict[str, Any] | None:
        """Predictive-enrichment status; None on 403/404 (A-L6)."""
        response, body = self._call(
            "GET", "predictive_status", "predictive_status", ok_statuses=(403, 404)
        )
        return None if response.status_code in (403, 404) else body

    def multi_source(self, email: str) -> dict[str, Any] | None:
        """Multi-source validation: ``/api/v1/...`` then, on 404, ``/v1/...`` (A-L6); None when
        the plan is not entitled (403) or neither path exists."""
        for key in ("multi_source", "multi_source_fallback"):
            response, body = self._call(
                "GET", key, "multi_source", params={"email": email}, ok_statuses=(403, 404)
            )
            if response.status_code == 404:
                continue
            if response.status_code == 403:
                return None
            return body
        return None

    # ---------------------------------------------------------------------------- batches
    def upload(
        self,
        filename: str,
        content: bytes,
        content_type: str = "text/csv",
        *,
        run_id: str | None = None,
    ) -> UploadResult:
        """Upload a CSV or JSON file under a name unique to ``run_id`` (A-L5; random when None).
        Free [I], so retried like a read; the same name in the same run replaces itself."""
        name = unique_upload_name(filename, run_id)
        _, body = self._call(
            "POST", "upload", "upload", files={"file": (name, content, content_type)}
        )
        body = body if isinstance(body, dict) else {}
        return UploadResult(
            filename=str(body.get("filename") or name),
            size=_int(body.get("size")),
            file_path=body.get("file_path"),
            rows_detected=_int(body.get("rows_detected")),
            raw=dict(body),
        )

    def check_limits(self, rows: int) -> PlanLimits:
        """Raise before sending when ``rows`` exceeds the plan's rows per batch or the plan's
        concurrent batches are all busy (one batches listing)."""
        limits = self.plan()
        if limits.max_rows_per_batch is not None and rows > limits.max_rows_per_batch:
            raise BatchTooLargeError(
                f"{rows} rows exceed the {limits.plan_id} plan's {limits.max_rows_per_batch:,} "
                "rows per batch; split the file into smaller batches",
                vendor=VENDOR,
                operation="process",
            )
        if self.check_concurrency and limits.concurrent_batches is not None:
            running = self.running_batches()
            if len(running) >= limits.concurrent_batches:
                raise ConcurrentBatchLimitError(
                    f"{len(running)} batches are still running and the {limits.plan_id} plan "
                    f"allows {limits.concurrent_batches} at once; submit when one finishes",
                    vendor=VENDOR,
                    operation="process",
                )
        return limits

    def process(self, filename: str, *, rows: int, request_key: str) -> Submission:
        """Start processing an uploaded file (the billable call).

        ``filename`` is exactly what :meth:`upload` returned; ``rows`` its row count (the credit
        estimate, 1 per row [I]); ``request_key`` names the work for the spend ledger. Limits are
        checked first; credits are reserved, then settled with ``credits_charged`` (sandbox
        extra) or ``rows_total``; refused calls release the reservation."""
        self.check_limits(rows)
        reservation = self.spend.reserve(
            vendor=VENDOR,
            operation="process",
            request_key=request_key,
            estimate=float(rows),
            unit="credits",
        )
        try:
            submission = self._process(filename, rows, reservation)
        except AmbiguousChargeError:
            raise  # the reservation is already marked unknown
        except VendorError as exc:
            # Refused (4xx), never sent (login failed) or given up with no batch: not billed.
            self.spend.release(reservation, str(exc))
            raise
        except BaseException as exc:
            # Interrupted mid-call (KeyboardInterrupt, a bug): the outcome cannot be known.
            self.spend.mark_unknown(reservation, f"interrupted: {exc.__class__.__name__}")
            raise
        self.spend.settle(reservation, submission.credits_charged)
        return submission

    def _process(self, filename: str, rows: int, reservation: str) -> Submission:
        started = time.time()
        relogged = False
        last: httpx.Response | None = None
        for attempt in range(1, self.policy.max_attempts + 1):
            token_used = self._token
            try:
                response, body = self._once(
                    "POST",
                    self._url("process"),
                    auth=True,
                    parse="json",
                    json={"filename": filename},
                )
            except _Lost as lost:
                if should_retry(failure=lost.failure, idempotent=False) == RETRY:
                    last = None  # nothing reached the server: safe to try again
                    self.policy.sleep(self.policy.backoff(attempt))
                    continue
                return self._lost_answer(filename, started, reservation, lost.reason)
            status, last = response.status_code, response
            if status < 300:
                if not isinstance(body, dict) or not (body.get("batch_id") or body.get("job_id")):
                    # A success without a batch id cannot be tracked: treat it as a lost answer.
                    return self._lost_answer(
                        filename, started, reservation, "the answer carried no batch_id"
                    )
                return self._submission(body, filename, rows)
            decision = should_retry(status=status, idempotent=False, can_reauth=not relogged)
            if decision == REAUTH:
                relogged = True
                self._drop_token(token_used)
                continue
            if decision != RETRY:
                raise self._error(response, "process")
            if status == 429:  # throttled: not served, so not billed
                self.throttled += 1
                self.policy.sleep(self.policy.throttle_wait(attempt, retry_after_seconds(response)))
                continue
            # The server answered that it failed. Resend only once the listing, after the grace
            # period, shows no batch created from this (unique) upload name.
            found = self._reconcile(filename, started, grace=True)
            if found is not None:
                return found
            self.policy.sleep(self.policy.backoff(attempt))
        if last is not None:  # still throttled or failing: the vendor's own words
            raise self._error(last, "process")
        raise UpstreamError(
            f"Leedrush process: gave up after {self.policy.max_attempts} attempts; "
            f"no batch was started for {filename!r}",
            vendor=VENDOR,
            operation="process",
        )

    def _lost_answer(
        self, filename: str, started: float, reservation: str, reason: str
    ) -> Submission:
        """The request reached the server but no usable answer came back: find the batch by its
        unique filename, or mark the charge unknown and stop (never resend)."""
        found = self._reconcile(filename, started, grace=True)
        if found is not None:
            return found
        self.spend.mark_unknown(reservation, reason)
        raise AmbiguousChargeError(
            f"Leedrush process: {reason}, and no batch for {filename!r} appeared; it may "
            "still have been billed. Not retried: reconcile before resubmitting",
            vendor=VENDOR,
            operation="process",
        )

    def _submission(self, body: Any, filename: str, rows: int) -> Submission:
        body = body if isinstance(body, dict) else {}
        rows_total = _int(body.get("rows_total") or body.get("leads_processed")) or rows
        charged = _num(body.get("credits_charged"))
        return Submission(
            batch_id=str(body.get("batch_id") or body.get("job_id")),
            status=str(body.get("status") or "queued").lower(),
            filename=str(body.get("filename") or filename),
            rows_total=rows_total,
            credits_charged=charged if charged is not None else float(rows_total),
            created_at=body.get("created_at"),
        )

    def _reconcile(self, filename: str, started: float, *, grace: bool) -> Submission | None:
        """Find the batch a lost ``process`` answer may have created, by its unique filename."""
        deadline = time.monotonic() + (self.reconcile_grace_s if grace else 0.0)
        while True:
            try:
                batch = self.find_batches(filenames={filename}, max_pages=3).get(filename)
            except VendorError:
                batch = None
            if batch is not None:
                log.warning("leedrush process: answer lost, found batch %s", batch.batch_id)
                rows_total = batch.rows_total or 0
                return Submission(
                    batch.batch_id,
                    batch.status,
                    filename,
                    rows_total,
                    float(rows_total),
                    batch.created_at,
                    reconciled=True,
                )
            if time.monotonic() >= deadline:
                return None
            self.policy.sleep(min(1.0, max(0.05, self.reconcile_grace_s / 5)))

    def submit(
        self,
        filename: str,
        content: bytes,
        *,
        run_id: str,
        request_key: str | None = None,
        content_type: str = "text/csv",
        rows: int | None = None,
    ) -> Submission:
        """Upload under a unique name, then process it: the usual way to start a batch."""
        up = self.upload(filename, content, content_type, run_id=run_id)
        n = rows if rows is not None else (up.rows_detected or 0)
        return self.process(up.filename, rows=n, request_key=request_key or up.filename)

    def iter_batches(
        self,
        *,
        page_size: int = 100,
        max_pages: int = 10,
        sort: str = "created_at",
        order: str = "desc",
    ) -> Iterator[LeedrushBatch]:
        """Batches, newest first by default, paging ``offset += limit`` while ``has_more``
        (A-L1); a bare array is one complete page (A-L2)."""
        limit = max(1, min(page_size, 100))
        offset = 0
        for _ in range(max_pages):
            params = {"limit": limit, "offset": offset, "sort": sort, "order": order}
            _, body = self._call("GET", "batches", "batches", params=params)
            if isinstance(body, list):
                items, has_more = body, False
            elif isinstance(body, dict):
                items, has_more = body.get("items") or [], bool(body.get("has_more"))
            else:
                items, has_more = [], False
            for item in items:
                if isinstance(item, dict):
                    yield LeedrushBatch.from_json(item)
            if not has_more or not items:
                return
            offset += limit

    def batches(self, *, limit: int = 100, max_pages: int = 10) -> list[LeedrushBatch]:
        """All batches (up to ``limit * max_pages``), newest first."""
        return list(self.iter_batches(page_size=limit, max_pages=max_pages))

    def find_batch(self, batch_id: str, *, max_pages: int = 10) -> LeedrushBatch | None:
        """One batch by id, from ``?limit=100&sort=created_at&order=desc`` pages (A-L3: there
        is no documented detail endpoint)."""
        for batch in self.iter_batches(page_size=100, max_pages=max_pages):
            if batch.batch_id == batch_id:
                return batch
        return None

    def find_batches(
        self,
        batch_ids: set[str] | None = None,
        filenames: set[str] | None = None,
        **kwargs: Any,
    ) -> dict[str, LeedrushBatch]:
        """Batches whose id or filename is wanted, keyed by what matched (newest first wins);
        stops paging once everything asked for is found."""
        want_ids, want_names = set(batch_ids or ()), set(filenames or ())
        found: dict[str, LeedrushBatch] = {}
        for batch in self.iter_batches(**kwargs):
            if batch.batch_id in want_ids:
                found[batch.batch_id] = batch
            if batch.filename in want_names:
                found.setdefault(batch.filename, batch)
            if want_ids | want_names <= found.keys():
                break
        return found

    def running_batches(self, *, max_pages: int = 3) -> list[LeedrushBatch]:
        """Batches not yet terminal among the newest ``100 * max_pages`` (older ones finished
        long ago in practice)."""
        return [b for b in self.iter_batches(max_pages=max_pages) if not b.terminal]

    def wait_for_batch(
        self, batch_id: str, *, timeout_s: float = 3600.0, poll_s: float = 10.0
    ) -> LeedrushBatch:
        """Poll until the batch is terminal (every ``poll_s`` >= 10 s in production, A-L3).

        Meant for scripts and tests; the pipeline polls from a sensor instead."""
        deadline = time.monotonic() + timeout_s
        while True:
            batch = self.find_batch(batch_id)
            if batch is not None and batch.terminal:
                return batch
            if time.monotonic() >= deadline:
                raise UpstreamError(
                    f"Leedrush batch {batch_id} is not finished after {timeout_s:.0f} s "
                    f"(last status: {batch.status if batch else 'not listed'})",
                    vendor=VENDOR,
                    operation="batches",
                )
            self.policy.sleep(poll_s)

    def download(self, batch_id: str) -> list[QualifiedLead]:
        """The QUALIFIED rows of a completed batch, from CSV (dotted or underscore headers,
        list cells joined by ``;``) or a JSON list, by ``Content-Type`` (A-L7)."""
        _, rows = self._call(
            "GET",
            "download",
            "download",
            fmt={"batch_id": batch_id},
            parse="result",
            headers={"Accept": "text/csv, application/json;q=0.9"},
        )
        return [_qualified(r) for r in rows if str(_get(r, "status") or "").upper() == "QUALIFIED"]


# --------------------------------------------------------------------------------- parsing
def _get(row: Mapping[str, Any], dotted: str) -> Any:
    """A field by its dotted name, or the underscore spelling of it (A-L7)."""
    if dotted in row:
        return row[dotted]
    return row.get(dotted.replace(".", "_"))


def _text(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def _list(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    text = str(value or "").strip()
    if text.startswith("["):
        try:
            return [str(v) for v in json.loads(text)]
        except json.JSONDecodeError:
            pass
    return [v.strip() for v in text.split(";") if v.strip()]


def _qualified(row: Mapping[str, Any]) -> QualifiedLead:
    raw_email_status = _text(_get(row, "contact.email_status"))
    raw_phone_status = _text(_get(row, "contact.phone_status"))
    email = _text(_get(row, "contact.email"))
    return QualifiedLead(
        status=str(_get(row, "status") or "").upper(),
        score=_num(_get(row, "score")),
        account_name=_text(_get(row, "account.name")),
        account_domain=_text(_get(row, "account.domain")),
        signals=_list(_get(row, "account.signals")),
        technologies=_list(_get(row, "account.technologies")),
        full_name=_text(_get(row, "contact.full_name")),
        title_normalized=_text(_get(row, "contact.title_normalized")),
        email=email.lower() if email else None,
        email_status=email_status(raw_email_status),
        email_status_raw=raw_email_status,
        phone=_text(_get(row, "contact.phone")),
        phone_status=raw_phone_status,
        phone_status_internal=phone_status(raw_phone_status),
        dedup_confidence=_num(_get(row, "dedup_confidence")),
        raw=dict(row),
    )
