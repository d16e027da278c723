"""The Generect sandbox as one class over its endpoint families, and its Starlette app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.routing import Route

from lead_assets.sandbox.generect.accounts import AccountEndpoints
from lead_assets.sandbox.generect.base import Endpoint, Handler
from lead_assets.sandbox.generect.config import GenerectSandboxConfig
from lead_assets.sandbox.generect.jobs import BulkJobEndpoints
from lead_assets.sandbox.generect.search import SearchEndpoints


class GenerectSandbox(SearchEndpoints, BulkJobEndpoints, AccountEndpoints):
    """Every Generect endpoint and the sandbox's state; ``app.state.sandbox`` is an instance."""

    def routes(self) -> list[Route]:
        """The route table: each path with its endpoint, cap operation and billability."""
        ep = self.endpoint

        def free(fn: Endpoint, op: str | None = None) -> Handler:
            # Free calls (counts, account, webhooks) pay no latency; they may still be capped.
            return ep(fn, op, billable=False)

        post, get = ["POST"], ["GET"]
        table: list[tuple[str, Handler, list[str]]] = [
            ("search/database/leads/count/", free(self.leads_count), post),
            ("search/database/leads/", ep(self.leads_search, "lead_search"), post),
            ("search/database/companies/count/", free(self.companies_count), post),
            ("search/database/companies/", ep(self.companies_search, "company_search"), post),
            ("search/database/company-leads/count/", free(self.company_leads_count), post),
            ("search/database/company-leads/", ep(self.company_leads_search, "lead_search"), post),
            ("preview/leads/count/", free(self.preview_count, "preview"), post),
            ("preview/leads/", ep(self.preview, "preview"), post),
            ("email/find/", ep(self.email_find, None), post),
            ("email/find/bulk/", ep(self.email_find_bulk, None), post),
            ("email/find/bulk/{job_id}/", self.job_status, get),
            ("email/validate/", ep(self.email_validate, None), post),
            ("enrich/database/company/", ep(self.enrich_company, "company_enrich"), post),
            ("enrich/database/lead/", ep(self.enrich_lead, "lead_enrich"), post),
            ("enrich/database/companies/bulk/", ep(self.enrich_companies_bulk, None), post),
            ("enrich/database/leads/bulk/", ep(self.enrich_leads_bulk, None), post),
            ("enrich/companies/bulk/{job_id}/", self.job_status, get),
            ("enrich/leads/bulk/{job_id}/", self.job_status, get),
            ("accounts/me/", free(self.accounts_me), get),
            ("accounts/usage/", free(self.accounts_usage), get),
            ("accounts/transactions/", free(self.accounts_transactions), get),
            ("webhooks/", free(self.webhooks_root), ["GET", "POST"]),
        ]
        return [
            Route(f"/api/v1/{path}", handler, methods=methods) for path, handler, methods in table
        ]

    def app(self) -> Starlette:
        """A Starlette app serving this sandbox."""

        @asynccontextmanager
        async def lifespan(app: Starlette) -> AsyncIterator[None]:
            yield

        app = Starlette(routes=self.routes(), lifespan=lifespan)
        # A missing trailing slash is a 404, never a redirect (A-G15).
        app.router.redirect_slashes = False
        app.state.sandbox = self
        return app


def create_generect_app(config: GenerectSandboxConfig | None = None) -> Starlette:
    """The Generect sandbox as a Starlette app; state on ``app.state.sandbox``."""
    return GenerectSandbox(config).app()
