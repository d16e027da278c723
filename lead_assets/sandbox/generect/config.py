"""The Generect sandbox's tables, switches and account (no HTTP here)."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lead_assets.core.prices import (
    GENERECT_USD,
    SANDBOX_CATCH_ALL_RATE,
    SANDBOX_COMPANY_RATE,
    SANDBOX_EMAIL_FIND_RATE,
)

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
    charges: list[dict[str, Any]] = field(default_factory=list)
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
