"""The operations report: what an ops person reads first, computed from the warehouse alone.

Free (no vendor call), so the ``operations_report`` asset refreshes itself on a cron through
``AutomationCondition.on_cron``; every figure is a plain number so the UI plots it over time.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text

#: Batch states an ops person acts on or waits for (anything else counts under its own name).
ATTENTION = ("blocked", "failed", "waiting_credits")
OPEN_LEDGER = ("unknown", "reserved", "submitted")


def operations_figures(engine: Engine, now: datetime | None = None) -> dict[str, float]:
    """Batches by state (exported, blocked, failed, waiting for credits, the rest in flight),
    spend settled in the last 24 h and 30 days per unit, ledger entries still open (their
    estimate), and the files quarantined in the last 24 h."""
    now = now or datetime.now(UTC)
    # Timestamps are stored as naive UTC; compare like with like on both backends.
    now = now.astimezone(UTC).replace(tzinfo=None)
    day, month = now - timedelta(days=1), now - timedelta(days=30)
    with engine.connect() as conn:
        # An exported batch keeps its last stage's state; its export rows say it is done.
        states = Counter(
            dict(
                conn.execute(
                    text(
                        "SELECT CASE WHEN EXISTS (SELECT 1 FROM batch_exports e WHERE e.batch_key"
                        " = b.batch_key) THEN 'exported' ELSE b.state END AS s, COUNT(*)"
                        " FROM lead_batches b GROUP BY s"
                    )
                )
                .tuples()
                .all()
            )
        )

        def spend(since: datetime) -> dict[str, float]:
            rows = conn.execute(
                text(
                    "SELECT unit, COALESCE(SUM(amount), 0) FROM spend_ledger"
                    " WHERE state = 'settled' AND updated_at >= :since GROUP BY unit"
                ),
                {"since": since},
            ).all()
            return {unit: float(total) for unit, total in rows}

        open_rows = conn.execute(
            text(
                "SELECT unit, COUNT(*), COALESCE(SUM(estimate), 0) FROM spend_ledger"
                f" WHERE state IN ({', '.join(repr(s) for s in OPEN_LEDGER)}) GROUP BY unit"
            )
        ).all()
        quarantined = conn.execute(
            text(
                "SELECT COUNT(*) FROM seen_files WHERE state = 'quarantined' AND updated_at >= :since"
            ),
            {"since": day},
        ).scalar_one()
        spent_day, spent_month = spend(day), spend(month)
    figures: dict[str, float] = {
        "batches_total": sum(states.values()),
        **{f"batches_{state}": int(states.get(state, 0)) for state in ("exported", *ATTENTION)},
        "batches_in_flight": sum(n for s, n in states.items() if s not in ("exported", *ATTENTION)),
        "generect_usd_24h": round(spent_day.get("usd", 0.0), 4),
        "leedrush_credits_24h": int(spent_day.get("credits", 0)),
        "generect_usd_30d": round(spent_month.get("usd", 0.0), 4),
        "leedrush_credits_30d": int(spent_month.get("credits", 0)),
        "open_ledger_entries": int(sum(n for _, n, _ in open_rows)),
        "open_usd_estimate": round(sum(float(e) for u, _, e in open_rows if u == "usd"), 4),
        "open_credits_estimate": int(sum(float(e) for u, _, e in open_rows if u == "credits")),
        "files_quarantined_24h": int(quarantined),
    }
    return figures
