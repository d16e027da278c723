"""Entity resolution behind deduplicated_accounts, incremental: a batch's leads are resolved
together with the already-resolved leads they could link to (same email, phone, LinkedIn,
vendor id or organization) and the whole clusters those belong to, so a new lead joins an
existing cluster without re-clustering the warehouse. The explicit ``recluster_job`` re-resolves
everything; a test checks both give the same clusters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import Connection, Engine, text

from lead_assets.core.matching.resolve import build_accounts, name_blocks, resolve, survivors
from lead_assets.warehouse.engine import write_transaction
from lead_assets.warehouse.partitions import bulk_insert, frame_rows


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
    from lead_assets.core.missing import none_for_missing

    return none_for_missing(frame.drop(columns=["e_industry", "e_headcount"]))


def _all_ok_leads(engine: Engine) -> pd.DataFrame:
    with engine.connect() as conn:
        return _leads(conn)


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


def _assigned(engine: Engine) -> pd.DataFrame:
    with engine.connect() as conn:
        frame = pd.read_sql(
            text("SELECT batch_key, row_id, lead_cluster_id FROM lead_clusters"), conn
        )
    frame["key"] = frame["batch_key"] + "|" + frame["row_id"]
    return frame[["key", "lead_cluster_id"]]


def neighbourhood(frame: pd.DataFrame, batch_key: str, assigned: pd.DataFrame) -> pd.DataFrame:
    """The batch's leads plus every resolved lead that could link to one of them (sharing an
    exact key or an organization), with their whole clusters, since the guards need every member.

    The in-memory form of what :func:`resolve_batch` asks the warehouse for (kept for callers
    that hold every lead in a frame already)."""
    is_new = frame["batch_key"] == batch_key
    new, old = frame[is_new], frame[~is_new]
    touched = pd.Series(False, index=old.index)
    for column in KEY_COLUMNS:
        values = set(new[column].dropna().astype(str)) - {""}
        if values:
            touched |= old[column].astype(str).isin(values)
    cluster_ids = set(
        assigned.loc[assigned["key"].isin(old.loc[touched, "key"]), "lead_cluster_id"]
    )
    members = set(assigned.loc[assigned["lead_cluster_id"].isin(cluster_ids), "key"])
    touched |= old["key"].isin(members)
    return pd.concat([new, old[touched]])


def _accounts(frame: pd.DataFrame, clusters: pd.DataFrame) -> pd.DataFrame:
    """deduplicated_accounts rows (the one account builder, shared with ``lead-assets dedupe``)."""
    return build_accounts(frame, clusters)


_PROBE = "_resolve_probe"


def _probe(conn: Connection, rows: list[tuple[str, str]]) -> None:
    """(kind, value) pairs into a temporary probe table that the warehouse joins against, so a
    batch's neighbourhood is found by index lookups, not by reading every lead."""
    conn.execute(text(f"DELETE FROM {_PROBE}"))
    if rows:
        bulk_insert(conn, _PROBE, ["kind", "value"], rows)


def _neighbour_keys(conn: Connection, batch: pd.DataFrame, batch_key: str) -> set[tuple[str, str]]:
    """(batch_key, row_id) of every resolved lead the batch could link to, and of every member of
    their clusters (and of the clusters the batch's rows were in before, on a re-run)."""
    probe = [
        (column, str(v))
        for column in KEY_COLUMNS
        for v in set(batch[column].dropna().astype(str)) - {""}
    ]
    _probe(conn, probe)
    found: set[tuple[str, str]] = set()
    for column in KEY_COLUMNS:
        if column in ORG_COLUMNS:
            continue
        rows = conn.execute(
            text(
                f"SELECT s.batch_key, s.row_id FROM {_PROBE} p CROSS JOIN standardized_leads s"
                f" WHERE p.kind = :kind AND s.{column} = p.value AND s.status = 'ok'"
            ),
            {"kind": column},
        ).all()
        found.update((b, r) for b, r in rows)
    # At an organization only the leads in one of the batch's name blocks can be compared with
    # it: read names narrowly, keep those, rather than everybody at every organization touched.
    wanted = set().union(*name_blocks(batch)) if len(batch) else set()
    for column in ORG_COLUMNS:
        at_org = pd.read_sql(
            text(
                "SELECT s.batch_key, s.row_id, s.first_name, s.last_name, s.domain, s.company_key"
                f" FROM {_PROBE} p CROSS JOIN standardized_leads s"
                f" WHERE p.kind = :kind AND s.{column} = p.value AND s.status = 'ok'"
            ),
            conn,
            params={"kind": column},
        )
        if len(at_org):
            keep = [bool(blocks & wanted) for blocks in name_blocks(at_org)]
            hits = at_org[keep]
            found.update(zip(hits["batch_key"], hits["row_id"], strict=True))
    found.update(zip(batch["batch_key"], batch["row_id"], strict=True))
    _probe(conn, [(b, r) for b, r in found])
    clusters = conn.execute(
        text(
            f"SELECT DISTINCT c.lead_cluster_id FROM {_PROBE} p CROSS JOIN lead_clusters c"
            " WHERE p.kind = c.batch_key AND p.value = c.row_id"
        )
    ).all()
    _probe(conn, [("c", c) for (c,) in clusters])
    members = conn.execute(
        text(
            f"SELECT c.batch_key, c.row_id FROM {_PROBE} p CROSS JOIN lead_clusters c"
            " WHERE p.kind = 'c' AND p.value = c.lead_cluster_id"
        )
    ).all()
    found.update((b, r) for b, r in members)
    return {(b, r) for b, r in found if b != batch_key}


def _create_probe(conn: Connection) -> None:
    # Session-local; dropped at the end of the pass (and by a rollback, which undoes its DDL).
    conn.execute(text(f"CREATE TEMPORARY TABLE IF NOT EXISTS {_PROBE} (kind TEXT, value TEXT)"))
    conn.execute(text(f"CREATE INDEX IF NOT EXISTS ix{_PROBE} ON {_PROBE} (kind, value)"))
    conn.execute(text(f"DELETE FROM {_PROBE}"))


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


def resolve_batch(engine: Engine, batch_key: str | None) -> ResolveStats:
    """Resolve the batch's leads against everything already resolved and store clusters,
    survivors and accounts in one transaction. ``batch_key=None`` re-clusters the whole warehouse.

    Incremental: only the batch, the resolved leads it could link to (found by index lookups in
    the warehouse) and their whole clusters are read and re-clustered; only their survivors and
    the accounts they belong to are rewritten. The cost grows with the batch and its
    neighbourhood, not with the warehouse."""
    now = datetime.now(UTC)
    with write_transaction(engine) as conn:
        sqlite = conn.dialect.name == "sqlite"
        _create_probe(conn)
        if batch_key is None:
            subset = _leads(conn)
        else:
            batch = _leads(conn, where="s.batch_key = :b", params={"b": batch_key})
            if batch.empty:
                # A batch without one ok lead (every row rejected) has nothing to resolve; what
                # was resolved before stays as it is.
                conn.execute(text(f"DROP TABLE IF EXISTS {_PROBE}"))
                return _unchanged_stats(conn)
            neighbours = _neighbour_keys(conn, batch, batch_key)
            _probe(conn, sorted(neighbours))
            old = _leads(
                conn,
                probed=True,
            )
            subset = pd.concat([batch, old], ignore_index=True)
        result = resolve(subset)
        fresh = result.clusters.merge(subset[["key", "batch_key", "row_id"]], on="key").assign(
            updated_at=now
        )
        # What these rows were before: their old clusters' survivors and their old accounts go.
        _probe(conn, list(zip(fresh["batch_key"], fresh["row_id"], strict=True)))
        if batch_key is None:
            before = pd.DataFrame(columns=["lead_cluster_id", "account_id"])
        else:
            before = pd.read_sql(
                text(
                    "SELECT c.lead_cluster_id, c.account_id FROM"
                    f" {_PROBE} p CROSS JOIN lead_clusters c"
                    " WHERE p.kind = c.batch_key AND p.value = c.row_id"
                ),
                conn,
            )
        if batch_key is None:
            conn.execute(text("DELETE FROM lead_clusters"))
            conn.execute(text("DELETE FROM lead_survivors"))
        else:
            conn.execute(
                text(
                    "DELETE FROM lead_clusters WHERE (batch_key, row_id) IN"
                    f" (SELECT kind, value FROM {_PROBE})"
                )
            )
        golden = survivors(subset, result.clusters).assign(updated_at=now)
        if batch_key is not None:
            stale = set(before["lead_cluster_id"].dropna()) | set(golden["lead_cluster_id"])
            _probe(conn, [("c", c) for c in sorted(stale)])
            conn.execute(
                text(
                    f"DELETE FROM lead_survivors WHERE lead_cluster_id IN (SELECT value FROM {_PROBE})"
                )
            )
        if len(golden):
            bulk_insert(
                conn,
                "lead_survivors",
                list(golden.columns),
                frame_rows(golden, list(golden.columns), datetimes_as_text=sqlite),
            )
        bulk_insert(
            conn,
            "lead_clusters",
            CLUSTER_COLUMNS,
            frame_rows(fresh, CLUSTER_COLUMNS, datetimes_as_text=sqlite),
        )
        # Accounts: rebuilt for the accounts these rows belong to now or belonged to before, from
        # all of those accounts' leads (one builder for the asset and the command).
        if batch_key is None:
            accounts = build_accounts(subset, result.clusters).assign(updated_at=now)
            conn.execute(text("DELETE FROM deduplicated_accounts"))
        else:
            touched = sorted(set(before["account_id"].dropna()) | set(fresh["account_id"].dropna()))
            _probe(conn, [("a", a) for a in touched])
            conn.execute(
                text(
                    f"DELETE FROM deduplicated_accounts WHERE account_id IN (SELECT value FROM {_PROBE})"
                )
            )
            members = pd.read_sql(
                text(
                    "SELECT c.batch_key, c.row_id, c.lead_cluster_id, c.account_id FROM"
                    f" {_PROBE} p CROSS JOIN lead_clusters c"
                    " WHERE p.kind = 'a' AND p.value = c.account_id"
                ),
                conn,
            )
            members["key"] = members["batch_key"] + "|" + members["row_id"]
            known = subset[subset["key"].isin(members["key"])]
            missing = members[~members["key"].isin(known["key"])]
            if len(missing):
                _probe(conn, list(zip(missing["batch_key"], missing["row_id"], strict=True)))
                extra = _leads(
                    conn,
                    probed=True,
                )
                known = pd.concat([known, extra], ignore_index=True)
            accounts = build_accounts(known, members).assign(updated_at=now)
        if len(accounts):
            bulk_insert(
                conn,
                "deduplicated_accounts",
                list(accounts.columns),
                frame_rows(accounts, list(accounts.columns), datetimes_as_text=sqlite),
            )
        totals = conn.execute(
            text("SELECT COUNT(*), COUNT(DISTINCT lead_cluster_id) FROM lead_clusters")
        ).one()
        n_accounts = conn.execute(text("SELECT COUNT(*) FROM deduplicated_accounts")).scalar_one()
        conn.execute(text(f"DROP TABLE IF EXISTS {_PROBE}"))
    mine = fresh[fresh["batch_key"] == batch_key] if batch_key else fresh
    sizes = fresh["lead_cluster_id"].value_counts()
    return ResolveStats(
        leads=int(totals[0]),
        clusters=int(totals[1]),
        accounts=int(n_accounts),
        batch_leads=len(mine),
        batch_duplicates=int(mine["lead_cluster_id"].map(sizes).gt(1).sum()),
    )
