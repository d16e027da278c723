"""The registry of lead batches and of the file versions the landing sensor has seen.

Both live in the warehouse, not in the sensor cursor: a cursor is stored with every tick record,
so one that listed every file ever seen would grow the instance database by gigabytes (design
notes). The cursor only holds files seen once and not yet stable.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, text

from lead_assets.warehouse.engine import write_transaction


@dataclass(frozen=True)
class LeadBatch:
    """One lead batch (one dynamic partition)."""

    batch_key: str
    source: str
    origin: str
    file_id: str | None
    row_start: int | None
    row_end: int | None
    rows_expected: int | None
    state: str
    detail: str | None = None
    #: Times a dead run's work on this batch was started again (part of the next run's key).
    resumes: int = 0


def _now() -> datetime:
    return datetime.now(UTC)


def file_version_seen(engine: Engine, path: str, content_hash: str) -> str | None:
    """State of a (path, content hash) already seen, or None for a new version."""
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT state FROM seen_files WHERE path = :p AND content_hash = :h"),
            {"p": path, "h": content_hash},
        ).first()
    return row[0] if row else None


def content_seen_anywhere(engine: Engine, content_hash: str) -> str | None:
    """A path under which this exact content was already registered, if any."""
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT path FROM seen_files WHERE content_hash = :h AND state = 'registered'"),
            {"h": content_hash},
        ).first()
    return row[0] if row else None


def record_file_version(
    engine: Engine,
    *,
    path: str,
    content_hash: str,
    size_bytes: int,
    mtime_ns: int,
    state: str,
    reason: str | None,
    batches: Sequence[LeadBatch],
) -> None:
    """Record a file version and its batches in one transaction (idempotent on re-run)."""
    now = _now()
    with write_transaction(engine) as conn:
        conn.execute(
            text("DELETE FROM seen_files WHERE path = :p AND content_hash = :h"),
            {"p": path, "h": content_hash},
        )
        conn.execute(
            text(
                "INSERT INTO seen_files (path, content_hash, size_bytes, mtime_ns, state, reason,"
                " batch_keys, first_seen_at, updated_at) VALUES (:p, :h, :s, :m, :st, :r, :b, :t, :t)"
            ),
            {
                "p": path,
                "h": content_hash,
                "s": size_bytes,
                "m": mtime_ns,
                "st": state,
                "r": reason,
                "b": json.dumps([b.batch_key for b in batches]),
                "t": now,
            },
        )
        for batch in batches:
            conn.execute(
                text("DELETE FROM lead_batches WHERE batch_key = :k"), {"k": batch.batch_key}
            )
            _insert_batch(conn, batch, now)


def _insert_batch(conn: Connection, batch: LeadBatch, now: datetime) -> None:
    conn.execute(
        text(
            "INSERT INTO lead_batches (batch_key, source, origin, file_id, row_start, row_end,"
            " rows_expected, state, detail, created_at, updated_at) VALUES (:k, :src, :o,"
            " :f, :rs, :re, :n, :st, :d, :t, :t)"
        ),
        {
            "k": batch.batch_key,
            "src": batch.source,
            "o": batch.origin,
            "f": batch.file_id,
            "rs": batch.row_start,
            "re": batch.row_end,
            "n": batch.rows_expected,
            "st": batch.state,
            "d": batch.detail,
            "t": now,
        },
    )


def register_batches(engine: Engine, batches: Sequence[LeadBatch]) -> None:
    """Insert batches that do not come from a file (e.g. an ICP pull); existing keys are kept."""
    now = _now()
    with write_transaction(engine) as conn:
        for batch in batches:
            exists = conn.execute(
                text("SELECT 1 FROM lead_batches WHERE batch_key = :k"), {"k": batch.batch_key}
            ).first()
            if exists:
                continue
            _insert_batch(conn, batch, now)


def get_batch(engine: Engine, batch_key: str) -> LeadBatch:
    """The registered batch; a clear error when the partition was never registered."""
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT batch_key, source, origin, file_id, row_start, row_end, rows_expected, state,"
                " detail, COALESCE(resumes, 0) FROM lead_batches WHERE batch_key = :k"
            ),
            {"k": batch_key},
        ).first()
    if row is None:
        raise LookupError(
            f"lead batch {batch_key!r} is not registered in the warehouse; partitions are created by "
            "the file-drop or Generect counts sensor (or `lead-assets run`), not by hand"
        )
    return LeadBatch(*row)


def batches_in_state(engine: Engine, *states: str) -> list[LeadBatch]:
    """Batches whose state is one of ``states``, oldest first."""
    params = {f"s{i}": s for i, s in enumerate(states)}
    placeholders = ", ".join(f":s{i}" for i in range(len(states)))
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT batch_key, source, origin, file_id, row_start, row_end, rows_expected, state,"
                f" detail, COALESCE(resumes, 0) FROM lead_batches WHERE state IN ({placeholders})"
                " ORDER BY batch_key"
            ),
            params,
        ).all()
    return [LeadBatch(*r) for r in rows]


def load_observations(engine: Engine) -> dict[str, tuple[int, int]]:
    """Landing files seen on earlier passes but not yet complete: path -> (size, mtime_ns)."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT path, size_bytes, mtime_ns FROM landing_observations")
        ).all()
    return {path: (int(size), int(mtime)) for path, size, mtime in rows}


def save_observations(engine: Engine, observations: dict[str, tuple[int, int]]) -> None:
    """Replace the stored observations with ``observations`` (only what changed is written)."""
    current = load_observations(engine)
    gone = [p for p in current if p not in observations]
    changed = {p: o for p, o in observations.items() if current.get(p) != o}
    if not gone and not changed:
        return
    now = _now()
    with write_transaction(engine) as conn:
        for path in [*gone, *changed]:
            conn.execute(text("DELETE FROM landing_observations WHERE path = :p"), {"p": path})
        if changed:
            conn.execute(
                text(
                    "INSERT INTO landing_observations (path, size_bytes, mtime_ns, observed_at)"
                    " VALUES (:p, :s, :m, :t)"
                ),
                [{"p": p, "s": s, "m": m, "t": now} for p, (s, m) in changed.items()],
            )


#: A batch a blocking check stopped: nothing plans, resumes or exports it until someone re-runs
#: the failed step from the UI (which moves it on again).
BLOCKED = "blocked"


def block_batch(engine: Engine, batch_key: str, check: str, sentence: str) -> None:
    """Record that the blocking check ``check`` stopped the batch, and why (no lead data: the
    check's sentence holds figures only)."""
    set_batch_state(engine, batch_key, BLOCKED, f"blocked by {check}: {sentence}")


def set_batch_state(engine: Engine, batch_key: str, state: str, detail: str | None = None) -> None:
    """Move a batch to ``state`` (registered, ingested, submitted, waiting_credits, done, failed)."""
    with write_transaction(engine) as conn:
        conn.execute(
            text(
                "UPDATE lead_batches SET state = :s, detail = :d, updated_at = :t WHERE batch_key = :k"
            ),
            {"s": state, "d": detail, "t": _now(), "k": batch_key},
        )
