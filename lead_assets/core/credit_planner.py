"""Credit-aware planning: what each waiting batch will cost, and which batches the credits left,
the budgets and the plan's concurrency allow to start now. Pure: no HTTP, no database.

Estimates use list prices and expected hit rates (email find and company enrich are charged only
when found). Hit rates default to the sandbox's long-run figures and are replaced by what the
warehouse has observed once there is enough history, so the estimate follows the real vendor.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lead_assets.core import prices as price_table


@dataclass(frozen=True)
class Prices:
    """List prices (Generect USD, Leedrush credits) and expected hit rates, from the one price
    table (:mod:`lead_assets.core.prices`)."""

    email_find_usd: float = price_table.GENERECT_USD["email_find"]
    email_validate_usd: float = price_table.GENERECT_USD["email_validate"]
    company_enrich_usd: float = price_table.GENERECT_USD["enrich_company"]
    credits_per_row: float = price_table.LEEDRUSH_CREDITS_PER_ROW
    email_find_hit_rate: float = price_table.DEFAULT_EMAIL_FIND_HIT_RATE
    company_hit_rate: float = price_table.DEFAULT_COMPANY_HIT_RATE


@dataclass(frozen=True)
class BatchNeeds:
    """What one batch needs that the cache does not already know."""

    batch_key: str
    rows: int
    email_find: int = 0
    email_validate: int = 0
    company_enrich: int = 0
    leedrush_rows: int = 0
    cache_hits: int = 0
    enrich_round: int = 0


@dataclass(frozen=True)
class Estimate:
    """Expected cost of a batch."""

    usd: float
    credits: float
    calls: dict[str, int]
    cache_hits: int


@dataclass(frozen=True)
class Capacity:
    """What may be spent now. ``None`` means unlimited / unknown-but-unconstrained."""

    usd_available: float | None = None  # Generect balance minus the reserve
    credits_available: float | None = None  # Leedrush credits minus the reserve
    concurrent_slots: int | None = None  # Leedrush concurrent batches minus those running
    max_rows_per_batch: int | None = None
    usd_per_run: float | None = None
    usd_day_left: float | None = None


@dataclass
class Planned:
    """A batch and its estimate, in a plan."""

    batch_key: str
    estimate: Estimate
    enrich_round: int = 0
    reason: str | None = None

    @property
    def estimate_usd(self) -> float:
        return self.estimate.usd

    @property
    def estimate_credits(self) -> float:
        return self.estimate.credits


@dataclass
class Plan:
    """Batches to launch now, and batches that wait with the reason."""

    launch: list[Planned] = field(default_factory=list)
    wait: list[Planned] = field(default_factory=list)

    def explain(self) -> list[str]:
        """One line per batch, for logs and the CLI."""
        lines = [
            f"launch {p.batch_key}: ~${p.estimate.usd:.4f} + {p.estimate.credits:.0f} credits"
            for p in self.launch
        ]
        lines += [
            f"wait   {p.batch_key}: ~${p.estimate.usd:.4f} + {p.estimate.credits:.0f} credits ({p.reason})"
            for p in self.wait
        ]
        return lines

    def idle_reason(self) -> str:
        """Why nothing launches (sensor skip message)."""
        if not self.wait:
            return "no batch is waiting for enrichment"
        reasons = sorted({p.reason or "" for p in self.wait})
        return f"{len(self.wait)} batch(es) waiting: {', '.join(reasons)}"


def estimate(needs: BatchNeeds, prices: Prices) -> Estimate:
    """Expected spend of one batch (USD for Generect, credits for Leedrush)."""
    usd = (
        needs.email_find * prices.email_find_usd * prices.email_find_hit_rate
        + needs.email_validate * prices.email_validate_usd
        + needs.company_enrich * prices.company_enrich_usd * prices.company_hit_rate
    )
    calls = {
        "email_find": needs.email_find,
        "email_validate": needs.email_validate,
        "company_enrich": needs.company_enrich,
        "leedrush_rows": needs.leedrush_rows,
    }
    return Estimate(
        round(usd, 6), needs.leedrush_rows * prices.credits_per_row, calls, needs.cache_hits
    )


def plan(batches: list[BatchNeeds], capacity: Capacity, prices: Prices = Prices()) -> Plan:
    """Oldest first, launch each batch whose estimate still fits every limit; the others wait.

    A batch that does not fit does not block smaller ones behind it except for concurrency (a
    slot is a slot): credits left after a big batch may still pay for a small one.
    """
    result = Plan()
    usd_left = capacity.usd_available
    credits_left = capacity.credits_available
    day_left = capacity.usd_day_left
    slots = capacity.concurrent_slots
    for needs in sorted(batches, key=lambda b: b.batch_key):
        est = estimate(needs, prices)
        item = Planned(needs.batch_key, est, needs.enrich_round)
        if (
            capacity.max_rows_per_batch is not None
            and needs.leedrush_rows > capacity.max_rows_per_batch
        ):
            item.reason = f"too_large: {needs.leedrush_rows} rows exceed the plan's {capacity.max_rows_per_batch} per batch"
        elif capacity.usd_per_run is not None and est.usd > capacity.usd_per_run:
            item.reason = f"run_budget: ~${est.usd:.2f} exceeds LEAD_ASSETS_BUDGET_USD_PER_RUN ${capacity.usd_per_run:.2f}"
        elif slots is not None and slots <= 0:
            item.reason = "concurrency_limit: the plan's concurrent batches are all running"
        elif usd_left is not None and est.usd > usd_left + 1e-9:
            item.reason = f"insufficient_credits: Generect balance above the reserve is ${max(usd_left, 0):.2f}"
        elif credits_left is not None and est.credits > credits_left + 1e-9:
            item.reason = f"insufficient_credits: {max(credits_left, 0):.0f} Leedrush credits above the reserve"
        elif day_left is not None and est.usd > day_left + 1e-9:
            item.reason = (
                f"day_budget: ${max(day_left, 0):.2f} left of LEAD_ASSETS_BUDGET_USD_PER_DAY today"
            )
        if item.reason:
            result.wait.append(item)
            continue
        result.launch.append(item)
        usd_left = None if usd_left is None else usd_left - est.usd
        credits_left = None if credits_left is None else credits_left - est.credits
        day_left = None if day_left is None else day_left - est.usd
        slots = None if slots is None else slots - 1
    return result
