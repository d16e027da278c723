"""Generect's database search family: lead, company and company-then-lead searches, their free
counts, and the preview (A-G1..A-G5)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from lead_assets.core.generect_vocabulary import DATABASE_COMPANY_FIELDS
from lead_assets.sandbox.generect.base import GenerectBase, Json, Problem, envelope
from lead_assets.sandbox.generect.config import PRICES
from lead_assets.sandbox.generect.matching import (
    company_matches,
    company_row,
    lead_row,
    person_matches,
    preview_row,
    silent_zero,
)
from lead_assets.sandbox.world import Person

#: Company criteria that share the lead criteria's vocabulary checks.
_VALIDATED_COMPANY_FIELDS = ("headcounts", "locations", "company_types")
_PAGING = ("limit_by", "offset_by")


def _realtime_only(fields: list[str]) -> dict[str, list[str]]:
    return {k: [f"'{k}' is not supported in database mode. Use realtime endpoint."] for k in fields}


class SearchEndpoints(GenerectBase):
    """``/search/database/...`` and ``/preview/leads/...``: one method per endpoint."""

    # ------------------------------------------------------------------ leads
    async def leads_count(self, request: Request, body: Json, mode: str | None) -> Response:
        """Free count of the people a lead search would return (paging ignored, A-G2)."""
        body = {k: v for k, v in body.items() if k not in _PAGING}
        errors = self.validate_leads(body)
        if errors:
            raise Problem(400, errors)
        if not body:
            raise Problem(400, {"non_field_errors": ["At least one filter is required."]})
        people = self.world.people
        n = 0 if silent_zero(body) else sum(1 for p in people if person_matches(p, body))
        return envelope({"results_count": n})

    async def leads_search(self, request: Request, body: Json, mode: str | None) -> Response:
        """One page of people, charged per row returned."""
        errors = self.validate_leads(body)
        if errors:
            raise Problem(400, errors)
        if not {k for k in body if k not in _PAGING}:
            raise Problem(400, {"non_field_errors": ["At least one filter is required."]})
        limit, offset = int(body.get("limit_by") or 25), int(body.get("offset_by") or 0)
        people = self.world.people
        matches = [] if silent_zero(body) else [p for p in people if person_matches(p, body)]
        if self.config.shuffle_pages:  # offset paging now repeats and skips rows; exclude_ids not
            with self.shuffle_lock:
                self.shuffle_rng.shuffle(matches)
        rows = [lead_row(p) for p in matches[offset : offset + limit]]
        cost = PRICES["search_row"] * len(rows)
        self.funds(cost)
        self.account.charge("search_database_leads", cost, f"{len(rows)} rows")
        anchored = any(body.get(k) for k in ("company_name", "company_id", "company_link"))
        count: int | str = "within limit" if anchored and len(matches) <= limit else len(matches)
        return envelope({"leads": rows, "results_count": count}, cost)

    # ------------------------------------------------------------------ companies
    async def companies_count(self, request: Request, body: Json, mode: str | None) -> Response:
        """Free count of the companies a company search would return."""
        body = {k: v for k, v in body.items() if k not in _PAGING}
        errors = _realtime_only([k for k in body if k not in DATABASE_COMPANY_FIELDS])
        errors.update(
            self.validate_leads({k: v for k, v in body.items() if k in _VALIDATED_COMPANY_FIELDS})
        )
        if errors:
            raise Problem(400, errors)
        n = sum(1 for c in self.world.companies if company_matches(c, body))
        return envelope({"results_count": n})

    async def companies_search(self, request: Request, body: Json, mode: str | None) -> Response:
        """One page of companies, charged per row returned."""
        bad = [k for k in body if k not in DATABASE_COMPANY_FIELDS]
        if bad:
            raise Problem(400, _realtime_only(bad))
        limit, offset = int(body.get("limit_by") or 25), int(body.get("offset_by") or 0)
        if not 1 <= limit <= 1600 or not 0 <= offset <= 1599:
            raise Problem(400, {"limit_by": ["Ensure limit_by <= 1600 and offset_by <= 1599."]})
        matches = [c for c in self.world.companies if company_matches(c, body)]
        rows = [company_row(c) for c in matches[offset : offset + limit]]
        cost = PRICES["search_row"] * len(rows)
        self.funds(cost)
        self.account.charge("search_database_companies", cost)
        return envelope({"companies": rows, "results_count": len(matches)}, cost)

    # ------------------------------------------------------------------ two-level searches
    def two_level(self, body: Json) -> tuple[Json, Json]:
        """The validated ``(company_search_criteria, lead_search_criteria)`` of a body."""
        company_c, lead_c = (
            body.get("company_search_criteria") or {},
            body.get("lead_search_criteria") or {},
        )
        if not company_c and not lead_c:
            raise Problem(
                400,
                {"non_field_errors": ["Provide company_search_criteria or lead_search_criteria."]},
            )
        errors = self.validate_leads(lead_c, where="lead_search_criteria")
        errors.update(
            self.validate_leads(
                {k: v for k, v in company_c.items() if k in _VALIDATED_COMPANY_FIELDS},
                where="company_search_criteria",
            )
        )
        if errors:
            raise Problem(400, errors)
        return company_c, lead_c

    def two_level_matches(self, company_c: Json, lead_c: Json) -> list[Person]:
        """The people matching ``lead_c`` at companies matching ``company_c`` (any if empty)."""
        companies = (
            {c.linkedin_id for c in self.world.companies if company_matches(c, company_c)}
            if company_c
            else None
        )
        return [
            p
            for p in self.world.people
            if (companies is None or p.company.linkedin_id in companies)
            and person_matches(p, lead_c)
        ]

    async def company_leads_count(self, request: Request, body: Json, mode: str | None) -> Response:
        """Free count of a company-then-lead search, with the companies it spans."""
        company_c, lead_c = self.two_level(body)
        matches = self.two_level_matches(company_c, lead_c)
        return envelope(
            {
                "results_count": len(matches),
                "companies_count": len({p.company.linkedin_id for p in matches}),
                "leads_count": len(matches),
            }
        )

    async def company_leads_search(
        self, request: Request, body: Json, mode: str | None
    ) -> Response:
        """The first page of a company-then-lead search, charged per row."""
        company_c, lead_c = self.two_level(body)
        limit = int(lead_c.get("limit_by") or 25)  # a top-level limit_by is ignored (A-G4)
        matches = self.two_level_matches(company_c, lead_c)
        rows = [lead_row(p) for p in matches[:limit]]
        cost = PRICES["search_row"] * len(rows)
        self.funds(cost)
        self.account.charge("search_database_company_leads", cost)
        return envelope({"leads": rows, "results_count": len(matches)}, cost)

    # ------------------------------------------------------------------ preview
    async def preview(self, request: Request, body: Json, mode: str | None) -> Response:
        """Thin preview rows, charged per row unless ``preview_free``."""
        company_c, lead_c = self.two_level(body)
        limit = int(lead_c.get("limit_by") or 25)
        rows = [preview_row(p) for p in self.two_level_matches(company_c, lead_c)[:limit]]
        cost = 0.0 if self.config.preview_free else PRICES["preview_row"] * len(rows)
        self.funds(cost)
        self.account.charge("preview_leads", cost)
        return envelope({"leads": rows}, cost)

    async def preview_count(self, request: Request, body: Json, mode: str | None) -> Response:
        """Free count of a preview."""
        company_c, lead_c = self.two_level(body)
        return envelope({"count": len(self.two_level_matches(company_c, lead_c))})
