"""Per-batch figures read back from the warehouse (for ``lead-assets run`` and the demo)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, text


def batch_figures(engine: Engine, batch_key: str) -> dict[str, Any]:
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
            )
            .tuples()
            .all()
        )
        spend = dict(
            conn.execute(
                text(
                    "SELECT unit, COALESCE(SUM(amount), 0) FROM spend_ledger WHERE batch_key = :k"
                    " AND state = 'settled' GROUP BY unit"
                ),
                {"k": batch_key},
            )
            .tuples()
            .all()
        )
        unknown = dict(
            conn.execute(
                text(
                    "SELECT unit, COALESCE(SUM(estimate), 0) FROM spend_ledger WHERE batch_key = :k"
                    " AND state IN ('unknown', 'submitted', 'reserved') GROUP BY unit"
                ),
                {"k": batch_key},
            )
            .tuples()
            .all()
        )
        saved = conn.execute(
            text(
                "SELECT vendor, reason, unit, items, amount FROM batch_savings WHERE batch_key = :k"
            ),
            {"k": batch_key},
        ).all()
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
    outcomes = {
        k: int(qualified.get(k.upper(), 0)) for k in ("qualified", "review", "disqualified")
    }
    failed = int(qualified.get("FAILED", 0))
    blocked = _blocked_detail(engine, batch_key)
    if blocked and not qualified:
        # A blocking check stopped the batch before qualification: its ok rows end here, failed,
        # with the check's sentence as the reason (no row without an outcome).
        failed = ok
    return {
        "rows_in": int(raw_rows),
        "ok": ok,
        "rejected": len(std) - ok,
        "reasons": dict(reasons),
        "spend_usd": round(float(spend.get("usd", 0.0)), 4),
        "spend_credits": round(float(spend.get("credits", 0.0)), 2),
        "cache_hits": int(cache_hits or 0),
        **outcomes,
        "failed": failed,
        "already_delivered": int(qualified.get("ALREADY_DELIVERED", 0)),
        **({"blocked": blocked} if blocked else {}),
        "spend": spend_block(spend, unknown, saved),
    }


def _blocked_detail(engine: Engine, batch_key: str) -> str | None:
    """Why a blocking check stopped the batch, when one did."""
    from lead_assets.pipeline.batch_registry import BLOCKED

    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT state, detail FROM lead_batches WHERE batch_key = :k"), {"k": batch_key}
        ).first()
    return (row[1] or "blocked by a check") if row and row[0] == BLOCKED else None


def spend_block(
    settled: dict[str, float], unknown: dict[str, float], saved: Sequence[Sequence[Any]]
) -> dict[str, object]:
    """Spend told truthfully: settled (the vendors' reported charges), unknown (may have been
    charged, awaiting reconciliation; counted at the estimate) and saved (what the cache and
    resolve-before-buy avoided), in USD and credits, with the saved leads per vendor and reason."""
    saved_units: dict[str, float] = {}
    saved_detail: dict[str, dict[str, object]] = {}
    for vendor, reason, unit, items, amount in saved:
        saved_units[unit] = saved_units.get(unit, 0.0) + float(amount)
        saved_detail[f"{vendor}/{reason}"] = {
            "items": int(items),
            unit: round(float(amount), 4),
        }
    return {
        "settled_usd": round(float(settled.get("usd", 0.0)), 4),
        "settled_credits": round(float(settled.get("credits", 0.0)), 2),
        "unknown_usd": round(float(unknown.get("usd", 0.0)), 4),
        "unknown_credits": round(float(unknown.get("credits", 0.0)), 2),
        "saved_usd": round(saved_units.get("usd", 0.0), 4),
        "saved_credits": round(saved_units.get("credits", 0.0), 2),
        "saved_by": saved_detail,
    }


def run_spend(rows: list[dict]) -> dict[str, float]:
    """The spend block summed over the batches of a run (for the run summary)."""
    total: dict[str, float] = {}
    for row in rows:
        for key, value in (row.get("spend") or {}).items():
            if isinstance(value, int | float):
                total[key] = round(total.get(key, 0.0) + float(value), 4)
    return total


def export_paths(engine: Engine, batch_key: str) -> list[str]:
    """Export files written for a batch by the lead_exports asset."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT path FROM batch_exports WHERE batch_key = :k ORDER BY kind"),
            {"k": batch_key},
        ).all()
    return [r[0] for r in rows]
