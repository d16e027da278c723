"""Spend ledger and response cache on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import Engine, text

from lead_assets.clients.errors import AmbiguousChargeError, BudgetExceededError
from lead_assets.clients.spend import MemorySpendHook, NullSpendHook, SubmittedJob
from lead_assets.warehouse.engine import write_transaction
from lead_assets.warehouse.ledger import Budgets, ResponseCache, SpendLedger, ledger_totals


def _states(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(
            conn.execute(text("SELECT state, COUNT(*) FROM spend_ledger GROUP BY state")).all()
        )


def test_reserve_settle_release_unknown(warehouse: Engine) -> None:
    ledger = SpendLedger(warehouse, run_id="r1", batch_key="b1")
    a = ledger.reserve(
        vendor="generect", operation="email_validate", request_key="k1", estimate=0.25, unit="usd"
    )
    b = ledger.reserve(
        vendor="generect", operation="email_find", request_key="k2", estimate=1.0, unit="usd"
    )
    c = ledger.reserve(
        vendor="leedrush", operation="process", request_key="k3", estimate=500, unit="credits"
    )
    d = ledger.reserve(
        vendor="generect", operation="email_validate", request_key="k4", estimate=0.25, unit="usd"
    )
    ledger.settle(a, 0.25)
    ledger.release(b, "connection refused before send")
    ledger.settle(c, 480)
    ledger.mark_unknown(d, "read timeout after send")
    assert _states(warehouse) == {"settled": 2, "released": 1, "unknown": 1}
    assert ledger_totals(warehouse) == {"usd": 0.25, "credits": 480.0}
    assert ledger_totals(warehouse, batch_key="other") == {}


def test_run_budget_counts_reserved_and_unknown(warehouse: Engine) -> None:
    ledger = SpendLedger(warehouse, run_id="r1", budgets=Budgets(usd_per_run=1.0))
    ledger.reserve(vendor="generect", operation="x", request_key="1", estimate=0.6, unit="usd")
    with pytest.raises(BudgetExceededError, match="run budget"):
        ledger.reserve(vendor="generect", operation="x", request_key="2", estimate=0.5, unit="usd")
    # another run has its own run budget
    other = SpendLedger(warehouse, run_id="r2", budgets=Budgets(usd_per_run=1.0))
    other.reserve(vendor="generect", operation="x", request_key="3", estimate=0.5, unit="usd")


def test_day_budget_spans_runs(warehouse: Engine) -> None:
    budgets = Budgets(usd_per_day=1.0)
    SpendLedger(warehouse, run_id="r1", budgets=budgets).reserve(
        vendor="generect", operation="x", request_key="1", estimate=0.7, unit="usd"
    )
    with pytest.raises(BudgetExceededError, match="daily budget"):
        SpendLedger(warehouse, run_id="r2", budgets=budgets).reserve(
            vendor="generect", operation="x", request_key="2", estimate=0.4, unit="usd"
        )


def test_reserve_of_credits_is_respected(warehouse: Engine) -> None:
    ledger = SpendLedger(warehouse, run_id="r1", budgets=Budgets(available={"credits": 1000}))
    ledger.reserve(
        vendor="leedrush", operation="process", request_key="a", estimate=800, unit="credits"
    )
    with pytest.raises(BudgetExceededError, match="reserve"):
        ledger.reserve(
            vendor="leedrush", operation="process", request_key="b", estimate=300, unit="credits"
        )


def test_concurrent_reservations_cannot_overshoot(warehouse_url: str) -> None:
    from lead_assets.warehouse import apply_migrations, make_engine

    engines = [make_engine(warehouse_url) for _ in range(4)]
    apply_migrations(engines[0])
    accepted: list[str] = []
    lock = threading.Lock()

    def spend(engine: Engine, n: int) -> None:
        ledger = SpendLedger(engine, run_id=f"r{n}", budgets=Budgets(usd_per_day=1.0))
        for i in range(10):
            try:
                rid = ledger.reserve(
                    vendor="generect",
                    operation="x",
                    request_key=f"{n}-{i}",
                    estimate=0.05,
                    unit="usd",
                )
            except BudgetExceededError:
                continue
            with lock:
                accepted.append(rid)

    threads = [threading.Thread(target=spend, args=(e, n)) for n, e in enumerate(engines)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(accepted) == 20  # exactly $1.00 / $0.05, never more
    for e in engines:
        e.dispose()


def test_open_job_is_found_for_resume(warehouse: Engine) -> None:
    ledger = SpendLedger(warehouse, run_id="r1")
    rid = ledger.reserve(
        vendor="generect", operation="email_find_bulk", request_key="kk", estimate=1.0, unit="usd"
    )
    ledger.mark_submitted(rid, "job-123")
    job = ledger.open_job("generect", "email_find_bulk", "kk")
    assert isinstance(job, SubmittedJob)
    assert (job.reservation_id, job.job_id) == (rid, "job-123")
    with warehouse.connect() as conn:
        row = conn.execute(
            text("SELECT state, job_id, detail FROM spend_ledger WHERE id = :i"), {"i": rid}
        ).one()
    assert tuple(row) == ("submitted", "job-123", None)  # the job id has a column of its own
    assert ledger.open_job("generect", "email_find_bulk", "other") is None
    ledger.settle(rid, 0.4)
    assert ledger.open_job("generect", "email_find_bulk", "kk") is None


def test_a_job_of_the_old_detail_format_is_still_found(warehouse: Engine) -> None:
    """A row written by a process older than migration 0018 keeps its job in ``detail`` as
    ``"<reservation id>|<job id>"`` only; not finding it would buy the job a second time."""
    ledger = SpendLedger(warehouse, run_id="r1")
    rid = ledger.reserve(
        vendor="generect", operation="email_find_bulk", request_key="kk", estimate=1.0, unit="usd"
    )
    with write_transaction(warehouse) as conn:
        conn.execute(
            text("UPDATE spend_ledger SET state = 'submitted', detail = :d WHERE id = :i"),
            {"d": f"{rid}|job-old", "i": rid},
        )
    assert ledger.open_job("generect", "email_find_bulk", "kk") == SubmittedJob(rid, "job-old")


def test_a_submitted_job_without_job_id_is_ambiguous_not_bought_again(warehouse: Engine) -> None:
    ledger = SpendLedger(warehouse, run_id="r1")
    rid = ledger.reserve(
        vendor="generect", operation="email_find_bulk", request_key="kk", estimate=1.0, unit="usd"
    )
    with write_transaction(warehouse) as conn:
        conn.execute(text("UPDATE spend_ledger SET state = 'submitted' WHERE id = :i"), {"i": rid})
    with pytest.raises(AmbiguousChargeError):
        ledger.open_job("generect", "email_find_bulk", "kk")


def test_spend_hooks_keep_submitted_jobs() -> None:
    """Every SpendHook records a submitted job (no ``hasattr`` at the call sites)."""
    null = NullSpendHook()
    null.mark_submitted(null.reserve(**_CALL), "j")
    assert null.open_job("generect", "email_find_bulk", "kk") is None
    memory = MemorySpendHook()
    first = memory.reserve(**_CALL)
    memory.mark_submitted(first, "j1")
    second = memory.reserve(**_CALL)
    memory.mark_submitted(second, "j2")
    assert memory.open_job("generect", "email_find_bulk", "kk") == SubmittedJob(second, "j2")
    memory.settle(second, 0.4)
    assert memory.open_job("generect", "email_find_bulk", "kk") == SubmittedJob(first, "j1")
    assert memory.open_job("generect", "email_validate", "kk") is None


_CALL: dict = {
    "vendor": "generect",
    "operation": "email_find_bulk",
    "request_key": "kk",
    "estimate": 1.0,
    "unit": "usd",
}


def test_cache_ttl_and_replace(warehouse: Engine) -> None:
    cache = ResponseCache(warehouse)
    cache.put_many(
        "generect", "email_find", {"a": {"email": "x@y.com"}, "b": None}, ttl=timedelta(days=30)
    )
    assert cache.get_many("generect", "email_find", ["a", "b", "c"]) == {
        "a": {"email": "x@y.com"},
        "b": None,
    }
    cache.put_many("generect", "email_find", {"a": {"email": "z@y.com"}}, ttl=timedelta(seconds=-1))
    assert cache.get_many("generect", "email_find", ["a"]) == {}  # expired answers are not served
