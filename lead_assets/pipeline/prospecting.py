"""ICP prospecting: free counts per profile, then paid pulls of the new leads into raw_uploads."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

import pandas as pd
from sqlalchemy import Engine, text

from lead_assets import settings
from lead_assets.core.icp import load_profiles
from lead_assets.pipeline.batch_registry import LeadBatch, get_batch, register_batches
from lead_assets.pipeline.landing import batch_key as make_batch_key
from lead_assets.settings import icp_profiles_path
from lead_assets.warehouse import read_partition
from lead_assets.warehouse.engine import write_transaction
from lead_assets.warehouse.ledger import Budgets, SpendLedger


@dataclass
class Grown:
    """A profile whose count grew: the batch registered to pull it."""

    profile: str
    batch_key: str
    new_leads: int


def _pulled(engine: Engine, profile: str) -> list[str]:
    with engine.connect() as conn:
        return [
            r[0]
            for r in conn.execute(
                text("SELECT lead_id FROM icp_prospects WHERE profile = :p"), {"p": profile}
            ).all()
        ]


def check_profiles(engine: Engine, generect, *, log: logging.Logger | None = None) -> list[Grown]:
    """Free count per profile; register a batch for each profile with leads not yet pulled."""
    log = log or logging.getLogger(__name__)
    profiles = load_profiles(icp_profiles_path())
    if not profiles:
        return []
    client = generect.get_client()
    grown: list[Grown] = []
    now = datetime.now(UTC)
    try:
        for profile in profiles:
            count = client.count_leads(profile.lead_criteria) or 0
            with write_transaction(engine) as conn:
                conn.execute(
                    text(
                        "INSERT INTO icp_counts (profile, counted_at, results_count) VALUES (:p, :t, :n)"
                    ),
                    {"p": profile.name, "t": now, "n": count},
                )
                waiting = conn.execute(
                    text(
                        "SELECT COUNT(*) FROM lead_batches WHERE origin = :p AND source = 'generect' AND state = 'registered'"
                    ),
                    {"p": profile.name},
                ).scalar_one()
            pulled = len(_pulled(engine, profile.name))
            new = count - pulled
            if new <= 0 or waiting:
                continue
            rows = min(new, profile.max_leads_per_pull)
            key = make_batch_key(now, f"icp_{profile.name}", 1, f"{pulled:06x}")
            register_batches(
                engine,
                [LeadBatch(key, "generect", profile.name, None, 1, rows, rows, "registered")],
            )
            log.info(
                f"ICP profile {profile.name}: count {count}, {pulled} already pulled -> batch {key} for {rows} leads"
            )
            grown.append(Grown(profile.name, key, rows))
    finally:
        client.close()
    return grown


@dataclass
class PullStats:
    """What icp_prospects bought."""

    profile: str | None
    leads: int
    spend_usd: float

    def summary(self) -> dict[str, object]:
        return {
            "profile": self.profile or "(file batch: nothing to pull)",
            "leads_pulled": self.leads,
            "spend_usd": round(self.spend_usd, 4),
        }


#: Leads bought per Generect search page; each page is stored before the next is bought.
PAGE_SIZE = 100


def _store_page(engine: Engine, batch_key: str, profile: str, rows: list[dict]) -> int:
    """Append one bought page to the batch's icp_prospects rows (its own transaction, so a
    failure on a later page cannot lose it); returns the rows stored."""
    now = datetime.now(UTC)
    with write_transaction(engine) as conn:
        stored = 0
        for r in rows:
            lead_id = str(r.get("lead_id") or r.get("id"))
            exists = conn.execute(
                text("SELECT 1 FROM icp_prospects WHERE batch_key = :k AND lead_id = :l"),
                {"k": batch_key, "l": lead_id},
            ).first()
            if exists:
                continue
            conn.execute(
                text(
                    "INSERT INTO icp_prospects (batch_key, lead_id, profile, raw_json, pulled_at)"
                    " VALUES (:k, :l, :p, :j, :t)"
                ),
                {"k": batch_key, "l": lead_id, "p": profile, "j": json.dumps(r), "t": now},
            )
            stored += 1
    return stored


def pull_budgets(profile_budget_usd: float, balance_usd: float) -> Budgets:
    """The pull's limits: the profile's per-run cap (or the run budget, if lower), the daily
    budget, and the Generect balance above the USD reserve."""
    from lead_assets.pipeline.enrich import budgets_from_env

    env = budgets_from_env()
    reserve = settings.reserve_usd()
    per_run = min(b for b in (profile_budget_usd, env.usd_per_run) if b is not None)
    return Budgets(
        usd_per_run=per_run,
        usd_per_day=env.usd_per_day,
        available={"usd": max(balance_usd - reserve, 0.0)},
    )


def pull_batch(engine: Engine, generect, batch_key: str, *, run_id: str | None = None) -> PullStats:
    """Buy the batch's leads page by page (exclude_ids paging), each page stored before the next
    is bought, within the profile's cap, the daily budget and the USD reserve. A failure on page
    N keeps pages 1..N-1; a re-run continues from them with their ids excluded, so no page is
    bought twice."""
    batch = get_batch(engine, batch_key)
    if batch.source != "generect":
        return PullStats(None, 0, 0.0)
    want = batch.rows_expected or 0
    have = len(read_partition(engine, "icp_prospects", batch_key))
    if have >= want or batch_key in pulled_batches(engine):
        _mark_pulled(engine, batch_key, have)
        return PullStats(batch.origin, have, 0.0)  # already bought: a re-run pays nothing
    profile = next(p for p in load_profiles(icp_profiles_path()) if p.name == batch.origin)
    probe = generect.get_client()
    try:
        balance = probe.balance()  # free
    finally:
        probe.close()
    ledger = SpendLedger(
        engine,
        run_id=run_id,
        batch_key=batch_key,
        budgets=pull_budgets(profile.budget_usd, balance),
    )
    client = generect.get_client(spend_hook=ledger)
    paid = 0.0
    try:
        while have < want:
            ask = min(PAGE_SIZE, want - have)
            page = client.search_leads(
                profile.lead_criteria,
                max_rows=ask,
                page_size=ask,
                exclude_ids=_pulled(engine, profile.name),  # every id bought by any pull so far
            )
            paid += page.amount_charged
            have += _store_page(engine, batch_key, profile.name, page.rows)
            if len(page.rows) < ask:
                break  # the audience is exhausted: never pay for an empty page
    finally:
        client.close()
    _mark_pulled(engine, batch_key, have)
    return PullStats(profile.name, have, paid)


def _mark_pulled(engine: Engine, batch_key: str, leads: int) -> None:
    """Record a complete pull (idempotent): the file-drop sensor then ingests the batch."""
    with write_transaction(engine) as conn:
        conn.execute(text("DELETE FROM icp_pulls_done WHERE batch_key = :k"), {"k": batch_key})
        conn.execute(
            text("INSERT INTO icp_pulls_done (batch_key, leads, finished_at) VALUES (:k, :n, :t)"),
            {"k": batch_key, "n": leads, "t": datetime.now(UTC)},
        )


def unpulled_batches(engine: Engine) -> list[LeadBatch]:
    """Registered ICP batches whose pull has not completed. While one waits, its profile gets no
    new batch; if its pull run failed, the counts sensor requests the pull again (a re-run
    continues from the pages already stored, so nothing is bought twice)."""
    from lead_assets.pipeline.batch_registry import batches_in_state

    pulled = pulled_batches(engine)
    return [
        b
        for b in batches_in_state(engine, "registered")
        if b.source == "generect" and b.batch_key not in pulled
    ]


def pulled_batches(engine: Engine) -> set[str]:
    """Keys of ICP batches whose pull is complete (ready to be ingested)."""
    with engine.connect() as conn:
        return {r[0] for r in conn.execute(text("SELECT batch_key FROM icp_pulls_done"))}


def icp_raw_rows(engine: Engine, batch_key: str) -> pd.DataFrame:
    """raw_uploads rows for an ICP batch: each pulled lead kept verbatim, traced by its vendor id."""
    from lead_assets.pipeline.ingest import RAW_UPLOAD_COLUMNS

    pulled = read_partition(engine, "icp_prospects", batch_key)
    rows = []
    for i, r in enumerate(pulled.itertuples(), start=1):
        lead = json.loads(cast("str", r.raw_json))
        company = lead.get("company") or {}
        flat = {
            "first_name": lead.get("first_name"),
            "last_name": lead.get("last_name"),
            "title": lead.get("title") or lead.get("job_title"),
            "company": company.get("name") or lead.get("company_name"),
            "website": company.get("domain"),
            "location": lead.get("location"),
            "linkedin_url": lead.get("linkedin_url"),
            "lead_id": r.lead_id,
            "industry": company.get("industry"),
            "headcount": company.get("headcount"),
        }
        rows.append(
            {
                "row_id": f"generect:{r.lead_id}",
                "file_id": f"icp:{r.profile}",
                "file_name": f"generect ICP {r.profile}",
                "line_no": i,
                "source": "generect",
                "raw_json": json.dumps(flat),
                "parse_error": None,
                "loaded_at": datetime.now(UTC),
            }
        )
    return pd.DataFrame(
        rows,
        columns=list(RAW_UPLOAD_COLUMNS),
    )
