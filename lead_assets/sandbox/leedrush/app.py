"""The Leedrush sandbox as one class over its endpoint families, and its Starlette app."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from lead_assets.sandbox.leedrush.batches import BatchEndpoints
from lead_assets.sandbox.leedrush.billing import BillingEndpoints
from lead_assets.sandbox.leedrush.config import LeedrushSandboxConfig
from lead_assets.sandbox.leedrush.phase3 import Phase3Endpoints


class LeedrushSandbox(BatchEndpoints, BillingEndpoints, Phase3Endpoints):
    """Every Leedrush endpoint and the sandbox's state; ``app.state.sandbox`` is an instance."""

    def routes(self) -> list[Route]:
        """The route table (every endpoint but login is guarded)."""
        g = self.guarded
        post, get = ["POST"], ["GET"]
        billing = "/api/billing"
        return [
            Route("/api/auth/login", self.login, methods=post),
            Route("/api/upload", g(self.upload), methods=post),
            Route("/api/process", g(self.process), methods=post),
            Route("/api/batches", g(self.list_batches), methods=get),
            Route("/api/batches/{batch_id}", g(self.batch_detail), methods=get),
            Route("/api/download/{job_id}", g(self.download), methods=get),
            Route(f"{billing}/subscription", g(self.subscription), methods=get),
            Route(f"{billing}/subscription/upgrade", g(self.upgrade), methods=post),
            Route(f"{billing}/subscription/downgrade", g(self.downgrade), methods=post),  # [I]
            Route(f"{billing}/create-checkout", g(self.checkout), methods=post),
            Route(f"{billing}/usage", g(self.usage), methods=get),  # [I]
            Route(f"{billing}/invoices", g(self.invoices), methods=get),  # [I]
            Route(f"{billing}/invoices/{{invoice_number}}/pdf", g(self.invoice_pdf), methods=get),
            Route(f"{billing}/refund", g(self.refund), methods=post),  # [I]
            # Phase 3 at both roots (A-L6): the page prints /v1/..., the base URL says /api.
            Route("/api/v1/cache/stats", g(self.cache_stats), methods=get),  # [I]
            Route("/v1/cache/stats", g(self.cache_stats), methods=get),  # [I]
            Route("/api/v1/predictive/status", g(self.predictive_status), methods=get),  # [I]
            Route("/v1/predictive/status", g(self.predictive_status), methods=get),  # [I]
            Route("/api/v1/validation/multi-source", g(self.multi_source), methods=get),
            Route("/v1/validation/multi-source", g(self.multi_source), methods=get),
            Route("/api/sandbox/webhooks/test/{event}", g(self.test_event), methods=post),
        ]

    def app(self) -> Starlette:
        """A Starlette app serving this sandbox."""
        app = Starlette(routes=self.routes())
        app.state.sandbox = self
        return app


def create_leedrush_app(config: LeedrushSandboxConfig | None = None) -> Starlette:
    """The Leedrush sandbox as a Starlette app; state on ``app.state.sandbox``."""
    return LeedrushSandbox(config).app()
