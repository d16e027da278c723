"""Never pay twice for the same person: resolve before you buy, and Leedrush results per lead.

Before any paid call of a batch, its leads are matched against the people already resolved in the
warehouse with the same matcher as ``deduplicated_accounts``
(:func:`lead_assets.core.matching.resolve.cluster`, over the stored leads they could link to,
read by index lookups: :func:`lead_assets.pipeline.incremental_resolution.related_leads`). A lead that is a person already enriched within the
answers' TTL is sent to no vendor: it reuses that person's enrichment (Generect row and Leedrush
result, with their source and time). Several leads of one batch that are one person are bought
once: the others reuse the one bought. The decision is stored in ``lead_reuse`` when the paid
step starts, so the Leedrush submission and the collect run, later and in other runs, apply the
same decision.

Leedrush results are also cached per address (normalized email, TTL like Generect's verdicts):
the submission sends only leads without a valid cached result, and collect merges the cached
results into the batch as if Leedrush had returned them. A batch whose leads are all known or
cached submits nothing and still completes through collect.

``batch_savings`` records, per batch, what the cache and resolve-before-buy avoided: Leedrush
credits exactly (one list price per row), Generect USD at the amounts the cached answers were
bought for, or at list prices and the planner's hit rates for the calls a reused lead would have
needed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Engine, text

from lead_assets.core import prices as price_table
from lead_assets.core.matching.resolve import cluster
from lead_assets.warehouse.engine import write_transaction
from lead_assets.warehouse.ledger import ResponseCache
from lead_assets.warehouse.partition_writes import bulk_insert, frame_rows, read_partition

#: A person's enrichment is reused while its shortest-lived answer (the email verdict) is valid.
PERSON_TTL = timedelta(days=30)
#: A Leedrush result (qualification, email and phone status) is reused as long as a verdict.
LEEDRUSH_TTL = timedelta(days=30)
LEEDRUSH_OPERATION = "lead_result"
#: leedrush_results columns a cached or reused result carries (everything but the keys).
LEEDRUSH_FIELDS = (
    "leedrush_batch_id",
    "qualified",
    "score",
    "email",
    "email_status",
    "email_status_raw",
    "phone",
    "phone_status",
    "title_normalized",
    "signals",
    "technologies",
    "dedup_confidence",
)
REUSE_COLUMNS = [
    "batch_key",
    "row_id",
    "scope",
    "kind",
    "source_batch_key",
    "source_row_id",
    "lead_cluster_id",
    "source_at",
    "answer_json",
    "decided_at",
]


@dataclass(frozen=True)
class Reuse:
    """One lead that is not bought: whose answer it takes instead."""

    row_id: str
    kind: str  # known_person | batch_duplicate | leedrush_cache
    source_batch_key: str | None
    source_row_id: str | None
    lead_cluster_id: str | None = None
    source_at: datetime | None = None
    answer: dict | None = None


@dataclass
class ReusePlan:
    """The batch's leads that will not be bought, by row id."""

    batch_key: str
    reuse: dict[str, Reuse] = field(default_factory=dict)

    def to_buy(self, leads: pd.DataFrame) -> pd.DataFrame:
        """The leads still to buy (everything not reused)."""
        if not len(leads) or not self.reuse:
            return leads
        return leads[~leads["row_id"].isin(set(self.reuse))]

    def counts(self) -> dict[str, int]:
        """Leads reused, per kind."""
        out: dict[str, int] = {}
        for r in self.reuse.values():
            out[r.kind] = out.get(r.kind, 0) + 1
        return out


def _utc(values: pd.Series) -> pd.Series:
    """Warehouse timestamps (text on SQLite, naive UTC on PostgreSQL) as aware UTC."""
    return pd.to_datetime(values, utc=True, format="mixed")


def _stored(engine: Engine, batch_key: str) -> bool:
    """True when the batch's leads are in the warehouse."""
    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT 1 FROM standardized_leads WHERE batch_key = :b LIMIT 1"), {"b": batch_key}
        ).first()
    return found is not None


def _enriched_sources(engine: Engine) -> pd.DataFrame:
    """Leads whose Generect enrichment is done, with the time their answers were bought: the
    people whose enrichment can be reused (their Leedrush result is taken at collect, which
    waits for it; see :func:`waiting_for_sources`)."""
    with engine.connect() as conn:
        frame = pd.read_sql(
            text(
                "SELECT batch_key, row_id, enriched_at FROM generect_enrichment"
                " WHERE status IN ('enriched', 'skipped')"
            ),
            conn,
        )
    frame["key"] = frame["batch_key"] + "|" + frame["row_id"]
    frame["enriched_at"] = _utc(frame["enriched_at"]) if len(frame) else frame["enriched_at"]
    return frame


def match_known_people(
    engine: Engine, batch_key: str, leads: pd.DataFrame, *, now: datetime | None = None
) -> ReusePlan:
    """Decide (without writing) which of ``leads`` (the batch's leads that may be bought) are
    people already enriched within :data:`PERSON_TTL`, or duplicates of another lead of the
    batch. The matcher sees the batch's leads with every resolved lead they could link to."""
    from lead_assets.pipeline.incremental_resolution import related_leads

    plan = ReusePlan(batch_key)
    if not len(leads):
        return plan
    now = now or datetime.now(UTC)
    # The batch's leads as given (they may not be in the warehouse yet: ``lead-assets plan``),
    # then every stored lead they could link to, read by index lookups (not every lead).
    new = leads.assign(batch_key=batch_key, key=batch_key + "|" + leads["row_id"].astype(str))
    related = related_leads(engine, new, batch_key)
    new = new[[c for c in related.columns if c in new.columns]]
    # As text (the matcher reads text): a column missing from every row on one side must not
    # decide the other side's dtype.
    subset = pd.concat([new.astype(object), related.astype(object)], ignore_index=True)
    # Clusters only: which people are known is all this needs (no accounts are built).
    clusters = cluster(subset).merge(subset[["key", "batch_key", "row_id"]], on="key")
    sources = _enriched_sources(engine)
    # Only older batches are sources (keys sort by time), so two batches never wait on each
    # other; a batch not yet in the warehouse (``lead-assets plan`` of a file) is the newest.
    if _stored(engine, batch_key):
        sources = sources[sources["batch_key"] < batch_key]
    fresh = sources[sources["enriched_at"] >= now - PERSON_TTL].set_index("key")["enriched_at"]
    with_email = set(leads.loc[leads["email"].notna(), "row_id"])
    # Whole-frame steps, not a loop per cluster: a 25k batch has ~25k clusters, and the
    # credits sensor plans every waiting batch at each tick.
    mine = clusters["batch_key"] == batch_key
    new_rows = clusters.loc[mine, ["lead_cluster_id", "row_id"]]
    old = clusters.loc[~mine & clusters["key"].isin(fresh.index), ["lead_cluster_id", "key"]]
    old = old.assign(at=old["key"].map(fresh))
    # The most recent enrichment of the person (ties: the smallest key, for stability).
    best = old.sort_values(["at", "key"], ascending=[False, True]).drop_duplicates(
        "lead_cluster_id"
    )
    source = {
        c: (k, at)
        for c, k, at in zip(best["lead_cluster_id"], best["key"], best["at"], strict=True)
    }
    # One person several times in this batch: buy the lead with an email (else the first).
    new_rows = new_rows.assign(no_email=~new_rows["row_id"].isin(with_email))
    new_rows = new_rows.sort_values(["lead_cluster_id", "no_email", "row_id"])
    buyer_of = dict(
        new_rows.drop_duplicates("lead_cluster_id")[["lead_cluster_id", "row_id"]].itertuples(
            index=False
        )
    )
    for cluster_id, row_id in sorted(
        zip(new_rows["lead_cluster_id"], new_rows["row_id"], strict=True)
    ):
        if cluster_id in source:
            key, at = source[cluster_id]
            src_batch, src_row = key.split("|", 1)
            plan.reuse[row_id] = Reuse(
                row_id, "known_person", src_batch, src_row, str(cluster_id), at
            )
        elif row_id != buyer_of[cluster_id]:
            plan.reuse[row_id] = Reuse(
                row_id, "batch_duplicate", batch_key, buyer_of[cluster_id], str(cluster_id), None
            )
    return plan


def _write_reuse(engine: Engine, batch_key: str, scope: str, reuse: list[Reuse]) -> None:
    now = datetime.now(UTC)
    frame = pd.DataFrame(
        [
            {
                "batch_key": batch_key,
                "row_id": r.row_id,
                "scope": scope,
                "kind": r.kind,
                "source_batch_key": r.source_batch_key,
                "source_row_id": r.source_row_id,
                "lead_cluster_id": r.lead_cluster_id,
                "source_at": None if r.source_at is None else pd.Timestamp(r.source_at),
                "answer_json": None if r.answer is None else json.dumps(r.answer, default=str),
                "decided_at": now,
            }
            for r in reuse
        ],
        columns=REUSE_COLUMNS,
    )
    with write_transaction(engine) as conn:
        conn.execute(
            text("DELETE FROM lead_reuse WHERE batch_key = :k AND scope = :s"),
            {"k": batch_key, "s": scope},
        )
        if len(frame):
            # One dtype for the column (NaT for "none"), so it is stored like any timestamp.
            frame["source_at"] = pd.to_datetime(frame["source_at"], utc=True)
            bulk_insert(
                conn,
                "lead_reuse",
                REUSE_COLUMNS,
                frame_rows(frame, REUSE_COLUMNS, datetimes_as_text=conn.dialect.name == "sqlite"),
            )


def stored_reuse(engine: Engine, batch_key: str, scope: str) -> dict[str, Reuse]:
    """The reuse decided for a batch (``person`` or ``leedrush``), by row id."""
    with engine.connect() as conn:
        rows = (
            conn.execute(
                text("SELECT * FROM lead_reuse WHERE batch_key = :k AND scope = :s"),
                {"k": batch_key, "s": scope},
            )
            .mappings()
            .all()
        )
    return {
        r["row_id"]: Reuse(
            r["row_id"],
            r["kind"],
            r["source_batch_key"],
            r["source_row_id"],
            r["lead_cluster_id"],
            r["source_at"],
            json.loads(r["answer_json"]) if r["answer_json"] else None,
        )
        for r in rows
    }


def _save(
    engine: Engine, batch_key: str, vendor: str, rows: list[tuple[str, str, int, float]]
) -> None:
    """Replace the batch's savings of ``vendor``: (reason, unit, items, amount) rows."""
    now = datetime.now(UTC)
    with write_transaction(engine) as conn:
        conn.execute(
            text("DELETE FROM batch_savings WHERE batch_key = :k AND vendor = :v"),
            {"k": batch_key, "v": vendor},
        )
        for reason, unit, items, amount in rows:
            if items:
                conn.execute(
                    text(
                        "INSERT INTO batch_savings (batch_key, vendor, reason, unit, items, amount,"
                        " updated_at) VALUES (:k, :v, :r, :u, :n, :a, :t)"
                    ),
                    {
                        "k": batch_key,
                        "v": vendor,
                        "r": reason,
                        "u": unit,
                        "n": items,
                        "a": round(amount, 6),
                        "t": now,
                    },
                )


# -- Generect ---------------------------------------------------------------------------------
def _cached_amounts(engine: Engine, operation: str, keys: list[str]) -> tuple[int, float]:
    """How many of ``keys`` the cache answers now, and what those answers were bought for."""
    if not keys:
        return 0, 0.0
    hits, amount = 0, 0.0
    now = datetime.now(UTC)
    with engine.connect() as conn:
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            params = {f"k{i}": k for i, k in enumerate(chunk)}
            row = conn.execute(
                text(
                    "SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM api_cache WHERE vendor ="
                    " 'generect' AND operation = :o AND expires_at > :now AND request_key IN"
                    f" ({', '.join(f':k{i}' for i in range(len(chunk)))})"
                ),
                {"o": operation, "now": now, **params},
            ).one()
            hits += int(row[0])
            amount += float(row[1])
    return hits, amount


def generect_savings(
    engine: Engine, reused: pd.DataFrame, to_buy: pd.DataFrame, kinds: dict[str, str]
) -> list[tuple[str, str, int, float]]:
    """Savings rows of a batch at Generect: the cache's answers for the leads still bought (at
    the amounts they were bought for), and the calls the reused leads would have needed (at list
    prices and the planner's hit rates; a domain still bought for another lead is not counted)."""
    from lead_assets.core.credit_planner import Prices
    from lead_assets.pipeline.enrich import enrichment_plan, item_key

    rows: list[tuple[str, str, int, float]] = []
    needs = enrichment_plan(to_buy)
    hits = amount = 0.0
    for operation, keys in (
        ("email_find", [item_key(f, last, d) for _, f, last, d in needs["find"]]),
        ("email_validate", [item_key(e) for e in needs["validate"]]),
        ("company_enrich", [item_key(d) for d in needs["company"]]),
    ):
        n, usd = _cached_amounts(engine, operation, sorted(set(keys)))
        hits += n
        amount += usd
    rows.append(("cache", "usd", int(hits), amount))
    bought_domains = set(needs["company"])
    p = Prices()
    for kind in ("known_person", "batch_duplicate"):
        part = reused[reused["row_id"].map(kinds) == kind] if len(reused) else reused
        if not len(part):
            continue
        avoided = enrichment_plan(part)
        usd = (
            len(avoided["find"]) * p.email_find_usd * p.email_find_hit_rate
            + len(avoided["validate"]) * p.email_validate_usd
            + len(set(avoided["company"]) - bought_domains)
            * p.company_enrich_usd
            * p.company_hit_rate
        )
        rows.append((kind, "usd", len(part), usd))
    return rows


def before_generect(engine: Engine, batch_key: str, active: pd.DataFrame) -> pd.DataFrame:
    """Called once at the top of the paid step: decide and store what the batch reuses, record
    the Generect savings, and return the leads Generect must still be asked about."""
    plan = match_known_people(engine, batch_key, active)
    _write_reuse(engine, batch_key, "person", list(plan.reuse.values()))
    to_buy = plan.to_buy(active)
    reused = active[active["row_id"].isin(set(plan.reuse))] if len(active) else active
    kinds = {r: v.kind for r, v in plan.reuse.items()}
    _save(engine, batch_key, "generect", generect_savings(engine, reused, to_buy, kinds))
    return to_buy


def after_generect(engine: Engine, batch_key: str) -> int:
    """Give every reused lead its person's Generect answers (email, verdict, company, with the
    time they were bought and where from) in ``generect_enrichment``; returns the leads copied."""
    reuse = stored_reuse(engine, batch_key, "person")
    if not reuse:
        return 0
    mine = read_partition(engine, "generect_enrichment", batch_key)
    plan = pd.DataFrame(
        {
            "row_id": [r.row_id for r in reuse.values()],
            "_src_batch": [r.source_batch_key for r in reuse.values()],
            "_src_row": [r.source_row_id for r in reuse.values()],
            "detail": [
                f"reused ({r.kind}) from {r.source_batch_key} row {r.source_row_id}"
                + (f", cluster {r.lead_cluster_id}" if r.lead_cluster_id else "")
                for r in reuse.values()
            ],
        }
    )
    # Every source row in one frame, joined to the plan (a row-by-row copy was most of the
    # step's time on a 25k batch).
    pools = [mine.assign(_src_batch=batch_key)]
    for src_batch in sorted(set(plan["_src_batch"]) - {batch_key}):
        pools.append(
            read_partition(engine, "generect_enrichment", src_batch).assign(_src_batch=src_batch)
        )
    pool = (
        pd.concat(pools, ignore_index=True)
        .drop(columns=["batch_key", "detail"], errors="ignore")
        .rename(columns={"row_id": "_src_row"})
    )
    # A source that vanished (a recluster or a purge) leaves the lead with its own row.
    joined = plan.merge(pool, on=["_src_batch", "_src_row"], how="inner")
    if joined.empty:
        return 0
    columns = [c for c in mine.columns if c != "batch_key"]
    copies = joined.assign(spend_usd=0.0, cache_hits=0)[columns]
    from lead_assets.warehouse import replace_partition

    kept = mine[~mine["row_id"].isin(set(copies["row_id"]))].drop(columns=["batch_key"])
    frame = pd.concat([kept, copies], ignore_index=True)
    frame["enriched_at"] = _utc(frame["enriched_at"])
    replace_partition(engine, "generect_enrichment", batch_key, frame)
    return len(copies)


# -- Leedrush ---------------------------------------------------------------------------------
def waiting_for_sources(engine: Engine, batch_key: str, *, timeout: timedelta) -> bool:
    """True while an earlier batch whose people this batch reuses has not collected its Leedrush
    results yet (they are copied at collect); gives up after ``timeout`` from the submission, so
    a stuck source cannot hold the batch forever."""
    with engine.connect() as conn:
        sources = [
            r[0]
            for r in conn.execute(
                text(
                    "SELECT DISTINCT source_batch_key FROM lead_reuse WHERE batch_key = :k AND"
                    " scope = 'person' AND source_batch_key <> :k"
                ),
                {"k": batch_key},
            )
        ]
        if not sources:
            return False
        params = {f"s{i}": b for i, b in enumerate(sources)}
        collected = conn.execute(
            text(
                "SELECT COUNT(DISTINCT batch_key) FROM leedrush_submissions WHERE status ="
                f" 'collected' AND batch_key IN ({', '.join(f':s{i}' for i in range(len(sources)))})"
            ),
            params,
        ).scalar_one()
        submitted = conn.execute(
            text("SELECT MIN(submitted_at) FROM leedrush_submissions WHERE batch_key = :k"),
            {"k": batch_key},
        ).scalar_one()
    if int(collected) == len(sources):
        return False
    if submitted is None:
        return True
    return datetime.now(UTC) - _utc(pd.Series([submitted]))[0] < timeout


def leedrush_key(email: str) -> str:
    """Cache key of one lead's Leedrush result: its address, trimmed and lower-cased."""
    from lead_assets.pipeline.enrich import item_key

    return item_key("leedrush", str(email).strip().lower())


def before_leedrush(engine: Engine, batch_key: str, rows: pd.DataFrame) -> pd.DataFrame:
    """Called once before the submission: drop the leads reused as known people or batch
    duplicates and those with a valid cached Leedrush result (stored as the batch's
    ``leedrush_cache`` reuse); record the credits saved; return the rows to submit."""
    person = stored_reuse(engine, batch_key, "person")
    kinds = rows["row_id"].map(lambda r: person[r].kind if r in person else None)
    remaining = rows[kinds.isna()]
    cache = ResponseCache(engine)
    keys = {
        row_id: leedrush_key(email)
        for row_id, email in zip(remaining["row_id"], remaining["email"], strict=True)
    }
    cached: dict[str, Any] = cache.get_many(
        "leedrush", LEEDRUSH_OPERATION, sorted(set(keys.values()))
    )
    hits = [
        Reuse(row_id, "leedrush_cache", None, None, answer=cached[k])
        for row_id, k in keys.items()
        if k in cached
    ]
    _write_reuse(engine, batch_key, "leedrush", hits)
    per_row = price_table.LEEDRUSH_CREDITS_PER_ROW
    counts = kinds.value_counts().to_dict()
    _save(
        engine,
        batch_key,
        "leedrush",
        [
            ("cache", "credits", len(hits), len(hits) * per_row),
            *(
                (kind, "credits", int(counts.get(kind, 0)), int(counts.get(kind, 0)) * per_row)
                for kind in ("known_person", "batch_duplicate")
            ),
        ],
    )
    hit_ids = {h.row_id for h in hits}
    return remaining[~remaining["row_id"].isin(hit_ids)].reset_index(drop=True)


def _result_of(row: dict) -> dict:
    return {k: row.get(k) for k in LEEDRUSH_FIELDS}


def merge_leedrush(
    engine: Engine, batch_key: str, out: list[dict], rows: pd.DataFrame, *, completed: bool
) -> list[dict]:
    """At collect: cache the results Leedrush returned for the leads submitted (when the batch
    completed), and give reused and cached leads their result as if Leedrush had returned it."""
    person = stored_reuse(engine, batch_key, "person")
    cached = stored_reuse(engine, batch_key, "leedrush")
    by_row = {o["row_id"]: o for o in out}
    address = dict(zip(rows["row_id"], rows["email"], strict=True)) if len(rows) else {}
    submitted = [o for o in out if o["row_id"] not in person and o["row_id"] not in cached]
    if completed and submitted:
        ResponseCache(engine).put_many(
            "leedrush",
            LEEDRUSH_OPERATION,
            {
                leedrush_key(address[o["row_id"]]): _result_of(o)
                for o in submitted
                if address.get(o["row_id"])
            },
            ttl=LEEDRUSH_TTL,
            amount_each=None,
            unit="credits",
        )
    for row_id, r in cached.items():
        if row_id in by_row and r.answer:
            by_row[row_id].update(_result_of(r.answer))
    earlier: dict[str, dict[str, dict]] = {}
    for row_id, r in person.items():
        if row_id not in by_row:
            continue  # not a lead with an email: nothing to carry
        if r.source_batch_key == batch_key:
            src = by_row.get(r.source_row_id or "")
            if src is not None:
                by_row[row_id].update(_result_of(src), collected_at=src["collected_at"])
            continue
        assert r.source_batch_key is not None  # a person reuse always names its source batch
        if r.source_batch_key not in earlier:
            earlier[r.source_batch_key] = _results_by_row(engine, r.source_batch_key)
        found = earlier[r.source_batch_key].get(r.source_row_id or "")
        if found is not None:
            by_row[row_id].update(_result_of(found), collected_at=found["collected_at"])
    return out


def _results_by_row(engine: Engine, batch_key: str) -> dict[str, dict]:
    """A batch's stored Leedrush results by row id, timestamps as aware UTC (converted once per
    batch: per reused lead, a lookup and a conversion were most of a 25k collect)."""
    table = read_partition(engine, "leedrush_results", batch_key)
    table["collected_at"] = _utc(table["collected_at"])
    return {str(k): v for k, v in table.set_index("row_id").to_dict("index").items()}
