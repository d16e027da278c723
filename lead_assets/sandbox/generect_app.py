"""A local Generect that follows ``docs/vendor_contract.md`` (Generect, A-G1..A-G17).

Strict by default so client bugs fail loudly: a missing trailing slash is a 404 (no redirect), a
missing ``Token`` prefix a 401, an unknown seniority, headcount label or location a 400 field map,
a realtime-only filter in database mode a 400. Money is a USD balance charged at list prices
(``meta.amount_charged``); at an insufficient balance billable calls get 402 while free calls keep
working. Concurrency caps per token and operation answer 429 without ``Retry-After``. Faults can be
injected by rate or by the test-mode header/magic inputs.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import random
import threading
import time
import uuid
from collections import defaultdict
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import pycountry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lead_assets.core.generect_vocabulary import (
    COMPANY_TYPES,
    DATABASE_COMPANY_FIELDS,
    HEADCOUNT_ALIASES,
    HEADCOUNTS,
    INDUSTRIES,
    REALTIME_ONLY_LEAD_FIELDS,
    normalize_seniority,
)
from lead_assets.core.prices import (
    GENERECT_USD,
    SANDBOX_CATCH_ALL_RATE,
    SANDBOX_COMPANY_RATE,
    SANDBOX_EMAIL_FIND_RATE,
)
from lead_assets.sandbox.faults import AFTER_FAULTS, FaultInjector
from lead_assets.sandbox.world import SHORT_SENIORITY, Company, Person, World, build_world, h

#: Charged at the one price table's list prices (lead_assets.core.prices).
PRICES = dict(GENERECT_USD)
#: Parallel-request caps per token and operation type (F3); count endpoints are uncapped.
CAPS = {
    "lead_search": 50,
    "company_search": 20,
    "lead_enrich": 500,
    "company_enrich": 50,
    "preview": 100,
}
MAGIC = {
    "not-found@example.com": "not_found",
    "insufficient-funds@example.com": "insufficient_funds",
    "rate-limited@example.com": "rate_limited",
    "upstream-error@example.com": "upstream_error",
    "slow@example.com": "slow",
}
TITLE_ABBREVIATIONS = {
    "ceo": "chief executive officer",
    "cto": "chief technology officer",
    "cfo": "chief financial officer",
    "coo": "chief operating officer",
    "cmo": "chief marketing officer",
    "vp": "vice president",
}
WEBHOOK_EVENTS = (
    "email.find.bulk.completed",
    "phone.find.bulk.completed",
    "enrich.lead.bulk.completed",
    "enrich.company.bulk.completed",
    "status.incident.created",
    "status.incident.updated",
    "status.incident.resolved",
    "status.maintenance.started",
    "status.maintenance.completed",
    "webhook.test",
)


@dataclass
class GenerectSandboxConfig:
    """Switches of the sandbox (see ``lead-assets sandbox --help``)."""

    api_keys: tuple[str, ...] = ("test_sandbox",)
    balance: float = 50.0
    seed: int = 20261122
    fault_rate: float = 0.0
    fault_seed: int = 7
    latency_s: float = 0.0  # added to every paid call (realistic mode uses ~0.05)
    prod_silent_zero: bool = False  # unknown seniority -> 0 rows instead of 400
    lenient: bool = False  # accept headcount aliases such as "10001+"
    legacy_400_funds: bool = False  # insufficient funds as 400 (old backends)
    preview_free: bool = False
    retry_after: bool = False  # add Retry-After: 1 to throttling 429s
    strict_industries: bool = False  # unknown industry -> 400 instead of 0 rows
    shuffle_pages: bool = False  # unstable ordering between calls, as production (A-G5)
    caps: dict[str, int] = field(default_factory=lambda: dict(CAPS))
    # Hit rates for arbitrary inputs (seeded people and companies always answer): start the
    # sandbox with other rates to watch the planner learn them from the batches already run.
    email_find_rate: float = SANDBOX_EMAIL_FIND_RATE
    company_rate: float = SANDBOX_COMPANY_RATE
    catch_all_rate: float = SANDBOX_CATCH_ALL_RATE


@dataclass
class GenerectAccount:
    """Mutable account state: balance, charges and transactions (tests read and change it)."""

    balance: float
    charges: list[dict] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def charge(
        self, operation: str, amount: float, detail: str = "", items: list[str] | None = None
    ) -> None:
        """Debit ``amount`` USD (may be 0 for a recorded free call). ``items`` names what was
        bought (a sandbox extra in ``details.items``, so tests can check nothing was paid twice)."""
        amount = round(amount, 6)
        if amount <= 0:
            return
        with self.lock:
            self.balance = round(self.balance - amount, 6)
            self.charges.append(
                {
                    "id": uuid.uuid4().hex,
                    "timestamp": datetime.now(UTC).isoformat(),
                    "type": operation,
                    "credits": -amount,
                    "details": {
                        "balance_type": "usd",
                        "status": "success",
                        "note": detail,
                        "items": list(items or []),
                    },
                }
            )

    @property
    def total_charged(self) -> float:
        """Sum of every charge so far (USD)."""
        with self.lock:
            return round(-sum(c["credits"] for c in self.charges), 6)


class _Problem(Exception):
    def __init__(
        self, status: int, detail: object, headers: dict | None = None, body: dict | None = None
    ) -> None:
        self.status, self.detail, self.headers, self.body = status, detail, headers or {}, body


def _envelope(data: object, amount: float = 0.0, **meta: object) -> JSONResponse:
    return JSONResponse({"data": data, "meta": {"amount_charged": round(amount, 6), **meta}})


def _person_item(body: dict) -> str:
    """What one email find buys: the person, by the fields the request named."""
    parts = [body.get(k) for k in ("lead_id", "linkedin_url", "first_name", "last_name", "domain")]
    return "|".join(str(p or "").strip().lower() for p in parts)


def _transaction_matches(transaction: dict, request: Request) -> bool:
    """The contract's transaction filters: ``created_at__gte/__lte/__gt/__lt`` (ISO-8601),
    ``type``, ``status``, ``amount__gte/__lte`` (alias ``credits``, on the charge's magnitude). A
    value that cannot be parsed is silently dropped, as the real API does."""
    q = request.query_params
    at = datetime.fromisoformat(transaction["timestamp"])
    for name, keep in (
        ("created_at__gte", lambda v: at >= v),
        ("created_at__gt", lambda v: at > v),
        ("created_at__lte", lambda v: at <= v),
        ("created_at__lt", lambda v: at < v),
    ):
        if name in q:
            try:
                bound = datetime.fromisoformat(q[name].replace("Z", "+00:00"))
            except ValueError:
                continue
            if bound.tzinfo is None:
                bound = bound.replace(tzinfo=UTC)
            if not keep(bound):
                return False
    if "type" in q and transaction["type"] != q["type"]:
        return False
    if "status" in q and transaction["details"].get("status") != q["status"]:
        return False
    amount = -transaction["credits"]
    for names, keep in (
        (("amount__gte", "credits__gte"), lambda v: amount >= v - 1e-9),
        (("amount__lte", "credits__lte"), lambda v: amount <= v + 1e-9),
    ):
        for name in names:
            try:
                if name in q and not keep(abs(float(q[name]))):
                    return False
            except ValueError:
                continue
    return True


def _known_locations(world: World) -> set[str]:
    names = {c.name.lower() for c in pycountry.countries}
    names |= {getattr(c, "common_name", c.name).lower() for c in pycountry.countries}
    for loc, country in {(c.location, c.country) for c in world.companies}:
        parts = [p.strip() for p in loc.split(",")]
        names.add(loc.lower())
        names.add(country.lower())
        names.add(parts[0].lower())
        names.add(", ".join(parts[1:]).lower())
    return names


def create_generect_app(config: GenerectSandboxConfig | None = None) -> Starlette:
    """The Generect sandbox as a Starlette app; state on ``app.state.sandbox``."""
    config = config or GenerectSandboxConfig()
    world = build_world(config.seed)
    people_by_id = {p.lead_id: p for p in world.people}  # O(1) enrich and find by lead id
    shuffle_rng, shuffle_lock = random.Random(config.seed), threading.Lock()
    locations = _known_locations(world)
    account = GenerectAccount(config.balance)
    faults = FaultInjector(
        rate=config.fault_rate,
        seed=config.fault_seed,
        kinds=("429", "500", "502", "malformed", "drop"),
    )
    inflight: dict[tuple[str, str], int] = defaultdict(int)
    jobs: dict[str, dict] = {}
    webhooks: dict[str, dict] = {}
    stats = {"requests": 0, "throttled": 0, "max_inflight": defaultdict(int)}

    # ----------------------------------------------------------------- helpers
    def auth(request: Request) -> str:
        header = request.headers.get("authorization", "")
        if not header:
            raise _Problem(401, "Authentication credentials were not provided.")
        scheme, _, key = header.partition(" ")
        if scheme != "Token" or not key.strip():
            raise _Problem(401, "Invalid token header. Use 'Authorization: Token <key>'.")
        if key.strip() not in config.api_keys:
            raise _Problem(401, "Invalid token.")
        return key.strip()

    async def body_of(request: Request) -> dict:
        raw = await request.body()
        if not raw:
            return {}
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            raise _Problem(400, "JSON parse error - Expecting value.") from None
        if not isinstance(value, dict):
            raise _Problem(400, {"non_field_errors": ["Invalid data. Expected a dictionary."]})
        return value

    def funds(amount: float) -> None:
        if amount > 0 and account.balance < amount - 1e-9:
            raise _Problem(
                400 if config.legacy_400_funds else 402, "Insufficient funds in the account."
            )

    async def behaviour(request: Request, body: dict) -> str | None:
        magic = None
        for key in ("email", "emails", "leads"):
            value = body.get(key)
            values = value if isinstance(value, list) else [value]
            for v in values:
                text = (v.get("email") if isinstance(v, dict) else v) or ""
                if isinstance(text, str) and text.lower() in MAGIC:
                    magic = MAGIC[text.lower()]
        chosen = request.headers.get("x-generect-test-behaviour") or magic
        kind = faults.pick(chosen)
        if kind == "rate_limited":
            raise _Problem(429, "Request was throttled.", {"Retry-After": "1"})
        if kind in ("insufficient_funds", "402"):
            raise _Problem(
                400 if config.legacy_400_funds else 402, "Insufficient funds in the account."
            )
        if kind == "not_found":
            return "not_found"
        if kind in AFTER_FAULTS:
            # Handled after the endpoint ran: the vendor did the work (and charged), only the
            # answer is lost, as with a connection dropped after the request was served.
            return f"after:{kind}"
        response = await faults.apply(kind, envelope="generect")
        if response is not None:
            raise _Problem(response.status_code, None, body={"__response__": response})
        return None

    def validate_leads(criteria: dict, *, where: str = "") -> dict:
        errors: dict[str, list[str]] = {}
        prefix = f"{where}." if where else ""
        for key in criteria:
            if key in REALTIME_ONLY_LEAD_FIELDS:
                errors[prefix + key] = [
                    f"'{key}' is not supported in database mode. Use realtime endpoint."
                ]
        for value in criteria.get("seniorities") or []:
            if normalize_seniority(value) is None and not config.prod_silent_zero:
                errors.setdefault(prefix + "seniorities", []).append(
                    f"Object with name={value} does not exist."
                )
        for key in ("company_headcounts", "exclude_company_headcounts", "headcounts"):
            for value in criteria.get(key) or []:
                ok = value in HEADCOUNTS or (config.lenient and value in HEADCOUNT_ALIASES)
                if not ok:
                    errors.setdefault(prefix + key, []).append(
                        f"Object with name={value} does not exist."
                    )
        for key in (
            "locations",
            "exclude_locations",
            "company_locations",
            "exclude_company_locations",
        ):
            for value in criteria.get(key) or []:
                if str(value).lower() not in locations:
                    errors.setdefault(prefix + key, []).append(f"Location '{value}' is not listed.")
        for value in criteria.get("company_types") or []:
            if value not in COMPANY_TYPES:
                errors.setdefault(prefix + "company_types", []).append(
                    f"Object with name={value} does not exist."
                )
        if config.strict_industries:
            for key in ("company_industries", "industries"):
                for value in criteria.get(key) or []:
                    if value not in INDUSTRIES:
                        errors.setdefault(prefix + key, []).append(
                            f"Object with name={value} does not exist."
                        )
        limit, offset = criteria.get("limit_by"), criteria.get("offset_by")
        if isinstance(limit, int) and not 1 <= limit <= 2400:
            errors[prefix + "limit_by"] = ["Ensure this value is less than or equal to 2400."]
        if isinstance(offset, int) and not 0 <= offset <= 2399:
            errors[prefix + "offset_by"] = ["Ensure this value is less than or equal to 2399."]
        return errors

    def title_match(wanted: list[str], title: str) -> bool:
        # "Results may also include similar titles": common abbreviations match their long form.
        t = title.lower()
        wants = [TITLE_ABBREVIATIONS.get(w.strip().lower(), w.lower()) for w in wanted]
        return any(all(w in t for w in want.split()) or t in want for want in wants)

    def loc_match(wanted: list[str], location: str) -> bool:
        loc = location.lower()
        return any(w.lower() in loc for w in wanted)

    def person_matches(p: Person, c: dict) -> bool:
        if c.get("job_titles") and not title_match(c["job_titles"], p.title):
            return False
        if c.get("seniorities"):
            wanted = {normalize_seniority(s) for s in c["seniorities"]}
            mine = normalize_seniority(p.seniority)
            if mine not in wanted and not ("head" in wanted and mine == "director"):
                return False
        if c.get("locations") and not loc_match(c["locations"], p.location):
            return False
        if c.get("exclude_locations") and loc_match(c["exclude_locations"], p.location):
            return False
        co = p.company
        if c.get("company_locations") and not loc_match(c["company_locations"], co.location):
            return False
        if c.get("exclude_company_locations") and loc_match(
            c["exclude_company_locations"], co.location
        ):
            return False
        if c.get("company_industries") and co.industry not in c["company_industries"]:
            return False
        if c.get("exclude_company_industries") and co.industry in c["exclude_company_industries"]:
            return False
        if c.get("company_headcounts") and co.headcount_range not in {
            HEADCOUNT_ALIASES.get(x, x) for x in c["company_headcounts"]
        }:
            return False
        if (
            c.get("exclude_company_headcounts")
            and co.headcount_range in c["exclude_company_headcounts"]
        ):
            return False
        if c.get("company_types") and co.company_type not in c["company_types"]:
            return False
        if c.get("company_name") and c["company_name"].lower() not in co.name.lower():
            return False
        if c.get("company_id") and str(c["company_id"]) != co.linkedin_id:
            return False
        if c.get("exclude_ids") and p.lead_id in set(c["exclude_ids"]):
            return False
        return not (
            c.get("exclude_names") and f"{p.first_name} {p.last_name}" in set(c["exclude_names"])
        )

    def company_matches(co: Company, c: dict) -> bool:
        if c.get("industries") and co.industry not in c["industries"]:
            return False
        if c.get("exclude_industries") and co.industry in c["exclude_industries"]:
            return False
        if c.get("headcounts") and co.headcount_range not in {
            HEADCOUNT_ALIASES.get(x, x) for x in c["headcounts"]
        }:
            return False
        if c.get("locations") and not loc_match(c["locations"], co.location):
            return False
        if c.get("company_types") and co.company_type not in c["company_types"]:
            return False
        if c.get("exclude_ids") and co.linkedin_id in set(c["exclude_ids"]):
            return False
        return not (c.get("exclude_domains") and co.domain in set(c["exclude_domains"]))

    def silent_zero(c: dict) -> bool:
        if any(normalize_seniority(s) is None for s in c.get("seniorities") or []):
            return True
        return bool(c.get("company_industries")) and not set(c["company_industries"]) & set(
            INDUSTRIES
        )

    def lead_row(p: Person) -> dict:
        co = p.company
        return {
            "lead_id": p.lead_id,
            "first_name": p.first_name,
            "last_name": p.last_name,
            "full_name": f"{p.first_name} {p.last_name}",
            "title": p.title,
            "job_title": p.title,
            "seniority": SHORT_SENIORITY.get(p.seniority, p.seniority),
            "location": p.location,
            "location_country": p.country,
            "linkedin_url": f"https://www.linkedin.com/in/{p.first_name.lower()}-{p.last_name.lower()}-{p.lead_id[-6:]}",
            "company": {
                "id": co.linkedin_id,
                "name": co.name,
                "domain": co.domain,
                "industry": co.industry,
                "headcount": co.headcount_range,
                "linkedin_url": f"https://www.linkedin.com/company/{co.linkedin_id}",
            },
            "company_name": co.name,
            "company_industry": co.industry,
            "source": "test_mode",
        }

    def company_row(co: Company) -> dict:
        return {
            "linkedin_id": co.linkedin_id,
            "name": co.name,
            "domain": co.domain,
            "website": f"https://{co.domain}",
            "linkedin_link": f"https://www.linkedin.com/company/{co.linkedin_id}",
            "industry": co.industry,
            "headcount_range": co.headcount_range,
            "company_type": co.company_type,
            "location": co.location,
            "hq_country": co.country,
            "hq_city": co.location.split(",")[0],
        }

    domain_index = {c.domain: c for c in world.companies}

    def company_for_domain(domain: str) -> dict | None:
        domain = domain.strip().lower()
        if domain in domain_index:
            return company_row(domain_index[domain])
        if (
            not domain
            or "." not in domain
            or h("company", domain) % 100 >= round(100 * config.company_rate)
        ):
            return None
        label = domain.split(".")[0]
        return {
            "linkedin_id": str(90_000_000 + h("cid", domain) % 9_000_000),
            "name": label.replace("-", " ").title(),
            "domain": domain,
            "website": f"https://{domain}",
            "industry": INDUSTRIES[h("ind", domain) % len(INDUSTRIES)],
            "headcount_range": HEADCOUNTS[h("hc", domain) % len(HEADCOUNTS)],
            "linkedin_link": f"https://www.linkedin.com/company/{label}",
        }

    def catch_all_domain(domain: str) -> bool:
        known = domain_index.get(domain)
        return (
            known.catch_all
            if known
            else h("catchall", domain) % 100 < round(100 * config.catch_all_rate)
        )

    def find_email(item: dict) -> tuple[dict, float]:
        first, last = (item.get("first_name") or "").strip(), (item.get("last_name") or "").strip()
        domain = (item.get("domain") or "").strip().lower()
        if item.get("lead_id") or item.get("linkedin_url"):
            ref = item.get("lead_id") or item.get("linkedin_url")
            person = people_by_id.get(str(ref))
            if person is None:
                return {"valid_email": None}, 0.0
            first, last, domain = person.first_name, person.last_name, person.company.domain
        if not (first and last and domain):
            raise _Problem(
                400,
                {
                    "non_field_errors": [
                        "Provide lead_id, linkedin_url, or first_name, last_name and domain."
                    ]
                },
            )
        if h("find", first, last, domain) % 100 >= round(100 * config.email_find_rate):
            return {"valid_email": None}, 0.0
        pattern = h("pattern", domain) % 3
        local = (
            {0: f"{first}.{last}", 1: f"{first[0]}{last}", 2: first}[pattern]
            .lower()
            .replace(" ", "")
            .replace("'", "")
        )
        email = f"{local}@{domain}"
        if catch_all_domain(domain):
            return {
                "valid_email": None,
                "email": email,
                "result": "unknown",
                "catch_all": True,
            }, 0.0
        return {
            "valid_email": email,
            "result": "valid",
            "catch_all": False,
            "source": "generect",
            "email_format": pattern,
        }, PRICES["email_find"]

    def verdict(email: str) -> dict:
        e = email.strip().lower()
        local, _, domain = e.partition("@")
        if not local or "." not in domain:
            return {
                "email": email,
                "result": "invalid",
                "exist": "no",
                "catch_all": False,
                "error": "bad syntax",
            }
        if catch_all_domain(domain):
            return {
                "email": email,
                "result": "catch_all",
                "exist": "yes",
                "catch_all": True,
                "error": None,
            }
        bucket = h("validate", e) % 100
        result = "valid" if bucket < 75 else "invalid" if bucket < 88 else "unknown"
        return {
            "email": email,
            "result": result,
            "exist": "yes" if result == "valid" else "no",
            "catch_all": False,
            "error": None,
        }

    # --------------------------------------------------------------- wrapper
    def endpoint(op: str | None, *, billable: bool = True):  # type: ignore[no-untyped-def]
        def decorate(fn):  # type: ignore[no-untyped-def]
            async def handler(request: Request) -> Response:
                stats["requests"] += 1
                try:
                    token = auth(request)
                    body = (
                        await body_of(request) if request.method in ("POST", "PUT", "PATCH") else {}
                    )
                    slot = (token, op) if op else None
                    if slot:
                        cap = config.caps.get(op, 10**9)
                        if inflight[slot] >= cap:
                            stats["throttled"] += 1
                            raise _Problem(
                                429,
                                "Request was throttled.",
                                {"Retry-After": "1"} if config.retry_after else {},
                            )
                        inflight[slot] += 1
                        stats["max_inflight"][op] = max(stats["max_inflight"][op], inflight[slot])
                    try:
                        mode = await behaviour(request, body)
                        if billable and config.latency_s:
                            await asyncio.sleep(config.latency_s)
                        after = mode[6:] if mode and mode.startswith("after:") else None
                        response = await fn(request, body, None if after else mode)
                        if after:
                            response = await faults.apply(after, envelope="generect") or response
                    finally:
                        if slot:
                            inflight[slot] -= 1
                    if token.startswith("test_"):
                        response.headers["X-Generect-Mode"] = "test"
                    return response
                except _Problem as problem:
                    if problem.body and "__response__" in problem.body:
                        return problem.body["__response__"]
                    body = problem.body or {
                        "status": "error",
                        "status_code": problem.status,
                        "detail": problem.detail,
                    }
                    return JSONResponse(body, status_code=problem.status, headers=problem.headers)

            return handler

        return decorate

    # ------------------------------------------------------------- endpoints
    @endpoint(None, billable=False)
    async def leads_count(request: Request, body: dict, mode: str | None) -> Response:
        body = {k: v for k, v in body.items() if k not in ("limit_by", "offset_by")}  # A-G2
        errors = validate_leads(body)
        if errors:
            raise _Problem(400, errors)
        if not body:
            raise _Problem(400, {"non_field_errors": ["At least one filter is required."]})
        n = 0 if silent_zero(body) else sum(1 for p in world.people if person_matches(p, body))
        return _envelope({"results_count": n})

    @endpoint("lead_search")
    async def leads_search(request: Request, body: dict, mode: str | None) -> Response:
        errors = validate_leads(body)
        if errors:
            raise _Problem(400, errors)
        if not {k for k in body if k not in ("limit_by", "offset_by")}:
            raise _Problem(400, {"non_field_errors": ["At least one filter is required."]})
        limit, offset = int(body.get("limit_by") or 25), int(body.get("offset_by") or 0)
        matches = [] if silent_zero(body) else [p for p in world.people if person_matches(p, body)]
        if config.shuffle_pages:  # offset paging now repeats and skips rows; exclude_ids does not
            with shuffle_lock:
                shuffle_rng.shuffle(matches)
        rows = [lead_row(p) for p in matches[offset : offset + limit]]
        cost = PRICES["search_row"] * len(rows)
        funds(cost)
        account.charge("search_database_leads", cost, f"{len(rows)} rows")
        anchored = any(body.get(k) for k in ("company_name", "company_id", "company_link"))
        count: int | str = "within limit" if anchored and len(matches) <= limit else len(matches)
        return _envelope({"leads": rows, "results_count": count}, cost)

    @endpoint(None, billable=False)
    async def companies_count(request: Request, body: dict, mode: str | None) -> Response:
        body = {k: v for k, v in body.items() if k not in ("limit_by", "offset_by")}
        bad = [k for k in body if k not in DATABASE_COMPANY_FIELDS]
        errors = {
            k: [f"'{k}' is not supported in database mode. Use realtime endpoint."] for k in bad
        }
        errors.update(
            validate_leads(
                {k: v for k, v in body.items() if k in ("headcounts", "locations", "company_types")}
            )
        )
        if errors:
            raise _Problem(400, errors)
        n = sum(1 for c in world.companies if company_matches(c, body))
        return _envelope({"results_count": n})

    @endpoint("company_search")
    async def companies_search(request: Request, body: dict, mode: str | None) -> Response:
        bad = [k for k in body if k not in DATABASE_COMPANY_FIELDS]
        if bad:
            raise _Problem(
                400,
                {
                    k: [f"'{k}' is not supported in database mode. Use realtime endpoint."]
                    for k in bad
                },
            )
        limit, offset = int(body.get("limit_by") or 25), int(body.get("offset_by") or 0)
        if not 1 <= limit <= 1600 or not 0 <= offset <= 1599:
            raise _Problem(400, {"limit_by": ["Ensure limit_by <= 1600 and offset_by <= 1599."]})
        matches = [c for c in world.companies if company_matches(c, body)]
        rows = [company_row(c) for c in matches[offset : offset + limit]]
        cost = PRICES["search_row"] * len(rows)
        funds(cost)
        account.charge("search_database_companies", cost)
        return _envelope({"companies": rows, "results_count": len(matches)}, cost)

    def _two_level(body: dict) -> tuple[dict, dict]:
        company_c, lead_c = (
            body.get("company_search_criteria") or {},
            body.get("lead_search_criteria") or {},
        )
        if not company_c and not lead_c:
            raise _Problem(
                400,
                {"non_field_errors": ["Provide company_search_criteria or lead_search_criteria."]},
            )
        errors = validate_leads(lead_c, where="lead_search_criteria")
        errors.update(
            validate_leads(
                {
                    k: v
                    for k, v in company_c.items()
                    if k in ("headcounts", "locations", "company_types")
                },
                where="company_search_criteria",
            )
        )
        if errors:
            raise _Problem(400, errors)
        return company_c, lead_c

    def _two_level_matches(company_c: dict, lead_c: dict) -> list[Person]:
        companies = (
            {c.linkedin_id for c in world.companies if company_matches(c, company_c)}
            if company_c
            else None
        )
        return [
            p
            for p in world.people
            if (companies is None or p.company.linkedin_id in companies)
            and person_matches(p, lead_c)
        ]

    @endpoint(None, billable=False)
    async def company_leads_count(request: Request, body: dict, mode: str | None) -> Response:
        company_c, lead_c = _two_level(body)
        matches = _two_level_matches(company_c, lead_c)
        return _envelope(
            {
                "results_count": len(matches),
                "companies_count": len({p.company.linkedin_id for p in matches}),
                "leads_count": len(matches),
            }
        )

    @endpoint("lead_search")
    async def company_leads_search(request: Request, body: dict, mode: str | None) -> Response:
        company_c, lead_c = _two_level(body)
        limit = int(lead_c.get("limit_by") or 25)  # a top-level limit_by is ignored (A-G4)
        matches = _two_level_matches(company_c, lead_c)
        rows = [lead_row(p) for p in matches[:limit]]
        cost = PRICES["search_row"] * len(rows)
        funds(cost)
        account.charge("search_database_company_leads", cost)
        return _envelope({"leads": rows, "results_count": len(matches)}, cost)

    @endpoint("preview")
    async def preview(request: Request, body: dict, mode: str | None) -> Response:
        company_c, lead_c = _two_level(body)
        limit = int(lead_c.get("limit_by") or 25)
        matches = _two_level_matches(company_c, lead_c)[:limit]
        rows = [
            {
                "id": p.lead_id,
                "first_name": p.first_name,
                "last_name": p.last_name,
                "title": p.title,
                "company_name": p.company.name,
                "location": p.location,
                "industry": p.company.industry,
                "seniority": SHORT_SENIORITY.get(p.seniority, p.seniority),
                "headcount_range": p.company.headcount_range,
            }
            for p in matches
        ]
        cost = 0.0 if config.preview_free else PRICES["preview_row"] * len(rows)
        funds(cost)
        account.charge("preview_leads", cost)
        return _envelope({"leads": rows}, cost)

    @endpoint("preview", billable=False)
    async def preview_count(request: Request, body: dict, mode: str | None) -> Response:
        company_c, lead_c = _two_level(body)
        return _envelope({"count": len(_two_level_matches(company_c, lead_c))})

    @endpoint(None)
    async def email_find(request: Request, body: dict, mode: str | None) -> Response:
        if mode == "not_found":
            return _envelope({"valid_email": None})
        funds(PRICES["email_find"])
        data, cost = find_email(body)
        account.charge("email_finder", cost, items=[_person_item(body)])
        return _envelope(data, cost)

    @endpoint(None)
    async def email_validate(request: Request, body: dict, mode: str | None) -> Response:
        emails = body.get("emails")
        if not isinstance(emails, list) or not emails:
            raise _Problem(400, {"emails": ["This field is required."]})
        cost = PRICES["email_validate"] * len(emails)
        funds(cost)
        account.charge(
            "email_validator", cost, f"{len(emails)} emails", items=[str(e).lower() for e in emails]
        )
        return _envelope([verdict(str(e)) for e in emails], cost)

    @endpoint("company_enrich")
    async def enrich_company(request: Request, body: dict, mode: str | None) -> Response:
        keys = [k for k in ("id", "linkedin_url", "domain", "name") if body.get(k)]
        if len(keys) != 1:
            raise _Problem(
                400,
                {"non_field_errors": ["Provide exactly one of id, linkedin_url, domain or name."]},
            )
        if mode == "not_found":
            raise _Problem(400, "Company does not exist.")
        funds(PRICES["enrich_company"])
        row = (
            company_for_domain(body["domain"])
            if keys[0] == "domain"
            else next(
                (
                    company_row(c)
                    for c in world.companies
                    if body[keys[0]] in (c.linkedin_id, c.name)
                ),
                None,
            )
        )
        if row is None:
            raise _Problem(400, "Company does not exist.")
        data = {
            "id": row["linkedin_id"],
            "name": row["name"],
            "domain": row["domain"],
            "linkedin_url": row.get("linkedin_link"),
            "industry": row["industry"],
            "headcount": row["headcount_range"],
        }
        account.charge(
            "enrich_company", PRICES["enrich_company"], items=[str(body[keys[0]]).lower()]
        )
        return _envelope(data, PRICES["enrich_company"])

    @endpoint("lead_enrich")
    async def enrich_lead(request: Request, body: dict, mode: str | None) -> Response:
        ref = body.get("id") or body.get("linkedin_url") or body.get("email")
        if not ref:
            raise _Problem(
                400, {"non_field_errors": ["Provide exactly one of id, linkedin_url or email."]}
            )
        person = people_by_id.get(str(ref))
        if person is None or mode == "not_found":
            raise _Problem(400, "Lead does not exist.")
        funds(PRICES["enrich_lead"])
        account.charge("enrich_lead", PRICES["enrich_lead"])
        return _envelope(lead_row(person), PRICES["enrich_lead"])

    def _submit(kind: str, items: list, key: str) -> Response:
        if not isinstance(items, list):
            raise _Problem(400, {key: ["This field is required."]})
        if len(items) > 50:
            raise _Problem(400, {key: ["Ensure this field has no more than 50 elements."]})
        price = (
            PRICES["email_find"]
            if kind == "email"
            else PRICES["enrich_company"]
            if kind == "company"
            else PRICES["enrich_lead"]
        )
        reserve = price * len(items)
        funds(reserve)
        job_id = str(uuid.uuid4())
        jobs[job_id] = {
            "kind": kind,
            "items": items,
            "status": "pending",
            "polls": 0,
            "created": time.time(),
        }
        return JSONResponse(
            {
                "data": None,
                "meta": {
                    "job_id": job_id,
                    "status": "pending",
                    "total": len(items),
                    "processed": 0,
                    "amount_charged": 0,
                    "error": None,
                },
            },
            status_code=202,
        )

    @endpoint(None)
    async def email_find_bulk(request: Request, body: dict, mode: str | None) -> Response:
        return _submit("email", body.get("leads"), "leads")

    @endpoint(None)
    async def enrich_companies_bulk(request: Request, body: dict, mode: str | None) -> Response:
        return _submit("company", body.get("companies"), "companies")

    @endpoint(None)
    async def enrich_leads_bulk(request: Request, body: dict, mode: str | None) -> Response:
        return _submit("lead", body.get("leads"), "leads")

    async def job_status(request: Request) -> Response:
        try:
            auth(request)
        except _Problem as p:
            return JSONResponse(
                {"status": "error", "status_code": 401, "detail": p.detail}, status_code=401
            )
        job = jobs.get(request.path_params["job_id"])
        if job is None or time.time() - job["created"] > 86400:
            return JSONResponse({"detail": "Job not found"}, status_code=404)
        job["polls"] += 1
        if job["status"] == "pending":
            job["status"] = "processing"
        elif job["status"] == "processing":
            results, total, bought = [], 0.0, []
            for item in job["items"]:
                if job["kind"] == "email":
                    try:
                        data, cost = find_email(item)
                    except _Problem:
                        data, cost = {"valid_email": None}, 0.0
                    results.append({"input": item, **data})
                else:
                    if job["kind"] == "company":
                        row = company_for_domain(item.get("domain", ""))
                        cost = PRICES["enrich_company"] if row else 0.0
                        results.append({"input": item, "company": row})
                    else:  # leads: found only when the id is in the world (a miss is free)
                        person = people_by_id.get(str(item.get("id") or item.get("lead_id")))
                        row = lead_row(person) if person else None
                        cost = PRICES["enrich_lead"] if row else 0.0
                        results.append({"input": item, "lead": row})
                total += cost
                if cost:
                    bought.append(
                        _person_item(item)
                        if job["kind"] == "email"
                        else str(item.get("domain") or item.get("id") or "").lower()
                    )
            account.charge(f"bulk_{job['kind']}", total, items=bought)
            job.update(status="completed", results=results, amount=round(total, 6))
            await deliver(
                f"{'email.find' if job['kind'] == 'email' else 'enrich.' + job['kind']}.bulk.completed",
                request.path_params["job_id"],
                job,
            )
        meta = {
            "job_id": request.path_params["job_id"],
            "status": job["status"],
            "total": len(job["items"]),
            "processed": len(job["items"]) if job["status"] == "completed" else 0,
            "amount_charged": job.get("amount", 0),
            "error": None,
        }
        if job["status"] == "completed":
            found = sum(
                1
                for r in job["results"]
                if r.get("valid_email") or r.get("company") or r.get("lead")
            )
            meta.update(found=found, not_found=len(job["results"]) - found)
        return JSONResponse(
            {"data": job.get("results") if job["status"] == "completed" else None, "meta": meta}
        )

    async def deliver(event: str, job_id: str, job: dict) -> None:
        for hook in list(webhooks.values()):
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
            signature = base64.b64encode(
                hmac.new(hook["secret"].encode(), payload, hashlib.sha256).digest()
            ).decode()
            headers = {
                "X-Webhook-Event": event,
                "X-Webhook-Timestamp": str(int(time.time())),
                "X-Webhook-Signature": signature,
                "Content-Type": "application/json",
            }
            asyncio.get_running_loop().create_task(
                _post_with_retries(hook["url"], payload, headers)
            )

    @endpoint(None, billable=False)
    async def webhooks_root(request: Request, body: dict, mode: str | None) -> Response:
        if request.method == "GET":
            return JSONResponse(list(webhooks.values()))
        bad = [e for e in body.get("events") or [] if e not in WEBHOOK_EVENTS]
        if not body.get("url") or not body.get("events") or bad:
            raise _Problem(400, {"events": [f"Allowed events: {', '.join(WEBHOOK_EVENTS)}"]})
        hook_id = uuid.uuid4().hex
        now = datetime.now(UTC).isoformat()
        webhooks[hook_id] = {
            "id": hook_id,
            "url": body["url"],
            "events": body["events"],
            "secret": body.get("secret") or uuid.uuid4().hex,
            "is_active": True,
            "created_at": now,
            "updated_at": now,
        }
        return JSONResponse(webhooks[hook_id], status_code=201)

    @endpoint(None, billable=False)
    async def accounts_me(request: Request, body: dict, mode: str | None) -> Response:
        spent = account.total_charged
        return _envelope(
            {
                "id": 1,
                "email": "sandbox@example.com",
                "name": "Sandbox",
                "plan": "sandbox",
                "credits": {
                    "balance": account.balance,
                    "used_this_month": spent,
                    "monthly_limit": 10000,
                },
                "preview_tier": config.preview_free,
            }
        )

    @endpoint(None, billable=False)
    async def accounts_usage(request: Request, body: dict, mode: str | None) -> Response:
        breakdown: dict[str, float] = defaultdict(float)
        for c in account.charges:
            breakdown[c["type"]] += -c["credits"]
        return _envelope(
            {
                "period": request.query_params.get("period", "month"),
                "total_credits": account.total_charged,
                "breakdown": dict(breakdown),
            }
        )

    @endpoint(None, billable=False)
    async def accounts_transactions(request: Request, body: dict, mode: str | None) -> Response:
        try:
            limit = int(request.query_params.get("limit", 100))
            offset = int(request.query_params.get("offset", 0))
        except ValueError:  # unparseable filters are silently dropped by the real API
            limit, offset = 100, 0
        rows = [t for t in reversed(account.charges) if _transaction_matches(t, request)]
        return _envelope({"transactions": rows[offset : offset + limit]})

    routes = [
        Route("/api/v1/search/database/leads/count/", leads_count, methods=["POST"]),
        Route("/api/v1/search/database/leads/", leads_search, methods=["POST"]),
        Route("/api/v1/search/database/companies/count/", companies_count, methods=["POST"]),
        Route("/api/v1/search/database/companies/", companies_search, methods=["POST"]),
        Route(
            "/api/v1/search/database/company-leads/count/", company_leads_count, methods=["POST"]
        ),
        Route("/api/v1/search/database/company-leads/", company_leads_search, methods=["POST"]),
        Route("/api/v1/preview/leads/count/", preview_count, methods=["POST"]),
        Route("/api/v1/preview/leads/", preview, methods=["POST"]),
        Route("/api/v1/email/find/", email_find, methods=["POST"]),
        Route("/api/v1/email/find/bulk/", email_find_bulk, methods=["POST"]),
        Route("/api/v1/email/find/bulk/{job_id}/", job_status, methods=["GET"]),
        Route("/api/v1/email/validate/", email_validate, methods=["POST"]),
        Route("/api/v1/enrich/database/company/", enrich_company, methods=["POST"]),
        Route("/api/v1/enrich/database/lead/", enrich_lead, methods=["POST"]),
        Route("/api/v1/enrich/database/companies/bulk/", enrich_companies_bulk, methods=["POST"]),
        Route("/api/v1/enrich/database/leads/bulk/", enrich_leads_bulk, methods=["POST"]),
        Route("/api/v1/enrich/companies/bulk/{job_id}/", job_status, methods=["GET"]),
        Route("/api/v1/enrich/leads/bulk/{job_id}/", job_status, methods=["GET"]),
        Route("/api/v1/accounts/me/", accounts_me, methods=["GET"]),
        Route("/api/v1/accounts/usage/", accounts_usage, methods=["GET"]),
        Route("/api/v1/accounts/transactions/", accounts_transactions, methods=["GET"]),
        Route("/api/v1/webhooks/", webhooks_root, methods=["GET", "POST"]),
    ]

    @asynccontextmanager
    async def lifespan(app: Starlette):  # type: ignore[no-untyped-def]
        yield

    app = Starlette(routes=routes, lifespan=lifespan)
    app.router.redirect_slashes = (
        False  # a missing trailing slash is a 404, never a redirect (A-G15)
    )
    app.state.sandbox = type(
        "GenerectState",
        (),
        {
            "config": config,
            "account": account,
            "faults": faults,
            "stats": stats,
            "jobs": jobs,
            "webhooks": webhooks,
            "world": world,
        },
    )()
    return app


async def _post_with_retries(url: str, payload: bytes, headers: dict[str, str]) -> None:
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
