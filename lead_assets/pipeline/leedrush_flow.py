"""The asynchronous Leedrush step: submit a batch, poll its status from a sensor, collect the result.

Idempotence: the upload name is derived from the lead batch key, so a re-run first looks for a
Leedrush batch already started under that name and adopts it instead of paying again; a stored
submission is never re-submitted unless it failed.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pandas as pd
from sqlalchemy import Engine, text

from lead_assets.clients.errors import AmbiguousChargeError, InsufficientFundsError
from lead_assets.core.pii import mask_text
from lead_assets.pipeline import reuse
from lead_assets.pipeline.batch_registry import get_batch, set_batch_state
from lead_assets.pipeline.enrich import AWAITING, WaitingForCredits, ok_leads
from lead_assets.warehouse import read_partition, replace_partition
from lead_assets.warehouse.engine import write_transaction
from lead_assets.warehouse.ledger import SpendLedger, claim_run

OPEN = ("queued", "processing")
#: Batch state while a Leedrush submission whose answer was lost waits for reconciliation.
AWAITING_VENDOR = "awaiting_vendor"
SKIPPED_ID = "none"


def upload_name(batch_key: str) -> str:
    """Deterministic, unique upload name: the idempotency key of the submission (A-L5). The
    client's own naming rule is applied with the batch key as the token, so the name Leedrush
    lists is known before the upload and an interrupted run can find its batch again."""
    from lead_assets.clients.leedrush import unique_upload_name

    return unique_upload_name(f"lead_assets-{batch_key}.csv", batch_key)


def timeout_seconds() -> float:
    """A batch still open after this is given up (settings.leedrush_timeout_seconds)."""
    from lead_assets.settings import leedrush_timeout_seconds

    return leedrush_timeout_seconds()


@dataclass
class SubmitStats:
    """What leedrush_submission did."""

    leedrush_batch_id: str
    rows_submitted: int
    credits: float
    adopted: bool = False
    reused: bool = False
    credits_remaining: float | None = None
    #: Not submitted (yet): awaiting reconciliation of Generect items or of this very submission.
    deferred: bool = False

    def summary(self) -> dict[str, object]:
        return {
            "leedrush_batch_id": self.leedrush_batch_id,
            "rows_submitted": self.rows_submitted,
            "credits_spent": self.credits,
            "adopted_existing_batch": self.adopted,
            "reused_submission": self.reused,
            "leedrush_credits_remaining": self.credits_remaining,
            "deferred_awaiting_reconciliation": self.deferred,
        }


def _submission(engine: Engine, batch_key: str) -> dict | None:
    with engine.connect() as conn:
        row = (
            conn.execute(
                text(
                    "SELECT leedrush_batch_id, status, rows_total, detail FROM leedrush_submissions WHERE batch_key = :k ORDER BY submitted_at DESC"
                ),
                {"k": batch_key},
            )
            .mappings()
            .first()
        )
    return dict(row) if row else None


def _record(
    engine: Engine, batch_key: str, batch_id: str, status: str, rows: int, detail: str | None = None
) -> None:
    now = datetime.now(UTC)
    with write_transaction(engine) as conn:
        conn.execute(
            text("DELETE FROM leedrush_submissions WHERE batch_key = :k"), {"k": batch_key}
        )
        conn.execute(
            text(
                "INSERT INTO leedrush_submissions (batch_key, leedrush_batch_id, upload_filename, status, rows_total,"
                " submitted_at, updated_at, detail) VALUES (:k, :b, :f, :s, :n, :t, :t, :d)"
            ),
            {
                "k": batch_key,
                "b": batch_id,
                "f": upload_name(batch_key),
                "s": status,
                "n": rows,
                "t": now,
                "d": detail,
            },
        )


def submission_rows(engine: Engine, batch_key: str) -> pd.DataFrame:
    """Leads sent to Leedrush: ok, not on the do-not-contact list, with an email (given or found)."""
    leads = ok_leads(engine, batch_key)
    gen = read_partition(engine, "generect_enrichment", batch_key)
    if len(gen):
        leads = leads.merge(
            gen[["row_id", "email", "status"]].rename(
                columns={"email": "g_email", "status": "g_status"}
            ),
            on="row_id",
            how="left",
        )
        leads["email"] = leads["g_email"].where(leads["g_email"].notna(), leads["email"])
        leads = leads[leads["g_status"] != "blocked_dnc"]
    return leads[leads["email"].notna()].reset_index(drop=True)


def _csv(rows: pd.DataFrame) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(
        ["email", "first_name", "last_name", "full_name", "title", "company", "domain", "phone"]
    )
    for r in rows.itertuples():
        writer.writerow(
            [
                r.email,
                r.first_name or "",
                r.last_name or "",
                r.full_name or "",
                r.title_normalized or "",
                r.company_name or "",
                r.domain or "",
                r.phone_e164 or "",
            ]
        )
    return buf.getvalue().encode()


def submit_batch(
    engine: Engine,
    leedrush,
    batch_key: str,
    *,
    run_id: str | None = None,
    log: logging.Logger | None = None,
) -> SubmitStats:
    """Upload and start the batch (credits reserved first); never pays twice for one lead batch."""
    log = log or logging.getLogger(__name__)
    if get_batch(engine, batch_key).state == AWAITING:
        # Some Generect answers are still undecided; submitting now would leave those leads out.
        log.info(
            f"{batch_key} awaits reconciliation of Generect items; Leedrush submission deferred"
        )
        return SubmitStats(SKIPPED_ID, 0, 0.0, deferred=True)
    claim_run(engine, run_id, batch_key)
    existing = _submission(engine, batch_key)
    if existing and existing["status"] not in ("failed", "timed_out"):
        log.info(
            f"{batch_key} already submitted as {existing['leedrush_batch_id']}; nothing to pay"
        )
        return SubmitStats(
            existing["leedrush_batch_id"], existing["rows_total"] or 0, 0.0, reused=True
        )
    rows = submission_rows(engine, batch_key)
    with_email = len(rows)
    rows = reuse.before_leedrush(engine, batch_key, rows)  # known people and cached results
    if rows.empty:
        detail = (
            f"all {with_email} leads with an email are known people or cached results: nothing bought"
            if with_email
            else "no lead with an email to validate"
        )
        _record(engine, batch_key, SKIPPED_ID, "skipped", 0, detail)
        set_batch_state(engine, batch_key, "submitted")
        return SubmitStats(SKIPPED_ID, 0, 0.0)
    ledger = SpendLedger(engine, run_id=run_id, batch_key=batch_key)
    client = leedrush.get_client(spend_hook=ledger)
    try:
        client.subscription()  # plan limits for the client-side checks
        name = upload_name(batch_key)
        adopted = client.find_batches(filenames={name}, max_pages=3).get(name)
        if adopted is not None and adopted.status not in ("failed", "error"):
            return _adopt(engine, batch_key, adopted, len(rows))
        return _upload_and_process(engine, client, batch_key, name, rows, log)
    finally:
        client.close()


def _adopt(engine: Engine, batch_key: str, adopted, rows: int) -> SubmitStats:
    """A batch an interrupted run already started under this upload name: take it, pay nothing."""
    total = adopted.rows_total or rows
    _record(
        engine,
        batch_key,
        adopted.batch_id,
        adopted.status,
        total,
        "adopted after an interrupted run",
    )
    set_batch_state(engine, batch_key, "submitted")
    return SubmitStats(adopted.batch_id, total, 0.0, adopted=True)


def _upload_and_process(
    engine: Engine,
    client,
    batch_key: str,
    name: str,
    rows: pd.DataFrame,
    log: logging.Logger,
) -> SubmitStats:
    """Upload the rows and start the (paid) batch; too few credits send the batch back to wait,
    an ambiguous answer to reconciliation."""
    uploaded = client.upload(name, _csv(rows), run_id=batch_key)
    try:
        submission = client.process(
            uploaded.filename, rows=len(rows), request_key=f"leedrush:process:{batch_key}"
        )
    except InsufficientFundsError as exc:
        with write_transaction(engine) as conn:
            conn.execute(
                text(
                    "UPDATE lead_batches SET state = 'waiting_credits', detail = :d, enrich_round = enrich_round + 1 WHERE batch_key = :k"
                ),
                {"d": mask_text(str(exc)), "k": batch_key},
            )
        raise WaitingForCredits(f"Leedrush has too few credits for {batch_key}: {exc}") from exc
    except AmbiguousChargeError as exc:
        # The process call may have started a batch: the reconcile step looks for it by its
        # upload name after the grace window (adopt it, or release and submit again).
        set_batch_state(engine, batch_key, AWAITING_VENDOR, mask_text(str(exc)))
        log.warning(f"{batch_key}: {exc}")
        return SubmitStats(SKIPPED_ID, len(rows), 0.0, deferred=True)
    try:
        remaining: float | None = float(client.credits_remaining())  # free, plotted in the UI
    except Exception:  # the submission succeeded; a failed read must not fail the step
        remaining = None
    _record(engine, batch_key, submission.batch_id, submission.status, submission.rows_total)
    set_batch_state(engine, batch_key, "submitted")
    return SubmitStats(
        submission.batch_id,
        submission.rows_total,
        submission.credits_charged,
        credits_remaining=remaining,
    )


def adopt_reconciled(engine: Engine, batch_key: str, batch_id: str, status: str, rows: int) -> None:
    """Reconciliation found the Leedrush batch a lost ``process`` answer created: record it as
    this lead batch's submission (unless one is recorded already), so the status sensor polls it."""
    existing = _submission(engine, batch_key)
    if existing and existing["status"] not in ("failed", "timed_out", "skipped"):
        return
    _record(engine, batch_key, batch_id, status, rows, "adopted by reconciliation")
    if get_batch(engine, batch_key).state in (AWAITING_VENDOR, "enriching"):
        set_batch_state(engine, batch_key, "submitted")


@dataclass
class Ready:
    """A lead batch whose Leedrush batch is terminal and not yet collected."""

    batch_key: str
    leedrush_batch_id: str
    status: str
    #: 0 for the first collect; counts collects resumed after their run died.
    attempt: int = 0


@dataclass
class PollResult:
    """What one status poll found."""

    ready: list[Ready] = field(default_factory=list)
    open: int = 0
    #: Submissions whose status could not be recorded (reported; the others go on).
    failed: list = field(default_factory=list)


def _open_submissions(engine: Engine) -> list[dict]:
    with engine.connect() as conn:
        rows = (
            conn.execute(
                text(
                    "SELECT batch_key, leedrush_batch_id, status, submitted_at, collect_attempt"
                    " FROM leedrush_submissions WHERE status <> 'collected'"
                )
            )
            .mappings()
            .all()
        )
    return [dict(r) for r in rows]


def poll_submissions(
    engine: Engine, leedrush, *, log: logging.Logger | None = None, max_pages: int = 3
) -> PollResult:
    """One bounded status poll (at most ``max_pages`` list calls, whatever the number of open
    batches) that records new statuses and lists the batches ready to collect."""
    subs = _open_submissions(engine)
    running = [s for s in subs if s["status"] in OPEN]
    if running:
        client = leedrush.get_client()
        try:
            found = client.find_batches(
                batch_ids={s["leedrush_batch_id"] for s in running}, max_pages=max_pages
            )
        finally:
            client.close()
        now = datetime.now(UTC)

        def record(s: dict) -> None:
            batch = found.get(s["leedrush_batch_id"])
            status = batch.status if batch else s["status"]
            submitted = pd.Timestamp(s["submitted_at"]).to_pydatetime().replace(tzinfo=UTC)
            if not (batch and batch.terminal) and now - submitted > timedelta(
                seconds=timeout_seconds()
            ):
                status = "timed_out"  # unknown statuses count as running, but not forever (A-L3)
            if status != s["status"]:
                with write_transaction(engine) as conn:
                    conn.execute(
                        text(
                            "UPDATE leedrush_submissions SET status = :s, rows_qualified = :q, rows_failed = :f, updated_at = :t WHERE batch_key = :k"
                        ),
                        {
                            "s": status,
                            "q": batch.rows_qualified if batch else None,
                            "f": batch.rows_failed if batch else None,
                            "t": now,
                            "k": s["batch_key"],
                        },
                    )
                s["status"] = status

        from lead_assets.pipeline.isolation import each_alone

        _, failed = each_alone(running, record, key=lambda s: s["batch_key"], log=log)
    else:
        failed = []
    result = PollResult(failed=failed)
    failed_keys = {f.key for f in failed}
    for s in subs:
        if s["batch_key"] in failed_keys:
            continue
        if s["status"] in OPEN or reuse.waiting_for_sources(
            engine, s["batch_key"], timeout=timedelta(seconds=timeout_seconds())
        ):
            result.open += 1  # a batch reusing earlier people collects after them
        else:
            result.ready.append(
                Ready(
                    s["batch_key"],
                    s["leedrush_batch_id"],
                    s["status"],
                    int(s.get("collect_attempt") or 0),
                )
            )
    return result


@dataclass
class CollectStats:
    """What leedrush_results wrote."""

    status: str
    submitted: int
    qualified: int
    matched: int

    def summary(self) -> dict[str, object]:
        return {
            "leedrush_status": self.status,
            "rows_submitted": self.submitted,
            "rows_qualified_by_leedrush": self.qualified,
            "qualified_rows_matched_to_leads": self.matched,
        }


def collect_batch(
    engine: Engine,
    leedrush,
    batch_key: str,
    *,
    log: logging.Logger | None = None,
    run_id: str | None = None,
) -> CollectStats:
    """Download a completed batch and match its QUALIFIED rows back to the input leads by email."""
    claim_run(engine, run_id, batch_key)  # a collect run that dies is resumed (pipeline.reconcile)
    sub = _submission(engine, batch_key)
    now = datetime.now(UTC)
    rows = submission_rows(engine, batch_key) if sub else pd.DataFrame(columns=["row_id", "email"])
    status = sub["status"] if sub else "skipped"
    if status == "collected" and sub:
        status = sub["detail"] or "completed"
    qualified: dict[str, object] = {}
    if sub and status == "completed":
        client = leedrush.get_client()
        try:
            for lead in client.download(sub["leedrush_batch_id"]):
                if lead.email:
                    qualified[lead.email] = lead
        finally:
            client.close()
    out = []
    for r in rows.itertuples():
        lead = qualified.get(str(r.email).lower())
        out.append(
            {
                "row_id": r.row_id,
                "leedrush_batch_id": sub["leedrush_batch_id"] if sub else None,
                "qualified": lead is not None,
                "score": getattr(lead, "score", None),
                "email": getattr(lead, "email", None),
                "email_status": getattr(lead, "email_status", None),
                "email_status_raw": getattr(lead, "email_status_raw", None),
                "phone": getattr(lead, "phone", None),
                "phone_status": getattr(lead, "phone_status", None),
                "title_normalized": getattr(lead, "title_normalized", None),
                "signals": json.dumps(getattr(lead, "signals", [])) if lead else None,
                "technologies": json.dumps(getattr(lead, "technologies", [])) if lead else None,
                "dedup_confidence": getattr(lead, "dedup_confidence", None),
                "collected_at": now,
            }
        )
    out = reuse.merge_leedrush(engine, batch_key, out, rows, completed=status == "completed")
    replace_partition(
        engine,
        "leedrush_results",
        batch_key,
        pd.DataFrame(out) if out else pd.DataFrame(columns=["row_id", "qualified", "collected_at"]),
    )
    if sub:
        with write_transaction(engine) as conn:
            conn.execute(
                text(
                    "UPDATE leedrush_submissions SET status = 'collected', detail = :d, updated_at = :t WHERE batch_key = :k"
                ),
                {"d": status, "t": now, "k": batch_key},
            )
    set_batch_state(engine, batch_key, "collected")
    return CollectStats(status, len(rows), len(qualified), sum(1 for o in out if o["qualified"]))
