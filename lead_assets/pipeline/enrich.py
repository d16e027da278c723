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
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial

import pandas as pd
from sqlalchemy import Engine, text

from lead_assets import settings
from lead_assets.clients.errors import (
    AmbiguousChargeError,
    BudgetExceededError,
    InsufficientFundsError,
    VendorError,
)
from lead_assets.core.pii import mask_text
from lead_assets.core.prices import GENERECT_USD
from lead_assets.pipeline import reuse
from lead_assets.pipeline.batch_registry import set_batch_state
from lead_assets.warehouse import read_partition, replace_partition
from lead_assets.warehouse.engine import write_transaction
from lead_assets.warehouse.ledger import (
    Budgets,
    ResponseCache,
    SpendLedger,
    claim_run,
    held_items,
    hold_items,
    unhold_items,
)

#: How long a bought answer is reused. Emails and companies change slowly; verdicts faster.
TTL = {
    "email_find": timedelta(days=90),
    "email_validate": timedelta(days=30),
    "company_enrich": timedelta(days=90),
}
CHUNK = 50  # the vendor's bulk and validate batch size
#: Batch state while some of its paid items wait for reconciliation against the vendor's books.
AWAITING = "awaiting_reconciliation"
#: What the cache holds for an item that was paid for but whose answer was lost: it is not bought
#: again within its TTL (money first); the lead goes on without that answer.
LOST_ANSWER = {"answer_lost": True}


class WaitingForCredits(Exception):
    """Spending stopped (insufficient funds or a budget); the batch waits for credits."""


def item_key(*parts: object) -> str:
    """Stable cache key of one item: sha256 of its normalized parts."""
    canonical = json.dumps([("" if p is None else str(p).strip().lower()) for p in parts])
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def budgets_from_env(available: dict[str, float] | None = None) -> Budgets:
    """The run and day budgets (settings) plus what the balances allow."""
    return Budgets(
        usd_per_run=settings.budget_usd_per_run(),
        usd_per_day=settings.budget_usd_per_day(),
        available=available or {},
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
    #: Items whose paid call may have been billed without an answer (see pipeline.reconcile).
    awaiting_reconciliation: int = 0
    answers_lost: int = 0
    vendor_errors: int = 0
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
            "awaiting_reconciliation": self.awaiting_reconciliation,
            "answers_lost": self.answers_lost,
            "vendor_errors": self.vendor_errors,
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
        "validate": sorted(set(with_email["email"].tolist()))
        if settings.validate_unknown_emails()
        else [],
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
    """Generect email find, validation and company enrich for one batch (see module docstring).

    An ambiguous outcome belongs to its item: the item is held for reconciliation, the rest of
    the batch goes on, and the batch ends ``awaiting_reconciliation`` when any item is held."""
    from lead_assets.core.dnc import apply_dnc, load_dnc
    from lead_assets.settings import dnc_path

    log = log or logging.getLogger(__name__)
    claim_run(engine, run_id, batch_key)
    set_batch_state(engine, batch_key, "enriching")
    leads = ok_leads(engine, batch_key)
    stats = GenerectStats(leads=len(leads))
    blocked, _ = (
        apply_dnc(leads, load_dnc(dnc_path())) if len(leads) else (pd.Series(dtype=bool), None)
    )
    stats.blocked_dnc = int(blocked.sum()) if len(leads) else 0
    active = leads[~blocked] if len(leads) else leads
    # Resolve before you buy (issue 11): known people and in-batch duplicates are not bought.
    to_buy = reuse.before_generect(engine, batch_key, active)
    cache = ResponseCache(engine)
    probe = generect.get_client()
    try:
        balance = probe.balance()
    finally:
        probe.close()
    stats.balance_usd = balance
    available = {"usd": max(balance - settings.reserve_usd(), 0.0)}
    ledger = SpendLedger(
        engine, run_id=run_id, batch_key=batch_key, budgets=budgets_from_env(available)
    )
    client = generect.get_client(spend_hook=ledger)
    needs = enrichment_plan(to_buy)
    verdicts: dict[str, dict] = {}
    companies: dict[str, dict | None] = {}
    stop = threading.Event()
    buy = partial(buy_items, engine, cache, batch_key=batch_key, stop=stop)
    try:
        # 1. Email find, in bulk jobs of 50 (a job id that came back is polled, never resubmitted).
        find_keys = {
            row_id: item_key(first, last, dom) for row_id, first, last, dom in needs["find"]
        }
        find_items = {
            find_keys[row_id]: {"first_name": first, "last_name": last, "domain": dom}
            for row_id, first, last, dom in needs["find"]
        }

        def run_find(keys: list[str], request: str) -> dict[str, object]:
            resume = ledger.open_job("generect", "email_find_bulk", request)
            if resume:  # a killed run left a paid job behind: collect it instead of buying again
                results = client.wait_email_find_bulk(
                    resume.job_id, reservation=resume.reservation_id, poll_s=0.5
                )
            else:
                job_id = client.submit_email_find_bulk([find_items[k] for k in keys], key=request)
                results = client.wait_email_find_bulk(job_id, poll_s=0.5)
            return find_answers(keys, results)

        finds = buy("email_find", list(find_items), run_find, price=_find_price)
        stats.email_find_requested = finds.bought_or_tried
        stats.emails_found = sum(
            1 for k in find_keys.values() if (finds.answers.get(k) or {}).get("email")
        )

        # 2. Validation of the addresses the file gave us (found ones are verified already).
        vkeys = {e: item_key(e) for e in needs["validate"]}
        emails_by_key = {k: e for e, k in vkeys.items()}

        def run_validate(keys: list[str], request: str) -> dict[str, object]:
            results = client.validate_emails([emails_by_key[k] for k in keys], request_key=request)
            return {
                item_key(v.email): {
                    "status": v.status,
                    "raw": v.status_raw,
                    "catch_all": v.catch_all,
                }
                for v in results
            }

        checks = buy(
            "email_validate",
            list(vkeys.values()),
            run_validate,
            price=lambda _: GENERECT_USD["email_validate"],
        )
        stats.emails_validated = checks.bought_or_tried
        verdicts.update({e: checks.answers[k] for e, k in vkeys.items() if k in checks.answers})

        # 3. Company enrich, once per domain, cached at account level.
        ckeys = {d: item_key(d) for d in needs["company"]}
        domains_by_key = {k: d for d, k in ckeys.items()}

        def run_company(keys: list[str], request: str) -> dict[str, object]:
            (key,) = keys
            return {key: client.enrich_company(domain=domains_by_key[key], request_key=request)}

        firms = buy(
            "company_enrich",
            list(ckeys.values()),
            run_company,
            group=1,
            workers=8,
            price=lambda data: GENERECT_USD["enrich_company"] if data else 0.0,
        )
        stats.companies_enriched = firms.bought_or_tried
        companies.update({d: firms.answers[k] for d, k in ckeys.items() if k in firms.answers})
    except (InsufficientFundsError, BudgetExceededError) as exc:
        # Everything bought so far is in the cache; the batch waits for credits (a new round).
        with write_transaction(engine) as conn:
            conn.execute(
                text(
                    "UPDATE lead_batches SET state = 'waiting_credits', detail = :d, enrich_round = enrich_round + 1, updated_at = :t WHERE batch_key = :k"
                ),
                {"d": mask_text(str(exc)), "t": datetime.now(UTC), "k": batch_key},
            )
        raise WaitingForCredits(
            f"spending stopped for {batch_key}: {exc}. Paid answers are kept; the batch waits for credits."
        ) from exc
    finally:
        client.close()
    stats.cache_hits = (
        sum(1 for k in find_keys.values() if k in finds.cached)
        + len(checks.cached)
        + len(firms.cached)
    )
    cached, cached_v, cached_c = finds.cached, checks.cached, firms.cached
    found = finds.answers
    awaiting = {
        "email_find": finds.awaiting,
        "email_validate": checks.awaiting,
        "company_enrich": firms.awaiting,
    }
    lost = finds.lost | checks.lost | firms.lost
    failed = {**finds.failed, **checks.failed, **firms.failed}

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
        keys = {
            "email_find": find_keys.get(lead.row_id),
            "email_validate": item_key(lead.email) if lead.email else None,
            "company_enrich": item_key(lead.domain) if lead.domain else None,
        }
        waiting = [op for op, k in keys.items() if k and k in awaiting[op]]
        notes = [f"{op}: paid, answer lost" for op, k in keys.items() if k and k in lost]
        notes += [f"{op}: {failed[k]}" for op, k in keys.items() if k and k in failed]
        outcome = "enriched" if actions else "skipped"
        if waiting:
            outcome = "awaiting_reconciliation"
            notes.insert(0, "awaiting reconciliation: " + ", ".join(waiting))
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
                "status": outcome,
                "detail": "; ".join(notes) or None,
                "enriched_at": now,
            }
        )
    replace_partition(
        engine,
        "generect_enrichment",
        batch_key,
        pd.DataFrame(rows) if rows else pd.DataFrame(columns=["row_id"]),
    )
    reuse.after_generect(engine, batch_key)  # reused leads take their person's answers
    from lead_assets.warehouse.ledger import ledger_totals

    stats.spend_usd = (
        ledger_totals(engine, run_id=run_id, batch_key=batch_key).get("usd", 0.0) if run_id else 0.0
    )
    # Issue 13: the UI showed paid_calls 0 beside a real spend and the balance from before the
    # run; count the run's charged ledger entries and read the balance again (a free call).
    stats.paid_calls = paid_call_count(engine, run_id=run_id, batch_key=batch_key)
    stats.balance_after_usd = _balance_after(generect, log)
    stats.awaiting_reconciliation = sum(len(v) for v in awaiting.values())
    stats.answers_lost = len(lost)
    stats.vendor_errors = len(failed)
    if stats.awaiting_reconciliation:
        # Leedrush waits: the leads whose email find is undecided would otherwise miss it.
        set_batch_state(
            engine,
            batch_key,
            AWAITING,
            f"{stats.awaiting_reconciliation} Generect item(s) awaiting reconciliation",
        )
    log.info(
        f"Generect enrichment of {batch_key}: ${stats.spend_usd:.4f} spent, {stats.cache_hits} cache hits"
    )
    return stats


@dataclass
class Purchases:
    """What :func:`buy_items` did for one operation, per item key."""

    answers: dict[str, object] = field(default_factory=dict)
    cached: set[str] = field(default_factory=set)
    #: Bought (or tried) in this run.
    bought_or_tried: int = 0
    #: Held: the call may have been billed but gave no answer; reconciliation decides.
    awaiting: set[str] = field(default_factory=set)
    #: Paid for earlier, answer lost (the cache holds :data:`LOST_ANSWER`).
    lost: set[str] = field(default_factory=set)
    #: Certainly not billed, but failed (a vendor error after retries): may be bought later.
    failed: dict[str, str] = field(default_factory=dict)


def buy_items(
    engine: Engine,
    cache: ResponseCache,
    operation: str,
    keys: Sequence[str],
    call: Callable[[list[str], str], dict[str, object]],
    *,
    price: Callable[[object], float],
    batch_key: str | None,
    stop: threading.Event,
    group: int = CHUNK,
    workers: int = 4,
) -> Purchases:
    """Cache, then what is held, then buy the rest in groups: the one path of every Generect
    purchase. ``call(group_keys, request_key)`` buys one group and returns answers by item key.

    Each group's items are held before the call and freed once its answers are cached (or it
    certainly was not billed). An ambiguous outcome keeps them held and the batch goes on; a
    funds or budget refusal stops every group at once and is raised."""
    out = Purchases()
    unique = list(dict.fromkeys(keys))
    hits = cache.get_many("generect", operation, unique)
    for key, answer in hits.items():
        out.cached.add(key)
        if isinstance(answer, dict) and answer.get("answer_lost"):
            out.lost.add(key)
        else:
            out.answers[key] = answer
    rest = [k for k in unique if k not in hits]
    held = held_items(engine, "generect", operation, rest)
    # A call that may have been billed (unknown, or reserved by a run that died) keeps its items
    # until reconciled; a bulk job whose id came back (submitted) is polled again, not rebought; a
    # hold whose call never reached the vendor or was released is stale and the item is bought.
    out.awaiting = {
        k for k, (_, state) in held.items() if state in ("unknown", "reserved", "settled")
    }
    resume: dict[str, list[str]] = {}
    for k, (request, state) in held.items():
        if state == "submitted":
            resume.setdefault(request, []).append(k)
    skip = out.awaiting | {k for keys in resume.values() for k in keys}
    pending = [k for k in rest if k not in skip]
    out.bought_or_tried = len(pending)
    lock = threading.Lock()

    def one(part: list[str], request: str | None = None) -> None:
        if stop.is_set():
            return
        resuming = request is not None
        request = request or item_key(operation, *part)
        where = {"vendor": "generect", "operation": operation, "request_key": request}
        if not resuming:
            hold_items(engine, **where, item_keys=part, batch_key=batch_key)
        try:
            answers = call(part, request)
        except AmbiguousChargeError:
            with lock:
                out.awaiting.update(part)  # stays held: reconciliation decides the charge
            return
        except (InsufficientFundsError, BudgetExceededError):
            stop.set()
            unhold_items(engine, **where)
            raise
        except VendorError as exc:  # refused or given up: the client released the reservation
            unhold_items(engine, **where)
            with lock:
                out.failed.update(dict.fromkeys(part, str(exc)))
            return
        cache.put_many(
            "generect",
            operation,
            answers,
            ttl=TTL[operation],
            amount_each={k: price(v) for k, v in answers.items()},
        )
        unhold_items(engine, **where)
        with lock:
            out.answers.update(answers)

    lanes = lanes_of_distinct_sizes(pending, group, workers)
    for i, (request, keys) in enumerate(resume.items()):  # polls of paid jobs: no new charge
        lanes[i % len(lanes)].append((keys, request))

    def run_lane(lane: list[tuple[list[str], str | None]]) -> None:
        for part, request in lane:
            one(part, request)

    with ThreadPoolExecutor(workers) as pool:
        try:
            list(pool.map(run_lane, lanes))
        except BaseException:
            # Interrupted (SIGTERM, Ctrl-C) or refused: queued groups must not start buying.
            stop.set()
            raise
    return out


def lanes_of_distinct_sizes(
    keys: Sequence[str], group: int, lanes: int
) -> list[list[tuple[list[str], str | None]]]:
    """Split ``keys`` into groups for ``lanes`` sequential workers, lane ``k`` taking groups of
    ``group - k`` items (deterministic: the same keys give the same groups).

    Why: a run's calls in flight at once then differ in size, so at a per-item price each one's
    charge has its own amount on the vendor's books. If the run is killed, reconciliation can
    tell which open call was billed instead of finding two twins of one kind and price, one of
    which would have to go unanswered (buying it again could pay twice)."""
    sizes = [max(group - k, 1) for k in range(max(lanes, 1))]
    out: list[list[tuple[list[str], str | None]]] = [[] for _ in sizes]
    start = i = 0
    while start < len(keys):
        lane = i % len(sizes)
        out[lane].append((list(keys[start : start + sizes[lane]]), None))
        start += sizes[lane]
        i += 1
    return out


def _find_price(answer: object) -> float:
    return GENERECT_USD["email_find"] if isinstance(answer, dict) and answer.get("email") else 0.0


def find_answers(keys: Sequence[str], results: Sequence) -> dict[str, object]:  # type: ignore[type-arg]
    """Cache entries of one bulk email-find job, in the order the items were sent."""
    answers: dict[str, object] = {}
    for key, result in zip(keys, results, strict=True):
        given = result.input or {}
        if given.get("domain"):  # the job echoes its input: key by it, whatever order was kept
            key = item_key(given.get("first_name"), given.get("last_name"), given.get("domain"))
        answers[key] = {
            "email": result.email,
            "status": result.status,
            "raw": result.status_raw,
            "catch_all": result.catch_all,
        }
    return answers


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
                    "cost": GENERECT_USD["email_find"],
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
                "cost": GENERECT_USD["enrich_company"],
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
