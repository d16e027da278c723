"""One representation of a missing value (None, never NaN, in text columns) from the warehouse
reads and frame building onward, and per-batch isolation in the credits and status sensors."""

from __future__ import annotations

import json
import math
from pathlib import Path

import dagster as dg
import pandas as pd
from sqlalchemy import Engine

from lead_assets.core.dnc import DoNotContact, apply_dnc
from lead_assets.core.missing import none_for_missing
from lead_assets.pipeline.enrich import enrichment_plan
from lead_assets.pipeline.ingest import raw_frame_to_canonical
from lead_assets.sandbox.leedrush import LeedrushSandboxConfig
from lead_assets.warehouse import read_partition, replace_partition
from lead_assets_tests.enrichment.conftest import lead_file
from lead_assets_tests.enrichment.test_sensors import keys, tick


def _floats_in_text(frame: pd.DataFrame) -> dict[str, int]:
    return {
        c: n
        for c in frame.columns
        if frame[c].dtype == object
        and (n := sum(isinstance(v, float) and math.isnan(v) for v in frame[c]))
    }


def test_sparse_records_give_none_not_nan() -> None:
    # A JSON export where some records have no domain / phone key at all: pandas fills NaN.
    records = [
        {"first_name": "Ann", "last_name": "Lee", "email": "ann@acme.com", "domain": "acme.com"},
        {"first_name": "Bob", "last_name": "Ray", "company": "Beta"},
        {"first_name": "Cy", "last_name": "Oh", "phone": "+1 415 555 0101"},
    ]
    raw = pd.DataFrame(
        {
            "row_id": ["1", "2", "3"],
            "raw_json": [json.dumps(r) for r in records],
            "parse_error": [None, None, None],
            "source": "file",
        }
    )
    assert pd.DataFrame.from_records(records)["domain"].isna().sum() == 2  # what pandas does
    canonical = raw_frame_to_canonical(raw)
    assert _floats_in_text(canonical) == {}
    assert canonical["domain"].tolist() == ["acme.com", None, None]


def test_warehouse_reads_give_none_and_every_step_accepts_them(warehouse: Engine) -> None:
    from lead_assets.core.standardize import standardize_rows

    canonical = pd.DataFrame(
        {
            "row_id": ["1", "2", "3", "4"],
            "first_name": ["Ann", "Bob", "Dee", None],
            "last_name": ["Lee", "Ray", "Kay", "Fox"],
            "email": ["ann@acme.com", None, float("nan"), "eve@gmail.com"],
            "company": ["Acme", float("nan"), "Gamma", None],
            "domain": ["acme.com", float("nan"), None, float("nan")],
            "parse_error": [None, None, None, None],
            "source": "file",
        }
    )
    std = standardize_rows(canonical, batch_key="b1", source="file").frame
    assert _floats_in_text(std) == {}
    # Write NaN on purpose (as a frame built elsewhere might) and read it back.
    std.loc[1, "domain"] = float("nan")
    std["standardized_at"] = pd.Timestamp.now(tz="UTC")
    replace_partition(warehouse, "standardized_leads", "b1", std)
    back = read_partition(warehouse, "standardized_leads", "b1")
    assert _floats_in_text(back) == {}
    ok = back[back["status"] == "ok"].reset_index(drop=True)
    assert ok["domain"].map(lambda v: v is None or isinstance(v, str)).all()
    # The two sites that crashed on NaN: the DNC domain check and the enrichment plan's sort.
    blocked, _ = apply_dnc(ok, DoNotContact(domains=frozenset({"acme.com"})))
    assert blocked.tolist() == [d == "acme.com" for d in ok["domain"]]
    plan = enrichment_plan(ok)
    assert all(isinstance(d, str) for d in plan["company"])


def test_dnc_without_domain_columns() -> None:
    frame = pd.DataFrame({"row_id": ["1", "2"], "email": ["a@x.com", None]})
    blocked, reason = apply_dnc(frame, DoNotContact(domains=frozenset({"x.com"})))
    assert blocked.tolist() == [False, False] and reason.tolist() == ["", ""]


def test_none_for_missing_keeps_numbers_and_handles_str_dtype() -> None:
    frame = pd.DataFrame(
        {
            "n": [1.0, float("nan")],
            "s": pd.Series(["a", None], dtype="string"),
            "o": ["x", float("nan")],
        }
    )
    out = none_for_missing(frame)
    assert out["n"].dtype == float and math.isnan(out["n"][1])
    assert out["s"].tolist() == ["a", None] and out["o"].tolist() == ["x", None]


def test_credits_sensor_plans_the_other_batches_when_one_breaks(
    pipeline_factory, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from lead_assets.pipeline import planning

    p = pipeline_factory()
    p.drop(lead_file(tmp_path / "a.csv", 20, seed=31, with_email=1.0))
    p.drop(lead_file(tmp_path / "b.csv", 20, seed=32, with_email=1.0))
    p.drain("file_drop_sensor")
    bad, good = keys(p)
    real = planning.batch_needs

    def breaks_on_bad(engine, batch_key, *args, **kwargs):  # type: ignore[no-untyped-def]
        if batch_key == bad:
            raise TypeError("'<' not supported between instances of 'float' and 'str'")
        return real(engine, batch_key, *args, **kwargs)

    monkeypatch.setattr(planning, "batch_needs", breaks_on_bad)
    result = tick(p, "credits_sensor")
    assert isinstance(result, dg.SensorResult)
    assert [r.partition_key for r in result.run_requests] == [good]
    # Reported, and planned normally once the cause is gone.
    failed: list = []
    planning.plan_waiting_batches(
        p.engine,
        p.defs.resources["generect"].process_config_and_initialize(),
        p.defs.resources["leedrush"].process_config_and_initialize(),
        failed=failed,
    )
    assert [f.key for f in failed] == [bad] and "TypeError" in failed[0].reason
    monkeypatch.setattr(planning, "batch_needs", real)
    assert {r.partition_key for r in tick(p, "credits_sensor").run_requests} == {bad, good}


def test_status_sensor_collects_the_other_batches_when_one_breaks(
    pipeline_factory, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    import time

    from lead_assets.pipeline import leedrush_flow
    from lead_assets_tests.enrichment.test_sensors import enrich

    p = pipeline_factory(leedrush=LeedrushSandboxConfig(plan="enterprise", time_scale=0.05))
    p.drop(lead_file(tmp_path / "a.csv", 10, seed=33, with_email=1.0))
    p.drop(lead_file(tmp_path / "b.csv", 10, seed=34, with_email=1.0))
    p.drain("file_drop_sensor")
    bad, good = keys(p)
    enrich(p, bad)
    enrich(p, good)
    real = leedrush_flow._open_submissions

    def one_row_corrupt(engine):  # type: ignore[no-untyped-def]
        rows = real(engine)
        for row in rows:
            if row["batch_key"] == bad:
                row["submitted_at"] = "not a timestamp"
        return rows

    monkeypatch.setattr(leedrush_flow, "_open_submissions", one_row_corrupt)
    deadline = time.monotonic() + 30
    result = tick(p, "leedrush_status_sensor")
    while not getattr(result, "run_requests", None) and time.monotonic() < deadline:
        time.sleep(0.3)
        result = tick(p, "leedrush_status_sensor")
    assert [r.partition_key for r in result.run_requests] == [good]
    monkeypatch.setattr(leedrush_flow, "_open_submissions", real)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        result = tick(p, "leedrush_status_sensor")
        if bad in {r.partition_key for r in getattr(result, "run_requests", [])}:
            break
        time.sleep(0.3)
    assert bad in {r.partition_key for r in result.run_requests}
