"""Deciding ambiguous paid calls from the vendors' own books (pure: no database, no HTTP).

A paid call whose answer was lost (a connection dropped after the request was sent, a body that
was not JSON, a run killed mid-call) leaves an *open* ledger entry: it may or may not have been
billed. The vendor's books say which:

- **Generect** lists every charge (``GET /accounts/transactions/``: type, time, amount). Charges
  are matched to ledger entries by transaction type, time window and amount. Entries already
  settled claim their charges first, so one charge never explains two entries; what is left over
  settles the open entries, oldest first. An open entry with no charge left for it after the grace
  window is released: it was not billed and the item may be bought again.
- **Leedrush** names every batch by the upload name, which is derived from the lead batch key. The
  number of listed batches under that name is the number of ``process`` charges; settled entries
  claim theirs first, the rest settle open entries with the batch's row count in credits.

While a live call of the same kind is still in flight, an open entry waits: its charge could be
the live call's, and guessing would either pay twice in the books or drop a real charge.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

#: Ledger operation -> Generect transaction ``type`` (as the sandbox and the contract's ledger name
#: them). Bulk jobs are charged when they complete, under ``bulk_<kind>``, for the items found.
GENERECT_TRANSACTION_TYPES = {
    "email_find": "email_finder",
    "email_validate": "email_validator",
    "enrich_company": "enrich_company",
    "enrich_lead": "enrich_lead",
    "search_leads": "search_database_leads",
    "search_companies": "search_database_companies",
    "search_company_leads": "search_database_company_leads",
    "preview_leads": "preview_leads",
    "email_find_bulk": "bulk_email",
    "enrich_companies_bulk": "bulk_company",
    "enrich_leads_bulk": "bulk_lead",
}
#: Operations billed per row or per item found: the charge is at most the estimate, not equal.
VARIABLE_PRICE = frozenset(
    {
        "search_leads",
        "search_companies",
        "search_company_leads",
        "preview_leads",
        "email_find_bulk",
        "enrich_companies_bulk",
        "enrich_leads_bulk",
    }
)


@dataclass(frozen=True)
class Entry:
    """One spend-ledger row, as reconciliation sees it."""

    id: str
    vendor: str
    operation: str
    request_key: str
    state: str  # settled | reserved | submitted | unknown
    estimate: float
    amount: float
    created_at: datetime
    updated_at: datetime
    #: False when the run that made the call is gone (its reservation can no longer settle).
    live: bool = False

    @property
    def open(self) -> bool:
        """Undecided: marked unknown, or reserved by a run that died."""
        return self.state == "unknown" or (self.state == "reserved" and not self.live)


@dataclass(frozen=True)
class Charge:
    """One Generect transaction (a charge; amounts positive here)."""

    id: str
    type: str
    amount: float
    at: datetime


@dataclass(frozen=True)
class ListedBatch:
    """One Leedrush batch from the listing."""

    batch_id: str
    filename: str
    rows_total: int
    status: str
    created_at: str | None = None


@dataclass(frozen=True)
class Decision:
    """What to write for one open entry: ``settle`` (with ``amount``), ``release`` or ``wait``."""

    entry_id: str
    action: str
    amount: float = 0.0
    evidence: dict = field(default_factory=dict)


def _fits(entry: Entry, charge: Charge, skew: timedelta, now: datetime) -> bool:
    wanted = GENERECT_TRANSACTION_TYPES.get(entry.operation)
    if charge.type != wanted:
        return False
    # A settled call was charged while it ran. An open one may be charged later than it ended:
    # a timed-out request can still be served, a bulk job is billed when it completes, a killed
    # run's call finishes without it. Settled calls claim their charges first, so an open one
    # only takes what no settled call explains.
    upper = entry.updated_at + skew if entry.state == "settled" else now
    if not (entry.created_at - skew <= charge.at <= upper):
        return False
    if entry.state == "settled":
        return abs(charge.amount - entry.amount) < 1e-6
    if entry.operation in VARIABLE_PRICE:
        return 0 < charge.amount <= entry.estimate + 1e-6
    return abs(charge.amount - entry.estimate) < 1e-6


class _Claims:
    """Vendor charges not yet given to an entry, handed out one per entry."""

    def __init__(
        self, charges: Iterable[Charge], claimed: set[str], skew: timedelta, now: datetime
    ) -> None:
        self.pool = sorted(charges, key=lambda c: c.at)
        self.claimed = claimed
        self.skew, self.now = skew, now

    def claim(self, entry: Entry) -> Charge | None:
        """The charge that explains ``entry``, taken out of the pool (None if none fits)."""
        fitting = [
            c
            for c in self.pool
            if c.id not in self.claimed and _fits(entry, c, self.skew, self.now)
        ]
        if not fitting:
            return None
        if entry.state == "settled":
            # Best fit, not first fit: a settled call was charged while it ran, so it takes the
            # charge inside (or nearest) its own interval. Taking the earliest charge in its
            # skew window could take an open call's charge and leave its own to the wrong open
            # call, which would then be settled while the one really charged is bought again.
            def distance(c: Charge) -> tuple[float, float]:
                outside = max((entry.created_at - c.at).total_seconds(), 0.0) + max(
                    (c.at - entry.updated_at).total_seconds(), 0.0
                )
                return outside, abs((c.at - entry.updated_at).total_seconds())

            charge = min(fitting, key=distance)
        else:
            charge = fitting[0]
        self.claimed.add(charge.id)
        return charge


def decide_generect(
    entries: Sequence[Entry],
    charges: Iterable[Charge],
    *,
    now: datetime,
    grace: timedelta,
    skew: timedelta = timedelta(seconds=2),
    claimed: set[str] | None = None,
) -> list[Decision]:
    """One decision per open Generect entry (see the module docstring). ``claimed`` are the
    transactions earlier decisions matched: they explain their entries already, and those
    entries (settled by reconciliation) are not passed again as claimants."""
    claims = _Claims(charges, set(claimed or ()), skew, now)
    # Charges earlier passes gave to open entries: twins of this pass's releases too.
    reconciled_before = [c for c in claims.pool if c.id in claims.claimed]
    ordered = sorted(entries, key=lambda e: e.created_at)
    for entry in ordered:
        if entry.state == "settled" and entry.amount > 0:
            claims.claim(entry)
    settled_now: list[Charge] = []
    in_flight = [e for e in ordered if e.state in ("reserved", "submitted") and e.live]
    decisions = []
    for entry in (e for e in ordered if e.open):
        busy = [
            e.id
            for e in in_flight
            if e.operation == entry.operation and e.created_at <= entry.updated_at + skew
        ]
        if busy:
            decisions.append(
                Decision(
                    entry.id, "wait", evidence={"reason": "a live call of this kind is in flight"}
                )
            )
            continue
        charge = claims.claim(entry)
        if charge is not None:
            settled_now.append(charge)
            decisions.append(_settle(entry, charge))
        elif now - entry.updated_at >= grace:
            twin = next(
                (c for c in reconciled_before + settled_now if _fits(entry, c, skew, now)), None
            )
            decisions.append(_release(entry, twin, now=now, grace=grace, skew=skew))
        else:
            decisions.append(
                Decision(entry.id, "wait", evidence={"reason": "inside the grace window"})
            )
    return decisions


def _settle(entry: Entry, charge: Charge) -> Decision:
    """Settle ``entry`` at the charge the books show for it."""
    return Decision(
        entry.id,
        "settle",
        charge.amount,
        {
            "matched": "generect transaction",
            "transaction_id": charge.id,
            "type": charge.type,
            "amount": charge.amount,
            "at": charge.at.isoformat(),
        },
    )


def _release(
    entry: Entry, twin: Charge | None, *, now: datetime, grace: timedelta, skew: timedelta
) -> Decision:
    """Release an entry the books show no charge for, past the grace window.

    With a ``twin`` the books cannot tell this call from another open one of the same kind and
    price whose window holds the charge given to it: either may be the one billed. The money
    follows the books (one charge, one settled entry), but this call's items are not bought
    again (never pay twice); they go on without an answer, like a paid call whose answer was
    lost."""
    return Decision(
        entry.id,
        "release",
        evidence={
            "matched": None,
            **({"ambiguous_with": twin.id, "items": "kept"} if twin else {}),
            "searched_type": GENERECT_TRANSACTION_TYPES.get(entry.operation, "?"),
            "window_from": (entry.created_at - skew).isoformat(),
            "window_to": now.isoformat(),
            "amount": entry.estimate,
            "grace_s": grace.total_seconds(),
        },
    )


def decide_leedrush(
    entries: Sequence[Entry],
    listed: Sequence[ListedBatch],
    *,
    name: str,
    now: datetime,
    grace: timedelta,
) -> list[Decision]:
    """One decision per open ``process`` entry of one lead batch, whose upload name is ``name``."""
    batches = sorted((b for b in listed if b.filename == name), key=lambda b: b.created_at or "")
    ordered = sorted(entries, key=lambda e: e.created_at)
    settled = sum(1 for e in ordered if e.state == "settled")
    if any(e.state == "reserved" and e.live for e in ordered):
        return [
            Decision(e.id, "wait", evidence={"reason": "a live submission is in flight"})
            for e in ordered
            if e.open
        ]
    spare = batches[settled:]
    decisions = []
    for entry in (e for e in ordered if e.open):
        if spare:
            batch = spare.pop(0)
            decisions.append(
                Decision(
                    entry.id,
                    "settle",
                    float(batch.rows_total),
                    {
                        "matched": "leedrush batch",
                        "batch_id": batch.batch_id,
                        "filename": batch.filename,
                        "rows_total": batch.rows_total,
                        "status": batch.status,
                    },
                )
            )
        elif now - entry.updated_at >= grace:
            decisions.append(
                Decision(
                    entry.id,
                    "release",
                    evidence={
                        "matched": None,
                        "filename": name,
                        "batches_listed_under_name": len(batches),
                        "settled_entries": settled,
                        "grace_s": grace.total_seconds(),
                    },
                )
            )
        else:
            decisions.append(
                Decision(entry.id, "wait", evidence={"reason": "inside the grace window"})
            )
    return decisions
