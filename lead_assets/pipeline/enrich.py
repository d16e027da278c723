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
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple, Protocol, TypedDict, cast

import pandas as pd
from sqlalchemy import Engine, text

from lead_assets import settings
from lead_assets.clients.errors import (
    AmbiguousChargeError,
    BudgetExceededError,
    InsufficientFundsError,
    VendorError,
)
from lead_assets.clients.generect import EmailFound, GenerectClient
from lead_assets.clients.spend import SpendHook
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
    ledger_totals,
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


def _needs_find(row: pd.Series) -> bool:
    return (
        not row.get("email")
        and bool(row.get("first_name"))
        and bool(row.get("last_name"))
        and bool(row.get("domain"))
    )


class FindItem(NamedTuple):
    """A lead whose email is to be found: its row and what Generect is given to find it."""

    row_id: str
    first_name: str
    last_name: str
    domain: str


class EnrichmentPlan(TypedDict):
    """What a batch asks Generect for, before the cache is looked at."""

    #: Leads without an email but with a name and a domain.
    find: list[FindItem]
    #: The addresses the file gave (when unknown emails are validated at all).
    validate: list[str]
    #: The business domains (webmail domains have no company).
    company: list[str]


def enrichment_plan(frame: pd.DataFrame) -> EnrichmentPlan:
    """Which ok leads need which Generect call (before cache lookups): subjects per operation."""
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
        "find": [FindItem(r.row_id, r.first_name, r.last_name, r.domain) for r in _tuples(find)],
        "validate": sorted(set(with_email["email"].tolist()))
        if settings.validate_unknown_emails()
        else [],
        "company": domains,
    }


def ok_leads(engine: Engine, batch_key: str) -> pd.DataFrame:
    """The batch's standardized leads that passed standardization."""
    std = read_partition(engine, "standardized_leads", batch_key)
    return std[std["status"] == "ok"].reset_index(drop=True)


class GenerectSource(Protocol):
    """What the paid step needs of the Generect resource: a client reporting to a spend hook
    (the Dagster resource in production, a sandbox-backed one in tests)."""

    def get_client(self, spend_hook: SpendHook | None = None) -> GenerectClient:
        """A new client; its paid calls report to ``spend_hook``."""
        ...


def enrich_with_generect(
    engine: Engine,
    generect: GenerectSource,
    batch_key: str,
    *,
    run_id: str | None = None,
    log: logging.Logger | None = None,
) -> GenerectStats:
    """Generect email find, validation and company enrich for one batch (see module docstring).

    An ambiguous outcome belongs to its item: the item is held for reconciliation, the rest of
    the batch goes on, and the batch ends ``awaiting_reconciliation`` when any item is held."""
    log = log or logging.getLogger(__name__)
    claim_run(engine, run_id, batch_key)
    set_batch_state(engine, batch_key, "enriching")
    leads = ok_leads(engine, batch_key)
    stats = GenerectStats(leads=len(leads))
    blocked = _dnc_blocked(leads)
    stats.blocked_dnc = int(blocked.sum()) if len(leads) else 0
    active = leads[~blocked] if len(leads) else leads
    # Resolve before you buy (issue 11): known people and in-batch duplicates are not bought.
    to_buy = reuse.before_generect(engine, batch_key, active)
    stats.balance_usd = balance = _balance(generect)
    # Only what lies above the configured reserve may be spent by this run.
    available = {"usd": max(balance - settings.reserve_usd(), 0.0)}
    ledger = SpendLedger(
        engine, run_id=run_id, batch_key=batch_key, budgets=budgets_from_env(available)
    )
    bought = _buy_batch(engine, generect, ledger, batch_key, enrichment_plan(to_buy))
    bought.count_into(stats)
    now = datetime.now(UTC)
    rows = [
        _blocked_row(lead, now) if is_blocked else _enriched_row(lead, bought, now)
        for lead, is_blocked in zip(leads.itertuples(), blocked.tolist(), strict=True)
    ]
    replace_partition(
        engine,
        "generect_enrichment",
        batch_key,
        pd.DataFrame(rows) if rows else pd.DataFrame(columns=["row_id"]),
    )
    reuse.after_generect(engine, batch_key)  # reused leads take their person's answers
    _record_spend(engine, generect, stats, run_id=run_id, batch_key=batch_key, log=log)
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


def _dnc_blocked(leads: pd.DataFrame) -> pd.Series:
    """Which leads are on the do-not-contact list (nothing is bought for them)."""
    from lead_assets.core.dnc import apply_dnc, load_dnc
    from lead_assets.settings import dnc_path

    if not len(leads):
        return pd.Series(dtype=bool)
    blocked, _ = apply_dnc(leads, load_dnc(dnc_path()))
    return blocked


def _balance(generect: GenerectSource) -> float:
    """The Generect balance before the run's spending (a free call; it bounds the run)."""
    probe = generect.get_client()
    try:
        return probe.balance()
    finally:
        probe.close()


def _balance_after(generect: GenerectSource, log: logging.Logger) -> float | None:
    """The Generect balance after the run's spending (free); None when it cannot be read."""
    probe = generect.get_client()
    try:
        return probe.balance()
    except Exception as exc:  # the metadata figure must not fail a run that already paid
        log.warning(f"Generect balance not readable after the run: {type(exc).__name__}")
        return None
    finally:
        probe.close()


def _record_spend(
    engine: Engine,
    generect: GenerectSource,
    stats: GenerectStats,
    *,
    run_id: str | None,
    batch_key: str,
    log: logging.Logger,
) -> None:
    """The run's spend as the ledger has it (what the vendor charged), after the purchases."""
    stats.spend_usd = (
        ledger_totals(engine, run_id=run_id, batch_key=batch_key).get("usd", 0.0) if run_id else 0.0
    )
    # Issue 13: the UI showed paid_calls 0 beside a real spend and the balance from before the
    # run; count the run's charged ledger entries and read the balance again (a free call).
    stats.paid_calls = paid_call_count(engine, run_id=run_id, batch_key=batch_key)
    stats.balance_after_usd = _balance_after(generect, log)


# -- the three purchase lanes ---------------------------------------------------------------------
@dataclass(frozen=True)
class Lane:
    """One operation's purchases for a batch: which item each subject (a lead's row id, an
    address, a domain) needs, and how one group of items is bought."""

    operation: str
    #: Subject -> item key. Several subjects may share an item (two spellings of one address).
    keys: dict[str, str]
    #: ``call(group_keys, request_key)`` buys one group and returns answers by item key.
    call: Callable[[list[str], str], dict[str, object]]
    #: What one answer cost (the cache records it, for the savings report).
    price: Callable[[object], float]
    group: int = CHUNK
    workers: int = 4


@dataclass(frozen=True)
class LaneResult:
    """What one lane bought, with the subjects that look answers up in it."""

    keys: dict[str, str]
    bought: Purchases

    def wants(self, subject: str) -> bool:
        """Whether the lane had an item for ``subject``."""
        return subject in self.keys

    def answer(self, subject: str) -> object | None:
        """The answer for ``subject`` (bought now or cached), None when there is none."""
        key = self.keys.get(subject)
        return self.bought.answers.get(key) if key is not None else None

    def cached(self, key: str) -> bool:
        """Whether item ``key`` was answered by the cache rather than bought in this run."""
        return key in self.bought.cached


@dataclass(frozen=True)
class BatchPurchases:
    """The three lanes of one batch's Generect purchases, in the order they are bought."""

    finds: LaneResult
    checks: LaneResult
    firms: LaneResult

    @property
    def awaiting(self) -> dict[str, set[str]]:
        """Per operation, the items held for reconciliation (maybe billed, no answer)."""
        return {
            "email_find": self.finds.bought.awaiting,
            "email_validate": self.checks.bought.awaiting,
            "company_enrich": self.firms.bought.awaiting,
        }

    @property
    def lost(self) -> set[str]:
        """Items paid for earlier whose answer was lost (all operations)."""
        return self.finds.bought.lost | self.checks.bought.lost | self.firms.bought.lost

    @property
    def failed(self) -> dict[str, str]:
        """Items certainly not billed whose call failed, with the error (all operations)."""
        return {**self.finds.bought.failed, **self.checks.bought.failed, **self.firms.bought.failed}

    def count_into(self, stats: GenerectStats) -> None:
        """The batch's figures: calls bought or tried, answers, cache hits, held items."""
        finds = self.finds
        stats.email_find_requested = finds.bought.bought_or_tried
        # Per lead, not per item: two leads of one person both got an email.
        stats.emails_found = sum(
            1 for k in finds.keys.values() if _as_dict(finds.bought.answers.get(k)).get("email")
        )
        stats.emails_validated = self.checks.bought.bought_or_tried
        stats.companies_enriched = self.firms.bought.bought_or_tried
        stats.cache_hits = (
            sum(1 for k in finds.keys.values() if finds.cached(k))
            + len(self.checks.bought.cached)
            + len(self.firms.bought.cached)
        )
        stats.awaiting_reconciliation = sum(len(v) for v in self.awaiting.values())
        stats.answers_lost = len(self.lost)
        stats.vendor_errors = len(self.failed)


def _as_dict(value: object) -> dict:
    """An answer as a mapping (a miss, None, reads as empty)."""
    return value if isinstance(value, dict) else {}


def _buy_batch(
    engine: Engine,
    generect: GenerectSource,
    ledger: SpendLedger,
    batch_key: str,
    needs: EnrichmentPlan,
) -> BatchPurchases:
    """Buy the batch's three lanes, one after the other, through :func:`buy_items`.

    Insufficient funds or a budget stops every lane at once: what was bought stays cached, and
    the batch is sent back to wait for credits (:class:`WaitingForCredits` is raised)."""
    cache = ResponseCache(engine)
    client = generect.get_client(spend_hook=ledger)
    stop = threading.Event()  # shared: a refusal in one group stops every queued group
    try:
        lanes = [
            _find_lane(client, ledger, needs["find"]),
            _validate_lane(client, needs["validate"]),
            _company_lane(client, needs["company"]),
        ]
        finds, checks, firms = [
            _buy_lane(engine, cache, lane, batch_key=batch_key, stop=stop) for lane in lanes
        ]
    except (InsufficientFundsError, BudgetExceededError) as exc:
        raise _wait_for_credits(engine, batch_key, exc) from exc
    finally:
        client.close()
    return BatchPurchases(finds, checks, firms)


def _buy_lane(
    engine: Engine, cache: ResponseCache, lane: Lane, *, batch_key: str, stop: threading.Event
) -> LaneResult:
    """One lane: what the cache answers, what a submitted job answers, the rest bought."""
    bought = buy_items(
        engine,
        cache,
        lane.operation,
        list(lane.keys.values()),
        lane.call,
        price=lane.price,
        batch_key=batch_key,
        stop=stop,
        group=lane.group,
        workers=lane.workers,
    )
    return LaneResult(lane.keys, bought)


def _wait_for_credits(engine: Engine, batch_key: str, exc: Exception) -> WaitingForCredits:
    """Send the batch back to wait for credits (a new round); the error to raise."""
    # Everything bought so far is in the cache: the next round buys only the rest.
    with write_transaction(engine) as conn:
        conn.execute(
            text(
                "UPDATE lead_batches SET state = 'waiting_credits', detail = :d, enrich_round = enrich_round + 1, updated_at = :t WHERE batch_key = :k"
            ),
            {"d": mask_text(str(exc)), "t": datetime.now(UTC), "k": batch_key},
        )
    return WaitingForCredits(
        f"spending stopped for {batch_key}: {exc}. Paid answers are kept; the batch waits for credits."
    )


def _find_lane(client: GenerectClient, ledger: SpendHook, items: Sequence[FindItem]) -> Lane:
    """Email find, in bulk jobs of 50 (a job id that came back is polled, never resubmitted)."""
    keys = {i.row_id: item_key(i.first_name, i.last_name, i.domain) for i in items}
    payloads = {
        keys[i.row_id]: {"first_name": i.first_name, "last_name": i.last_name, "domain": i.domain}
        for i in items
    }

    def call(part: list[str], request: str) -> dict[str, object]:
        resume = ledger.open_job("generect", "email_find_bulk", request)
        if resume:  # a killed run left a paid job behind: collect it instead of buying again
            results = client.wait_email_find_bulk(
                resume.job_id, reservation=resume.reservation_id, poll_s=0.5
            )
        else:
            job_id = client.submit_email_find_bulk([payloads[k] for k in part], key=request)
            results = client.wait_email_find_bulk(job_id, poll_s=0.5)
        return find_answers(part, results)

    return Lane("email_find", keys, call, price=_find_price)


def _validate_lane(client: GenerectClient, emails: Sequence[str]) -> Lane:
    """Validation of the addresses the file gave us (found ones are verified already)."""
    keys = {e: item_key(e) for e in emails}
    emails_by_key = {k: e for e, k in keys.items()}

    def call(part: list[str], request: str) -> dict[str, object]:
        results = client.validate_emails([emails_by_key[k] for k in part], request_key=request)
        return {
            item_key(v.email): {"status": v.status, "raw": v.status_raw, "catch_all": v.catch_all}
            for v in results
        }

    return Lane("email_validate", keys, call, price=lambda _: GENERECT_USD["email_validate"])


def _company_lane(client: GenerectClient, domains: Sequence[str]) -> Lane:
    """Company enrich, once per domain, cached at account level (one call per domain)."""
    keys = {d: item_key(d) for d in domains}
    domains_by_key = {k: d for d, k in keys.items()}

    def call(part: list[str], request: str) -> dict[str, object]:
        (key,) = part
        return {key: client.enrich_company(domain=domains_by_key[key], request_key=request)}

    return Lane(
        "company_enrich",
        keys,
        call,
        price=lambda data: GENERECT_USD["enrich_company"] if data else 0.0,
        group=1,
        workers=8,
    )


# -- generect_enrichment rows ---------------------------------------------------------------------
class EmailFields(NamedTuple):
    """A lead's email and verdict as ``generect_enrichment`` stores them."""

    email: object
    source: str | None
    status: str | None
    raw: object = None
    catch_all: object = None


class RowOutcome(NamedTuple):
    """A lead's enrichment status and the note explaining it."""

    status: str
    detail: str | None


def _blocked_row(lead: Any, now: datetime) -> dict[str, object]:
    """The row of a lead on the do-not-contact list: nothing was bought for it."""
    return {
        "row_id": lead.row_id,
        "email": lead.email,
        "status": "blocked_dnc",
        "detail": "on the do-not-contact list: no spend",
        "enriched_at": now,
        "email_source": "input" if lead.email else None,
        "spend_usd": 0.0,
        "cache_hits": 0,
        "actions": "",
    }


def _enriched_row(lead: Any, bought: BatchPurchases, now: datetime) -> dict[str, object]:
    """One lead's row: its answers from the three lanes, and what is still undecided."""
    actions: list[str] = []
    find: dict | None = None
    if bought.finds.wants(lead.row_id):
        find = _as_dict(bought.finds.answer(lead.row_id))  # {} when nothing was found
        actions.append("find")
    verdict: dict | None = None
    if lead.email and bought.checks.answer(lead.email) is not None:
        verdict = _as_dict(bought.checks.answer(lead.email))
        actions.append("validate")
    fields = _email_fields(lead, find, verdict)
    company = _as_dict(bought.firms.answer(lead.domain)) if lead.domain else {}
    if company:
        actions.append("company")
    outcome = _row_outcome(lead, bought, bool(actions))
    return {
        "row_id": lead.row_id,
        "email": fields.email,
        "email_source": fields.source,
        "email_status": fields.status,
        "email_status_raw": fields.raw,
        "email_catch_all": fields.catch_all,
        "company_name": company.get("name"),
        "industry": company.get("industry"),
        "headcount_bucket": company.get("headcount"),
        "company_linkedin_id": company.get("id"),
        "actions": ";".join(actions),
        "spend_usd": 0.0,
        "cache_hits": _cache_hits(lead, bought),
        "status": outcome.status,
        "detail": outcome.detail,
        "enriched_at": now,
    }


def _email_fields(lead: Any, find: dict | None, verdict: dict | None) -> EmailFields:
    """The lead's email: the file's, else the one found; its verdict from the find, the
    validation, or the lead's own flags (``find`` is None when no find was asked for)."""
    fields = EmailFields(lead.email, "input" if lead.email else None, None)
    if find is not None:
        if find.get("email"):
            fields = EmailFields(
                find["email"],
                "generect_find",
                find["status"],
                find.get("raw"),
                find.get("catch_all"),
            )
        elif find.get("catch_all"):
            fields = fields._replace(status="catch_all")
    if verdict is not None:
        fields = fields._replace(
            status=verdict["status"], raw=verdict.get("raw"), catch_all=verdict.get("catch_all")
        )
    # The flags are NaN (truthy) when the lead had no email: only a real True counts.
    disposable = lead.email_is_disposable is True or lead.email_is_disposable == 1
    if fields.status is None and lead.email:
        webmail = lead.email_is_free is True or lead.email_is_free == 1
        status = "disposable" if disposable else "webmail" if webmail else "unknown"
        fields = fields._replace(status=status)
    if disposable:
        fields = fields._replace(status="disposable")
    return fields


def _item_keys(lead: Any, bought: BatchPurchases) -> dict[str, str | None]:
    """The lead's item key per operation (None where it needs none)."""
    return {
        "email_find": bought.finds.keys.get(lead.row_id),
        "email_validate": item_key(lead.email) if lead.email else None,
        "company_enrich": item_key(lead.domain) if lead.domain else None,
    }


def _cache_hits(lead: Any, bought: BatchPurchases) -> int:
    """The lead's answers that came from the cache rather than a purchase in this run."""
    lanes = {
        "email_find": bought.finds,
        "email_validate": bought.checks,
        "company_enrich": bought.firms,
    }
    keys = _item_keys(lead, bought)
    return sum(1 for op, key in keys.items() if key and lanes[op].cached(key))


def _row_outcome(lead: Any, bought: BatchPurchases, acted: bool) -> RowOutcome:
    """``enriched``, ``skipped`` or ``awaiting_reconciliation``, with the items' notes."""
    keys = _item_keys(lead, bought)
    awaiting, lost, failed = bought.awaiting, bought.lost, bought.failed
    waiting = [op for op, k in keys.items() if k and k in awaiting[op]]
    notes = [f"{op}: paid, answer lost" for op, k in keys.items() if k and k in lost]
    notes += [f"{op}: {failed[k]}" for op, k in keys.items() if k and k in failed]
    status = "enriched" if acted else "skipped"
    if waiting:
        status = "awaiting_reconciliation"
        notes.insert(0, "awaiting reconciliation: " + ", ".join(waiting))
    return RowOutcome(status, "; ".join(notes) or None)


# -- buying one operation's items -----------------------------------------------------------------
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


class Group(NamedTuple):
    """One paid call's items, and the request key of the earlier call it resumes (a submitted
    bulk job polled again) or None for a new call."""

    keys: list[str]
    request: str | None = None


@dataclass(frozen=True)
class Holds:
    """What earlier calls still hold of the items not in the cache."""

    #: Maybe billed (unknown, or reserved by a run that died): reconciliation decides.
    awaiting: set[str]
    #: Request key -> items of a bulk job whose id came back: polled again, not bought again.
    resume: dict[str, list[str]]

    def skip(self) -> set[str]:
        """The items not to buy now."""
        return self.awaiting | {k for keys in self.resume.values() for k in keys}


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
    rest = _take_cached(cache, operation, unique, out)
    holds = _holds(engine, operation, rest)
    out.awaiting = holds.awaiting
    skip = holds.skip()
    pending = [k for k in rest if k not in skip]
    out.bought_or_tried = len(pending)
    lanes = lanes_of_distinct_sizes(pending, group, workers)
    for i, (request, part) in enumerate(holds.resume.items()):  # polls of paid jobs: no new charge
        lanes[i % len(lanes)].append(Group(part, request))
    buy = _GroupPurchase(engine, cache, operation, call, price, batch_key, stop, out)
    _run_lanes(lanes, buy, workers, stop)
    return out


def _take_cached(
    cache: ResponseCache, operation: str, unique: list[str], out: Purchases
) -> list[str]:
    """Record the cache's answers in ``out``; return the items it did not answer."""
    hits = cache.get_many("generect", operation, unique)
    for key, answer in hits.items():
        out.cached.add(key)
        if isinstance(answer, dict) and answer.get("answer_lost"):
            out.lost.add(key)
        else:
            out.answers[key] = answer
    return [k for k in unique if k not in hits]


def _holds(engine: Engine, operation: str, rest: list[str]) -> Holds:
    """Sort the items earlier calls hold by the state of that call in the ledger."""
    held = held_items(engine, "generect", operation, rest)
    # A call that may have been billed (unknown, or reserved by a run that died) keeps its items
    # until reconciled; a bulk job whose id came back (submitted) is polled again, not rebought; a
    # hold whose call never reached the vendor or was released is stale and the item is bought.
    awaiting = {k for k, h in held.items() if h.state in ("unknown", "reserved", "settled")}
    resume: dict[str, list[str]] = {}
    for k, h in held.items():
        if h.state == "submitted":
            resume.setdefault(h.request_key, []).append(k)
    return Holds(awaiting, resume)


@dataclass
class _GroupPurchase:
    """Buys one group of one operation's items (a new call, or the poll of a submitted job) and
    records its outcome in ``out``; called from several lanes at once."""

    engine: Engine
    cache: ResponseCache
    operation: str
    call: Callable[[list[str], str], dict[str, object]]
    price: Callable[[object], float]
    batch_key: str | None
    stop: threading.Event
    out: Purchases
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __call__(self, group: Group) -> None:
        if self.stop.is_set():
            return
        part = group.keys
        request = group.request or item_key(self.operation, *part)
        where = {"vendor": "generect", "operation": self.operation, "request_key": request}
        if group.request is None:  # a resumed job's items are held already
            hold_items(self.engine, **where, item_keys=part, batch_key=self.batch_key)
        try:
            answers = self.call(part, request)
        except AmbiguousChargeError:
            with self._lock:
                self.out.awaiting.update(part)  # stays held: reconciliation decides the charge
            return
        except (InsufficientFundsError, BudgetExceededError):
            self.stop.set()
            unhold_items(self.engine, **where)
            raise
        except VendorError as exc:  # refused or given up: the client released the reservation
            unhold_items(self.engine, **where)
            with self._lock:
                self.out.failed.update(dict.fromkeys(part, str(exc)))
            return
        self.cache.put_many(
            "generect",
            self.operation,
            answers,
            ttl=TTL[self.operation],
            amount_each={k: self.price(v) for k, v in answers.items()},
        )
        unhold_items(self.engine, **where)
        with self._lock:
            self.out.answers.update(answers)


def _run_lanes(
    lanes: list[list[Group]],
    buy: Callable[[Group], None],
    workers: int,
    stop: threading.Event,
) -> None:
    """Run the lanes side by side, each one group after the other."""

    def run_lane(lane: list[Group]) -> None:
        for group in lane:
            buy(group)

    with ThreadPoolExecutor(workers) as pool:
        try:
            list(pool.map(run_lane, lanes))
        except BaseException:
            # Interrupted (SIGTERM, Ctrl-C) or refused: queued groups must not start buying.
            stop.set()
            raise


def lanes_of_distinct_sizes(keys: Sequence[str], group: int, lanes: int) -> list[list[Group]]:
    """Split ``keys`` into groups for ``lanes`` sequential workers, lane ``k`` taking groups of
    ``group - k`` items (deterministic: the same keys give the same groups).

    Why: a run's calls in flight at once then differ in size, so at a per-item price each one's
    charge has its own amount on the vendor's books. If the run is killed, reconciliation can
    tell which open call was billed instead of finding two twins of one kind and price, one of
    which would have to go unanswered (buying it again could pay twice)."""
    sizes = [max(group - k, 1) for k in range(max(lanes, 1))]
    out: list[list[Group]] = [[] for _ in sizes]
    start = i = 0
    while start < len(keys):
        lane = i % len(sizes)
        out[lane].append(Group(list(keys[start : start + sizes[lane]])))
        start += sizes[lane]
        i += 1
    return out


def _find_price(answer: object) -> float:
    return GENERECT_USD["email_find"] if isinstance(answer, dict) and answer.get("email") else 0.0


def find_answers(keys: Sequence[str], results: Sequence[EmailFound]) -> dict[str, object]:
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
    per_row_credit = _leedrush_credit_per_row(engine, batch_key, lee)
    now = datetime.now(UTC)
    rows = [
        _merged_row(lead, _row_of(gen, lead.row_id), _row_of(lee, lead.row_id), per_row_credit, now)
        for lead in _tuples(leads)
    ]
    statuses: Counter[str] = Counter(str(row["email_status"] or "none") for row in rows)
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


def _row_of(frame: pd.DataFrame, row_id: str) -> pd.Series | None:
    """The vendor's row for a lead, None when the vendor has none."""
    # One row per lead: row_id is the partition's primary key.
    return cast(pd.Series, frame.loc[row_id]) if len(frame) and row_id in frame.index else None


def _tuples(frame: pd.DataFrame) -> Iterator[Any]:
    """``itertuples`` rows, typed loosely: their fields are the frame's columns."""
    return frame.itertuples()


def _leedrush_credit_per_row(engine: Engine, batch_key: str, lee: pd.DataFrame) -> float:
    """The batch's settled Leedrush credits spread over the rows it submitted (Leedrush bills a
    batch, not a row: the per-row figure is what each lead's field sources show)."""
    with engine.connect() as conn:
        credits = conn.execute(
            text(
                "SELECT COALESCE(SUM(amount), 0) FROM spend_ledger WHERE batch_key = :k AND vendor = 'leedrush' AND state = 'settled'"
            ),
            {"k": batch_key},
        ).scalar_one()
    submitted = int(lee.shape[0]) if len(lee) else 0
    return float(credits) / submitted if submitted else 0.0


def _merged_row(
    lead: Any,
    g: pd.Series | None,
    lr: pd.Series | None,
    per_row_credit: float,
    now: datetime,
) -> dict[str, object]:
    """One enriched_leads row from the lead, its Generect row ``g`` and Leedrush row ``lr``."""
    sources: dict[str, dict] = {}  # filled in field order: the JSON keeps it
    email, status = _generect_email(lead, g, sources)
    # Leedrush's own fields only for a lead it qualified (validated and scored).
    scored = lr if lr is not None and bool(lr["qualified"]) else None
    if scored is not None:
        status = _leedrush_email_status(status, scored, per_row_credit, sources)
    company_name = _generect_company(lead, g, sources)
    return {
        "row_id": lead.row_id,
        "email": email,
        "email_status": status,
        "email_status_raw": (g["email_status_raw"] if g is not None else None)
        or (lr["email_status_raw"] if lr is not None else None),
        "phone_e164": lead.phone_e164,
        "phone_status": lr["phone_status"] if lr is not None else None,
        "company_name": company_name,
        "domain": lead.domain,
        "industry": (g["industry"] if g is not None and g["industry"] else None) or lead.industry,
        "headcount_bucket": (
            g["headcount_bucket"] if g is not None and g["headcount_bucket"] else None
        )
        or lead.headcount_bucket,
        "vendor_score": scored["score"] if scored is not None else None,
        "signals": scored["signals"] if scored is not None else None,
        "technologies": scored["technologies"] if scored is not None else None,
        "field_sources": json.dumps(sources),
        "spend_usd": 0.0,
        "spend_credits": per_row_credit if lr is not None else 0.0,
        "enrichment_status": (g["status"] if g is not None else "skipped"),
        "enrichment_detail": g["detail"] if g is not None else None,
        "enriched_at": now,
    }


def _generect_email(
    lead: Any, g: pd.Series | None, sources: dict[str, dict]
) -> tuple[object, str | None]:
    """(email, status) after Generect: a found email replaces none; its sources are added."""
    if g is None:
        return lead.email, None
    email = g["email"] or lead.email
    status = g["email_status"]
    if g["email_source"] == "generect_find":
        sources["email"] = {
            "source": "generect",
            "at": str(g["enriched_at"]),
            "cost": GENERECT_USD["email_find"],
            "unit": "usd",
        }
    if g["email_status"]:
        by_generect = "validate" in (g["actions"] or "") or g["email_source"] == "generect_find"
        sources["email_status"] = {
            "source": "generect" if by_generect else "rules",
            "at": str(g["enriched_at"]),
        }
    return email, status


def _leedrush_email_status(
    status: str | None, lr: pd.Series, per_row_credit: float, sources: dict[str, dict]
) -> str | None:
    """A qualified Leedrush row decides the status Generect left open (none or unknown)."""
    if (status in (None, "unknown")) and lr["email_status"]:
        status = lr["email_status"]
        sources["email_status"] = {
            "source": "leedrush",
            "at": str(lr["collected_at"]),
            "cost": per_row_credit,
            "unit": "credits",
        }
    sources["vendor_score"] = {"source": "leedrush", "at": str(lr["collected_at"])}
    return status


def _generect_company(lead: Any, g: pd.Series | None, sources: dict[str, dict]) -> object:
    """The company name, Generect's before the file's; its source is added."""
    if g is not None and g["company_name"]:
        sources["company"] = {
            "source": "generect",
            "at": str(g["enriched_at"]),
            "cost": GENERECT_USD["enrich_company"],
            "unit": "usd",
        }
        return g["company_name"]
    return lead.company_name
