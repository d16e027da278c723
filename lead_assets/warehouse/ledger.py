"""The spend ledger and the response cache, in the warehouse.

Every paid call is *reserved* before it is sent (with an estimate), then *settled* with the
vendor's reported charge, *released* when it certainly was not billed, or marked *unknown* when
the outcome cannot be known (a timeout after the request left). Budgets are checked at
reservation time, inside a transaction that serializes concurrent reservers (an advisory lock on
PostgreSQL, an IMMEDIATE transaction on SQLite), so two runs cannot both squeeze under a budget.

The cache answers a repeated request (same vendor, operation and normalized request key) within
its TTL, so a retry, re-run, backfill or re-drop never buys the same answer twice.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import Connection, Engine, text

from lead_assets.clients.errors import AmbiguousChargeError, BudgetExceededError
from lead_assets.clients.spend import SubmittedJob
from lead_assets.warehouse.engine import write_transaction

_PG_BUDGET_LOCK = 0x1EAD_B0D6
#: The job id of a ledger row, as SQL. Migration 0018 moved every job id out of ``detail``; a row
#: written since by a process older than 0018 (a rolling deploy) still has it there only, as
#: ``"<row id>|<job id>"``, and must be found too: a job that is not found is bought again.
JOB_ID_SQL = (
    "COALESCE(job_id, CASE WHEN SUBSTR(detail, 1, LENGTH(id) + 1) = id || '|'"
    " THEN SUBSTR(detail, LENGTH(id) + 2) END)"
)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Budgets:
    """Spending limits, in vendor units. ``None`` means no limit of that kind."""

    usd_per_run: float | None = None
    usd_per_day: float | None = None
    #: Per unit, what may still be spent this run before touching the reserve
    #: (vendor balance minus the configured reserve, read when the run starts).
    available: dict[str, float] = field(default_factory=dict)


@dataclass
class SpendLedger:
    """A :class:`lead_assets.clients.spend.SpendHook` backed by the ``spend_ledger`` table."""

    engine: Engine
    run_id: str | None = None
    batch_key: str | None = None
    budgets: Budgets = field(default_factory=Budgets)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # -- SpendHook -------------------------------------------------------------------------
    def reserve(
        self, *, vendor: str, operation: str, request_key: str, estimate: float, unit: str
    ) -> str:
        """Check budgets and record the intended spend; raise BudgetExceededError to refuse."""
        rid = uuid.uuid4().hex
        now = _now()
        with self._lock, write_transaction(self.engine) as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _PG_BUDGET_LOCK})
            self._check_budgets(conn, unit, estimate, now)
            conn.execute(
                text(
                    "INSERT INTO spend_ledger (id, vendor, operation, request_key, estimate, amount,"
                    " unit, state, run_id, batch_key, detail, created_at, updated_at) VALUES"
                    " (:id, :v, :o, :k, :e, 0, :u, 'reserved', :r, :b, NULL, :t, :t)"
                ),
                {
                    "id": rid,
                    "v": vendor,
                    "o": operation,
                    "k": request_key,
                    "e": estimate,
                    "u": unit,
                    "r": self.run_id,
                    "b": self.batch_key,
                    "t": now,
                },
            )
        return rid

    def settle(self, reservation_id: str, amount: float) -> None:
        """Record the vendor's charge for a reserved call."""
        self._update(reservation_id, "settled", amount=float(amount))

    def release(self, reservation_id: str, reason: str) -> None:
        """The call was certainly not billed."""
        self._update(reservation_id, "released", detail=reason)

    def mark_unknown(self, reservation_id: str, reason: str) -> None:
        """The call may have been billed; keep the estimate counted until reconciled."""
        self._update(reservation_id, "unknown", detail=reason)

    # -- async jobs --------------------------------------------------------------------------
    def mark_submitted(self, reservation_id: str, job_id: str) -> None:
        """An asynchronous paid job was accepted (e.g. a Generect bulk job id): a re-run polls it
        instead of buying it again."""
        with write_transaction(self.engine) as conn:
            conn.execute(
                text(
                    "UPDATE spend_ledger SET state = 'submitted', job_id = :j, updated_at = :t"
                    " WHERE id = :id"
                ),
                {"j": job_id, "t": _now(), "id": reservation_id},
            )

    def open_job(self, vendor: str, operation: str, request_key: str) -> SubmittedJob | None:
        """The submitted, unsettled job for this exact request (the latest), if any."""
        with self.engine.connect() as conn:
            row = conn.execute(
                text(
                    f"SELECT id, {JOB_ID_SQL} FROM spend_ledger WHERE vendor = :v AND"
                    " operation = :o AND request_key = :k AND state = 'submitted'"
                    " ORDER BY created_at DESC"
                ),
                {"v": vendor, "o": operation, "k": request_key},
            ).first()
        if row is None:
            return None
        if row[1] is None:
            # Submitted but no job id to poll (cannot happen with this code): buying again could
            # pay twice, so the call is left ambiguous and reconciliation decides its charge.
            raise AmbiguousChargeError(
                f"submitted job {row[0]} has no job id to poll", vendor=vendor, operation=operation
            )
        return SubmittedJob(row[0], row[1])

    # -- internals ---------------------------------------------------------------------------
    def _update(
        self, rid: str, state: str, *, amount: float | None = None, detail: str | None = None
    ) -> None:
        with write_transaction(self.engine) as conn:
            conn.execute(
                text(
                    "UPDATE spend_ledger SET state = :s, amount = COALESCE(:a, amount),"
                    " detail = COALESCE(:d, detail), updated_at = :t WHERE id = :id"
                ),
                {"s": state, "a": amount, "d": detail, "t": _now(), "id": rid},
            )

    def _check_budgets(self, conn: Connection, unit: str, estimate: float, now: datetime) -> None:
        committed_sql = (
            "SELECT COALESCE(SUM(CASE WHEN state = 'settled' THEN amount ELSE estimate END), 0)"
            " FROM spend_ledger WHERE unit = :u AND state IN ('settled', 'reserved', 'unknown',"
            " 'submitted')"
        )
        b = self.budgets
        run_spent: float | None = None  # this run's committed spend, read once per check
        if self.run_id is not None and (
            unit in b.available or (unit == "usd" and b.usd_per_run is not None)
        ):
            run_spent = conn.execute(
                text(committed_sql + " AND run_id = :r"), {"u": unit, "r": self.run_id}
            ).scalar_one()
        if (
            unit in b.available
            and run_spent is not None
            and run_spent + estimate > b.available[unit] + 1e-9
        ):
            raise BudgetExceededError(
                f"{unit} left above the reserve ({b.available[unit]:.4f}) would be exceeded: "
                f"{run_spent:.4f} committed in this run + {estimate:.4f} for the next call"
            )
        if unit != "usd":
            return
        if (
            b.usd_per_run is not None
            and run_spent is not None
            and run_spent + estimate > b.usd_per_run + 1e-9
        ):
            raise BudgetExceededError(
                f"run budget of ${b.usd_per_run:.2f} would be exceeded: ${run_spent:.4f} committed "
                f"in this run + ${estimate:.4f} for the next call (LEAD_ASSETS_BUDGET_USD_PER_RUN)"
            )
        if b.usd_per_day is not None:
            day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
            spent = conn.execute(
                text(committed_sql + " AND created_at >= :d"), {"u": unit, "d": day_start}
            ).scalar_one()
            if spent + estimate > b.usd_per_day + 1e-9:
                raise BudgetExceededError(
                    f"daily budget of ${b.usd_per_day:.2f} would be exceeded: ${spent:.4f} committed "
                    f"today (UTC) + ${estimate:.4f} for the next call (LEAD_ASSETS_BUDGET_USD_PER_DAY)"
                )


def ledger_totals(
    engine: Engine, *, run_id: str | None = None, batch_key: str | None = None
) -> dict[str, float]:
    """Settled spend per unit (``usd``, ``credits``), optionally for one run or batch."""
    sql = "SELECT unit, COALESCE(SUM(amount), 0) FROM spend_ledger WHERE state = 'settled'"
    params: dict[str, str] = {}
    if run_id is not None:
        sql += " AND run_id = :r"
        params["r"] = run_id
    if batch_key is not None:
        sql += " AND batch_key = :b"
        params["b"] = batch_key
    with engine.connect() as conn:
        rows = conn.execute(text(sql + " GROUP BY unit"), params).all()
    return {unit: float(total) for unit, total in rows}


@dataclass
class ResponseCache:
    """Answers of paid calls keyed by (vendor, operation, normalized request key), with a TTL."""

    engine: Engine

    def get_many(
        self, vendor: str, operation: str, keys: list[str], *, now: datetime | None = None
    ) -> dict[str, object]:
        """Cached, unexpired answers for ``keys`` (missing keys are simply absent)."""
        now = now or _now()
        found: dict[str, object] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                params = {f"k{i}": k for i, k in enumerate(chunk)}
                placeholders = ", ".join(f":k{i}" for i in range(len(chunk)))
                rows = conn.execute(
                    text(
                        "SELECT request_key, response_json FROM api_cache WHERE vendor = :v AND"
                        f" operation = :o AND expires_at > :now AND request_key IN ({placeholders})"
                    ),
                    {"v": vendor, "o": operation, "now": now, **params},
                ).all()
                found.update({k: json.loads(v) for k, v in rows})
        return found

    def put_many(
        self,
        vendor: str,
        operation: str,
        answers: dict[str, object],
        *,
        ttl: timedelta,
        amount_each: dict[str, float] | None = None,
        unit: str = "usd",
    ) -> None:
        """Store answers (replacing older ones for the same keys)."""
        if not answers:
            return
        now = _now()
        keys = list(answers)
        rows = [
            {
                "v": vendor,
                "o": operation,
                "k": key,
                "r": json.dumps(answers[key], default=str),
                "a": (amount_each or {}).get(key, 0.0),
                "u": unit,
                "t": now,
                "x": now + ttl,
            }
            for key in keys
        ]
        # Set-wise: a 25k-lead batch stores tens of thousands of answers, and two statements per
        # answer were a third of its enrichment time on SQLite.
        with write_transaction(self.engine) as conn:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                placeholders = ", ".join(f":k{i}" for i in range(len(chunk)))
                conn.execute(
                    text(
                        "DELETE FROM api_cache WHERE vendor = :v AND operation = :o"
                        f" AND request_key IN ({placeholders})"
                    ),
                    {"v": vendor, "o": operation, **{f"k{i}": k for i, k in enumerate(chunk)}},
                )
            conn.execute(
                text(
                    "INSERT INTO api_cache (vendor, operation, request_key, response_json, amount,"
                    " unit, created_at, expires_at) VALUES (:v, :o, :k, :r, :a, :u, :t, :x)"
                ),
                rows,
            )


# -- items held by a paid call (issue 10) ---------------------------------------------------------
def hold_items(
    engine: Engine,
    *,
    vendor: str,
    operation: str,
    request_key: str,
    item_keys: list[str],
    batch_key: str | None,
) -> None:
    """Record, before the call, which items a paid call buys: if the answer is lost or the run
    dies, the items stay held (never bought again) until reconciliation decides the charge."""
    now = _now()
    with write_transaction(engine) as conn:
        conn.execute(
            text(
                "DELETE FROM ledger_items WHERE vendor = :v AND operation = :o AND request_key = :k"
            ),
            {"v": vendor, "o": operation, "k": request_key},
        )
        for key in item_keys:
            conn.execute(
                text(
                    "INSERT INTO ledger_items (vendor, operation, request_key, item_key, batch_key,"
                    " created_at) VALUES (:v, :o, :k, :i, :b, :t)"
                ),
                {"v": vendor, "o": operation, "k": request_key, "i": key, "b": batch_key, "t": now},
            )


def unhold_items(engine: Engine, *, vendor: str, operation: str, request_key: str) -> None:
    """The call's outcome is known (answers cached, or certainly not billed): free its items."""
    with write_transaction(engine) as conn:
        conn.execute(
            text(
                "DELETE FROM ledger_items WHERE vendor = :v AND operation = :o AND request_key = :k"
            ),
            {"v": vendor, "o": operation, "k": request_key},
        )


class HeldItem(NamedTuple):
    """The earlier call holding an item."""

    request_key: str
    #: The state of that call's latest ledger row; None when the call never reached the ledger.
    state: str | None


def held_items(
    engine: Engine, vendor: str, operation: str, item_keys: list[str]
) -> dict[str, HeldItem]:
    """Which of ``item_keys`` are held by an earlier call, and by which (see :class:`HeldItem`)."""
    wanted = set(item_keys)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT li.item_key, li.request_key, (SELECT sl.state FROM spend_ledger sl WHERE"
                " sl.vendor = li.vendor AND sl.request_key = li.request_key ORDER BY sl.created_at"
                " DESC LIMIT 1) FROM ledger_items li WHERE li.vendor = :v AND li.operation = :o"
            ),
            {"v": vendor, "o": operation},
        ).all()
    return {item: HeldItem(request, state) for item, request, state in rows if item in wanted}


# -- run leases ------------------------------------------------------------------------------------
def claim_run(engine: Engine, run_id: str | None, batch_key: str | None) -> None:
    """Record that this process runs ``run_id``: when the process is gone, its batch is resumed and
    its in-flight reservations reconciled (lead_assets.pipeline.reconcile)."""
    if not run_id:
        return
    import os
    import socket

    with write_transaction(engine) as conn:
        conn.execute(text("DELETE FROM run_leases WHERE run_id = :r"), {"r": run_id})
        conn.execute(
            text(
                "INSERT INTO run_leases (run_id, batch_key, host, pid, started_at) VALUES"
                " (:r, :b, :h, :p, :t)"
            ),
            {"r": run_id, "b": batch_key, "h": socket.gethostname(), "p": os.getpid(), "t": _now()},
        )


def lease_alive(engine: Engine, run_id: str | None) -> bool | None:
    """True when the lease's process is alive on this host, False when it is gone, None when
    there is no lease or it is held on another host (the caller decides from other evidence)."""
    if not run_id:
        return None
    import socket

    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT host, pid FROM run_leases WHERE run_id = :r"), {"r": run_id}
        ).first()
    if row is None or row[0] != socket.gethostname():
        return None
    return pid_alive(int(row[1]))


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` of this host is running (a zombie is not)."""
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _not_zombie(pid)


def _not_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True


def record_decision(
    engine: Engine, reservation_id: str, *, state: str, amount: float | None, evidence: dict
) -> None:
    """Write a reconciliation decision (``settled`` or ``released``) with its evidence. Only an
    undecided row changes, so two reconcilers cannot decide the same charge twice."""
    with write_transaction(engine) as conn:
        conn.execute(
            text(
                "UPDATE spend_ledger SET state = :s, amount = COALESCE(:a, amount), evidence = :e,"
                " detail = :d, updated_at = :t WHERE id = :id AND state IN ('unknown', 'reserved',"
                " 'submitted')"
            ),
            {
                "s": state,
                "a": amount,
                "e": json.dumps(evidence, default=str),
                "d": f"reconciled: {state}",
                "t": _now(),
                "id": reservation_id,
            },
        )
