"""A local Generect that follows ``docs/vendor_contract.md`` (Generect, A-G1..A-G17).

Strict by default so client bugs fail loudly: a missing trailing slash is a 404 (no redirect), a
missing ``Token`` prefix a 401, an unknown seniority, headcount label or location a 400 field map,
a realtime-only filter in database mode a 400. Money is a USD balance charged at list prices
(``meta.amount_charged``); at an insufficient balance billable calls get 402 while free calls keep
working. Concurrency caps per token and operation answer 429 without ``Retry-After``. Faults can be
injected by rate or by the test-mode header/magic inputs.

Modules: ``config`` (tables, switches, account), ``base`` (state and shared helpers),
``matching`` (stateless matching and rows), one module per endpoint family (``search``,
``enrich``, ``jobs``, ``webhooks``, ``accounts``) and ``app`` (the class and the Starlette app).
"""

from lead_assets.sandbox.generect.app import GenerectSandbox, create_generect_app
from lead_assets.sandbox.generect.base import GenerectBase, Problem
from lead_assets.sandbox.generect.config import (
    CAPS,
    MAGIC,
    PRICES,
    TITLE_ABBREVIATIONS,
    WEBHOOK_EVENTS,
    GenerectAccount,
    GenerectSandboxConfig,
)

__all__ = [
    "CAPS",
    "MAGIC",
    "PRICES",
    "TITLE_ABBREVIATIONS",
    "WEBHOOK_EVENTS",
    "GenerectAccount",
    "GenerectBase",
    "GenerectSandbox",
    "GenerectSandboxConfig",
    "Problem",
    "create_generect_app",
]
