"""The Leedrush sandbox's tables, switches and account (no HTTP here)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

#: plan_id -> (requests per minute, concurrent batches, max rows per batch); None = unlimited.
PLANS: dict[str, tuple[int | None, int | None, int | None]] = {
    "payg": (30, 3, 10_000),
    "starter": (60, 5, 25_000),
    "professional": (120, 10, 100_000),  # same as Scale [I]
    "scale": (120, 10, 100_000),
    "enterprise": (None, None, None),
}
#: Credits a plan's cycle starts with after an upgrade [I: the page gives only professional=5000].
PLAN_CREDITS = {
    "payg": 1_000,
    "starter": 25_000,
    "professional": 5_000,
    "scale": 100_000,
    "enterprise": 1_000_000,
}
PLAN_NAMES = {
    "payg": "Pay As You Go",
    "starter": "Starter",
    "professional": "Professional",
    "scale": "Scale",
    "enterprise": "Enterprise",
}
#: Plan order for tier gating of the Phase-3 endpoints (403 below ``advanced_tier``).
PLAN_RANK = {"payg": 0, "starter": 1, "professional": 2, "scale": 2, "enterprise": 3}
RESULT_COLUMNS = [
    "status",
    "score",
    "account.name",
    "account.domain",
    "account.signals",
    "account.technologies",
    "contact.full_name",
    "contact.title_normalized",
    "contact.email",
    "contact.email_status",
    "contact.phone",
    "contact.phone_status",
    "dedup_confidence",
]
EVENTS = (
    "batch.completed",
    "batch.failed",
    "lead.qualified",
    "credits.low",
    "credits.exhausted",
    "subscription.upgraded",
    "topup.completed",
)
#: HS256 key of the sandbox's JWTs (public on purpose: tokens only ever meet this sandbox).
SIGNING_KEY = "leedrush-sandbox-signing-key-not-a-secret-0001"


@dataclass
class LeedrushSandboxConfig:
    """Switches of the sandbox (see ``lead-assets sandbox --help``)."""

    email: str = "demo@example.com"
    password: str = "demo-password"
    plan: str = "starter"
    credits: int = 100_000
    fault_rate: float = 0.0
    fault_seed: int = 11
    realistic: bool = False
    time_scale: float = 1.0  # multiplies the batch clock
    webhook_url: str | None = None
    webhook_secret: str = "whsec_sandbox"
    jwt_lifetime_s: int = 900
    batches_shape: str = "auto"  # auto | array | envelope (A-L2)
    phase3: bool = False
    status_variety: bool = False  # emit catch_all_risky / invalid / unknown email statuses too
    fault_kinds: tuple[str, ...] = ("429", "500", "502", "malformed", "drop")
    timeout_fault_s: float = 120.0  # how long a "timeout" fault holds the answer back
    fail_rate: float = 0.0  # deterministic share of batches (by filename) that fail
    advanced_tier: str = "professional"  # lowest plan allowed the Phase-3 endpoints
    webhook_backoff_s: float = 0.2  # first retry delay of a failed webhook delivery


@dataclass
class LeedrushAccount:
    """Mutable account state (tests read and change it)."""

    plan: str
    credits_total: int
    credits_remaining: int
    charges: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_credits(self, n: int) -> None:
        """A top-up."""
        with self.lock:
            self.credits_remaining += n
            self.credits_total += n

    def set_plan(self, plan: str) -> None:
        """Change the plan (limits apply from the next request)."""
        if plan not in PLANS:
            raise ValueError(f"unknown plan {plan!r}")
        self.plan = plan

    @property
    def charged(self) -> int:
        """Credits charged so far by ``process``."""
        return sum(c["credits"] for c in self.charges)
