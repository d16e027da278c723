"""Generect enrichment of a batch, and the merge of both vendors into enriched_leads.

Money rules (design notes): every paid call is reserved in the spend ledger first; answers are
cached per item (one lead's email find, one address's verdict, one domain's company) so that a
retry, re-run, backfill or re-drop never buys the same answer twice within its TTL; insufficient
funds stops all spending at once, keeps everything already bought, and sends the batch back to
waiting for credits.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pandas as pd
from sqlalchemy import Engine, text

from lead_assets.clients.errors import BudgetExceededError, InsufficientFundsError
from lead_assets.pipeline.batch_registry import set_batch_state
from lead_assets.warehouse import read_partition, replace_partition
from lead_assets.warehouse.engine import write_transaction
from lead_assets.warehouse.ledger import Budgets, ResponseCache, SpendLedger

#: How long a bought answer is reused. Emails and companies change slowly; verdicts faster.
TTL = {
    "email_find": timedelta(days=90),
    "email_validate": timedelta(days=30),
    "company_enrich": timedelta(days=90),
}
CHUNK = 50  # the vendor's bulk and validate batch size


class WaitingForCredits(Exception):
    """Spending stopped (insufficient funds or a budget); the batch waits for credits."""


def item_key(*parts: object) -> str:
    """Stable cache key of one item: sha256 of its normalized parts."""
    canonical = json.dumps([("" if p is None else str(p).strip().lower()) for p in parts])
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _float_env(name: str) -> float | None:
    raw = os.environ.get(name)
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of US dollars, got {raw!r}") from None


def budgets_from_env(available: dict[str, float] | None = None) -> Budgets:
    """``LEAD_ASSETS_BUDGET_USD_PER_RUN`` / ``..._PER_DAY`` plus what the balances allow."""
    return Budgets(
        usd_per_run=_float_env("LEAD_ASSETS_BUDGET_USD_PER_RUN"),
        usd_per_day=_float_env("LEAD_ASSETS_BUDGET_USD_PER_DAY"),
        available=available or {},
    )


def validate_unknown_emails() -> bool:
    """``LEAD_ASSETS_VALIDATE_EMAILS`` (default on): pay to validate emails of unknown status."""
    return os.environ.get("LEAD_ASSETS_VALIDATE_EMAILS", "1").lower() not in (
        "0",
        "false",
        "no",
        "off",
    )


@dataclass
class GenerectStats:
    """What one batch's Generect enrichment did and cost."""

    leads: int = 0
    email_find_requested: int = 0
    emails_found: int = 0
    emails_validated: int = 0
    companies_enriched: int = 0
    cache_hits: int = 0
    paid_calls: int = 0
    blocked_dnc: int = 0
    spend_usd: float = 0.0
    estimate_usd: float = 0.0
    balance_usd: float | None = None
    balance_after_usd: float | None = None
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        """Numeric figures (plotted per partition in the UI)."""
        lookups = self.email_find_requested + self.emails_validated + self.companies_enriched
        out: dict[str, object] = {
            "leads": self.leads,
            "email_find_requested": self.email_find_requested,
            "emails_found": self.emails_found,
            "emails_validated": self.emails_validated,
            "companies_enriched": self.companies_enriched,
            "cache_hits": self.cache_hits,
            "cache_hit_rate": round(self.cache_hits / lookups, 4) if lookups else 0.0,
            "paid_calls": self.paid_calls,
            "blocked_do_not_contact": self.blocked_dnc,
            "spend_usd": round(self.spend_usd, 4),
            "estimate_usd": round(self.estimate_usd, 4),
            "estimate_error_pct": round(
                100 * (self.estimate_usd - self.spend_usd) / self.spend_usd, 1
            )
            if self.spend_usd
            else 0.0,
        }
        if self.balance_usd is not None:
            out["generect_balance_before_usd"] = round(self.balance_usd, 4)
        if self.balance_after_usd is not None:
            out["generect_balance_after_usd"] = round(self.balance_after_usd, 4)
        return out


def paid_call_count(engine: Engine, *, run_id: str | None, batch_key: str) -> int:
    """Ledger entries of this run and batch that the vendor charged for (settled above zero)."""
    if not run_id:
        return 0
    with engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT COUNT(*) FROM spend_ledger WHERE run_id = :r AND batch_key = :k "
                    "AND vendor = 'generect' AND state = 'settled' AND amount > 0"
                ),
                {"r": run_id, "k": batch_key},
            ).scalar_one()
        )


def _balance_after(generect, log: logging.Logger) -> float | None:  # type: ignore[no-untyped-def]
    """The Generect balance after the run's spending (free); None when it cannot be read."""
    probe = generect.get_client()
    try:
        return probe.balance()
    except Exception as exc:  # the metadata figure must not fail a run that already paid
        log.warning(f"Generect balance not readable after the run: {type(exc).__name__}")
        return None
    finally:
        probe.close()


def _reserve_env(name: str) -> float:
    return _float_env(name) or 0.0


def _needs_find(row: pd.Series) -> bool:
    return (
        not row.get("email")
        and bool(row.get("first_name"))
        and bool(row.get("last_name"))
        and bool(row.get("domain"))
    )


def enrichment_plan(frame: pd.DataFrame) -> dict[str, list]:
    """Which ok leads need which Generect call (before cache lookups): item keys per operation."""
    find = frame[frame.apply(_needs_find, axis=1)] if len(frame) else frame
    with_email = frame[frame["email"].notna()] if len(frame) else frame
    free = (
        frame["email_is_free"].map(lambda v: v is True or v == 1)
        if len(frame)
        else pd.Series(dtype=bool)
    )
    domains = sorted(
        {d for d, f in zip(frame.get("domain", []), free, strict=False) if d and not f}
    )
    return {
        "find": [(r.row_id, r.first_name, r.last_name, r.domain) for r in find.itertuples()],
        "validate": sorted(set(with_email["email"].tolist())) if validate_unknown_emails() else [],
        "company": domains,
    }


def ok_leads(engine: Engine, batch_key: str) -> pd.DataFrame:
    """The batch's standardized leads that passed standardization."""
    std = read_partition(engine, "standardized_leads", batch_key)
    return std[std["status"] == "ok"].reset_index(drop=True)


def enrich_with_generect(
    engine: Engine,
    generect,
    batch_key: str,
    *,
    run_id: str | None = None,
    log: logging.Logger | None = None,
) -> GenerectStats:  # type: ignore[no-untyped-def]
    """Generect email find, validation and company enrich for one batch (see module docstring)."""
    from concurrent.futures import ThreadPoolExecutor

    from lead_assets.core.dnc import apply_dnc, load_dnc
    from lead_assets.pipeline.qualify import dnc_path

    log = log or logging.getLogger(__name__)
    set_batch_state(engine, batch_key, "enriching")
    leads = ok_leads(engine, batch_key)
    stats = GenerectStats(leads=len(leads))
    blocked, _ = (
        apply_dnc(leads, load_dnc(dnc_path())) if len(leads) else (pd.Series(dtype=bool), None)
    )
    stats.blocked_dnc = int(blocked.sum()) if len(leads) else 0
    active = leads[~blocked] if len(leads) else leads
    cache = ResponseCache(engine)
    probe = generect.get_client()
    try:
        balance = probe.balance()
    finally:
        probe.close()
    stats.balance_usd = balance
    available = {"usd": max(balance - _reserve_env("LEAD_ASSETS_RESERVE_USD"), 0.0)}
    ledger = SpendLedger(
        engine, run_id=run_id, batch_key=batch_key, budgets=budgets_from_env(available)
    )
    client = generect.get_client(spend_hook=ledger)
    needs = enrichment_plan(active)
    found: dict[str, dict] = {}
    verdicts: dict[str, dict] = {}
    companies: dict[str, dict | None] = {}
    try:
        # 1. Email find, in bulk jobs of 50; each answer is cached as soon as its job completes.
        find_keys = {
            row_id: item_key(first, last, dom) for row_id, first, last, dom in needs["find"]
        }
        cached = cache.get_many("generect", "email_find", list(set(find_keys.values())))
        stats.cache_hits += sum(1 for k in find_keys.values() if k in cached)
        found.update(cached)
        todo = {}
        for row_id, first, last, dom in needs["find"]:
            k = find_keys[row_id]
            if k not in found:
                todo[k] = {"first_name": first, "last_name": last, "domain": dom}
        stats.email_find_requested = len(todo)
        chunks = [dict(list(todo.items())[i : i + CHUNK]) for i in range(0, len(todo), CHUNK)]

        stop = threading.Event()

        def guarded(fn):  # type: ignore[no-untyped-def]
            """Run ``fn`` unless spending already stopped; stop everyone on a funds or budget refusal."""

            def run(arg):  # type: ignore[no-untyped-def]
                if stop.is_set():
                    return None
                try:
                    return fn(arg)
                except (InsufficientFundsError, BudgetExceededError):
                    stop.set()
                    raise

            return run

        def run_find(chunk: dict[str, dict]) -> None:
            job_key = item_key("email_find_bulk", *sorted(chunk))
            resume = ledger.open_job("generect", "email_find_bulk", job_key)
            if resume:  # a killed run left a paid job behind: collect it instead of buying again
                reservation, ref = resume
                job_id = ref.split("|", 1)[-1]
                results = client.wait_email_find_bulk(job_id, reservation=reservation, poll_s=0.5)
            else:
                job_id = client.submit_email_find_bulk(list(chunk.values()), key=job_key)
                results = client.wait_email_find_bulk(job_id, poll_s=0.5)
            answers = {}
            for key, result in zip(chunk, results, strict=True):
                answers[key] = {
                    "email": result.email,
                    "status": result.status,
                    "raw": result.status_raw,
                    "catch_all": result.catch_all,
                }
            cache.put_many(
                "generect",
                "email_find",
                answers,
                ttl=TTL["email_find"],
                amount_each={k: (0.02 if v["email"] else 0.0) for k, v in answers.items()},
            )
            found.update(answers)

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(guarded(run_find), chunks))
        stats.emails_found = sum(1 for k in find_keys.values() if (found.get(k) or {}).get("email"))

        # 2. Validation of the addresses the file gave us (found ones are verified already).
        vkeys = {e: item_key(e) for e in needs["validate"]}
        cached_v = cache.get_many("generect", "email_validate", list(vkeys.values()))
        stats.cache_hits += len(cached_v)
        verdicts.update({e: cached_v[k] for e, k in vkeys.items() if k in cached_v})
        pending = [e for e in needs["validate"] if e not in verdicts]
        stats.emails_validated = len(pending)

        def run_validate(batch: list[str]) -> None:
            results = client.validate_emails(batch)
            answers = {
                item_key(v.email): {
                    "status": v.status,
                    "raw": v.status_raw,
                    "catch_all": v.catch_all,
                }
                for v in results
            }
            cache.put_many(
                "generect",
                "email_validate",
                answers,
                ttl=TTL["email_validate"],
                amount_each=dict.fromkeys(answers, 0.005),
            )
            verdicts.update({v.email: answers[item_key(v.email)] for v in results})

        with ThreadPoolExecutor(4) as pool:
            list(
                pool.map(
                    guarded(run_validate),
                    [pending[i : i + CHUNK] for i in range(0, len(pending), CHUNK)],
                )
            )

        # 3. Company enrich, once per domain, cached at account level.
        ckeys = {d: item_key(d) for d in needs["company"]}
        cached_c = cache.get_many("generect", "company_enrich", list(ckeys.values()))
        stats.cache_hits += len(cached_c)
        companies.update({d: cached_c[k] for d, k in ckeys.items() if k in cached_c})
        missing = [d for d in needs["company"] if d not in companies]
        stats.companies_enriched = len(missing)

        def run_company(domain: str) -> None:
            data = client.enrich_company(domain=domain)
            cache.put_many(
                "generect",
                "company_enrich",
                {item_key(domain): data},
                ttl=TTL["company_enrich"],
                amount_each={item_key(domain): 0.02 if data else 0.0},
            )
            companies[domain] = data

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(guarded(run_company), missing))
    except (InsufficientFundsError, BudgetExceededError) as exc:
        # Everything bought so far is in the cache; the batch waits for credits (a new round).
        with write_transaction(engine) as conn:
            conn.execute(
                text(
                    "UPDATE lead_batches SET state = 'waiting_credits', detail = :d, enrich_round = enrich_round + 1, updated_at = :t WHERE batch_key = :k"
                ),
                {"d": str(exc), "t": datetime.now(UTC), "k": batch_key},
            )
        raise WaitingForCredits(
            f"spending stopped for {batch_key}: {exc}. Paid answers are kept; the batch waits for credits."
        ) from exc
    finally:
        client.close()

    now = datetime.now(UTC)
    rows = []
    for lead in leads.itertuples():
        is_blocked = bool(blocked.iloc[lead.Index]) if len(leads) else False
        actions: list[str] = []
        email, source, status, raw, catch_all = (
            lead.email,
            "input" if lead.email else None,
            None,
            None,
            None,
        )
        if is_blocked:
            rows.append(
                {
                    "row_id": lead.row_id,
                    "email": lead.email,
                    "status": "blocked_dnc",
                    "detail": "on the do-not-contact list: no spend",
                    "enriched_at": now,
                    "email_source": source,
                    "spend_usd": 0.0,
                    "cache_hits": 0,
                    "actions": "",
                }
            )
            continue
        # Answers that came from the cache rather than a purchase in this run.
        hits = int(lead.row_id in find_keys and find_keys[lead.row_id] in cached)
        hits += int(bool(lead.email) and item_key(lead.email) in cached_v)
        hits += int(bool(lead.domain) and item_key(lead.domain) in cached_c)
        if lead.row_id in find_keys:
            answer = found.get(find_keys[lead.row_id]) or {}
            actions.append("find")
            if answer.get("email"):
                email, source, status, raw, catch_all = (
                    answer["email"],
                    "generect_find",
                    answer["status"],
                    answer.get("raw"),
                    answer.get("catch_all"),
                )
            elif answer.get("catch_all"):
                status = "catch_all"
        if lead.email and lead.email in verdicts:
            v = verdicts[lead.email]
            actions.append("validate")
            status, raw, catch_all = v["status"], v.get("raw"), v.get("catch_all")
        # The flags are NaN (truthy) when the lead had no email: only a real True counts.
        disposable = lead.email_is_disposable is True or lead.email_is_disposable == 1
        if status is None and lead.email:
            status = (
                "disposable"
                if disposable
                else "webmail"
                if lead.email_is_free is True or lead.email_is_free == 1
                else "unknown"
            )
        if disposable:
            status = "disposable"
        company = companies.get(lead.domain) if lead.domain else None
        if company:
            actions.append("company")
        rows.append(
            {
                "row_id": lead.row_id,
                "email": email,
                "email_source": source,
                "email_status": status,
                "email_status_raw": raw,
                "email_catch_all": catch_all,
                "company_name": (company or {}).get("name"),
                "industry": (company or {}).get("industry"),
                "headcount_bucket": (company or {}).get("headcount"),
                "company_linkedin_id": (company or {}).get("id"),
                "actions": ";".join(actions),
                "spend_usd": 0.0,
                "cache_hits": hits,
                "status": "enriched" if actions else "skipped",
                "detail": None,
                "enriched_at": now,
            }
        )
    replace_partition(
        engine,
        "generect_enrichment",
        batch_key,
        pd.DataFrame(rows) if rows else pd.DataFrame(columns=["row_id"]),
    )
    from lead_assets.warehouse.ledger import ledger_totals

    stats.spend_usd = (
        ledger_totals(engine, run_id=run_id, batch_key=batch_key).get("usd", 0.0) if run_id else 0.0
    )
    # Issue 13: the UI showed paid_calls 0 beside a real spend and the balance from before the
    # run; count the run's charged ledger entries and read the balance again (a free call).
    stats.paid_calls = paid_call_count(engine, run_id=run_id, batch_key=batch_key)
    stats.balance_after_usd = _balance_after(generect, log)
    log.info(
        f"Generect enrichment of {batch_key}: ${stats.spend_usd:.4f} spent, {stats.cache_hits} cache hits"
    )
    return stats


@dataclass
class MergeStats:
    """What enriched_leads wrote."""

    rows: int
    statuses: dict[str, int]
    with_vendor_score: int

    def summary(self) -> dict[str, object]:
        return {
            "rows": self.rows,
            "email_status": self.statuses,
            "with_leedrush_score": self.with_vendor_score,
        }


def merge_enriched(engine: Engine, batch_key: str) -> MergeStats:
    """One row per ok lead with both vendors' answers; each field keeps its source (field_sources)."""
    leads = ok_leads(engine, batch_key)
    gen = (
        read_partition(engine, "generect_enrichment", batch_key).set_index("row_id")
        if len(leads)
        else pd.DataFrame()
    )
    lee = (
        read_partition(engine, "leedrush_results", batch_key).set_index("row_id")
        if len(leads)
        else pd.DataFrame()
    )
    with engine.connect() as conn:
        credits = conn.execute(
            text(
                "SELECT COALESCE(SUM(amount), 0) FROM spend_ledger WHERE batch_key = :k AND vendor = 'leedrush' AND state = 'settled'"
            ),
            {"k": batch_key},
        ).scalar_one()
    submitted = int(lee.shape[0]) if len(lee) else 0
    per_row_credit = float(credits) / submitted if submitted else 0.0
    now = datetime.now(UTC)
    rows = []
    statuses: Counter = Counter()
    for lead in leads.itertuples():
        g = gen.loc[lead.row_id] if len(gen) and lead.row_id in gen.index else None
        lr = lee.loc[lead.row_id] if len(lee) and lead.row_id in lee.index else None
        sources: dict[str, dict] = {}
        email = lead.email
        status = None
        if g is not None:
            email = g["email"] or email
            status = g["email_status"]
            if g["email_source"] == "generect_find":
                sources["email"] = {
                    "source": "generect",
                    "at": str(g["enriched_at"]),
                    "cost": 0.02,
                    "unit": "usd",
                }
            if g["email_status"]:
                sources["email_status"] = {
                    "source": "generect"
                    if "validate" in (g["actions"] or "") or g["email_source"] == "generect_find"
                    else "rules",
                    "at": str(g["enriched_at"]),
                }
        if lr is not None and lr["qualified"]:
            if (status in (None, "unknown")) and lr["email_status"]:
                status = lr["email_status"]
                sources["email_status"] = {
                    "source": "leedrush",
                    "at": str(lr["collected_at"]),
                    "cost": per_row_credit,
                    "unit": "credits",
                }
            sources["vendor_score"] = {"source": "leedrush", "at": str(lr["collected_at"])}
        company_name = (
            g["company_name"] if g is not None and g["company_name"] else None
        ) or lead.company_name
        if g is not None and g["company_name"]:
            sources["company"] = {
                "source": "generect",
                "at": str(g["enriched_at"]),
                "cost": 0.02,
                "unit": "usd",
            }
        statuses[status or "none"] += 1
        rows.append(
            {
                "row_id": lead.row_id,
                "email": email,
                "email_status": status,
                "email_status_raw": (g["email_status_raw"] if g is not None else None)
                or (lr["email_status_raw"] if lr is not None else None),
                "phone_e164": lead.phone_e164,
                "phone_status": lr["phone_status"] if lr is not None else None,
                "company_name": company_name,
                "domain": lead.domain,
                "industry": (g["industry"] if g is not None and g["industry"] else None)
                or lead.industry,
                "headcount_bucket": (
                    g["headcount_bucket"] if g is not None and g["headcount_bucket"] else None
                )
                or lead.headcount_bucket,
                "vendor_score": lr["score"] if lr is not None and lr["qualified"] else None,
                "signals": lr["signals"] if lr is not None and lr["qualified"] else None,
                "technologies": lr["technologies"] if lr is not None and lr["qualified"] else None,
                "field_sources": json.dumps(sources),
                "spend_usd": 0.0,
                "spend_credits": per_row_credit if lr is not None else 0.0,
                "enrichment_status": (g["status"] if g is not None else "skipped"),
                "enrichment_detail": g["detail"] if g is not None else None,
                "enriched_at": now,
            }
        )
    frame = (
        pd.DataFrame(rows)
        if rows
        else pd.DataFrame(columns=["row_id", "enrichment_status", "enriched_at"])
    )
    replace_partition(engine, "enriched_leads", batch_key, frame)
    return MergeStats(
        len(rows),
        dict(statuses),
        int(frame["vendor_score"].notna().sum()) if len(frame) and "vendor_score" in frame else 0,
    )
