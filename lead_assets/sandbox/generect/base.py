"""State and shared helpers of the Generect sandbox: authentication, the JSON envelope, caps,
funds, fault injection and the criteria validation every search shares."""

from __future__ import annotations

import asyncio
import json
import random
import threading
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any, TypedDict

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from lead_assets.core.generect_vocabulary import (
    COMPANY_TYPES,
    HEADCOUNT_ALIASES,
    HEADCOUNTS,
    INDUSTRIES,
    REALTIME_ONLY_LEAD_FIELDS,
    normalize_seniority,
)
from lead_assets.sandbox.faults import AFTER_FAULTS, FaultInjector
from lead_assets.sandbox.generect.config import MAGIC, GenerectAccount, GenerectSandboxConfig
from lead_assets.sandbox.generect.matching import known_locations
from lead_assets.sandbox.world import Company, Person, World, build_world

Json = dict[str, Any]
#: An endpoint method: the parsed request body and the fault mode ("not_found" or None) in.
Endpoint = Callable[[Request, Json, str | None], Awaitable[Response]]
#: What Starlette routes to.
Handler = Callable[[Request], Awaitable[Response]]

_LOCATION_FIELDS = (
    "locations",
    "exclude_locations",
    "company_locations",
    "exclude_company_locations",
)


class GenerectStats(TypedDict):
    """Request counters (tests read them on ``app.state.sandbox.stats``)."""

    requests: int
    throttled: int
    max_inflight: defaultdict[str, int]


class Problem(Exception):
    """An error answer: raised anywhere below an endpoint, rendered by :meth:`endpoint`."""

    def __init__(
        self,
        status: int,
        detail: object,
        headers: dict[str, str] | None = None,
        response: Response | None = None,
    ) -> None:
        super().__init__(status, detail)
        self.status, self.detail, self.headers = status, detail, headers or {}
        #: A ready-made answer (an injected fault) sent instead of the error envelope.
        self.response = response


def envelope(data: object, amount: float = 0.0, **meta: object) -> JSONResponse:
    """The contract's ``{"data": ..., "meta": {"amount_charged": ...}}`` answer."""
    return JSONResponse({"data": data, "meta": {"amount_charged": round(amount, 6), **meta}})


def insufficient_funds(config: GenerectSandboxConfig) -> Problem:
    """402, or 400 on the old backends ``legacy_400_funds`` imitates."""
    return Problem(400 if config.legacy_400_funds else 402, "Insufficient funds in the account.")


class GenerectBase:
    """The sandbox's state (config, world, account, caps, jobs, webhooks) and shared helpers.

    The endpoint families are mixins over this class; :class:`~lead_assets.sandbox.generect.app.
    GenerectSandbox` combines them and is what ``app.state.sandbox`` holds."""

    def __init__(self, config: GenerectSandboxConfig | None = None) -> None:
        self.config = config or GenerectSandboxConfig()
        self.world: World = build_world(self.config.seed)
        # O(1) enrich and find by lead id, and company enrich by domain.
        self.people_by_id: dict[str, Person] = {p.lead_id: p for p in self.world.people}
        self.domain_index: dict[str, Company] = {c.domain: c for c in self.world.companies}
        self.locations = known_locations(self.world)
        self.shuffle_rng, self.shuffle_lock = random.Random(self.config.seed), threading.Lock()
        self.account = GenerectAccount(self.config.balance)
        self.faults = FaultInjector(
            rate=self.config.fault_rate,
            seed=self.config.fault_seed,
            kinds=("429", "500", "502", "malformed", "drop"),
        )
        #: Requests in flight per (token, operation), for the caps.
        self.inflight: defaultdict[tuple[str, str], int] = defaultdict(int)
        self.jobs: dict[str, Json] = {}
        self.webhooks: dict[str, Json] = {}
        self.stats = GenerectStats(requests=0, throttled=0, max_inflight=defaultdict(int))

    # ------------------------------------------------------------------ request plumbing
    def auth(self, request: Request) -> str:
        """The API key of ``Authorization: Token <key>``, or a 401."""
        header = request.headers.get("authorization", "")
        if not header:
            raise Problem(401, "Authentication credentials were not provided.")
        scheme, _, key = header.partition(" ")
        if scheme != "Token" or not key.strip():
            raise Problem(401, "Invalid token header. Use 'Authorization: Token <key>'.")
        if key.strip() not in self.config.api_keys:
            raise Problem(401, "Invalid token.")
        return key.strip()

    async def body_of(self, request: Request) -> Json:
        """The JSON object body ({} when empty), or a 400 as the real API words it."""
        raw = await request.body()
        if not raw:
            return {}
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            raise Problem(400, "JSON parse error - Expecting value.") from None
        if not isinstance(value, dict):
            raise Problem(400, {"non_field_errors": ["Invalid data. Expected a dictionary."]})
        return value

    def funds(self, amount: float) -> None:
        """Refuse a call the balance cannot pay for (free calls always pass)."""
        if amount > 0 and self.account.balance < amount - 1e-9:
            raise insufficient_funds(self.config)

    async def behaviour(self, request: Request, body: Json) -> str | None:
        """The fault for this call (test header, magic input or seeded rate): raised now, or
        returned as ``"not_found"`` / ``"after:<kind>"`` for the endpoint wrapper to apply."""
        magic = None
        for key in ("email", "emails", "leads"):
            value = body.get(key)
            values = value if isinstance(value, list) else [value]
            for v in values:
                text = (v.get("email") if isinstance(v, dict) else v) or ""
                if isinstance(text, str) and text.lower() in MAGIC:
                    magic = MAGIC[text.lower()]
        chosen = request.headers.get("x-generect-test-behaviour") or magic
        kind = self.faults.pick(chosen)
        if kind == "rate_limited":
            raise Problem(429, "Request was throttled.", {"Retry-After": "1"})
        if kind in ("insufficient_funds", "402"):
            raise insufficient_funds(self.config)
        if kind == "not_found":
            return "not_found"
        if kind in AFTER_FAULTS:
            # Handled after the endpoint ran: the vendor did the work (and charged), only the
            # answer is lost, as with a connection dropped after the request was served.
            return f"after:{kind}"
        response = await self.faults.apply(kind, envelope="generect")
        if response is not None:
            raise Problem(response.status_code, None, response=response)
        return None

    def take_slot(self, token: str, op: str | None) -> tuple[str, str] | None:
        """Count one more call of ``op`` in flight for ``token``, or 429 at its cap (F3)."""
        if not op:
            return None
        slot = (token, op)
        if self.inflight[slot] >= self.config.caps.get(op, 10**9):
            self.stats["throttled"] += 1
            raise Problem(
                429,
                "Request was throttled.",
                {"Retry-After": "1"} if self.config.retry_after else {},
            )
        self.inflight[slot] += 1
        max_inflight = self.stats["max_inflight"]
        max_inflight[op] = max(max_inflight[op], self.inflight[slot])
        return slot

    async def serve(self, fn: Endpoint, request: Request, body: Json, billable: bool) -> Response:
        """Run one endpoint under fault injection and the paid-call latency."""
        mode = await self.behaviour(request, body)
        if billable and self.config.latency_s:
            await asyncio.sleep(self.config.latency_s)
        after = mode[6:] if mode and mode.startswith("after:") else None
        response = await fn(request, body, None if after else mode)
        if after:
            response = await self.faults.apply(after, envelope="generect") or response
        return response

    def endpoint(self, fn: Endpoint, op: str | None, *, billable: bool = True) -> Handler:
        """Wrap an endpoint method with auth, body parsing, the cap of ``op`` and faults;
        ``billable`` endpoints also pay the configured latency."""

        async def handler(request: Request) -> Response:
            self.stats["requests"] += 1
            try:
                token = self.auth(request)
                body = (
                    await self.body_of(request)
                    if request.method in ("POST", "PUT", "PATCH")
                    else {}
                )
                slot = self.take_slot(token, op)
                try:
                    response = await self.serve(fn, request, body, billable)
                finally:
                    if slot:
                        self.inflight[slot] -= 1
                if token.startswith("test_"):
                    response.headers["X-Generect-Mode"] = "test"
                return response
            except Problem as problem:
                if problem.response is not None:
                    return problem.response
                return JSONResponse(
                    {"status": "error", "status_code": problem.status, "detail": problem.detail},
                    status_code=problem.status,
                    headers=problem.headers,
                )

        return handler

    # ------------------------------------------------------------------ criteria
    def validate_leads(self, criteria: Json, *, where: str = "") -> dict[str, list[str]]:
        """The 400 field map for lead criteria (empty when valid); ``where`` prefixes the keys
        of a nested criteria object."""
        config = self.config
        errors: dict[str, list[str]] = {}
        prefix = f"{where}." if where else ""

        def unknown(key: str, value: object) -> None:
            errors.setdefault(prefix + key, []).append(f"Object with name={value} does not exist.")

        for key in criteria:
            if key in REALTIME_ONLY_LEAD_FIELDS:
                errors[prefix + key] = [
                    f"'{key}' is not supported in database mode. Use realtime endpoint."
                ]
        for value in criteria.get("seniorities") or []:
            if normalize_seniority(value) is None and not config.prod_silent_zero:
                unknown("seniorities", value)
        for key in ("company_headcounts", "exclude_company_headcounts", "headcounts"):
            for value in criteria.get(key) or []:
                if not (value in HEADCOUNTS or (config.lenient and value in HEADCOUNT_ALIASES)):
                    unknown(key, value)
        for key in _LOCATION_FIELDS:
            for value in criteria.get(key) or []:
                if str(value).lower() not in self.locations:
                    errors.setdefault(prefix + key, []).append(f"Location '{value}' is not listed.")
        for value in criteria.get("company_types") or []:
            if value not in COMPANY_TYPES:
                unknown("company_types", value)
        if config.strict_industries:
            for key in ("company_industries", "industries"):
                for value in criteria.get(key) or []:
                    if value not in INDUSTRIES:
                        unknown(key, value)
        limit, offset = criteria.get("limit_by"), criteria.get("offset_by")
        if isinstance(limit, int) and not 1 <= limit <= 2400:
            errors[prefix + "limit_by"] = ["Ensure this value is less than or equal to 2400."]
        if isinstance(offset, int) and not 0 <= offset <= 2399:
            errors[prefix + "offset_by"] = ["Ensure this value is less than or equal to 2399."]
        return errors
