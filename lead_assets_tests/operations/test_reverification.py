"""Re-verification (issue 13): delivered leads whose answers passed their TTL are registered as a
batch within a budget of their own, and then planned, paid and exported like any other batch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from lead_assets.core.prices import GENERECT_USD
from lead_assets.pipeline.reverify import register_reverification
from lead_assets.warehouse.engine import write_transaction
from lead_assets_tests.enrichment.conftest import lead_file


def delivered_addresses(engine, batch_key: str) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT COUNT(DISTINCT LOWER(email)) FROM qualified_leads WHERE batch_key = :k"
                " AND status IN ('QUALIFIED', 'REVIEW') AND email IS NOT NULL"
            ),
            {"k": batch_key},
        ).scalar_one()


def age_answers(engine, days: int) -> None:  # type: ignore[no-untyped-def]
    """What ``days`` of waiting does: enrichments get old, validations and Leedrush results
    expire (company answers, 90 days, stay cached)."""
    then = datetime.now(UTC) - timedelta(days=days)
    with write_transaction(engine) as conn:
        conn.execute(text("UPDATE generect_enrichment SET enriched_at = :t"), {"t": then})
        conn.execute(
            text(
                "UPDATE api_cache SET created_at = :t, expires_at = :e WHERE operation IN"
                " ('email_validate', 'lead_result')"
            ),
            {"t": then, "e": then + timedelta(days=30)},
        )


def test_delivered_leads_past_their_ttl_are_reverified_within_their_budget(
    pipeline_factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    p = pipeline_factory()
    p.drop(lead_file(tmp_path / "week1.csv", 30, seed=41, with_email=1.0))
    assert all(ok for _, _, ok in p.drain())
    with p.engine.connect() as conn:
        (first,) = [r[0] for r in conn.execute(text("SELECT batch_key FROM lead_batches"))]
    delivered = delivered_addresses(p.engine, first)
    assert delivered > 10
    # Fresh answers: nothing is due.
    nothing = register_reverification(p.engine)
    assert (nothing.due, nothing.batch_key) == (0, None)

    age_answers(p.engine, days=40)
    price = GENERECT_USD["email_validate"]
    monkeypatch.setenv("LEAD_ASSETS_REVERIFY_BUDGET_USD", str(price * 6.5))  # six validations
    usd, credits = p.generect_charged, p.leedrush_charged
    stats = register_reverification(p.engine)
    assert (stats.due, stats.selected) == (delivered, 6) and stats.batch_key
    # The six are pending: a second pass takes the next ones, never the same address twice.
    second = register_reverification(p.engine)
    assert (second.due, second.selected) == (delivered - 6, 6)

    runs = p.drain()
    assert runs and all(ok for _, _, ok in runs), runs
    # By the sandbox's books: one validation and one Leedrush row per re-verified lead, nothing
    # else (company answers are still cached), and no address bought twice.
    assert p.generect_charged - usd == pytest.approx(12 * price)
    assert p.leedrush_charged - credits == 12
    from lead_assets.pipeline.summary import batch_figures, export_paths

    for key in (stats.batch_key, second.batch_key):
        figures = batch_figures(p.engine, key)
        assert figures["rows_in"] == figures["ok"] == 6
        assert figures["already_delivered"] == 6  # old people, with fresh answers
        assert export_paths(p.engine, key)
        with p.engine.connect() as conn:
            reasons = [
                r[0]
                for r in conn.execute(
                    text("SELECT reasons FROM qualified_leads WHERE batch_key = :k"), {"k": key}
                )
            ]
        assert all(f"already_delivered in batch {first}" in r for r in reasons)
