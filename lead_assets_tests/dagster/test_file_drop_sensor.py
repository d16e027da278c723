"""The file-drop sensor on a real Dagster instance (build_sensor_context)."""

from __future__ import annotations

import gzip
import json
import os
import re
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import text

from lead_assets.definitions import defs
from lead_assets.resources.warehouse import WarehouseResource
from lead_assets.sensors.file_drop import file_drop_sensor

CSV = "email,first_name,last_name,company\n" + "".join(
    f"p{i}@acme{i % 3}.com,Pat{i},Lee{i},Acme {i % 3} Inc\n" for i in range(5)
)


def tick(
    instance: dg.DagsterInstance, warehouse: WarehouseResource, cursor: str | None
) -> dg.SensorResult:
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"warehouse": warehouse}, definitions=defs
    )
    result = file_drop_sensor(context)
    assert isinstance(result, dg.SensorResult)
    # Apply what the daemon would apply, so later ticks see the partitions.
    for request in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions("lead_batches", list(request.partition_keys))
    return result


@pytest.fixture
def wh(warehouse_url: str) -> WarehouseResource:
    return WarehouseResource(database_url=warehouse_url)


def test_partial_file_waits_one_tick_then_runs(sqlite_instance, landing: Path, wh) -> None:  # type: ignore[no-untyped-def]
    (landing / "leads.csv").write_text(CSV)
    first = tick(sqlite_instance, wh, None)
    assert first.run_requests == []
    assert (landing / "leads.csv").exists()
    second = tick(sqlite_instance, wh, first.cursor)
    assert len(second.run_requests) == 1
    request = second.run_requests[0]
    assert request.run_key == f"ingest:{request.partition_key}"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d{4}Z-leads-[0-9a-f]{6}-0001", request.partition_key)
    assert not (landing / "leads.csv").exists()
    archived = list((landing / "archive").glob("*-leads.csv"))
    assert len(archived) == 1
    assert len(second.cursor or "") < 100  # the cursor stays tiny


def test_growing_file_is_not_taken(sqlite_instance, landing: Path, wh) -> None:  # type: ignore[no-untyped-def]
    path = landing / "big.csv"
    path.write_text(CSV)
    cursor = tick(sqlite_instance, wh, None).cursor
    with path.open("a") as fh:
        fh.write("x@y.com,X,Y,Z Inc\n")
    result = tick(sqlite_instance, wh, cursor)
    assert result.run_requests == []  # it changed since the last tick: still being written


def test_a_file_untouched_for_the_quiet_period_is_taken_at_the_first_tick(
    sqlite_instance, landing: Path, wh, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    old, fresh = landing / "moved_in.csv", landing / "being_written.csv"
    old.write_text(CSV)
    fresh.write_text(CSV.replace("acme", "beta"))
    past = os.stat(old).st_mtime - 6  # written 6 s ago, then moved into the folder (mv keeps mtime)
    os.utime(old, (past, past))
    monkeypatch.setenv("LEAD_ASSETS_LANDING_QUIET_S", "5")
    first = tick(sqlite_instance, wh, None)
    [request] = first.run_requests
    assert "moved_in" in request.partition_key and fresh.exists() and not old.exists()
    # A quiet period longer than the file's age: the old rule (two equal ticks) decides.
    monkeypatch.setenv("LEAD_ASSETS_LANDING_QUIET_S", "3600")
    assert [
        r
        for r in tick(sqlite_instance, wh, first.cursor).run_requests
        if "being_written" in r.partition_key
    ]


def test_done_marker_completes_at_once(sqlite_instance, landing: Path, wh) -> None:  # type: ignore[no-untyped-def]
    (landing / "drop.csv").write_text(CSV)
    (landing / "drop.csv.done").write_text("")
    result = tick(sqlite_instance, wh, None)
    assert len(result.run_requests) == 1
    assert not (landing / "drop.csv.done").exists()


def test_restart_keeps_state_and_run_keys_are_stable(sqlite_instance, landing: Path, wh) -> None:  # type: ignore[no-untyped-def]
    (landing / "a.csv").write_text(CSV)
    cursor = tick(sqlite_instance, wh, None).cursor
    # A new daemon process: same instance and warehouse, cursor as saved.
    second = tick(sqlite_instance, wh, cursor)
    keys = [r.run_key for r in second.run_requests]
    assert len(keys) == 1
    # A tick whose cursor was lost (tick raised) re-requests the same run key: Dagster dedups it.
    again = tick(sqlite_instance, wh, None)
    assert [r.run_key for r in again.run_requests] == keys


def test_same_version_twice_is_processed_once_changed_version_again(
    sqlite_instance, landing: Path, wh
) -> None:  # type: ignore[no-untyped-def]
    (landing / "weekly.csv").write_text(CSV)
    (landing / "weekly.csv.done").write_text("")
    first = tick(sqlite_instance, wh, None)
    assert len(first.run_requests) == 1
    batch1 = first.run_requests[0].partition_key
    _mark_ingested(wh, batch1)
    # the same bytes dropped again at the same path
    (landing / "weekly.csv").write_text(CSV)
    (landing / "weekly.csv.done").write_text("")
    dup = tick(sqlite_instance, wh, first.cursor)
    assert dup.run_requests == []
    assert not (landing / "weekly.csv").exists()
    # No run, but not silent: the landing_files asset shows the skipped re-drop.
    [event] = dup.asset_events
    assert (event.metadata["file"].value, event.metadata["outcome"].value) == (
        "weekly.csv",
        "duplicate",
    )
    # a changed version: processed once more
    (landing / "weekly.csv").write_text(CSV + "new@acme.com,New,Person,Acme Inc\n")
    (landing / "weekly.csv.done").write_text("")
    changed = tick(sqlite_instance, wh, dup.cursor)
    assert len(changed.run_requests) == 1
    assert changed.run_requests[0].partition_key != batch1


def _mark_ingested(wh: WarehouseResource, batch_key: str) -> None:
    with wh.engine().begin() as conn:
        conn.execute(
            text("UPDATE lead_batches SET state = 'ingested' WHERE batch_key = :k"),
            {"k": batch_key},
        )


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("empty.csv", b"", "empty"),
        ("blob.csv", bytes(range(256)) * 8, "binary"),
        ("nothing.csv", b"colour,size\nred,1\nblue,2\n", "no_usable_columns"),
    ],
)
def test_unusable_files_are_quarantined_with_reason(
    sqlite_instance, landing: Path, wh, name: str, content: bytes, code: str
) -> None:  # type: ignore[no-untyped-def]
    (landing / name).write_bytes(content)
    (landing / (name + ".done")).write_text("")
    result = tick(sqlite_instance, wh, None)
    assert result.run_requests == []
    moved = landing / "quarantine" / name
    assert moved.exists()
    reason = (landing / "quarantine" / (name + ".reason.txt")).read_text()
    assert reason.startswith(code), reason


def test_large_file_becomes_sorted_batches(
    sqlite_instance, landing: Path, wh, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LEAD_ASSETS_BATCH_ROWS", "2")
    with gzip.open(landing / "export.csv.gz", "wt") as fh:
        fh.write(CSV)
    (landing / "export.csv.gz.done").write_text("")
    result = tick(sqlite_instance, wh, None)
    keys = [r.partition_key for r in result.run_requests]
    assert len(keys) == 3  # 5 rows in batches of 2
    assert keys == sorted(keys)
    assert [k[-4:] for k in keys] == ["0001", "0002", "0003"]
    assert len(set(keys)) == 3


def test_ten_thousand_files_keep_the_cursor_tiny(
    sqlite_instance, landing: Path, wh, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    # Writing 10,000 files takes longer than the quiet period: only the two-tick rule here.
    monkeypatch.setenv("LEAD_ASSETS_LANDING_QUIET_S", "3600")
    for i in range(10_000):
        (landing / f"f{i:05d}.csv").write_text(f"email\nperson{i}@example.com\n")
    result = tick(sqlite_instance, wh, None)
    assert result.run_requests == []
    assert len(result.cursor or "") < 100
    obs = json.loads(result.cursor or "{}")
    assert obs == {"passes": 1}
    # the next pass takes a bounded number of complete files
    second = tick(sqlite_instance, wh, result.cursor)
    assert 0 < len(list((landing / "archive").glob("*.csv"))) <= 50
    assert len(os.listdir(landing)) > 9_000
    assert second.cursor and len(second.cursor) < 100


def test_a_batch_whose_ingest_run_ended_unfinished_gets_a_new_run_key(
    sqlite_instance, landing: Path, wh
) -> None:  # type: ignore[no-untyped-def]
    """A run killed before it claimed its batch (marked failed by run monitoring or by the
    recovery pass) took the batch's run key: the next tick asks again under a new one, once."""
    (landing / "drop.csv").write_text(CSV)
    (landing / "drop.csv.done").write_text("")
    (request,) = tick(sqlite_instance, wh, None).run_requests
    key = request.partition_key

    @dg.asset
    def dies() -> None:
        raise RuntimeError("the process was killed")

    failed = dg.materialize(
        [dies],
        instance=sqlite_instance,
        tags={"dagster/run_key": request.run_key},
        raise_on_error=False,
    )
    assert not failed.success
    (again,) = tick(sqlite_instance, wh, None).run_requests
    assert (again.partition_key, again.run_key) == (key, f"ingest:{key}:r1")
    with wh.engine().connect() as conn:
        state, resumes, detail = conn.execute(
            text("SELECT state, resumes, detail FROM lead_batches WHERE batch_key = :k"), {"k": key}
        ).one()
    assert (state, resumes) == ("registered", 1) and "ended before ingesting" in detail
    # No run under the new key yet: the next tick asks for the same work, no second bump.
    (third,) = tick(sqlite_instance, wh, None).run_requests
    assert third.run_key == f"ingest:{key}:r1"
