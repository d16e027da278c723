"""What an ops person must be told about, found in the warehouse and the vendors' free calls.

Dagster-free: the ops-alert sensor calls :func:`find_alerts` with a small window state (the time
of its previous pass and the last credits level it reported), so each fact is alerted once, when
it happens, and the sensor cursor stays a few bytes.

- quarantined files (``seen_files``), and batches sent back to wait for credits (budget or funds
  exhausted: ``lead_batches.state = 'waiting_credits'``), updated since the last pass;
- Leedrush batches still open after ``LEAD_ASSETS_STALE_BATCH_S`` (default one hour), once when
  they cross the line, and batches marked ``timed_out``;
- credits ``low`` / ``exhausted``: Leedrush's ``credits.low`` / ``credits.exhausted`` webhook
  events recorded by the receiver, and the balances read by free calls (Leedrush below 10 % of
  the plan, or Generect at or below its reserve), reported when the level changes.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text

from lead_assets.alerts import Alert

LOW_SHARE = 0.10  # Leedrush's own credits.low threshold (10 % of the plan's credits)
log = logging.getLogger(__name__)


def stale_after() -> timedelta:
    """``LEAD_ASSETS_STALE_BATCH_S``: a Leedrush batch open longer than this is stale."""
    from lead_assets.settings import stale_batch_seconds

    return timedelta(seconds=stale_batch_seconds())


@dataclass
class WatchState:
    """The alert sensor's cursor: end of the last window and the last credits level."""

    since: datetime
    credits_level: str = "ok"  # ok | low | exhausted

    def to_json(self) -> dict:
        return {"since": self.since.isoformat(), "credits": self.credits_level}

    @classmethod
    def from_json(cls, data: dict | None, now: datetime) -> WatchState:
        # First pass: look back one hour, so facts from just before the sensor started count.
        if not data:
            return cls(since=now - timedelta(hours=1))
        return cls(since=datetime.fromisoformat(data["since"]), credits_level=data["credits"])


@dataclass
class WatchResult:
    """The alerts to send and the next cursor state."""

    alerts: list[Alert]
    state: WatchState


def _naive(ts: datetime) -> datetime:
    # Timestamps are stored as naive UTC on SQLite; compare like with like on both backends.
    return ts.astimezone(UTC).replace(tzinfo=None)


def _rows(engine: Engine, sql: str, **params: object) -> list:
    with engine.connect() as conn:
        return list(conn.execute(text(sql), params))


def warehouse_alerts(engine: Engine, since: datetime, now: datetime) -> list[Alert]:
    """Quarantines, credit waits and stale / timed-out Leedrush batches within (since, now]."""
    lo, hi = _naive(since), _naive(now)
    alerts = [
        Alert("file_quarantined", f"{os.path.basename(path)} was quarantined: {reason}")
        for path, reason in _rows(
            engine,
            "SELECT path, reason FROM seen_files WHERE state = 'quarantined' "
            "AND updated_at > :lo AND updated_at <= :hi ORDER BY updated_at",
            lo=lo,
            hi=hi,
        )
    ]
    alerts += [
        Alert("budget_exhausted", detail or "waiting for credits", batch_key=key)
        for key, detail in _rows(
            engine,
            "SELECT batch_key, detail FROM lead_batches WHERE state = 'waiting_credits' "
            "AND updated_at > :lo AND updated_at <= :hi ORDER BY batch_key",
            lo=lo,
            hi=hi,
        )
    ]
    age = stale_after()
    alerts += [
        Alert(
            "stale_batch",
            f"Leedrush batch {batch_id} is still {status} after "
            f"{int(age.total_seconds() // 60)} min",
            batch_key=key,
        )
        for key, batch_id, status in _rows(
            engine,
            "SELECT batch_key, leedrush_batch_id, status FROM leedrush_submissions "
            "WHERE status IN ('queued', 'processing') AND submitted_at > :lo AND submitted_at <= :hi",
            lo=_naive(since - age),
            hi=_naive(now - age),
        )
    ]
    alerts += [
        Alert("stale_batch", f"Leedrush batch {batch_id} timed out: {detail or ''}", batch_key=key)
        for key, batch_id, detail in _rows(
            engine,
            "SELECT batch_key, leedrush_batch_id, detail FROM leedrush_submissions "
            "WHERE status = 'timed_out' AND updated_at > :lo AND updated_at <= :hi",
            lo=lo,
            hi=hi,
        )
    ]
    return alerts


def webhook_credit_level(engine: Engine, since: datetime, now: datetime) -> str | None:
    """The worst credits event Leedrush sent in the window (``exhausted`` beats ``low``)."""
    kinds = {
        r[0]
        for r in _rows(
            engine,
            "SELECT event FROM vendor_events WHERE vendor = 'leedrush' AND event IN "
            "('credits.low', 'credits.exhausted') AND received_at > :lo AND received_at <= :hi",
            lo=_naive(since),
            hi=_naive(now),
        )
    }
    if "credits.exhausted" in kinds:
        return "exhausted"
    return "low" if "credits.low" in kinds else None


def polled_credit_level(generect, leedrush) -> tuple[str, str]:
    """Credits level from the free balance calls, and a sentence with the figures."""
    from lead_assets.settings import reserve_credits, reserve_usd

    level, parts = "ok", []
    try:
        client = leedrush.get_client()
        try:
            sub = client.subscription()
        finally:
            client.close()
        remaining, total = sub.credits_remaining or 0, sub.credits_total or 0
        parts.append(f"Leedrush {remaining} of {total} credits left")
        if remaining <= reserve_credits():
            level = "exhausted"
        elif total and remaining < LOW_SHARE * total:
            level = "low"
    except Exception as exc:  # a vendor outage must not stop the other alerts
        log.warning(f"Leedrush credits not readable: {type(exc).__name__}")
    try:
        client = generect.get_client()
        try:
            balance = client.balance()
        finally:
            client.close()
        parts.append(f"Generect ${balance:.2f} left")
        if balance <= reserve_usd():
            level = "exhausted"
    except Exception as exc:
        log.warning(f"Generect balance not readable: {type(exc).__name__}")
    return level, "; ".join(parts)


_RANK = {"ok": 0, "low": 1, "exhausted": 2}


def find_alerts(
    engine: Engine,
    state: WatchState,
    now: datetime,
    *,
    generect=None,
    leedrush=None,
) -> WatchResult:
    """All alerts of the window (state.since, now] and the next state."""
    alerts = warehouse_alerts(engine, state.since, now)
    level, figures = ("ok", "")
    if generect is not None and leedrush is not None:
        level, figures = polled_credit_level(generect, leedrush)
    event_level = webhook_credit_level(engine, state.since, now)
    if event_level and _RANK[event_level] > _RANK[level]:
        level = event_level
        figures = figures or f"Leedrush sent credits.{event_level}"
    if level != state.credits_level and level != "ok":
        alerts.append(Alert(f"credits_{level}", figures or f"credits {level}"))
    return WatchResult(alerts, WatchState(since=now, credits_level=level))
