"""Entity resolution behind deduplicated_accounts, incremental: a batch's leads are resolved
together with the already-resolved leads they could link to (same email, phone, LinkedIn,
vendor id or organization) and the whole clusters those belong to, so a new lead joins an
existing cluster without re-clustering the warehouse. The explicit ``recluster_job`` re-resolves
everything; a test checks both give the same clusters."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, text

from lead_assets.core.matching.resolve import (
    ACCOUNT_FIELDS,
    account_members,
    account_votes,
    accounts_from_votes,
    cluster,
    name_blocks,
    survivors,
)
from lead_assets.core.missing import none_for_missing
from lead_assets.warehouse.engine import write_transaction
from lead_assets.warehouse.partition_writes import bulk_insert, frame_rows

log = logging.getLogger(__name__)


class _Laps:
    """Seconds per stage of one pass, logged at DEBUG: where a slow batch spends its time."""

    def __init__(self, batch_key: str | None) -> None:
        self.batch_key = batch_key
        self.start = self.last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def __call__(self, stage: str) -> None:
        now = time.perf_counter()
        self.laps[stage] = round(now - self.last, 3)
        self.last = now

    def done(self, **sizes: int) -> None:
        total = round(time.perf_counter() - self.start, 3)
        log.debug("resolve_batch %s: %ss %s %s", self.batch_key, total, self.laps, sizes)


@dataclass
class ResolveStats:
    """Figures of one resolution pass."""

    leads: int
    clusters: int
    accounts: int
    batch_leads: int
    batch_duplicates: int

    def summary(self) -> dict[str, object]:
        """Numbers for the UI."""
        return {
            "leads_resolved": self.leads,
            "lead_clusters": self.clusters,
            "accounts": self.accounts,
            "batch_leads": self.batch_leads,
            "batch_leads_in_existing_or_shared_clusters": self.batch_duplicates,
            "duplicate_rate": round(1 - self.clusters / self.leads, 4) if self.leads else 0.0,
        }


_LEAD_FIELDS = (
    "SELECT s.batch_key, s.row_id, s.source, s.first_name, s.last_name, s.email_match_key,"
    " s.email_is_role, s.email_is_free, s.phone_e164, s.phone_type, s.linkedin_url,"
    " s.vendor_lead_id, s.company_key, s.domain, s.company_name, s.industry, s.headcount_bucket,"
    " s.country, s.title_normalized,"
    " e.industry AS e_industry, e.headcount_bucket AS e_headcount"
)
_ENRICHED = "LEFT JOIN enriched_leads e ON e.batch_key = s.batch_key AND e.row_id = s.row_id"


def _leads(
    conn: Connection, *, probed: bool = False, where: str = "", params: dict | None = None
) -> pd.DataFrame:
    """Ok leads (with enrichment's industry and headcount preferred): all of them, those matching
    ``where``, or (``probed``) those whose (batch_key, row_id) is in the probe table."""
    if probed:
        # Probe first (SQLite keeps CROSS JOIN order): primary-key lookups, not a table scan.
        source = f"FROM {_PROBE} p CROSS JOIN standardized_leads s {_ENRICHED}"
        where = "p.kind = s.batch_key AND p.value = s.row_id" + (f" AND {where}" if where else "")
    else:
        source = f"FROM standardized_leads s {_ENRICHED}"
    sql = f"{_LEAD_FIELDS} {source} WHERE s.status = 'ok' {('AND ' + where) if where else ''}"
    frame = pd.read_sql(text(sql), conn, params=params or {})
    frame["industry"] = frame["e_industry"].where(frame["e_industry"].notna(), frame["industry"])
    frame["headcount_bucket"] = frame["e_headcount"].where(
        frame["e_headcount"].notna(), frame["headcount_bucket"]
    )
    frame["key"] = frame["batch_key"] + "|" + frame["row_id"]
    return none_for_missing(frame.drop(columns=["e_industry", "e_headcount"]))


def recluster_all(engine: Engine) -> ResolveStats:
    """Resolve every ok lead and rewrite lead_clusters and deduplicated_accounts."""
    return resolve_batch(engine, None)


KEY_COLUMNS = (
    "email_match_key",
    "linkedin_url",
    "vendor_lead_id",
    "phone_e164",
    "domain",
    "company_key",
)
ORG_COLUMNS = ("domain", "company_key")
CLUSTER_COLUMNS = [
    "batch_key",
    "row_id",
    "lead_cluster_id",
    "account_id",
    "link_confidence",
    "link_rule",
    "is_survivor",
    "updated_at",
]


_RESOLVED_OR_ENRICHED = (
    "(EXISTS (SELECT 1 FROM lead_clusters c"
    " WHERE c.batch_key = s.batch_key AND c.row_id = s.row_id)"
    " OR EXISTS (SELECT 1 FROM generect_enrichment g"
    " WHERE g.batch_key = s.batch_key AND g.row_id = s.row_id"
    " AND g.status IN ('enriched', 'skipped')))"
)


def related_leads(engine: Engine, batch: pd.DataFrame, batch_key: str) -> pd.DataFrame:
    """The stored ok leads of other batches that could link to one of ``batch``'s leads (sharing
    an exact key or an organization) and are resolved or enriched, with their whole clusters,
    since the guards need every member. ``batch`` need not be stored yet (``lead-assets plan``).

    Read by index lookups, so the cost grows with the batch's organizations, not with the
    warehouse. Wider than :func:`resolve_batch`'s neighbourhood (everybody at an organization,
    not only the batch's name blocks there, and leads enriched but not resolved yet: an older
    batch enriched but not collected is already a source the reuse plan must see). Leads of
    batches neither resolved nor enriched (others waiting for credits) are left out: they are
    no source, and deduplicated_accounts will not see them either."""
    with engine.connect() as conn, conn.begin():
        _create_probe(conn)
        try:
            _probe(conn, _values_of(batch, KEY_COLUMNS))
            found = _with_their_clusters(
                conn, _leads_with_probed(conn, KEY_COLUMNS, also=_RESOLVED_OR_ENRICHED)
            )
            _probe(conn, sorted((b, r) for b, r in found if b != batch_key))
            related = _leads(conn, probed=True)
        finally:
            _drop_temporary(conn)
    return related.sort_values("key", kind="stable").reset_index(drop=True)


_PROBE = "_resolve_probe"
BLOCK_COLUMNS = ["batch_key", "row_id", "block"]


def _probe(conn: Connection, rows: list[tuple[str, str]]) -> None:
    """(kind, value) pairs into a temporary probe table that the warehouse joins against, so a
    batch's neighbourhood is found by index lookups, not by reading every lead."""
    conn.execute(text(f"DELETE FROM {_PROBE}"))
    if rows:
        bulk_insert(conn, _PROBE, ["kind", "value"], rows)
    if conn.dialect.name == "postgresql":
        # A temporary table has no statistics until analyzed: without them the planner guesses
        # its size and may scan a warehouse table whole (hash join) for a few probe rows.
        conn.execute(text(f"ANALYZE {_PROBE}"))


def _delete_probed(conn: Connection, table: str) -> None:
    """Delete ``table``'s rows whose (batch_key, row_id) is in the probe table."""
    if conn.dialect.name == "postgresql":
        sql = (
            f"DELETE FROM {table} t USING {_PROBE} p"
            " WHERE t.batch_key = p.kind AND t.row_id = p.value"
        )
    else:
        sql = f"DELETE FROM {table} WHERE (batch_key, row_id) IN (SELECT kind, value FROM {_PROBE})"
    conn.execute(text(sql))


def _delete_probed_values(
    conn: Connection, table: str, column: str, kind: str, *, also: str = ""
) -> None:
    """Delete ``table``'s rows whose ``column`` is a probed value of ``kind`` (and ``also``).
    Written as a join from the probe on PostgreSQL, where it can be planned as index lookups."""
    extra = f" AND {also}" if also else ""
    if conn.dialect.name == "postgresql":
        sql = (
            f"DELETE FROM {table} t USING {_PROBE} p"
            f" WHERE p.kind = :kind AND t.{column} = p.value{extra}"
        )
    else:
        sql = (
            f"DELETE FROM {table} WHERE {column} IN"
            f" (SELECT value FROM {_PROBE} WHERE kind = :kind){extra}"
        )
    conn.execute(text(sql), {"kind": kind})


def _probe_keys(conn: Connection, frame: pd.DataFrame) -> None:
    """The (batch_key, row_id) of ``frame``'s rows into the probe table."""
    _probe(conn, list(zip(frame["batch_key"], frame["row_id"], strict=True)))


def block_rows(frame: pd.DataFrame) -> list[tuple[str, str, str]]:
    """lead_blocks rows (batch_key, row_id, block) of ``frame``'s leads: their organization-and-name
    blocks exactly as the matcher forms them (:func:`name_blocks`)."""
    return [
        (b, r, block)
        for b, r, blocks in zip(
            frame["batch_key"], frame["row_id"], name_blocks(frame), strict=True
        )
        for block in sorted(blocks)
    ]


def write_blocks(conn: Connection, frame: pd.DataFrame) -> int:
    """Insert the blocks of ``frame``'s leads (batch_key, row_id, first_name, last_name, domain,
    company_key) into lead_blocks; the caller has removed their old blocks. Returns rows written."""
    rows = block_rows(frame)
    return bulk_insert(conn, "lead_blocks", BLOCK_COLUMNS, rows) if rows else 0


MEMBER_COLUMNS = ["batch_key", "row_id", "account_id", "lead_cluster_id", *ACCOUNT_FIELDS]
VOTE_COLUMNS = ["account_id", "field", "value", "leads"]
_VOTES = "_resolve_votes"


def _members(frame: pd.DataFrame, clusters: pd.DataFrame) -> pd.DataFrame:
    """account_members rows of ``clusters``' leads, their fields taken from ``frame``."""
    members = account_members(frame, clusters)
    members = members.merge(frame[["key", "batch_key", "row_id"]], on="key")
    return members.assign(**{f: None for f in ACCOUNT_FIELDS if f not in members})


def write_account_state(
    conn: Connection, frame: pd.DataFrame, clusters: pd.DataFrame
) -> pd.DataFrame:
    """Insert account_members and account_votes for ``clusters``' leads (all of every account
    they are in; the caller has emptied both tables) and return those accounts' rows."""
    members = _members(frame, clusters)
    votes = account_votes(members)
    _insert(conn, "account_members", members, MEMBER_COLUMNS)
    _insert(conn, "account_votes", votes, VOTE_COLUMNS)
    lead_counts = members.groupby("account_id")["lead_cluster_id"].nunique()
    return accounts_from_votes(votes, lead_counts)


def _backfill(conn: Connection) -> None:
    """A warehouse resolved before migration 0014 has clusters but no blocks and no votes:
    compute them once from every clustered lead, or the incremental pass would miss neighbours
    at organizations and count accounts from nothing. (A warehouse where no clustered lead has a
    block or an account at all repeats this each pass; it is then small.)"""
    if conn.execute(text("SELECT 1 FROM lead_clusters LIMIT 1")).first() is None:
        return
    blocks = conn.execute(text("SELECT 1 FROM lead_blocks LIMIT 1")).first()
    members = conn.execute(text("SELECT 1 FROM account_members LIMIT 1")).first()
    if blocks is not None and members is not None:
        return
    frame = none_for_missing(
        pd.read_sql(
            text(
                "SELECT s.batch_key, s.row_id, s.first_name, s.last_name, s.domain,"
                " s.company_key, s.company_name, s.country,"
                " COALESCE(e.industry, s.industry) AS industry,"
                " COALESCE(e.headcount_bucket, s.headcount_bucket) AS headcount_bucket,"
                " c.lead_cluster_id, c.account_id"
                " FROM lead_clusters c JOIN standardized_leads s"
                " ON s.batch_key = c.batch_key AND s.row_id = c.row_id"
                f" {_ENRICHED} WHERE s.status = 'ok'"
            ),
            conn,
        )
    )
    frame["key"] = frame["batch_key"] + "|" + frame["row_id"]
    for table in ("lead_blocks", "account_members", "account_votes"):
        conn.execute(text(f"DELETE FROM {table}"))
    write_blocks(conn, frame)
    write_account_state(conn, frame, frame)


def _upsert_votes(conn: Connection, delta: pd.DataFrame) -> None:
    """Add ``delta`` (account_id, field, value, leads; negative where leads left) to
    account_votes: loaded into a temporary table, then merged in one statement."""
    conn.execute(text(f"DELETE FROM {_VOTES}"))
    if delta.empty:
        return
    _insert(conn, _VOTES, delta, VOTE_COLUMNS)
    # "WHERE true": SQLite's parser needs it between INSERT ... SELECT and ON CONFLICT.
    conn.execute(
        text(
            f"INSERT INTO account_votes ({', '.join(VOTE_COLUMNS)})"
            f" SELECT {', '.join(VOTE_COLUMNS)} FROM {_VOTES} WHERE true"
            " ON CONFLICT (account_id, field, value)"
            " DO UPDATE SET leads = account_votes.leads + excluded.leads"
        )
    )


def _rebuild_accounts(conn: Connection, subset: pd.DataFrame, moved: pd.DataFrame) -> pd.DataFrame:
    """Apply the moved leads' votes (the new ones in, the ones they gave before out) and rebuild
    only the accounts whose votes or people changed, from their stored votes: the cost follows
    the moved leads, not the size of their accounts."""
    _probe_keys(conn, moved)
    old = none_for_missing(
        pd.read_sql(
            text(
                f"SELECT {', '.join('m.' + c for c in MEMBER_COLUMNS)}"
                f" FROM {_PROBE} p CROSS JOIN account_members m"
                " WHERE p.kind = m.batch_key AND p.value = m.row_id"
            ),
            conn,
        )
    )
    _delete_probed(conn, "account_members")
    new = _members(subset, moved)
    _insert(conn, "account_members", new, MEMBER_COLUMNS)
    delta = pd.concat(
        [account_votes(new), account_votes(old).assign(leads=lambda v: -v["leads"])],
        ignore_index=True,
    )
    delta = delta.groupby(["account_id", "field", "value"], as_index=False)["leads"].sum()
    delta = delta[delta["leads"] != 0]
    # An account's people change where a lead joined or left one of its clusters.
    pairs = set(zip(old["account_id"], old["lead_cluster_id"], strict=True)) ^ set(
        zip(new["account_id"], new["lead_cluster_id"], strict=True)
    )
    touched = set(delta["account_id"]) | {account for account, _cluster in pairs}
    _upsert_votes(conn, delta)
    _probe(conn, [("a", a) for a in sorted(touched)])
    _delete_probed_values(conn, "account_votes", "account_id", "a", also="leads <= 0")
    votes = pd.read_sql(
        text(
            f"SELECT {', '.join('v.' + c for c in VOTE_COLUMNS)}"
            f" FROM {_PROBE} p CROSS JOIN account_votes v"
            " WHERE p.kind = 'a' AND v.account_id = p.value"
        ),
        conn,
    )
    people = pd.read_sql(
        text(
            "SELECT m.account_id, COUNT(DISTINCT m.lead_cluster_id) AS n"
            f" FROM {_PROBE} p CROSS JOIN account_members m"
            " WHERE p.kind = 'a' AND m.account_id = p.value GROUP BY m.account_id"
        ),
        conn,
    )
    _delete_probed_values(conn, "deduplicated_accounts", "account_id", "a")
    # An account left without people has no votes and no row.
    return accounts_from_votes(votes, people.set_index("account_id")["n"])


_EXACT_COLUMNS = tuple(c for c in KEY_COLUMNS if c not in ORG_COLUMNS)


def _neighbour_keys(conn: Connection, batch: pd.DataFrame, batch_key: str) -> set[tuple[str, str]]:
    """(batch_key, row_id) of every resolved lead the batch could link to, and of every member of
    their clusters (and of the clusters the batch's rows were in before, on a re-run).

    Could link to = shares an exact key (email, LinkedIn, vendor id, phone; indexed columns of
    standardized_leads) or one of the batch's organization-and-name blocks (lead_blocks): the
    matcher compares nothing else, so nothing else is read, however large the organizations."""
    probe = _values_of(batch, _EXACT_COLUMNS)
    probe += [("block", b) for b in sorted(set().union(*name_blocks(batch)))]
    _probe(conn, probe)
    found = _leads_with_probed(conn, _EXACT_COLUMNS)
    rows = conn.execute(
        text(
            f"SELECT b.batch_key, b.row_id FROM {_PROBE} p CROSS JOIN lead_blocks b"
            " WHERE p.kind = 'block' AND b.block = p.value"
        )
    ).all()
    found.update((b, r) for b, r in rows)
    found.update(zip(batch["batch_key"], batch["row_id"], strict=True))
    found = _with_their_clusters(conn, found)
    return {(b, r) for b, r in found if b != batch_key}


def _values_of(batch: pd.DataFrame, columns: tuple[str, ...]) -> list[tuple[str, str]]:
    """Probe rows (column, value) of the batch's distinct non-empty values in ``columns``."""
    return [
        (column, str(v))
        for column in columns
        if column in batch
        for v in set(batch[column].dropna().astype(str)) - {""}
    ]


def _leads_with_probed(
    conn: Connection, columns: tuple[str, ...], *, also: str = ""
) -> set[tuple[str, str]]:
    """(batch_key, row_id) of the ok leads whose value in one of ``columns`` is in the probe
    table under that column's name (and that meet ``also``, SQL on ``s``)."""
    extra = f" AND {also}" if also else ""
    found: set[tuple[str, str]] = set()
    for column in columns:
        rows = conn.execute(
            text(
                f"SELECT s.batch_key, s.row_id FROM {_PROBE} p CROSS JOIN standardized_leads s"
                f" WHERE p.kind = :kind AND s.{column} = p.value AND s.status = 'ok'{extra}"
            ),
            {"kind": column},
        ).all()
        found.update((b, r) for b, r in rows)
    return found


def _with_their_clusters(conn: Connection, found: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """``found`` and every member of the clusters those leads are in (the probe table is reused)."""
    _probe(conn, sorted(found))
    clusters = conn.execute(
        text(
            f"SELECT DISTINCT c.lead_cluster_id FROM {_PROBE} p CROSS JOIN lead_clusters c"
            " WHERE p.kind = c.batch_key AND p.value = c.row_id"
        )
    ).all()
    return found | _cluster_members(conn, [c for (c,) in clusters])


def _cluster_members(conn: Connection, cluster_ids: list[str]) -> set[tuple[str, str]]:
    """(batch_key, row_id) of every member of these clusters (the probe table is reused)."""
    _probe(conn, [("c", c) for c in cluster_ids])
    rows = conn.execute(
        text(
            f"SELECT c.batch_key, c.row_id FROM {_PROBE} p CROSS JOIN lead_clusters c"
            " WHERE p.kind = 'c' AND p.value = c.lead_cluster_id"
        )
    ).all()
    return {(b, r) for b, r in rows}


def incremental_drift(engine: Engine, *, sample_clusters: int = 500, seed: int = 0) -> float:
    """How far the stored clusters have drifted from what a full re-cluster would decide, as the
    share of sampled leads whose cluster would change.

    The incremental path decides each batch against the neighbourhood it could see then; later
    batches can make another decision right (a lead that bridges two clusters, a guard that
    would now refuse a merge). A sample of stored clusters is read with the same neighbourhood
    the incremental path reads (every lead the matcher could compare them with, and whole
    clusters), resolved afresh, and each sampled lead's co-members compared with the stored
    ones. Nightly maintenance re-clusters when this passes ``LEAD_ASSETS_RECLUSTER_DRIFT``."""
    import random

    with write_transaction(engine) as conn:
        ids = [r[0] for r in conn.execute(text("SELECT lead_cluster_id FROM lead_survivors"))]
        if not ids:
            return 0.0
        picked = random.Random(seed).sample(sorted(ids), min(sample_clusters, len(ids)))
        _create_probe(conn)
        seeds = _cluster_members(conn, picked)
        _probe(conn, sorted(seeds))
        sampled = _leads(conn, probed=True)
        wider = _neighbour_keys(conn, sampled, "") | seeds
        _probe(conn, sorted(wider))
        subset = _leads(conn, probed=True).sort_values("key", kind="stable")
        stored = _stored_links(conn)[["key", "lead_cluster_id"]]
        _drop_temporary(conn)
    fresh = cluster(subset.reset_index(drop=True))[["key", "lead_cluster_id"]]
    both = fresh.merge(stored, on="key", suffixes=("_fresh", "_stored"))
    # A lead agrees when the same leads share its cluster both ways (ids are not comparable).
    groups = {
        side: both.groupby(f"lead_cluster_id_{side}")["key"].transform(
            lambda k: "\x1f".join(sorted(k))
        )
        for side in ("fresh", "stored")
    }
    mine = both["key"].isin(sampled["key"])
    changed = (groups["fresh"] != groups["stored"])[mine]
    return float(changed.mean()) if len(changed) else 0.0


def _create_probe(conn: Connection) -> None:
    # Session-local; dropped at the end of the pass (and by a rollback, which undoes its DDL).
    conn.execute(text(f"CREATE TEMPORARY TABLE IF NOT EXISTS {_PROBE} (kind TEXT, value TEXT)"))
    conn.execute(text(f"CREATE INDEX IF NOT EXISTS ix{_PROBE} ON {_PROBE} (kind, value)"))
    conn.execute(text(f"DELETE FROM {_PROBE}"))
    conn.execute(
        text(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {_VOTES}"
            " (account_id TEXT, field TEXT, value TEXT, leads INTEGER)"
        )
    )


def _drop_temporary(conn: Connection) -> None:
    for table in (_PROBE, _VOTES):
        conn.execute(text(f"DROP TABLE IF EXISTS {table}"))


def _unchanged_stats(conn: Connection) -> ResolveStats:
    """The warehouse's figures when a batch adds no lead."""
    known = conn.execute(
        text("SELECT COUNT(*), COUNT(DISTINCT lead_cluster_id) FROM lead_clusters")
    ).one()
    accounts = conn.execute(text("SELECT COUNT(*) FROM deduplicated_accounts")).scalar_one()
    return ResolveStats(
        leads=int(known[0]),
        clusters=int(known[1]),
        accounts=int(accounts),
        batch_leads=0,
        batch_duplicates=0,
    )


def _insert(conn: Connection, table: str, frame: pd.DataFrame, columns: list[str]) -> None:
    if len(frame):
        sqlite = conn.dialect.name == "sqlite"
        bulk_insert(conn, table, columns, frame_rows(frame, columns, datetimes_as_text=sqlite))


# lead_clusters columns compared with what a pass computes: an unchanged row is not rewritten.
_LINK_COLUMNS = ["lead_cluster_id", "account_id", "link_confidence", "link_rule", "is_survivor"]
_RESOLVED_TABLES = (
    "lead_clusters",
    "lead_survivors",
    "lead_blocks",
    "account_members",
    "account_votes",
    "deduplicated_accounts",
)


def _stored_links(conn: Connection) -> pd.DataFrame:
    """The lead_clusters rows of the probed (batch_key, row_id) pairs, keyed like the leads."""
    frame = pd.read_sql(
        text(
            f"SELECT c.batch_key, c.row_id, {', '.join('c.' + c for c in _LINK_COLUMNS)}"
            f" FROM {_PROBE} p CROSS JOIN lead_clusters c"
            " WHERE p.kind = c.batch_key AND p.value = c.row_id"
        ),
        conn,
    )
    frame["key"] = frame["batch_key"] + "|" + frame["row_id"]
    # SQLite stores the flag as 0/1, PostgreSQL as a boolean.
    frame["is_survivor"] = frame["is_survivor"].astype(bool)
    return frame.drop(columns=["batch_key", "row_id"])


def _differs(old: pd.Series, new: pd.Series) -> np.ndarray:
    """Element-wise "not the same value", where two missing values (None, NaN) are the same and a
    missing old value (a row not stored before) differs from any new one."""
    return np.fromiter(
        (
            not (a == b or (_missing(a) and _missing(b)))
            for a, b in zip(old.tolist(), new.tolist(), strict=True)
        ),
        dtype=bool,
        count=len(new),
    )


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def resolve_batch(engine: Engine, batch_key: str | None) -> ResolveStats:
    """Resolve the batch's leads against everything already resolved and store clusters,
    survivors, blocks and accounts in one transaction. ``batch_key=None`` re-clusters the whole
    warehouse.

    Incremental: only the batch, the resolved leads it could link to (found by index lookups in
    the warehouse) and their whole clusters are read and re-clustered; only the survivors of the
    clusters whose membership changed and the accounts those rows belong to are rebuilt. The cost
    grows with the batch and its neighbourhood, not with the warehouse."""
    now = datetime.now(UTC)
    lap = _Laps(batch_key)
    full = batch_key is None
    with write_transaction(engine) as conn:
        _create_probe(conn)
        subset = _read_subset(conn, batch_key, lap)
        if subset is None:
            # A batch without one ok lead (every row rejected) has nothing to resolve; what was
            # resolved before stays as it is.
            _drop_temporary(conn)
            return _unchanged_stats(conn)
        clusters = cluster(subset)
        lap("cluster")
        fresh = clusters.merge(subset[["key", "batch_key", "row_id"]], on="key").assign(
            updated_at=now
        )
        change = _write_clusters(conn, fresh, batch_key)
        lap("clusters_written")
        if full:
            write_blocks(conn, subset)
        else:
            _write_new_blocks(conn, subset, fresh, change, batch_key)
            lap("blocks")
        _write_survivors(conn, subset, fresh, change, now, full=full)
        lap("survivors")
        # Accounts: from votes kept in the warehouse (one account builder for the asset and the
        # command: core.matching.resolve.accounts_from_votes).
        if full:
            accounts = write_account_state(conn, subset, fresh)
        else:
            accounts = _rebuild_accounts(conn, subset, change.moved)
        lap("accounts_built")
        accounts = accounts.assign(updated_at=now)
        _insert(conn, "deduplicated_accounts", accounts, list(accounts.columns))
        lap("accounts_written")
        # One golden record per cluster: counting lead_survivors rows is the number of clusters
        # without a DISTINCT over every cluster row.
        totals = conn.execute(
            text(
                "SELECT (SELECT COUNT(*) FROM lead_clusters), (SELECT COUNT(*) FROM lead_survivors)"
            )
        ).one()
        n_accounts = conn.execute(text("SELECT COUNT(*) FROM deduplicated_accounts")).scalar_one()
        lap("totals")
        _drop_temporary(conn)
    lap("commit")
    lap.done(rows=len(fresh), moved=len(change.moved), rewritten=change.rewritten)
    mine = fresh[fresh["batch_key"] == batch_key] if batch_key else fresh
    sizes = fresh["lead_cluster_id"].value_counts()
    return ResolveStats(
        leads=int(totals[0]),
        clusters=int(totals[1]),
        accounts=int(n_accounts),
        batch_leads=len(mine),
        batch_duplicates=int(mine["lead_cluster_id"].map(sizes).gt(1).sum()),
    )


def _read_subset(conn: Connection, batch_key: str | None, lap: _Laps) -> pd.DataFrame | None:
    """Every ok lead (full), or the batch with the resolved leads it could link to; sorted by
    key. None when the batch has no ok lead."""
    if batch_key is None:
        subset = _leads(conn)
    else:
        _backfill(conn)
        lap("backfill")
        batch = _leads(conn, where="s.batch_key = :b", params={"b": batch_key})
        if batch.empty:
            return None
        lap("batch")
        neighbours = _neighbour_keys(conn, batch, batch_key)
        lap("neighbours")
        batch_keys = set(zip(batch["batch_key"], batch["row_id"], strict=True))
        # One read of batch and neighbours (concatenating two frames costs more than it).
        _probe(conn, sorted(neighbours | batch_keys))
        subset = _leads(conn, probed=True)
    # The matcher breaks ties by row position: the same rows in the same order however they
    # were read, so an incremental pass and a full re-cluster decide alike.
    subset = subset.sort_values("key", kind="stable").reset_index(drop=True)
    lap("read")
    return subset


@dataclass
class _Change:
    """What a pass changed: the rows as they were, which moved (cluster or account), how many
    lead_clusters rows were rewritten."""

    was: pd.DataFrame
    moved_mask: np.ndarray
    moved: pd.DataFrame
    rewritten: int


def _write_clusters(conn: Connection, fresh: pd.DataFrame, batch_key: str | None) -> _Change:
    """Rewrite the lead_clusters rows that differ from what is stored (all of them on a full
    pass)."""
    # What these rows were before (cluster, account, link), so only what changed is written.
    _probe_keys(conn, fresh)
    if batch_key is None:
        before = pd.DataFrame(columns=["key", *_LINK_COLUMNS])
        for table in _RESOLVED_TABLES:
            conn.execute(text(f"DELETE FROM {table}"))
    else:
        before = _stored_links(conn)
    was = fresh[["key"]].merge(before, on="key", how="left")
    in_batch = (fresh["batch_key"] == batch_key).to_numpy()
    # Moved: the batch's rows (their values may be new on a re-run) and rows whose cluster or
    # account changed; only their clusters' survivors and their accounts can differ.
    moved_mask = (
        in_batch
        | _differs(was["lead_cluster_id"], fresh["lead_cluster_id"])
        | _differs(was["account_id"], fresh["account_id"])
    )
    rewrite_mask = moved_mask.copy()
    for column in ("link_confidence", "link_rule", "is_survivor"):
        rewrite_mask |= _differs(was[column], fresh[column])
    rewrite = fresh[rewrite_mask]
    if batch_key is not None:
        _probe_keys(conn, rewrite)
        _delete_probed(conn, "lead_clusters")
    _insert(conn, "lead_clusters", rewrite, CLUSTER_COLUMNS)
    return _Change(was, moved_mask, fresh[moved_mask], len(rewrite))


def _write_new_blocks(
    conn: Connection, subset: pd.DataFrame, fresh: pd.DataFrame, change: _Change, batch_key: str
) -> None:
    """Blocks of the batch's rows and of rows clustered for the first time (a lead of a batch not
    yet resolved, found by an exact key)."""
    in_batch = (fresh["batch_key"] == batch_key).to_numpy()
    first_time = in_batch | change.was["lead_cluster_id"].isna().to_numpy()
    needs = subset[subset["key"].isin(fresh.loc[first_time, "key"])]
    # The batch's own blocks by its key (a range of the primary key); others by probe.
    conn.execute(text("DELETE FROM lead_blocks WHERE batch_key = :b"), {"b": batch_key})
    others = needs[needs["batch_key"] != batch_key]
    if len(others):
        _probe_keys(conn, others)
        _delete_probed(conn, "lead_blocks")
    write_blocks(conn, needs)


def _write_survivors(
    conn: Connection,
    subset: pd.DataFrame,
    fresh: pd.DataFrame,
    change: _Change,
    now: datetime,
    *,
    full: bool,
) -> None:
    """Golden records of every cluster a changed row is in now (all its members are in the
    subset: whole clusters were read); those of the clusters they left go. A cluster a moved
    lead left may live on with its other members: rebuilt as well."""
    left = set(change.was.loc[change.moved_mask, "lead_cluster_id"].dropna())
    rebuilt = set(change.moved["lead_cluster_id"]) | (left & set(fresh["lead_cluster_id"]))
    members = fresh[fresh["lead_cluster_id"].isin(rebuilt)]
    golden = survivors(subset[subset["key"].isin(members["key"])], members).assign(updated_at=now)
    if not full:
        stale = sorted(rebuilt | left)
        _probe(conn, [("c", c) for c in stale])
        _delete_probed_values(conn, "lead_survivors", "lead_cluster_id", "c")
    _insert(conn, "lead_survivors", golden, list(golden.columns))
