"""The ``reconcile`` step: decide ambiguous charges from the vendors' books and resume dead runs.

Run by the credits sensor before it plans (so under the daemon and under ``lead-assets run``) and
by ``lead-assets reconcile``. Each pass, in order:

1. Bulk jobs of dead runs whose job id came back are polled (free) and their answers cached, never
   resubmitted.
2. Open Generect charges (``unknown``, or ``reserved`` by a run that died) are matched against
   ``GET /accounts/transactions/``; open Leedrush ``process`` charges against the batch listing by
   the batch's deterministic upload name (:mod:`lead_assets.core.reconcile` decides). Every
   decision is written to the ledger with its evidence.
3. Items held by decided calls are freed: a settled call without an answer leaves a "paid, answer
   lost" cache entry (never bought twice); a released one lets the item be bought again.
4. Batches that waited for reconciliation, or whose run died mid-enrichment, go back to
   ``waiting_credits`` with a new round, so the credits sensor launches them again: everything
   already bought is reused from the cache, only what was certainly not billed is bought.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pandas as pd
from sqlalchemy import Connection, Engine, text

from lead_assets.core.reconcile import (
    Charge,
    Decision,
    Entry,
    ListedBatch,
    decide_generect,
    decide_leedrush,
)
from lead_assets.settings import max_resumes, reconcile_grace_seconds
from lead_assets.warehouse.engine import write_transaction
from lead_assets.warehouse.ledger import (
    JOB_ID_SQL,
    ResponseCache,
    SpendLedger,
    lease_alive,
    record_decision,
    unhold_items,
)

log = logging.getLogger(__name__)
OPEN_STATES = ("unknown", "reserved", "submitted")
#: Batch states of a paid step in progress: when their run is gone, the batch is resumed.
IN_PROGRESS = ("enriching",)


@dataclass
class ReconcileStats:
    """What one reconciliation pass decided."""

    settled: int = 0
    released: int = 0
    waiting: int = 0
    jobs_collected: int = 0
    answers_lost: int = 0
    items_freed: int = 0
    resumed: list[str] = field(default_factory=list)
    dead_runs: set[str] = field(default_factory=set)
    decisions: list[dict] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        """Figures for the sensor log, the CLI and metadata."""
        return {
            "settled": self.settled,
            "released": self.released,
            "waiting": self.waiting,
            "bulk_jobs_collected": self.jobs_collected,
            "items_paid_answer_lost": self.answers_lost,
            "items_freed": self.items_freed,
            "batches_resumed": list(self.resumed),
        }


def _ts(value: str | datetime) -> datetime:
    stamp = pd.Timestamp(value).to_pydatetime()
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def _open_rows(engine: Engine) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT id, vendor, operation, request_key, state, estimate, amount, run_id,"
                f" batch_key, detail, {JOB_ID_SQL} AS job_id, created_at, updated_at FROM"
                " spend_ledger WHERE state IN ('unknown', 'reserved', 'submitted')"
            )
        ).mappings()
        return [dict(r) for r in rows]


def _entry(row: dict, live: bool) -> Entry:
    return Entry(
        id=row["id"],
        vendor=row["vendor"],
        operation=row["operation"],
        request_key=row["request_key"],
        state=row["state"],
        estimate=float(row["estimate"]),
        amount=float(row["amount"] or 0.0),
        created_at=_ts(row["created_at"]),
        updated_at=_ts(row["updated_at"]),
        live=live,
    )


def run_liveness(
    engine: Engine, extra: Callable[[str], bool | None] | None = None
) -> Callable[[str | None], bool]:
    """``is_live(run_id)``: ``extra`` first (the Dagster layer: False for a finished run), else the
    lease's process on this host, else assumed live (wait rather than guess)."""
    cache: dict[str | None, bool] = {}

    def is_live(run_id: str | None) -> bool:
        if run_id not in cache:
            # A run the orchestrator knows is finished cannot settle anything any more, even if
            # its process (``lead-assets run`` draining other runs) is still alive.
            verdict = extra(run_id) if extra is not None and run_id else None
            if verdict is None:
                verdict = lease_alive(engine, run_id)
            cache[run_id] = True if verdict is None else verdict
        return cache[run_id]

    return is_live


def reconcile(
    engine: Engine,
    generect,
    leedrush,
    *,
    now: datetime | None = None,
    grace: timedelta | None = None,
    is_live: Callable[[str | None], bool] | None = None,
) -> ReconcileStats:
    """One reconciliation pass (see the module docstring). Free calls only."""
    grace = grace if grace is not None else timedelta(seconds=reconcile_grace_seconds())
    is_live = is_live or run_liveness(engine)
    stats = ReconcileStats()
    rows = _open_rows(engine)
    for row in rows:
        if row["run_id"] and not is_live(row["run_id"]):
            stats.dead_runs.add(row["run_id"])
    dead_jobs = [
        r
        for r in rows
        if r["vendor"] == "generect"
        and r["state"] == "submitted"
        and r["operation"] == "email_find_bulk"
        and not is_live(r["run_id"])
    ]
    if dead_jobs:
        _collect_dead_jobs(engine, generect, dead_jobs, stats)
        rows = _open_rows(engine)
    entries = [_entry(r, is_live(r["run_id"])) for r in rows]
    now = now or datetime.now(UTC)
    if any(e.open for e in entries if e.vendor == "generect"):
        _reconcile_generect(engine, generect, entries, now, grace, stats)
    if any(e.open for e in entries if e.vendor == "leedrush"):
        _reconcile_leedrush(engine, leedrush, entries, rows, now, grace, stats)
    _free_items(engine, now, grace, stats)
    _resume_batches(engine, is_live, stats)
    # Every dead run is reported, including one whose lease is pruned now: the Dagster layer
    # must still mark it failed and free its pool slots, or the resumed batch's run waits for
    # a slot held by a process that is gone (found by the chaos test).
    stats.dead_runs.update(_prune_leases(engine, is_live))
    return stats


def _prune_leases(engine: Engine, is_live: Callable[[str | None], bool]) -> list[str]:
    """Forget leases of dead runs that left nothing behind (keeps the lease table small);
    return their run ids."""
    with engine.connect() as conn:
        leases = conn.execute(
            text(
                "SELECT l.run_id FROM run_leases l WHERE NOT EXISTS (SELECT 1 FROM lead_batches b"
                " WHERE b.batch_key = l.batch_key AND b.state IN ('enriching', 'collected', 'ingesting'))"
                " AND"
                " NOT EXISTS"
                " (SELECT 1 FROM spend_ledger s WHERE s.run_id = l.run_id AND s.state IN"
                " ('unknown', 'reserved', 'submitted'))"
            )
        ).all()
    gone = [r[0] for r in leases if not is_live(r[0])]
    if gone:
        with write_transaction(engine) as conn:
            for run_id in gone:
                conn.execute(text("DELETE FROM run_leases WHERE run_id = :r"), {"r": run_id})
    return gone


def _collect_dead_jobs(engine: Engine, generect, rows: list[dict], stats: ReconcileStats) -> None:
    """Poll the bulk jobs a dead run left (free GETs) and cache their answers."""
    from lead_assets.pipeline.enrich import TTL, _find_price, find_answers

    cache = ResponseCache(engine)
    client = generect.get_client(spend_hook=SpendLedger(engine))
    try:
        for row in rows:
            job_id = row["job_id"]
            if not job_id:  # nothing to poll: the row is decided from the vendor's books
                log.warning("bulk job of reservation %s has no job id to poll", row["id"])
                continue
            try:
                results = client.wait_email_find_bulk(
                    job_id, reservation=row["id"], poll_s=0.2, timeout_s=30
                )
            except Exception as exc:  # one job's trouble must not stop the pass
                log.warning("bulk job %s of a dead run could not be collected: %s", job_id, exc)
                continue
            held = _held_keys(engine, row["request_key"])
            answers = find_answers(
                held if len(held) == len(results) else [""] * len(results), results
            )
            answers.pop("", None)
            cache.put_many(
                "generect",
                "email_find",
                answers,
                ttl=TTL["email_find"],
                amount_each={k: _find_price(v) for k, v in answers.items()},
            )
            unhold_items(
                engine, vendor="generect", operation="email_find", request_key=row["request_key"]
            )
            stats.jobs_collected += 1
    finally:
        client.close()


def _held_keys(engine: Engine, request_key: str) -> list[str]:
    with engine.connect() as conn:
        return [
            r[0]
            for r in conn.execute(
                text("SELECT item_key FROM ledger_items WHERE request_key = :k"), {"k": request_key}
            )
        ]


def _apply(engine: Engine, decision: Decision, stats: ReconcileStats, unit: str) -> None:
    if decision.action == "wait":
        stats.waiting += 1
        return
    state = "settled" if decision.action == "settle" else "released"
    record_decision(
        engine,
        decision.entry_id,
        state=state,
        amount=decision.amount if state == "settled" else None,
        evidence=decision.evidence,
    )
    stats.decisions.append({"id": decision.entry_id, "decision": state, **decision.evidence})
    if state == "settled":
        stats.settled += 1
    else:
        stats.released += 1
    log.info("reconciled %s: %s (%s %s)", decision.entry_id, state, decision.amount, unit)


def _reconcile_generect(
    engine: Engine,
    generect,
    entries: list[Entry],
    now: datetime,
    grace: timedelta,
    stats: ReconcileStats,
) -> None:
    skew = timedelta(seconds=2)
    opened = [e for e in entries if e.vendor == "generect" and e.open]
    start = min(e.created_at for e in opened) - skew
    with engine.connect() as conn:
        settled = conn.execute(
            text(
                "SELECT id, vendor, operation, request_key, state, estimate, amount, run_id,"
                " batch_key, detail, evidence, created_at, updated_at FROM spend_ledger WHERE"
                " vendor = 'generect' AND state = 'settled' AND updated_at >= :s"
            ),
            {"s": start - skew},
        ).mappings()
        known, claimed = [], set()
        for r in settled:
            # A call settled by an earlier pass names its transaction: that one is taken, and
            # the call must not claim another (its updated_at is the decision's time, not the
            # call's, so its window would reach over other calls' charges).
            evidence = json.loads(r["evidence"]) if r["evidence"] else {}
            if evidence.get("transaction_id"):
                claimed.add(str(evidence["transaction_id"]))
            else:
                known.append(_entry(dict(r), True))
    client = generect.get_client()
    try:
        charges = _transactions(client, start)
    finally:
        client.close()
    candidates = known + [e for e in entries if e.vendor == "generect"]
    for decision in decide_generect(
        candidates, charges, now=now, grace=grace, skew=skew, claimed=claimed
    ):
        _apply(engine, decision, stats, "usd")


def _transactions(
    client, since: datetime, *, page: int = 100, max_pages: int = 100
) -> list[Charge]:
    """Charges since ``since``: the contract's ``created_at__gte`` filter, paged by offset. A
    filter the API cannot parse is silently dropped, so the window is applied here too."""
    out: dict[str, Charge] = {}
    for n in range(max_pages):
        rows = client.transactions(limit=page, offset=n * page, created_at__gte=since.isoformat())
        for t in rows:
            at = _ts(t.get("timestamp"))
            amount = -float(t.get("credits") or 0.0)
            if at >= since and amount > 0:
                out[str(t.get("id"))] = Charge(str(t.get("id")), str(t.get("type")), amount, at)
        if len(rows) < page:
            break
    return list(out.values())


def _reconcile_leedrush(
    engine: Engine,
    leedrush,
    entries: list[Entry],
    rows: list[dict],
    now: datetime,
    grace: timedelta,
    stats: ReconcileStats,
) -> None:
    from lead_assets.pipeline.leedrush_flow import adopt_reconciled, upload_name

    batch_of = {r["id"]: r["batch_key"] for r in rows}
    opened = [e for e in entries if e.vendor == "leedrush" and e.open and e.operation == "process"]
    keys = sorted({e.request_key for e in opened})
    names = {k: upload_name(batch_of[e.id]) for e in opened for k in [e.request_key]}
    client = leedrush.get_client()
    try:
        listed = [
            ListedBatch(
                b.batch_id, b.filename or "", int(b.rows_total or 0), b.status, b.created_at
            )
            for b in client.iter_batches(max_pages=5)
            if b.filename in set(names.values())
        ]
    finally:
        client.close()
    with engine.connect() as conn:
        for key in keys:
            history = [
                _entry(dict(r), True)
                for r in conn.execute(
                    text(
                        "SELECT id, vendor, operation, request_key, state, estimate, amount,"
                        " run_id, batch_key, detail, created_at, updated_at FROM spend_ledger"
                        " WHERE vendor = 'leedrush' AND request_key = :k AND state = 'settled'"
                    ),
                    {"k": key},
                ).mappings()
            ]
            group = history + [
                e for e in entries if e.vendor == "leedrush" and e.request_key == key
            ]
            for decision in decide_leedrush(group, listed, name=names[key], now=now, grace=grace):
                _apply(engine, decision, stats, "credits")
                if decision.action == "settle":
                    adopt_reconciled(
                        engine,
                        batch_of[decision.entry_id],
                        decision.evidence["batch_id"],
                        decision.evidence["status"],
                        decision.evidence["rows_total"],
                    )


def _free_items(engine: Engine, now: datetime, grace: timedelta, stats: ReconcileStats) -> None:
    """Free the items of decided calls (see the module docstring, step 3)."""
    from lead_assets.pipeline.enrich import LOST_ANSWER, TTL

    with engine.connect() as conn:
        holds = conn.execute(
            text(
                "SELECT li.vendor, li.operation, li.request_key, li.item_key, li.created_at,"
                " (SELECT sl.state FROM spend_ledger sl WHERE sl.vendor = li.vendor AND"
                " sl.request_key = li.request_key ORDER BY sl.created_at DESC LIMIT 1),"
                " (SELECT sl.amount FROM spend_ledger sl WHERE sl.vendor = li.vendor AND"
                " sl.request_key = li.request_key ORDER BY sl.created_at DESC LIMIT 1),"
                " (SELECT sl.evidence FROM spend_ledger sl WHERE sl.vendor = li.vendor AND"
                " sl.request_key = li.request_key ORDER BY sl.created_at DESC LIMIT 1)"
                " FROM ledger_items li"
            )
        ).all()
    by_request: dict[tuple[str, str, str], list] = {}
    for vendor, operation, request, item, created, state, amount, evidence in holds:
        by_request.setdefault((vendor, operation, request), []).append(
            (item, created, state, amount, evidence)
        )
    cache = ResponseCache(engine)
    for (vendor, operation, request), items in by_request.items():
        state, amount = items[0][2], float(items[0][3] or 0.0)
        stale = now - _ts(items[0][1]) >= grace
        if state in OPEN_STATES or (state is None and not stale):
            continue
        keys = [i[0] for i in items]
        # Released, but the books could not tell it from a twin that was settled: its items
        # are kept as answered-and-lost, never bought again (core.reconcile).
        kept = state == "released" and '"items": "kept"' in str(items[0][4] or "")
        if state == "settled" or kept:
            # Paid, but the answer never reached the cache: remember that, so it is not bought
            # twice; the lead goes on without it.
            have = cache.get_many(vendor, operation, keys)
            lost: dict[str, object] = {k: LOST_ANSWER for k in keys if k not in have}
            cache.put_many(
                vendor,
                operation,
                lost,
                ttl=TTL.get(operation, timedelta(days=30)),
                amount_each={k: amount / len(keys) for k in lost},
            )
            stats.answers_lost += len(lost)
        else:
            stats.items_freed += len(keys)
        unhold_items(engine, vendor=vendor, operation=operation, request_key=request)


def requeue_registered(
    engine: Engine,
    batch_key: str,
    run_id: str,
    run_key_for: Callable[[int], str],
    dead_run_key: str,
    stage: str = "ingesting",
) -> bool:
    """Count one more resume for a ``registered`` batch whose run (``dead_run_key``: its ingest,
    or an ICP batch's pull) ended without doing its work, so its next run key differs;
    idempotent (a batch already past that key, or out of resumes, is left alone)."""
    from lead_assets.pipeline.batch_registry import get_batch

    batch = get_batch(engine, batch_key)
    if batch.state != "registered" or run_key_for(batch.resumes) != dead_run_key:
        return False
    if batch.resumes >= max_resumes():
        return False
    with write_transaction(engine) as conn:
        conn.execute(
            text(
                "UPDATE lead_batches SET resumes = resumes + 1, detail = :d, updated_at = :t"
                " WHERE batch_key = :k AND state = 'registered' AND resumes = :r"
            ),
            {
                "d": f"run {run_id} ended before {stage}; {stage} again",
                "t": datetime.now(UTC),
                "k": batch_key,
                "r": batch.resumes,
            },
        )
    return True


def _resume_batches(
    engine: Engine, is_live: Callable[[str | None], bool], stats: ReconcileStats
) -> None:
    """Send waiting or orphaned batches back to the credits sensor as a new round, and collects
    whose run died back to the status sensor."""
    from lead_assets.pipeline.enrich import AWAITING
    from lead_assets.pipeline.leedrush_flow import AWAITING_VENDOR

    with engine.connect() as conn:
        batches = conn.execute(
            text(
                "SELECT batch_key, state, resumes FROM lead_batches WHERE state IN (:a, :v,"
                " 'enriching', 'ingesting') OR (state = 'collected' AND NOT EXISTS (SELECT 1 FROM batch_exports"
                " e WHERE e.batch_key = lead_batches.batch_key))"
            ),
            {"a": AWAITING, "v": AWAITING_VENDOR},
        ).all()
        blocked = {
            r[0]
            for r in conn.execute(
                text(
                    "SELECT DISTINCT batch_key FROM spend_ledger WHERE state IN ('unknown',"
                    " 'reserved', 'submitted') UNION SELECT DISTINCT batch_key FROM ledger_items"
                )
            )
        }
        leases: dict[str, str] = {
            b: r
            for b, r in conn.execute(
                text("SELECT batch_key, run_id FROM run_leases ORDER BY started_at")
            )
        }  # the latest lease per batch wins
    for key, state, resumes in batches:
        run_id = leases.get(key)
        orphaned = state in ("enriching", "collected", "ingesting")
        if orphaned and (run_id is None or is_live(run_id)):
            continue  # a live run is at work (or no run ever claimed it: nothing to resume)
        if orphaned and int(resumes or 0) >= max_resumes():
            continue  # its run keeps dying: left visible in its state for a human
        if key in blocked:
            continue  # first the vendor's books, then a new round
        with write_transaction(engine) as conn:
            _resume(conn, key, state, run_id, orphaned, datetime.now(UTC))
        stats.resumed.append(key)


def _resume(
    conn: Connection, key: str, state: str, run_id: str | None, orphaned: bool, now: datetime
) -> None:
    """Hand one batch back to the sensor that restarts its stage: ingestion to the file-drop
    sensor, a collect to the status sensor, enrichment to the credits sensor as a new round."""
    from lead_assets.pipeline.enrich import AWAITING
    from lead_assets.pipeline.leedrush_flow import AWAITING_VENDOR

    if state == "ingesting":  # free work: the file-drop sensor requests it again
        conn.execute(
            text(
                "UPDATE lead_batches SET state = 'registered', detail = :d, resumes ="
                " resumes + 1, updated_at = :t WHERE batch_key = :k AND state = :s"
            ),
            {
                "d": f"run {run_id} died while ingesting; ingesting again",
                "t": now,
                "k": key,
                "s": state,
            },
        )
    elif state == "collected":
        conn.execute(
            text(
                "UPDATE leedrush_submissions SET status = COALESCE(detail, 'completed'),"
                " collect_attempt = collect_attempt + 1, updated_at = :t WHERE batch_key ="
                " :k AND status = 'collected'"
            ),
            {"t": now, "k": key},
        )
        conn.execute(
            text(
                "UPDATE lead_batches SET resumes = resumes + 1, detail = :d, updated_at ="
                " :t WHERE batch_key = :k"
            ),
            {"d": f"run {run_id} died while collecting; collecting again", "t": now, "k": key},
        )
    else:
        reason = (
            "reconciled; resuming with what was certainly not billed"
            if state in (AWAITING, AWAITING_VENDOR)
            else f"run {run_id} died; resuming (paid answers are reused from the cache)"
        )
        conn.execute(
            text(
                "UPDATE lead_batches SET state = 'waiting_credits', detail = :d,"
                " enrich_round = enrich_round + 1, resumes = resumes + :r, updated_at = :t"
                " WHERE batch_key = :k AND state = :s"
            ),
            {"d": reason, "t": now, "k": key, "s": state, "r": int(orphaned)},
        )
