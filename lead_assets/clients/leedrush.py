"""Leedrush API client (httpx), following ``shared/contracts/api_contracts.md`` section 2.

The JWT lives in memory only and is renewed once on a 401. A client-side limiter keeps requests
under the plan's per-minute budget; 429 honours ``Retry-After`` (else waits 60 s). ``process`` is
the billable call: credits are reserved before it and settled with what was charged. Every path
is configurable because the vendor page leaves several of them ambiguous (A-L6).
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

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
from lead_assets.clients.http_policy import Outcome, RetryPolicy, error_message, send
from lead_assets.clients.spend import NullSpendHook, SpendHook

VENDOR = "leedrush"
DEFAULT_BASE_URL = "https://leedrush.com"
DEFAULT_PATHS = {
    "login": "/api/auth/login",
    "upload": "/api/upload",
    "process": "/api/process",
    "batches": "/api/batches",
    "download": "/api/download/{batch_id}",
    "subscription": "/api/billing/subscription",
    "usage": "/api/billing/usage",
    "cache_stats": "/api/v1/cache/stats",
    "multi_source": "/api/v1/validation/multi-source",
    "multi_source_fallback": "/v1/validation/multi-source",
}
TERMINAL = frozenset({"completed", "failed", "error"})


@dataclass(frozen=True)
class PlanLimits:
    """Requests per minute, concurrent batches and rows per batch (None = unlimited)."""

    plan_id: str
    requests_per_minute: int | None
    concurrent_batches: int | None
    max_rows_per_batch: int | None


#: The documented table; ``professional`` (a billing id) is treated as Scale [I]; unknown plans get
#: the strictest limits (A-L9).
PLANS = {
    "payg": PlanLimits("payg", 30, 3, 10_000),
    "starter": PlanLimits("starter", 60, 5, 25_000),
    "scale": PlanLimits("scale", 120, 10, 100_000),
    "professional": PlanLimits("professional", 120, 10, 100_000),
    "enterprise": PlanLimits("enterprise", None, None, None),
}


def plan_limits(plan_id: str | None) -> PlanLimits:
    """Limits for a plan id; the strictest (PAYG) when unknown."""
    return PLANS.get((plan_id or "").strip().lower(), PLANS["payg"])


def email_status(raw: object) -> str:
    """Leedrush email status -> internal enum (A-L8)."""
    value = str(raw or "").lower()
    if value == "verified_deliverable":
        return "valid"
    if "catch" in value or "accept" in value:
        return "catch_all"
    if "invalid" in value or "undeliverable" in value:
        return "invalid"
    return "unknown"


def verify_webhook(secret: str, body: bytes, signature: str) -> bool:
    """Leedrush webhooks: hex HMAC-SHA256 over the raw body, compared in constant time."""
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature.strip())


@dataclass(frozen=True)
class Batch:
    """A batch as listed by ``GET /api/batches`` (``leads_*`` mapped to ``rows_*``, A-L4)."""

    batch_id: str
    status: str
    filename: str | None
    rows_total: int | None
    rows_qualified: int | None
    rows_failed: int | None
    quality_yield: float | None
    created_at: str | None
    completed_at: str | None

    @property
    def terminal(self) -> bool:
        """Completed, failed (or error): unknown statuses count as still running (A-L3)."""
        return self.status in TERMINAL

    @classmethod
    def from_json(cls, item: dict) -> Batch:
        def num(*keys: str) -> int | None:
            for k in keys:
                if item.get(k) is not None:
                    return int(item[k])
            return None

        return cls(
            batch_id=str(item.get("batch_id") or item.get("job_id") or item.get("id")),
            status=str(item.get("status") or "unknown").lower(),
            filename=item.get("filename"),
            rows_total=num("rows_total", "leads_processed"),
            rows_qualified=num("rows_qualified", "leads_qualified"),
            rows_failed=num("rows_failed"),
            quality_yield=float(item["quality_yield"])
            if item.get("quality_yield") is not None
            else None,
            created_at=item.get("created_at"),
            completed_at=item.get("completed_at"),
        )


@dataclass(frozen=True)
class QualifiedLead:
    """One QUALIFIED row of a batch result."""

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
    dedup_confidence: float | None
    raw: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Submission:
    """What ``process`` answered."""

    batch_id: str
    status: str
    filename: str
    rows_total: int
    credits_charged: float


class _RateLimiter:
    """A sliding 60-second window: at most ``rpm`` requests started per minute."""

    def __init__(self, rpm: int | None, sleep=time.sleep) -> None:  # type: ignore[no-untyped-def]
        self.rpm = rpm
        self.sleep = sleep
        self._times: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        if not self.rpm:
            return
        while True:
            with self._lock:
                now = time.monotonic()
                while self._times and self._times[0] <= now - 60:
                    self._times.popleft()
                if len(self._times) < self.rpm:
                    self._times.append(now)
                    return
                wait = self._times[0] + 60 - now
            self.sleep(max(wait, 0.01))


class LeedrushClient:
    """Thread-safe Leedrush client. The password and token are never shown in repr or errors."""

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
        paths: dict[str, str] | None = None,
        timeout_s: float = 60.0,
    ) -> None:
        self._email, self._password = email, password
        self._token: str | None = None
        self._token_lock = threading.Lock()
        self.base_url = base_url.rstrip("/")
        self.paths = {**DEFAULT_PATHS, **(paths or {})}
        self.spend = spend_hook or NullSpendHook()
        # Leedrush documents "wait 60 s" when no Retry-After comes with a 429 (A-L10).
        self.policy = policy or RetryPolicy(throttled_wait=60.0)
        self._http = http or httpx.Client(timeout=httpx.Timeout(timeout_s, connect=10.0))
        self._plan_override = plan
        self.limits = plan_limits(plan) if plan else None
        self._limiter = _RateLimiter(
            self.limits.requests_per_minute if self.limits else PLANS["payg"].requests_per_minute,
            self.policy.sleep,
        )
        self.throttled = 0

    def __repr__(self) -> str:
        return f"LeedrushClient(base_url={self.base_url!r}, email=<hidden>, token=<hidden>)"

    def __enter__(self) -> LeedrushClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()

    # ------------------------------------------------------------------ auth
    def login(self) -> None:
        """Obtain a JWT (kept in memory only)."""
        outcome = send(
            self._http,
            "POST",
            self.base_url + self.paths["login"],
            policy=self.policy,
            idempotent=True,
            json={"email": self._email, "password": self._password},
        )
        response = self._require(outcome, "login")
        if response.status_code == 401:
            raise AuthenticationError(
                "Leedrush login refused: check LEEDRUSH_EMAIL and LEEDRUSH_PASSWORD",
                vendor=VENDOR,
                operation="login",
                status_code=401,
            )
        self._raise_for(response, "login")
        token = response.json().get("access_token")
        if not token:
            raise AuthenticationError(
                "Leedrush login answered without an access_token", vendor=VENDOR, operation="login"
            )
        self._token = token

    def _auth_header(self) -> dict[str, str]:
        with self._token_lock:
            if self._token is None:
                self.login()
            return {"Authorization": f"Bearer {self._token}"}

    # ------------------------------------------------------------------ transport
    def _request(
        self,
        method: str,
        path: str,
        operation: str,
        *,
        idempotent: bool = True,
        expect_json: bool = True,
        **kwargs: object,
    ) -> Outcome:
        for attempt in (1, 2):
            self._limiter.acquire()
            outcome = send(
                self._http,
                method,
                self.base_url + path,
                policy=self.policy,
                idempotent=idempotent,
                expect_json=expect_json,
                headers=self._auth_header(),
                **kwargs,
            )
            self.throttled += outcome.throttled
            if (
                outcome.response is not None
                and outcome.response.status_code == 401
                and attempt == 1
            ):
                with self._token_lock:
                    self._token = None  # expired: log in again and retry once (A-L13)
                continue
            return outcome
        return outcome

    def _require(self, outcome: Outcome, operation: str) -> httpx.Response:
        if outcome.response is not None:
            return outcome.response
        if outcome.ambiguous:
            raise AmbiguousChargeError(
                f"Leedrush {operation}: {outcome.ambiguous}", vendor=VENDOR, operation=operation
            )
        if outcome.error and "throttled" in outcome.error:
            raise RateLimitedError(
                f"Leedrush {operation}: {outcome.error}",
                vendor=VENDOR,
                operation=operation,
                status_code=429,
            )
        raise UpstreamError(
            f"Leedrush {operation}: {outcome.error}", vendor=VENDOR, operation=operation
        )

    def _raise_for(self, response: httpx.Response, operation: str) -> None:
        status = response.status_code
        if status < 300:
            return
        message = error_message(response)
        text = f"Leedrush {operation} failed ({status}): {message}"
        if status == 402 or "insufficient" in message.lower():
            raise InsufficientFundsError(
                text, vendor=VENDOR, operation=operation, status_code=status, detail=message
            )
        if status == 429:
            raise RateLimitedError(text, vendor=VENDOR, operation=operation, status_code=status)
        error_class: type[VendorError] = {
            401: AuthenticationError,
            403: NotEntitledError,
            404: NotFoundError,
        }.get(status, ValidationError)
        raise error_class(
            text, vendor=VENDOR, operation=operation, status_code=status, detail=message
        )

    # ------------------------------------------------------------------ plan and billing
    def subscription(self) -> dict:
        """Plan and credits (``credits_remaining``); sets the rate limits from the plan unless
        ``LEEDRUSH_PLAN`` overrides it."""
        response = self._require(
            self._request("GET", self.paths["subscription"], "subscription"), "subscription"
        )
        self._raise_for(response, "subscription")
        data = response.json()
        if not self._plan_override:
            self.limits = plan_limits(data.get("plan_id"))
            self._limiter.rpm = self.limits.requests_per_minute
        return data

    def credits_remaining(self) -> int:
        """Credits left on the subscription."""
        return int(self.subscription().get("credits_remaining") or 0)

    def usage(self, **params: str) -> dict:
        """Credit usage (path inferred, A-L6)."""
        response = self._require(
            self._request("GET", self.paths["usage"], "usage", params=params), "usage"
        )
        self._raise_for(response, "usage")
        return response.json()

    def cache_stats(self) -> dict | None:
        """Advanced-tier cache statistics; None when the plan is not entitled (403)."""
        response = self._require(
            self._request("GET", self.paths["cache_stats"], "cache_stats"), "cache_stats"
        )
        if response.status_code in (403, 404):
            return None
        self._raise_for(response, "cache_stats")
        return response.json()

    def multi_source(self, email: str) -> dict | None:
        """Multi-source validation; tries ``/api/v1`` then ``/v1`` (A-L6); None on 403."""
        for key in ("multi_source", "multi_source_fallback"):
            response = self._require(
                self._request("GET", self.paths[key], "multi_source", params={"email": email}),
                "multi_source",
            )
            if response.status_code == 404:
                continue
            if response.status_code == 403:
                return None
            self._raise_for(response, "multi_source")
            return response.json()
        return None

    # ------------------------------------------------------------------ batches
    def upload(self, filename: str, content: bytes, content_type: str = "text/csv") -> dict:
        """Upload a CSV or JSON file (free [I], so retried like a read)."""
        outcome = self._request(
            "POST",
            self.paths["upload"],
            "upload",
            files={"file": (filename, content, content_type)},
        )
        response = self._require(outcome, "upload")
        self._raise_for(response, "upload")
        return response.json()

    def process(self, filename: str, *, rows: int, request_key: str) -> Submission:
        """Start processing an uploaded file: the billable call (credits reserved first)."""
        limits = self.limits or plan_limits(None)
        if limits.max_rows_per_batch is not None and rows > limits.max_rows_per_batch:
            raise ValidationError(
                f"{rows} rows exceed the {limits.plan_id} plan's {limits.max_rows_per_batch} rows per batch; split the batch",
                vendor=VENDOR,
                operation="process",
            )
        reservation = self.spend.reserve(
            vendor=VENDOR,
            operation="process",
            request_key=request_key,
            estimate=float(rows),
            unit="credits",
        )
        try:
            outcome = self._request(
                "POST",
                self.paths["process"],
                "process",
                idempotent=False,
                json={"filename": filename},
            )
        except BaseException:
            self.spend.mark_unknown(reservation, "interrupted while starting the batch")
            raise
        if outcome.ambiguous:
            self.spend.mark_unknown(reservation, outcome.ambiguous)
        if outcome.response is None or outcome.response.status_code >= 300:
            if outcome.response is not None:
                self.spend.release(reservation, f"HTTP {outcome.response.status_code}")
                self._raise_for(outcome.response, "process")
            elif not outcome.ambiguous:
                self.spend.release(reservation, outcome.error or "no answer")
            self._require(outcome, "process")
        data = outcome.response.json()  # type: ignore[union-attr]
        charged = float(data.get("credits_charged", data.get("rows_total", rows)) or 0)
        self.spend.settle(reservation, charged)
        return Submission(
            str(data["batch_id"]),
            str(data.get("status", "queued")),
            str(data.get("filename", filename)),
            int(data.get("rows_total") or rows),
            charged,
        )

    def iter_batches(
        self,
        *,
        page_size: int = 100,
        max_pages: int = 10,
        sort: str = "created_at",
        order: str = "desc",
    ) -> Iterator[Batch]:
        """Every batch, newest first, paging with limit/offset (A-L1); accepts a bare array too (A-L2)."""
        offset = 0
        for _ in range(max_pages):
            params = {"limit": min(page_size, 100), "offset": offset, "sort": sort, "order": order}
            response = self._require(
                self._request("GET", self.paths["batches"], "batches", params=params), "batches"
            )
            self._raise_for(response, "batches")
            body = response.json()
            items, has_more = (
                (body, False)
                if isinstance(body, list)
                else (body.get("items") or [], bool(body.get("has_more")))
            )
            for item in items:
                yield Batch.from_json(item)
            if not has_more:
                return
            offset += len(items)

    def find_batches(
        self, batch_ids: set[str] | None = None, filenames: set[str] | None = None, **kwargs: int
    ) -> dict[str, Batch]:
        """Batches whose id or filename is wanted (keyed by what matched)."""
        found: dict[str, Batch] = {}
        for batch in self.iter_batches(**kwargs):
            if batch_ids and batch.batch_id in batch_ids:
                found[batch.batch_id] = batch
            if filenames and batch.filename in filenames:
                found.setdefault(batch.filename, batch)  # newest first wins
        return found

    def download(self, batch_id: str) -> list[QualifiedLead]:
        """The QUALIFIED rows of a completed batch, from CSV (dotted or underscore headers) or JSON (A-L7)."""
        path = self.paths["download"].format(batch_id=batch_id)
        response = self._require(
            self._request("GET", path, "download", expect_json=False), "download"
        )
        self._raise_for(response, "download")
        kind = response.headers.get("content-type", "")
        if "json" in kind:
            records = response.json()
            rows = [
                _flatten(r)
                for r in (records if isinstance(records, list) else records.get("items", []))
            ]
        else:
            rows = list(csv.DictReader(io.StringIO(response.text)))
        return [_qualified(r) for r in rows if str(_get(r, "status") or "").upper() == "QUALIFIED"]


def _flatten(record: dict, prefix: str = "") -> dict:
    out: dict = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, name + "."))
        else:
            out[name] = value
    return out


def _get(row: dict, dotted: str) -> object:
    return row.get(dotted, row.get(dotted.replace(".", "_")))


def _list(value: object) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    text = str(value or "").strip()
    if text.startswith("["):
        try:
            return [str(v) for v in json.loads(text)]
        except json.JSONDecodeError:
            pass
    return [v.strip() for v in text.split(";") if v.strip()]


def _num(value: object) -> float | None:
    try:
        return float(value) if value not in (None, "") else None  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _qualified(row: dict) -> QualifiedLead:
    raw_status = _get(row, "contact.email_status")
    return QualifiedLead(
        score=_num(_get(row, "score")),
        account_name=_get(row, "account.name") or None,  # type: ignore[arg-type]
        account_domain=_get(row, "account.domain") or None,  # type: ignore[arg-type]
        signals=_list(_get(row, "account.signals")),
        technologies=_list(_get(row, "account.technologies")),
        full_name=_get(row, "contact.full_name") or None,  # type: ignore[arg-type]
        title_normalized=_get(row, "contact.title_normalized") or None,  # type: ignore[arg-type]
        email=(str(_get(row, "contact.email") or "").strip().lower() or None),
        email_status=email_status(raw_status),
        email_status_raw=str(raw_status) if raw_status else None,
        phone=_get(row, "contact.phone") or None,  # type: ignore[arg-type]
        phone_status=_get(row, "contact.phone_status") or None,  # type: ignore[arg-type]
        dedup_confidence=_num(_get(row, "dedup_confidence")),
        raw=dict(row),
    )
