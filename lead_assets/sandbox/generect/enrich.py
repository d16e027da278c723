"""Generect's email and enrich family: email find and validate, company and lead enrich, and the
deterministic answers for arbitrary inputs that the bulk jobs share."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from lead_assets.core.generect_vocabulary import HEADCOUNTS, INDUSTRIES
from lead_assets.sandbox.generect.base import GenerectBase, Json, Problem, envelope
from lead_assets.sandbox.generect.config import PRICES
from lead_assets.sandbox.generect.matching import company_row, lead_row, person_item
from lead_assets.sandbox.world import h

_FIND_INPUTS = "Provide lead_id, linkedin_url, or first_name, last_name and domain."


class EnrichEndpoints(GenerectBase):
    """``/email/...`` and ``/enrich/database/{company,lead}/``: one method per endpoint, plus
    the answers (company by domain, email find, verdict) the bulk jobs reuse."""

    # ------------------------------------------------------------------ answers
    def company_for_domain(self, domain: str) -> Json | None:
        """A seeded company, or for other domains a hashed guess at ``company_rate``."""
        domain = domain.strip().lower()
        if domain in self.domain_index:
            return company_row(self.domain_index[domain])
        if (
            not domain
            or "." not in domain
            or h("company", domain) % 100 >= round(100 * self.config.company_rate)
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

    def catch_all_domain(self, domain: str) -> bool:
        """Whether ``domain`` accepts every address (seeded, else hashed at ``catch_all_rate``)."""
        known = self.domain_index.get(domain)
        if known:
            return known.catch_all
        return h("catchall", domain) % 100 < round(100 * self.config.catch_all_rate)

    def find_email(self, item: Json) -> tuple[Json, float]:
        """The email find answer for one person and its cost (only a valid email is paid)."""
        first, last = (item.get("first_name") or "").strip(), (item.get("last_name") or "").strip()
        domain = (item.get("domain") or "").strip().lower()
        if item.get("lead_id") or item.get("linkedin_url"):
            ref = item.get("lead_id") or item.get("linkedin_url")
            person = self.people_by_id.get(str(ref))
            if person is None:
                return {"valid_email": None}, 0.0
            first, last, domain = person.first_name, person.last_name, person.company.domain
        if not (first and last and domain):
            raise Problem(400, {"non_field_errors": [_FIND_INPUTS]})
        if h("find", first, last, domain) % 100 >= round(100 * self.config.email_find_rate):
            return {"valid_email": None}, 0.0
        pattern = h("pattern", domain) % 3
        local = (
            {0: f"{first}.{last}", 1: f"{first[0]}{last}", 2: first}[pattern]
            .lower()
            .replace(" ", "")
            .replace("'", "")
        )
        email = f"{local}@{domain}"
        if self.catch_all_domain(domain):
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

    def verdict(self, email: str) -> Json:
        """The validation verdict for one address."""
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
        if self.catch_all_domain(domain):
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

    # ------------------------------------------------------------------ endpoints
    async def email_find(self, request: Request, body: Json, mode: str | None) -> Response:
        """Find one person's email; charged only when a valid one is found."""
        if mode == "not_found":
            return envelope({"valid_email": None})
        self.funds(PRICES["email_find"])
        data, cost = self.find_email(body)
        self.account.charge("email_finder", cost, items=[person_item(body)])
        return envelope(data, cost)

    async def email_validate(self, request: Request, body: Json, mode: str | None) -> Response:
        """Validate a list of emails, charged per email."""
        emails = body.get("emails")
        if not isinstance(emails, list) or not emails:
            raise Problem(400, {"emails": ["This field is required."]})
        cost = PRICES["email_validate"] * len(emails)
        self.funds(cost)
        self.account.charge(
            "email_validator", cost, f"{len(emails)} emails", items=[str(e).lower() for e in emails]
        )
        return envelope([self.verdict(str(e)) for e in emails], cost)

    async def enrich_company(self, request: Request, body: Json, mode: str | None) -> Response:
        """Enrich one company by exactly one of id, linkedin_url, domain or name."""
        keys = [k for k in ("id", "linkedin_url", "domain", "name") if body.get(k)]
        if len(keys) != 1:
            raise Problem(
                400,
                {"non_field_errors": ["Provide exactly one of id, linkedin_url, domain or name."]},
            )
        if mode == "not_found":
            raise Problem(400, "Company does not exist.")
        price = PRICES["enrich_company"]
        self.funds(price)
        key = body[keys[0]]
        row = (
            self.company_for_domain(key)
            if keys[0] == "domain"
            else next(
                (company_row(c) for c in self.world.companies if key in (c.linkedin_id, c.name)),
                None,
            )
        )
        if row is None:
            raise Problem(400, "Company does not exist.")
        data = {
            "id": row["linkedin_id"],
            "name": row["name"],
            "domain": row["domain"],
            "linkedin_url": row.get("linkedin_link"),
            "industry": row["industry"],
            "headcount": row["headcount_range"],
        }
        self.account.charge("enrich_company", price, items=[str(key).lower()])
        return envelope(data, price)

    async def enrich_lead(self, request: Request, body: Json, mode: str | None) -> Response:
        """Enrich one seeded lead; the id, linkedin_url or email given is looked up as a lead id."""
        ref = body.get("id") or body.get("linkedin_url") or body.get("email")
        if not ref:
            raise Problem(
                400, {"non_field_errors": ["Provide exactly one of id, linkedin_url or email."]}
            )
        person = self.people_by_id.get(str(ref))
        if person is None or mode == "not_found":
            raise Problem(400, "Lead does not exist.")
        self.funds(PRICES["enrich_lead"])
        self.account.charge("enrich_lead", PRICES["enrich_lead"])
        return envelope(lead_row(person), PRICES["enrich_lead"])
