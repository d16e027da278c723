"""Stateless matching and row building of the Generect sandbox: which seeded people and companies
a search's criteria select, and how a person or company is rendered in an answer."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import pycountry

from lead_assets.core.generect_vocabulary import HEADCOUNT_ALIASES, INDUSTRIES, normalize_seniority
from lead_assets.sandbox.generect.config import TITLE_ABBREVIATIONS
from lead_assets.sandbox.world import SHORT_SENIORITY, Company, Person, World

Json = dict[str, Any]


def title_match(wanted: list[str], title: str) -> bool:
    """Whether ``title`` matches any wanted job title."""
    # "Results may also include similar titles": common abbreviations match their long form.
    t = title.lower()
    wants = [TITLE_ABBREVIATIONS.get(w.strip().lower(), w.lower()) for w in wanted]
    return any(all(w in t for w in want.split()) or t in want for want in wants)


def loc_match(wanted: list[str], location: str) -> bool:
    """Whether any wanted location is a substring of ``location`` (case-insensitive)."""
    loc = location.lower()
    return any(w.lower() in loc for w in wanted)


def person_matches(p: Person, c: Json) -> bool:
    """Whether person ``p`` passes the lead criteria ``c``."""
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


def company_matches(co: Company, c: Json) -> bool:
    """Whether company ``co`` passes the company criteria ``c``."""
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


def silent_zero(c: Json) -> bool:
    """Criteria production answers with 0 rows rather than an error (unknown seniority or only
    unknown industries)."""
    if any(normalize_seniority(s) is None for s in c.get("seniorities") or []):
        return True
    return bool(c.get("company_industries")) and not set(c["company_industries"]) & set(INDUSTRIES)


def known_locations(world: World) -> set[str]:
    """Every location name a search may filter on: countries plus the world's cities/regions."""
    names = {c.name.lower() for c in pycountry.countries}
    names |= {getattr(c, "common_name", c.name).lower() for c in pycountry.countries}
    for loc, country in {(c.location, c.country) for c in world.companies}:
        parts = [p.strip() for p in loc.split(",")]
        names.add(loc.lower())
        names.add(country.lower())
        names.add(parts[0].lower())
        names.add(", ".join(parts[1:]).lower())
    return names


def person_item(body: Json) -> str:
    """What one email find buys: the person, by the fields the request named."""
    parts = [body.get(k) for k in ("lead_id", "linkedin_url", "first_name", "last_name", "domain")]
    return "|".join(str(p or "").strip().lower() for p in parts)


def transaction_matches(transaction: Json, q: Mapping[str, str]) -> bool:
    """The contract's transaction filters: ``created_at__gte/__lte/__gt/__lt`` (ISO-8601),
    ``type``, ``status``, ``amount__gte/__lte`` (alias ``credits``, on the charge's magnitude). A
    value that cannot be parsed is silently dropped, as the real API does."""
    at = datetime.fromisoformat(transaction["timestamp"])
    bounds: tuple[tuple[str, Callable[[datetime], bool]], ...] = (
        ("created_at__gte", lambda v: at >= v),
        ("created_at__gt", lambda v: at > v),
        ("created_at__lte", lambda v: at <= v),
        ("created_at__lt", lambda v: at < v),
    )
    for name, keep in bounds:
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
    amounts: tuple[tuple[tuple[str, ...], Callable[[float], bool]], ...] = (
        (("amount__gte", "credits__gte"), lambda v: amount >= v - 1e-9),
        (("amount__lte", "credits__lte"), lambda v: amount <= v + 1e-9),
    )
    for names, keep in amounts:
        for name in names:
            try:
                if name in q and not keep(abs(float(q[name]))):
                    return False
            except ValueError:
                continue
    return True


def lead_row(p: Person) -> Json:
    """A person as a search or enrich answer renders it."""
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


def company_row(co: Company) -> Json:
    """A seeded company as a company search or enrich renders it."""
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


def preview_row(p: Person) -> Json:
    """A person as the (cheaper, thinner) preview endpoint renders it."""
    return {
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
