"""Leedrush's Phase-3 family (tier-gated: 403 below ``config.advanced_tier``): cache stats,
predictive status and multi-source validation, served at both ``/api/v1`` and ``/v1`` (A-L6)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from lead_assets.sandbox.leedrush.base import LeedrushBase
from lead_assets.sandbox.leedrush.config import PLAN_RANK
from lead_assets.sandbox.leedrush.rows import Json, detail, invalid
from lead_assets.sandbox.world import h


def cache_stats_body(done: int) -> Json:
    """Cache statistics that grow with the number of completed batches."""
    return {
        "l1_cache": {
            "hit_rate": 0.94,
            "avg_latency_ms": 0.8,
            "total_hits": 94 * done,
            "total_misses": 6 * done,
        },
        "l2_cache": {
            "hit_rate": 0.89,
            "avg_latency_ms": 12.5,
            "total_hits": 89 * done,
            "total_misses": 11 * done,
        },
        "similarity_matches": {"total": 3 * done, "threshold": 0.85},
        "cost_savings": {"api_calls_saved": 94 * done, "estimated_savings_usd": 4.7 * done},
    }


def multi_source_body(email: str) -> Json:
    """A two-source consensus on ``email`` (name guessed from its local part)."""
    local, domain = email.split("@", 1)
    name = " ".join(p.capitalize() for p in local.replace("_", ".").split(".") if p)
    score = round(0.85 + (h("ms", email) % 15) / 100, 2)
    return {
        "lead": {
            "email": email,
            "name": name or None,
            "title": None,
            "company": domain.split(".")[0].capitalize(),
            "phone": None,
            "linkedin": None,
        },
        "validation": {"confidence_score": score, "data_quality": 0.9, "coverage": 0.5},
        "sources": {
            "hunter_io": {
                "agreement": True,
                "confidence": score,
                "fields_provided": ["email", "name"],
            },
            "clearbit": {
                "agreement": True,
                "confidence": 0.9,
                "fields_provided": ["name", "company"],
            },
        },
        "consensus": {
            "email": {"agreement_score": 1.0, "sources": 2},
            "name": {"agreement_score": 1.0, "sources": 2},
        },
    }


class Phase3Endpoints(LeedrushBase):
    """``/v1/cache/stats``, ``/v1/predictive/status``, ``/v1/validation/multi-source``."""

    def entitled(self) -> Response | None:
        """The 403 when the account's plan ranks below ``advanced_tier``."""
        if PLAN_RANK[self.account.plan] < PLAN_RANK.get(self.config.advanced_tier, 2):
            return detail(403, "This endpoint requires a higher plan tier")
        return None

    async def cache_stats(self, request: Request, user: str) -> Response:  # [I] path
        """Cache statistics."""
        if (refused := self.entitled()) is not None:
            return refused
        done = sum(1 for b in self.batches.values() if self.status_of(b) == "completed")
        return JSONResponse(cache_stats_body(done))

    async def predictive_status(self, request: Request, user: str) -> Response:  # [I] path
        """Predictive pre-enrichment status (nothing predicted in the sandbox)."""
        if (refused := self.entitled()) is not None:
            return refused
        return JSONResponse(
            {
                "patterns_detected": {
                    "company_batches": len(self.batches),
                    "sequential_patterns": 0,
                    "domain_patterns": 0,
                },
                "predictions": {"total_generated": 0, "pre_enriched": 0, "success_rate": 0.0},
                "performance": {
                    "avg_prediction_accuracy": 0.0,
                    "zero_latency_requests": 0.0,
                    "throughput_increase": 1.0,
                },
                "background_queue": {"pending": 0, "processing": 0, "completed": 0},
            }
        )

    async def multi_source(self, request: Request, user: str) -> Response:
        """Multi-source validation of ``?email=`` (422 without a usable one)."""
        if (refused := self.entitled()) is not None:
            return refused
        email = request.query_params.get("email", "").strip().lower()
        if "@" not in email:
            return invalid(["query", "email"], "field required")
        return JSONResponse(multi_source_body(email))
