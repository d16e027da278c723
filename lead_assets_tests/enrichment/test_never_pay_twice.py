"""Issue 11: never pay twice for the same person, by the sandbox's own books."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from lead_assets_tests.enrichment.conftest import lead_file


def statuses(engine, batch_key: str) -> list[tuple[str, list[str]]]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT status, reasons FROM qualified_leads WHERE batch_key = :k"),
            {"k": batch_key},
        ).all()
    return [(s, json.loads(r)) for s, r in rows]


def batches(engine) -> list[str]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return [
            r[0]
            for r in conn.execute(text("SELECT batch_key FROM lead_batches ORDER BY batch_key"))
        ]


def test_redropping_the_same_people_under_new_names_spends_nothing(
    pipeline_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    p = pipeline_factory()
    p.drop(lead_file(tmp_path / "a.csv", 40, seed=21))
    p.drop(lead_file(tmp_path / "b.csv", 30, seed=22))
    assert all(ok for _, _, ok in p.drain())
    usd, credits = p.generect_charged, p.leedrush_charged
    assert usd > 0 and credits > 0
    first = batches(p.engine)
    p.drop(lead_file(tmp_path / "a_again.csv", 40, seed=21))
    p.drop(lead_file(tmp_path / "b_copy.csv", 30, seed=22))
    assert all(ok for _, _, ok in p.drain())
    again = [b for b in batches(p.engine) if b not in first]
    assert len(again) == 2
    # The sandbox's own books: nothing more charged at either vendor.
    assert p.generect_charged == pytest.approx(usd)
    assert p.leedrush_charged == credits
    for key in again:
        rows = statuses(p.engine, key)
        assert rows and all(s == "ALREADY_DELIVERED" for s, _ in rows)
        assert all(
            r[0].startswith("already_delivered in batch ") and r[0].split()[3] in first
            for _, r in rows
        )
