"""Per-batch figures read back from the warehouse (for ``lead-assets run`` and the demo)."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import Engine, text


def batch_figures(engine: Engine, batch_key: str) -> dict[str, object]:
    """Counts, reasons, spend and outcomes of one batch, from whatever stages have run."""
    with engine.connect() as conn:
        std = conn.execute(
            text("SELECT status, reasons FROM standardized_leads WHERE batch_key = :k"),
            {"k": batch_key},
        ).all()
        raw_rows = conn.execute(
            text("SELECT COUNT(*) FROM raw_uploads WHERE batch_key = :k"), {"k": batch_key}
        ).scalar_one()
        qualified = dict(
            conn.execute(
                text(
                    "SELECT status, COUNT(*) FROM qualified_leads WHERE batch_key = :k GROUP BY status"
                ),
                {"k": batch_key},
            ).all()
        )
        spend = dict(
            conn.execute(
                text(
                    "SELECT unit, COALESCE(SUM(amount), 0) FROM spend_ledger WHERE batch_key = :k"
                    " AND state = 'settled' GROUP BY unit"
                ),
                {"k": batch_key},
            ).all()
        )
        cache_hits = conn.execute(
            text(
                "SELECT COALESCE(SUM(cache_hits), 0) FROM generect_enrichment WHERE batch_key = :k"
            ),
            {"k": batch_key},
        ).scalar_one()
    reasons: Counter[str] = Counter()
    for status, reason_text in std:
        if status == "rejected":
            # The first code is why the row was rejected; later ones are warnings on it.
            reasons[(reason_text or "unknown").split(";")[0]] += 1
    ok = sum(1 for s, _ in std if s == "ok")
    return {
        "rows_in": int(raw_rows),
        "ok": ok,
        "rejected": len(std) - ok,
        "reasons": dict(reasons),
        "spend_usd": round(float(spend.get("usd", 0.0)), 4),
        "spend_credits": round(float(spend.get("credits", 0.0)), 2),
        "cache_hits": int(cache_hits or 0),
        "qualified": int(qualified.get("QUALIFIED", 0)),
        "review": int(qualified.get("REVIEW", 0)),
        "disqualified": int(qualified.get("DISQUALIFIED", 0)),
        "failed": int(qualified.get("FAILED", 0)),
    }


def export_paths(engine: Engine, batch_key: str) -> list[str]:
    """Export files written for a batch by the lead_exports asset."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT path FROM batch_exports WHERE batch_key = :k ORDER BY kind"),
            {"k": batch_key},
        ).all()
    return [r[0] for r in rows]
