"""Credit-aware planning against the live balances (free calls only): estimates per waiting batch
and the plan of what may start now. Used by the credits sensor and ``lead-assets plan``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, text

from lead_assets import settings
from lead_assets.core.credit_planner import BatchNeeds, Capacity, Plan, Prices, plan
from lead_assets.core.dnc import apply_dnc, load_dnc
from lead_assets.pipeline import reuse
from lead_assets.pipeline.batch_registry import batches_in_state
from lead_assets.pipeline.enrich import (
    budgets_from_env,
    enrichment_plan,
    item_key,
    ok_leads,
)
from lead_assets.pipeline.isolation import ItemFailure, each_alone
from lead_assets.warehouse.ledger import ResponseCache

MIN_SAMPLES = 50


def observed_prices(engine: Engine) -> Prices:
    """List prices with hit rates learned from the cache once it holds enough answers."""
    with engine.connect() as conn:
        rows = dict(
            conn.execute(
                text(
                    "SELECT operation, COUNT(*) FROM api_cache WHERE vendor = 'generect' AND operation IN"
                    " ('email_find', 'company_enrich') GROUP BY operation"
                )
            )
            .tuples()
            .all()
        )
        paid = dict(
            conn.execute(
                text(
                    "SELECT operation, COUNT(*) FROM api_cache WHERE vendor = 'generect' AND amount > 0 AND operation IN"
                    " ('email_find', 'company_enrich') GROUP BY operation"
                )
            )
            .tuples()
            .all()
        )
    base = Prices()
    find = (
        paid.get("email_find", 0) / rows["email_find"]
        if rows.get("email_find", 0) >= MIN_SAMPLES
        else base.email_find_hit_rate
    )
    company = (
        paid.get("company_enrich", 0) / rows["company_enrich"]
        if rows.get("company_enrich", 0) >= MIN_SAMPLES
        else base.company_hit_rate
    )
    return Prices(email_find_hit_rate=find, company_hit_rate=company)


def batch_needs(
    engine: Engine,
    batch_key: str,
    prices: Prices,
    enrich_round: int = 0,
    leads=None,
    claimed: set[str] | None = None,
) -> BatchNeeds:
    """What a batch still needs after the do-not-contact list, the cache, and what batches
    planned before it in the same round will buy (``claimed`` item keys, updated in place)."""
    leads = ok_leads(engine, batch_key) if leads is None else leads
    if len(leads):
        blocked, _ = apply_dnc(leads, load_dnc(_dnc()))
        leads = leads[~blocked]
    # Only what will really be bought: people already enriched and in-batch duplicates are not.
    leads = reuse.match_known_people(engine, batch_key, leads).to_buy(leads)
    needs = enrichment_plan(leads)
    cache = ResponseCache(engine)
    find_keys = [item_key(first, last, dom) for _, first, last, dom in needs["find"]]
    found: dict[str, Any] = cache.get_many("generect", "email_find", find_keys)
    validate_hits = cache.get_many(
        "generect", "email_validate", [item_key(e) for e in needs["validate"]]
    )
    company_hits = cache.get_many(
        "generect", "company_enrich", [item_key(d) for d in needs["company"]]
    )
    claimed = set() if claimed is None else claimed
    validate_keys = {item_key(e) for e in needs["validate"]} - set(validate_hits) - claimed
    company_keys = {item_key(d) for d in needs["company"]} - set(company_hits) - claimed
    claimed |= validate_keys | company_keys
    new_find = len(set(find_keys) - set(found))
    given = leads["email"].dropna().tolist() if len(leads) else []
    # Leedrush is not asked again about an address whose result is cached.
    lee_cached = cache.get_many(
        "leedrush", reuse.LEEDRUSH_OPERATION, sorted({reuse.leedrush_key(e) for e in given})
    )
    known_emails = sum(1 for e in given if reuse.leedrush_key(e) not in lee_cached)
    cached_found = sum(1 for k in find_keys if (found.get(k) or {}).get("email"))
    expected_found = round(new_find * prices.email_find_hit_rate)
    return BatchNeeds(
        batch_key=batch_key,
        rows=len(leads),
        email_find=new_find,
        email_validate=len(validate_keys),
        company_enrich=len(company_keys),
        leedrush_rows=known_emails + cached_found + expected_found,
        cache_hits=len(found) + len(validate_hits) + len(company_hits),
        enrich_round=enrich_round,
    )


def _dnc() -> str:
    from lead_assets.settings import dnc_path

    return dnc_path()


@dataclass(frozen=True)
class VendorState:
    """What the vendors say right now: Generect balance, Leedrush credits and plan limits."""

    balance_usd: float
    credits_remaining: float
    plan_id: str | None
    limits: Any  # PlanLimits | None

    def metadata(self) -> dict[str, dict[str, Any]]:
        """Observation metadata per vendor-state asset (numbers, so the UI plots them)."""
        leedrush: dict[str, Any] = {"credits_remaining": self.credits_remaining}
        if self.plan_id:
            leedrush["plan"] = self.plan_id
        if self.limits is not None:
            for name in ("concurrent_batches", "max_rows_per_batch", "requests_per_minute"):
                value = getattr(self.limits, name, None)
                if value is not None:
                    leedrush[name] = value
        return {
            "generect_balance": {"balance_usd": round(self.balance_usd, 4)},
            "leedrush_credits": leedrush,
        }


def vendor_state(generect, leedrush) -> VendorState:
    """Balance, credits and plan limits (three free vendor calls)."""
    g = generect.get_client()
    try:
        balance = g.balance()
    finally:
        g.close()
    lclient = leedrush.get_client()
    try:
        sub = lclient.subscription()
        limits = lclient.limits
    finally:
        lclient.close()
    return VendorState(
        balance_usd=float(balance),
        credits_remaining=float(sub.credits_remaining or 0),
        plan_id=getattr(limits, "plan_id", None),
        limits=limits,
    )


def capacity(engine: Engine, generect, leedrush) -> Capacity:
    """Balances, plan limits and budgets right now (free vendor calls only)."""
    state = vendor_state(generect, leedrush)
    balance, limits = state.balance_usd, state.limits
    with engine.connect() as conn:
        running = conn.execute(
            text(
                "SELECT COUNT(*) FROM leedrush_submissions WHERE status IN ('queued', 'processing')"
            )
        ).scalar_one()
        day_start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        spent_today = conn.execute(
            text(
                "SELECT COALESCE(SUM(CASE WHEN state = 'settled' THEN amount ELSE estimate END), 0) FROM spend_ledger"
                " WHERE unit = 'usd' AND state IN ('settled', 'reserved', 'unknown', 'submitted') AND created_at >= :d"
            ),
            {"d": day_start},
        ).scalar_one()
    budgets = budgets_from_env()
    reserve_usd, reserve_credits = settings.reserve_usd(), settings.reserve_credits()
    return Capacity(
        usd_available=balance - reserve_usd,
        credits_available=state.credits_remaining - reserve_credits,
        concurrent_slots=None
        if limits is None or limits.concurrent_batches is None
        else limits.concurrent_batches - int(running),
        max_rows_per_batch=None if limits is None else limits.max_rows_per_batch,
        usd_per_run=budgets.usd_per_run,
        usd_day_left=None
        if budgets.usd_per_day is None
        else budgets.usd_per_day - float(spent_today),
    )


def plan_waiting_batches(
    engine: Engine,
    generect,
    leedrush,
    failed: list[ItemFailure] | None = None,
) -> Plan:
    """The plan for every batch waiting for enrichment (ingested, or back from a funds stop).

    A batch whose needs cannot be estimated (its rows break a step) is left out of the plan and
    appended to ``failed`` with the reason; the other batches are planned as usual.
    """
    waiting = batches_in_state(engine, "ingested", "waiting_credits")
    if not waiting:
        return Plan()
    with engine.connect() as conn:
        rounds = dict(
            conn.execute(text("SELECT batch_key, enrich_round FROM lead_batches")).tuples().all()
        )
    prices = observed_prices(engine)
    claimed: set[str] = set()  # an answer bought by an earlier batch is not counted again
    needs, failures = each_alone(
        waiting,
        lambda b: batch_needs(
            engine, b.batch_key, prices, int(rounds.get(b.batch_key) or 0), claimed=claimed
        ),
        key=lambda b: b.batch_key,
    )
    if failed is not None:
        failed.extend(failures)
    if not needs:
        return Plan()
    return plan(needs, capacity(engine, generect, leedrush), prices)
