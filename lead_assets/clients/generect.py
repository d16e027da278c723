"""Generect API client (httpx), following ``docs/vendor_contract.md`` (Generect, A-G1..A-G17).

Every billable call is reserved on the :class:`~lead_assets.clients.spend.SpendHook` before it is
sent and settled with ``meta.amount_charged``; retries follow :mod:`lead_assets.clients.http_policy`.
Concurrency is capped per operation type with semaphores set below the vendor's parallel caps.
The API key is held privately and never appears in repr, errors or logs.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterable, Sequence
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
from lead_assets.clients.webhooks import verify_generect_signature
from lead_assets.core.generect_vocabulary import (
    COMPANY_TYPES,
    HEADCOUNTS,
    REALTIME_ONLY_LEAD_FIELDS,
    normalize_headcount,
    normalize_seniority,
)
from lead_assets.core.prices import GENERECT_USD

VENDOR = "generect"
DEFAULT_BASE_URL = "https://api.generect.com"
#: Semaphore sizes, below the documented caps (50/20/500/50/100) to leave headroom.
DEFAULT_CONCURRENCY = {
    "lead_search": 45,
    "company_search": 18,
    "lead_enrich": 450,
    "company_enrich": 45,
    "preview": 90,
    "uncapped": 64,
}
#: Recommended timeouts per operation (F3); database calls answer in under a second.
TIMEOUTS = {
    "lead_search": 300.0,
    "company_search": 300.0,
    "lead_enrich": 100.0,
    "company_enrich": 60.0,
    "default": 60.0,
}
#: List prices, used only for reservations (estimates); the charge is always amount_charged.
LIST_PRICES = {**GENERECT_USD, "enrich": GENERECT_USD["enrich_lead"]}
PAGE_CEILING = 2400


def clean_key(raw: str) -> str:
    """Strip a ``Token ``/``Bearer `` prefix the user pasted with the key (A-G17)."""
    key = raw.strip()
    for prefix in ("Bearer ", "Token ", "bearer ", "token "):
        if key.startswith(prefix):
            key = key[len(prefix) :].strip()
    return key


def request_key(operation: str, body: object) -> str:
    """Stable key of a request (operation + canonical JSON): the ledger and cache key on it."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{operation}|{canonical}".encode()).hexdigest()


def parse_count(data: dict) -> int | None:
    """``results_count ?? count``; ``"within limit"`` or absent gives None (A-G5, A-G6)."""
    value = data.get("results_count", data.get("count"))
    return value if isinstance(value, int) else None


def lead_id_of(row: dict) -> str | None:
    """``lead_id ?? id ?? sales_id`` (A-G6)."""
    value = row.get("lead_id") or row.get("id") or row.get("sales_id")
    return str(value) if value else None


def email_status(result: object, catch_all: object = None) -> str:
    """Generect verdict -> internal status (``docs/vendor_contract.md`` A-G9): catch_all flag wins;
    smtp and risky are unknown."""
    flag = catch_all is True or (isinstance(catch_all, str) and catch_all.lower() == "true")
    if flag:
        return "catch_all"
    value = str(result or "").strip().lower().replace("-", "_")
    if value in ("valid", "invalid", "catch_all", "unknown"):
        return value
    if value in ("disposable", "webmail", "do_not_mail"):
        return value
    return "unknown"


def verify_webhook(secret: str, body: bytes, signature: str) -> bool:
    """Generect webhooks: base64(HMAC-SHA256(secret, raw body)), compared in constant time."""
    return verify_generect_signature(secret, body, signature)


@dataclass(frozen=True)
class EmailFound:
    """Answer of email find for one lead (``email`` None when not found)."""

    email: str | None
    status: str
    status_raw: str | None
    catch_all: bool
    source: str | None
    amount_charged: float
    input: dict = field(default_factory=dict)


@dataclass(frozen=True)
class EmailVerdict:
    """Answer of email validate for one address."""

    email: str
    status: str
    status_raw: str | None
    catch_all: bool


@dataclass(frozen=True)
class Page:
    """Rows of one search, with what was paid and the vendor's count."""

    rows: list[dict]
    results_count: int | None
    amount_charged: float


class GenerectClient:
    """Thread-safe client; one httpx.Client per instance. Use as a context manager or ``close()``."""

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        spend_hook: SpendHook | None = None,
        policy: RetryPolicy | None = None,
        concurrency: dict[str, int] | None = None,
        http: httpx.Client | None = None,
        timeout_scale: float = 1.0,
    ) -> None:
        self._key = clean_key(api_key)
        if not self._key:
            raise AuthenticationError(
                "GENERECT_API_KEY is empty", vendor=VENDOR, operation="configure"
            )
        self.base_url = base_url.rstrip("/")
        self.spend = spend_hook or NullSpendHook()
        self.policy = policy or RetryPolicy()
        sizes = {**DEFAULT_CONCURRENCY, **(concurrency or {})}
        self._semaphores = {name: threading.BoundedSemaphore(n) for name, n in sizes.items()}
        self._timeout_scale = timeout_scale
        self._http = http or httpx.Client(
            timeout=httpx.Timeout(TIMEOUTS["default"] * timeout_scale, connect=10.0),
            # Idle connections are dropped well before a server's keep-alive timeout (often 5 s):
            # a request written to a connection the server is closing fails *after* it was sent,
            # which for a paid call means an unknown charge.
            limits=httpx.Limits(
                max_connections=sum(sizes.values()),
                max_keepalive_connections=100,
                keepalive_expiry=2.0,
            ),
        )
        self.throttled = 0
        self._jobs: dict[str, str] = {}  # bulk job id -> ledger reservation
        self._jobs_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"GenerectClient(base_url={self.base_url!r}, api_key=<hidden>)"

    def __enter__(self) -> GenerectClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()

    # ------------------------------------------------------------------ transport
    def _call(
        self,
        method: str,
        path: str,
        operation: str,
        *,
        body: object = None,
        params: dict | None = None,
        cap: str = "uncapped",
        billable: bool = False,
        estimate: float = 0.0,
        key: str | None = None,
    ) -> dict:
        if not path.endswith("/"):
            raise ValueError(f"Generect paths end with '/': {path}")  # A-G15
        url = self.base_url + path
        reservation = None
        if billable:
            reservation = self.spend.reserve(
                vendor=VENDOR,
                operation=operation,
                request_key=key or request_key(operation, body),
                estimate=estimate,
                unit="usd",
            )
        timeout = TIMEOUTS.get(cap, TIMEOUTS["default"]) * self._timeout_scale
        headers = {"Authorization": f"Token {self._key}", "Accept": "application/json"}
        try:
            with self._semaphores[cap]:
                outcome = send(
                    self._http,
                    method,
                    url,
                    policy=self.policy,
                    idempotent=not billable,
                    json=body,
                    params=params,
                    headers=headers,
                    timeout=timeout,
                )
        except BaseException:
            if reservation:
                self.spend.mark_unknown(reservation, "interrupted while the call was in flight")
            raise
        self.throttled += outcome.throttled
        return self._answer(outcome, operation, reservation)

    def _answer(self, outcome: Outcome, operation: str, reservation: str | None) -> dict:
        if outcome.ambiguous:
            if reservation:
                self.spend.mark_unknown(reservation, outcome.ambiguous)
            raise AmbiguousChargeError(
                f"Generect {operation}: {outcome.ambiguous}; the call may have been billed, so it is not retried "
                "(the reservation is kept for reconciliation)",
                vendor=VENDOR,
                operation=operation,
            )
        response = outcome.response
        if response is None:
            if reservation:
                self.spend.release(reservation, outcome.error or "no answer")
            if outcome.error and "throttled" in outcome.error:
                raise RateLimitedError(
                    f"Generect {operation}: {outcome.error}",
                    vendor=VENDOR,
                    operation=operation,
                    status_code=429,
                )
            raise UpstreamError(
                f"Generect {operation}: {outcome.error}", vendor=VENDOR, operation=operation
            )
        status = response.status_code
        if status < 300:
            payload = response.json()
            charged = float(
                ((payload.get("meta") or {}) if isinstance(payload, dict) else {}).get(
                    "amount_charged"
                )
                or 0.0
            )
            if reservation:
                self.spend.settle(reservation, charged)
            return (
                payload
                if isinstance(payload, dict)
                else {"data": payload, "meta": {"amount_charged": 0.0}}
            )
        if reservation:
            self.spend.release(reservation, f"HTTP {status}")
        message = error_message(response)
        text = f"Generect {operation} failed ({status}): {message}"
        if status == 402 or "insufficient funds" in message.lower():
            raise InsufficientFundsError(
                text, vendor=VENDOR, operation=operation, status_code=status, detail=message
            )
        error_class: type[VendorError] = {
            401: AuthenticationError,
            403: NotEntitledError,
            404: NotFoundError,
        }.get(status, ValidationError)
        raise error_class(
            text, vendor=VENDOR, operation=operation, status_code=status, detail=message
        )

    # ------------------------------------------------------------------ validation
    @staticmethod
    def check_lead_criteria(criteria: dict) -> dict:
        """Validate and normalize lead criteria locally before any call (A-G1, A-G2, A-G13, A-G14)."""
        out = dict(criteria)
        problems: list[str] = []
        realtime = sorted(set(out) & REALTIME_ONLY_LEAD_FIELDS)
        if realtime:
            problems.append(
                f"{', '.join(realtime)} only exist in realtime mode, which costs about twice as much"
            )
        out.pop("without_company", None)
        out.pop("per_page", None)
        if "seniorities" in out:
            mapped = []
            for value in out["seniorities"]:
                internal = normalize_seniority(value)
                if internal is None:
                    problems.append(f"unknown seniority {value!r}")
                else:
                    mapped.append(internal)
            out["seniorities"] = list(dict.fromkeys(mapped))
        for key in ("company_headcounts", "exclude_company_headcounts", "headcounts"):
            if key in out:
                mapped = []
                for value in out[key]:
                    canonical = normalize_headcount(value)
                    if canonical is None:
                        problems.append(f"{key}: {value!r} is not one of {', '.join(HEADCOUNTS)}")
                    else:
                        mapped.append(canonical)
                out[key] = mapped
        for value in out.get("company_types") or []:
            if value not in COMPANY_TYPES:
                problems.append(
                    f"company_types: {value!r} is not one of {', '.join(COMPANY_TYPES)}"
                )
        if problems:
            raise ValidationError(
                "Generect criteria rejected before any call: " + "; ".join(problems),
                vendor=VENDOR,
                operation="validate",
            )
        return out

    # ------------------------------------------------------------------ counts (free)
    def count_leads(self, criteria: dict) -> int | None:
        """Free database count. ``limit_by``/``offset_by`` are stripped (A-G2)."""
        body = {
            k: v
            for k, v in self.check_lead_criteria(criteria).items()
            if k not in ("limit_by", "offset_by")
        }
        return parse_count(
            self._call(
                "POST", "/api/v1/search/database/leads/count/", "count_leads", body=body
            ).get("data")
            or {}
        )

    def count_companies(self, criteria: dict) -> int | None:
        """Free company count."""
        body = {k: v for k, v in criteria.items() if k not in ("limit_by", "offset_by")}
        return parse_count(
            self._call(
                "POST", "/api/v1/search/database/companies/count/", "count_companies", body=body
            ).get("data")
            or {}
        )

    def count_company_leads(self, company_criteria: dict, lead_criteria: dict) -> dict:
        """Free two-level count: results_count, companies_count, leads_count."""
        body = {
            "company_search_criteria": company_criteria,
            "lead_search_criteria": self.check_lead_criteria(lead_criteria),
        }
        return (
            self._call(
                "POST",
                "/api/v1/search/database/company-leads/count/",
                "count_company_leads",
                body=body,
            ).get("data")
            or {}
        )

    def count_preview(self, company_criteria: dict, lead_criteria: dict) -> int | None:
        """Free Preview count (reads ``count``, not ``results_count``)."""
        lead = {
            k: v
            for k, v in self.check_lead_criteria(lead_criteria).items()
            if k not in ("limit_by", "offset_by")
        }
        body = {"company_search_criteria": company_criteria, "lead_search_criteria": lead}
        data = (
            self._call(
                "POST", "/api/v1/preview/leads/count/", "count_preview", body=body, cap="preview"
            ).get("data")
            or {}
        )
        return parse_count(data)

    # ------------------------------------------------------------------ searches (paid)
    def search_leads(
        self,
        criteria: dict,
        *,
        max_rows: int,
        page_size: int = 100,
        exclude_ids: Iterable[str] = (),
    ) -> Page:
        """Paid database search paged with ``exclude_ids`` and offset 0 (ordering is unstable),
        de-duplicated by id, stopping at a short page, the ceiling, ``max_rows`` or results_count."""
        body = self.check_lead_criteria(criteria)
        seen: list[str] = list(exclude_ids)
        seen_set = set(seen)
        rows: list[dict] = []
        paid = 0.0
        total: int | None = None
        while len(rows) < min(max_rows, PAGE_CEILING):
            want = min(page_size, max_rows - len(rows), PAGE_CEILING - len(rows))
            if total is not None and len(rows) >= total:
                break  # never pay for a page past results_count
            page_body = {**body, "exclude_ids": seen, "limit_by": want, "offset_by": 0}
            payload = self._call(
                "POST",
                "/api/v1/search/database/leads/",
                "search_leads",
                body=page_body,
                cap="lead_search",
                billable=True,
                estimate=LIST_PRICES["search_row"] * want,
            )
            data = payload.get("data") or {}
            paid += float((payload.get("meta") or {}).get("amount_charged") or 0.0)
            total = parse_count(data) if total is None else total
            page = data.get("leads") or []
            fresh = [r for r in page[:want] if (lid := lead_id_of(r)) and lid not in seen_set]
            for r in fresh:
                lid = lead_id_of(r)
                assert lid is not None  # `fresh` holds only rows with a lead id
                seen_set.add(lid)
                seen.append(lid)
            rows.extend(fresh)
            if len(page) < want or not fresh:
                break
        return Page(rows, total, round(paid, 6))

    def search_companies(self, criteria: dict, *, limit: int = 25) -> Page:
        """Paid company search (one page, ids in ``linkedin_id``)."""
        payload = self._call(
            "POST",
            "/api/v1/search/database/companies/",
            "search_companies",
            body={**criteria, "limit_by": min(limit, 1600)},
            cap="company_search",
            billable=True,
            estimate=LIST_PRICES["search_row"] * limit,
        )
        data = payload.get("data") or {}
        return Page(
            data.get("companies") or [],
            parse_count(data),
            float(payload["meta"].get("amount_charged") or 0),
        )

    def search_company_leads(
        self, company_criteria: dict, lead_criteria: dict, *, limit: int = 25
    ) -> Page:
        """Paid two-level search; ``limit_by`` goes inside the lead criteria (A-G4)."""
        lead = {**self.check_lead_criteria(lead_criteria), "limit_by": limit}
        payload = self._call(
            "POST",
            "/api/v1/search/database/company-leads/",
            "search_company_leads",
            body={"company_search_criteria": company_criteria, "lead_search_criteria": lead},
            cap="lead_search",
            billable=True,
            estimate=LIST_PRICES["search_row"] * limit,
        )
        data = payload.get("data") or {}
        return Page(
            (data.get("leads") or [])[:limit],
            parse_count(data),
            float(payload["meta"].get("amount_charged") or 0),
        )

    def preview_leads(
        self, company_criteria: dict, lead_criteria: dict, *, limit: int = 25
    ) -> Page:
        """Masked Preview rows (billable since 2026-08-19, A-G8); trimmed to ``limit`` locally."""
        lead = {**self.check_lead_criteria(lead_criteria), "limit_by": limit}
        payload = self._call(
            "POST",
            "/api/v1/preview/leads/",
            "preview_leads",
            body={"company_search_criteria": company_criteria, "lead_search_criteria": lead},
            cap="preview",
            billable=True,
            estimate=LIST_PRICES["preview_row"] * limit,
        )
        data = payload.get("data") or {}
        return Page(
            (data.get("leads") or [])[:limit],
            None,
            float(payload["meta"].get("amount_charged") or 0),
        )

    # ------------------------------------------------------------------ email
    def find_email(
        self,
        *,
        first_name: str = "",
        last_name: str = "",
        domain: str = "",
        lead_id: str = "",
        linkedin_url: str = "",
    ) -> EmailFound:
        """Find a verified work email ($0.02 only when a valid email is found)."""
        if lead_id:
            body: dict = {"lead_id": lead_id}
        elif linkedin_url:
            body = {"linkedin_url": linkedin_url}
        else:
            body = {"first_name": first_name, "last_name": last_name, "domain": domain}
        payload = self._call(
            "POST",
            "/api/v1/email/find/",
            "email_find",
            body=body,
            billable=True,
            estimate=LIST_PRICES["email_find"],
        )
        return _email_found(
            payload.get("data") or {}, float(payload["meta"].get("amount_charged") or 0), body
        )

    def submit_email_find_bulk(self, leads: Sequence[dict], *, key: str | None = None) -> str:
        """Submit a bulk email find (at most 50); return the job id. The cost is reserved at
        submit time by the vendor; the ledger reservation stays ``submitted`` until settled."""
        return self._submit_bulk(
            "email_find_bulk", "/api/v1/email/find/bulk/", "leads", leads, "email_find", key
        )

    def _submit_bulk(
        self,
        operation: str,
        path: str,
        field_name: str,
        items: Sequence[dict],
        price: str,
        key: str | None,
    ) -> str:
        """POST a bulk job (a billable submit, never retried once it may have been received)."""
        if not 0 < len(items) <= 50:
            raise ValueError("a bulk job takes 1 to 50 items")
        body = {field_name: list(items)}
        rkey = key or request_key(operation, body)
        reservation = self.spend.reserve(
            vendor=VENDOR,
            operation=operation,
            request_key=rkey,
            estimate=LIST_PRICES[price] * len(items),
            unit="usd",
        )
        try:
            with self._semaphores["uncapped"]:
                outcome = send(
                    self._http,
                    "POST",
                    self.base_url + path,
                    policy=self.policy,
                    idempotent=False,
                    json=body,
                    headers={"Authorization": f"Token {self._key}"},
                    timeout=TIMEOUTS["default"] * self._timeout_scale,
                )
        except BaseException:
            self.spend.mark_unknown(reservation, "interrupted while submitting")
            raise
        if outcome.response is not None and outcome.response.status_code == 202:
            job_id = str((outcome.response.json().get("meta") or {}).get("job_id"))
            # Recorded before the first poll: a run killed from here on leaves a job that a
            # re-run or reconciliation polls (free) instead of buying it again.
            self.spend.mark_submitted(reservation, job_id)
            with self._jobs_lock:
                self._jobs[job_id] = reservation
            return job_id
        self._answer(outcome, operation, reservation)  # raises with the right ledger state
        raise UpstreamError(
            f"Generect {operation}: unexpected answer", vendor=VENDOR, operation=operation
        )

    def _wait_bulk(
        self,
        operation: str,
        path: str,
        job_id: str,
        reservation: str | None,
        poll_s: float,
        timeout_s: float,
    ) -> list[dict]:
        """Poll a bulk job (GET: free and idempotent) until it completes; settle its reservation."""
        with self._jobs_lock:
            reservation = reservation or self._jobs.pop(job_id, None)
        deadline = time.monotonic() + timeout_s
        while True:
            payload = self._call("GET", path, f"{operation}_status")
            meta = payload.get("meta") or {}
            status = meta.get("status")
            if status == "completed":
                if reservation:
                    self.spend.settle(reservation, float(meta.get("amount_charged") or 0.0))
                return list(payload.get("data") or [])
            if status in ("error", "failed"):
                if reservation:
                    self.spend.release(reservation, f"job {status}")
                raise UpstreamError(
                    f"Generect {operation} job ended with {status}: {meta.get('error')}",
                    vendor=VENDOR,
                    operation=operation,
                )
            if time.monotonic() > deadline:
                raise UpstreamError(
                    f"Generect bulk job {job_id} did not finish in {timeout_s:.0f} s",
                    vendor=VENDOR,
                    operation=operation,
                )
            self.policy.sleep(poll_s)

    def submit_enrich_leads_bulk(self, leads: Sequence[dict], *, key: str | None = None) -> str:
        """Submit a bulk lead enrich (at most 50 of ``{id}|{linkedin_url}|{email}``); job id."""
        return self._submit_bulk(
            "enrich_leads_bulk",
            "/api/v1/enrich/database/leads/bulk/",
            "leads",
            leads,
            "enrich",
            key,
        )

    def submit_enrich_companies_bulk(
        self, companies: Sequence[dict], *, key: str | None = None
    ) -> str:
        """Submit a bulk company enrich (at most 50 of ``{id}|{domain}|{linkedin_url}|{name}``)."""
        return self._submit_bulk(
            "enrich_companies_bulk",
            "/api/v1/enrich/database/companies/bulk/",
            "companies",
            companies,
            "enrich",
            key,
        )

    def wait_enrich_bulk(
        self,
        kind: str,
        job_id: str,
        *,
        reservation: str | None = None,
        poll_s: float = 1.0,
        timeout_s: float = 600.0,
    ) -> list[dict | None]:
        """Poll a bulk enrich job (``kind`` is ``leads`` or ``companies``) to completion; return
        the profiles in input order, None for misses (misses are free)."""
        if kind not in ("leads", "companies"):
            raise ValueError("kind is 'leads' or 'companies'")
        rows = self._wait_bulk(
            f"enrich_{kind}_bulk",
            f"/api/v1/enrich/{kind}/bulk/{job_id}/",
            job_id,
            reservation,
            poll_s,
            timeout_s,
        )
        field_name = "lead" if kind == "leads" else "company"
        return [r.get(field_name) or None for r in rows]

    def enrich_bulk(
        self, kind: str, items: Sequence[dict], *, poll_s: float = 1.0, timeout_s: float = 600.0
    ) -> list[dict | None]:
        """Submit ``items`` in jobs of 50 and wait for each; profiles in input order."""
        submit = (
            self.submit_enrich_leads_bulk if kind == "leads" else self.submit_enrich_companies_bulk
        )
        out: list[dict | None] = []
        for start in range(0, len(items), 50):
            job_id = submit(list(items[start : start + 50]))
            out.extend(self.wait_enrich_bulk(kind, job_id, poll_s=poll_s, timeout_s=timeout_s))
        return out

    def wait_email_find_bulk(
        self,
        job_id: str,
        *,
        reservation: str | None = None,
        poll_s: float = 1.0,
        timeout_s: float = 600.0,
    ) -> list[EmailFound]:
        """Poll a bulk job (free, idempotent) to completion; settle its reservation with the charge."""
        rows = self._wait_bulk(
            "email_find_bulk",
            f"/api/v1/email/find/bulk/{job_id}/",
            job_id,
            reservation,
            poll_s,
            timeout_s,
        )
        return [_email_found(r, 0.0, r.get("input") or {}) for r in rows]

    def validate_emails(
        self, emails: Sequence[str], *, chunk: int = 50, request_key: str | None = None
    ) -> list[EmailVerdict]:
        """Validate addresses in chunks of ~50 ($0.005 per address submitted, any verdict).
        ``request_key`` names the ledger reservation (one chunk only: it names one call)."""
        if request_key is not None and len(emails) > chunk:
            raise ValueError("a request_key names one call: pass at most one chunk of addresses")
        out: list[EmailVerdict] = []
        for start in range(0, len(emails), chunk):
            part = list(emails[start : start + chunk])
            payload = self._call(
                "POST",
                "/api/v1/email/validate/",
                "email_validate",
                body={"emails": part},
                billable=True,
                estimate=LIST_PRICES["email_validate"] * len(part),
                key=request_key,
            )
            for item in payload.get("data") or []:
                raw = item.get("result")
                out.append(
                    EmailVerdict(
                        str(item.get("email")),
                        email_status(raw, item.get("catch_all")),
                        raw,
                        item.get("catch_all") in (True, "true", "True"),
                    )
                )
        return out

    # ------------------------------------------------------------------ enrich
    def enrich_company(
        self,
        *,
        domain: str = "",
        linkedin_url: str = "",
        name: str = "",
        company_id: str = "",
        request_key: str | None = None,
    ) -> dict | None:
        """Company profile ($0.02 when found); None when the vendor has no such company.
        ``request_key`` names the ledger reservation (default: derived from the body)."""
        body = (
            {"domain": domain}
            if domain
            else {"linkedin_url": linkedin_url}
            if linkedin_url
            else {"id": company_id}
            if company_id
            else {"name": name}
        )
        try:
            payload = self._call(
                "POST",
                "/api/v1/enrich/database/company/",
                "enrich_company",
                body=body,
                cap="company_enrich",
                billable=True,
                estimate=LIST_PRICES["enrich"],
                key=request_key,
            )
        except (ValidationError, NotFoundError) as exc:
            if "does not exist" in str(exc).lower() or "not found" in str(exc).lower():
                return None  # a miss is free (F14)
            raise
        return payload.get("data") or None

    def enrich_lead(
        self, *, lead_id: str = "", linkedin_url: str = "", email: str = ""
    ) -> dict | None:
        """Lead profile ($0.02 when found); None when not found."""
        body = (
            {"id": lead_id}
            if lead_id
            else {"linkedin_url": linkedin_url}
            if linkedin_url
            else {"email": email}
        )
        try:
            payload = self._call(
                "POST",
                "/api/v1/enrich/database/lead/",
                "enrich_lead",
                body=body,
                cap="lead_enrich",
                billable=True,
                estimate=LIST_PRICES["enrich"],
            )
        except (ValidationError, NotFoundError) as exc:
            if "does not exist" in str(exc).lower() or "not found" in str(exc).lower():
                return None
            raise
        return payload.get("data") or None

    # ------------------------------------------------------------------ account (free)
    def me(self) -> dict:
        """Profile and balance (``credits.balance``, shown without assuming a unit: A-G12)."""
        return self._call("GET", "/api/v1/accounts/me/", "accounts_me").get("data") or {}

    def balance(self) -> float:
        """The account balance as the vendor reports it (USD in practice)."""
        return float(((self.me().get("credits") or {}).get("balance")) or 0.0)

    def usage(self, period: str = "month") -> dict:
        """Usage broken down by operation."""
        return (
            self._call(
                "GET", "/api/v1/accounts/usage/", "accounts_usage", params={"period": period}
            ).get("data")
            or {}
        )

    def transactions(self, *, limit: int = 100, offset: int = 0, **filters: str) -> list[dict]:
        """One page of the account's transactions (charges negative). ``filters`` are the
        contract's query filters (``created_at__gte``, ``type``, ``amount__lte``, ...)."""
        data = (
            self._call(
                "GET",
                "/api/v1/accounts/transactions/",
                "accounts_transactions",
                params={"limit": limit, "offset": offset, **filters},
            ).get("data")
            or {}
        )
        return data.get("transactions") or []


def _email_found(data: dict, charged: float, given: dict) -> EmailFound:
    email = data.get("valid_email")
    raw = data.get("result")
    status = email_status(raw, data.get("catch_all")) if (email or raw) else "unknown"
    return EmailFound(
        email,
        status if email else ("catch_all" if data.get("catch_all") else "unknown"),
        raw,
        bool(data.get("catch_all")),
        data.get("source"),
        charged,
        dict(given),
    )
