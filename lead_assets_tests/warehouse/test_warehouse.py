"""The same warehouse suite on SQLite and PostgreSQL (``warehouse`` is parametrized)."""

from __future__ import annotations

import shutil
import threading
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, inspect, text

from lead_assets.clients.spend import SubmittedJob
from lead_assets.warehouse import apply_migrations, make_engine, read_partition, replace_partition
from lead_assets.warehouse.engine import write_transaction
from lead_assets.warehouse.ledger import SpendLedger
from lead_assets.warehouse.migrations import applied_versions, discover
from lead_assets.warehouse.partition_writes import count_partition

ASSET_TABLES = {
    "raw_uploads",
    "standardized_leads",
    "enriched_leads",
    "deduplicated_accounts",
    "qualified_leads",
}


def _raw_rows(batch_key: str, n: int, note: str = "") -> pd.DataFrame:
    now = datetime.now(UTC)
    return pd.DataFrame(
        {
            "row_id": [f"f1:{i}" for i in range(1, n + 1)],
            "file_id": "f1",
            "file_name": "leads.csv",
            "line_no": list(range(2, n + 2)),
            "source": "file",
            "raw_json": [f'{{"Email": "a{i}@x.com", "note": "{note}"}}' for i in range(n)],
            "parse_error": None,
            "loaded_at": now,
        }
    )


def test_migrations_create_asset_tables(warehouse: Engine) -> None:
    tables = set(inspect(warehouse).get_table_names())
    assert tables >= ASSET_TABLES
    assert {
        "spend_ledger",
        "api_cache",
        "seen_files",
        "lead_batches",
        "schema_migrations",
    } <= tables
    assert applied_versions(warehouse) == {m.version for m in discover()}


def test_migrations_applied_twice_change_nothing(warehouse: Engine) -> None:
    before = {
        t: [c["name"] for c in inspect(warehouse).get_columns(t)]
        for t in inspect(warehouse).get_table_names()
    }
    assert apply_migrations(warehouse) == []
    after = {
        t: [c["name"] for c in inspect(warehouse).get_columns(t)]
        for t in inspect(warehouse).get_table_names()
    }
    assert before == after
    with warehouse.connect() as conn:
        n = conn.execute(text("SELECT COUNT(*) FROM schema_migrations")).scalar_one()
    assert n == len(discover())


def test_concurrent_appliers_apply_each_migration_once(warehouse_url: str) -> None:
    engines = [make_engine(warehouse_url) for _ in range(3)]
    results: list[list[int]] = []
    errors: list[BaseException] = []

    def apply(engine: Engine) -> None:
        try:
            results.append(apply_migrations(engine))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=apply, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    applied = sorted(v for r in results for v in r)
    assert applied == [m.version for m in discover()]
    for e in engines:
        e.dispose()


def test_migration_0018_moves_job_ids_out_of_detail(warehouse_url: str, tmp_path: Path) -> None:
    """A warehouse migrated up to 0017 holds bulk-job ids in ``detail`` as
    ``"<reservation id>|<job id>"``; 0018 gives them their column, and the resume finds them."""
    old_sql = tmp_path / "sql_0017"
    old_sql.mkdir()
    for m in discover():
        if m.version <= 17:
            shutil.copy(m.path, old_sql / m.path.name)
    engine = make_engine(warehouse_url)
    try:
        apply_migrations(engine, old_sql)
        now = datetime.now(UTC)
        rows = [  # id, state, detail
            ("r-sub", "submitted", "r-sub|job-7"),  # a killed run's job, to be polled
            ("r-set", "settled", "r-set|job-8"),  # a collected job: history
            ("r-unk", "unknown", "read timeout after send"),  # not a job
            ("r-odd", "submitted", "other|job-9"),  # not this row's reservation: left alone
        ]
        with write_transaction(engine) as conn:
            for rid, state, detail in rows:
                conn.execute(
                    text(
                        "INSERT INTO spend_ledger (id, vendor, operation, request_key, estimate,"
                        " amount, unit, state, detail, created_at, updated_at) VALUES (:i,"
                        " 'generect', 'email_find_bulk', :k, 1.0, 0, 'usd', :s, :d, :t, :t)"
                    ),
                    {"i": rid, "k": f"k-{rid}", "s": state, "d": detail, "t": now},
                )
        assert apply_migrations(engine) == [m.version for m in discover() if m.version > 17]
        with engine.connect() as conn:
            got = dict(conn.execute(text("SELECT id, job_id FROM spend_ledger")).all())
            detail = conn.execute(
                text("SELECT detail FROM spend_ledger WHERE id = 'r-sub'")
            ).scalar_one()
        assert got == {"r-sub": "job-7", "r-set": "job-8", "r-unk": None, "r-odd": None}
        assert detail == "r-sub|job-7"  # kept as the row's history
        job = SpendLedger(engine).open_job("generect", "email_find_bulk", "k-r-sub")
        assert job == SubmittedJob("r-sub", "job-7")
    finally:
        engine.dispose()


def test_partition_rewritten_twice_leaves_one_copy(warehouse: Engine) -> None:
    replace_partition(warehouse, "raw_uploads", "b1", _raw_rows("b1", 50, "first"))
    replace_partition(warehouse, "raw_uploads", "b2", _raw_rows("b2", 7))
    replace_partition(warehouse, "raw_uploads", "b1", _raw_rows("b1", 40, "second"))
    assert count_partition(warehouse, "raw_uploads", "b1") == 40
    assert count_partition(warehouse, "raw_uploads", "b2") == 7  # other partitions untouched
    got = read_partition(warehouse, "raw_uploads", "b1")
    assert got["raw_json"].str.contains("second").all()
    assert got["parse_error"].isna().all()


def test_failed_rewrite_keeps_the_old_rows(warehouse: Engine) -> None:
    replace_partition(warehouse, "raw_uploads", "b1", _raw_rows("b1", 5))
    bad = _raw_rows("b1", 5)
    bad.loc[3, "row_id"] = bad.loc[2, "row_id"]  # primary-key clash mid-load
    with pytest.raises(Exception):  # noqa: B017 - driver-specific integrity error
        replace_partition(warehouse, "raw_uploads", "b1", bad)
    assert count_partition(warehouse, "raw_uploads", "b1") == 5


def test_values_round_trip(warehouse: Engine) -> None:
    frame = pd.DataFrame(
        {
            "row_id": ["r1", "r2"],
            "source": "file",
            "status": ["ok", "rejected"],
            "reasons": ["", "no_contact_identity"],
            "first_name": ["Zoë", None],
            "email_is_role": [True, False],
            "phone_e164": ["+14155550100", None],
            "standardized_at": [datetime(2026, 11, 22, 6, 30, tzinfo=UTC)] * 2,
        }
    )
    replace_partition(warehouse, "standardized_leads", "b9", frame)
    got = (
        read_partition(warehouse, "standardized_leads", "b9")
        .sort_values("row_id")
        .reset_index(drop=True)
    )
    assert got.loc[0, "first_name"] == "Zoë"
    assert got.loc[0, "reasons"] == ""  # empty string stays empty, not NULL
    assert got.loc[1, "first_name"] is None
    assert bool(got.loc[0, "email_is_role"]) is True and bool(got.loc[1, "email_is_role"]) is False
    assert (
        pd.Timestamp(got.loc[0, "standardized_at"]).strftime("%Y-%m-%d %H:%M") == "2026-11-22 06:30"
    )


def test_unknown_column_is_refused(warehouse: Engine) -> None:
    with pytest.raises(ValueError, match="no column"):
        replace_partition(warehouse, "raw_uploads", "b1", _raw_rows("b1", 1).assign(bogus=1))
