"""The one hook through which every billable vendor call is reported.

A client calls :meth:`SpendHook.reserve` *before* sending a billable request, then
:meth:`SpendHook.settle` with the vendor's ``amount_charged`` once the answer arrives, or
:meth:`SpendHook.release` when the call certainly was not billed (e.g. connection refused, 4xx).
When the outcome is unknown (timeout after send), the client calls :meth:`SpendHook.mark_unknown`
and does not retry. An asynchronous paid job (a Generect bulk job) whose id came back is recorded
with :meth:`SpendHook.mark_submitted`, and :meth:`SpendHook.open_job` finds it again, so a re-run
polls the job it already paid for instead of buying it twice. The warehouse spend ledger implements this protocol; :class:`NullSpendHook`
records nothing and :class:`MemorySpendHook` keeps entries in memory for tests and benchmarks.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol


class SubmittedJob(NamedTuple):
    """A paid asynchronous job that was accepted but is not settled yet.

    A NamedTuple so that code written against the former ``(reservation id, job ref)`` tuple
    still unpacks it."""

    #: The ledger reservation that pays for the job (settled when the job completes).
    reservation_id: str
    #: The vendor's job id, polled (free) until the job completes.
    job_id: str


class SpendHook(Protocol):
    """Reserve-then-settle accounting for paid calls (vendor units: ``usd`` or ``credits``)."""

    def reserve(
        self, *, vendor: str, operation: str, request_key: str, estimate: float, unit: str
    ) -> str:
        """Record an intended spend and return a reservation id.

        May raise :class:`lead_assets.clients.errors.BudgetExceededError` to refuse the call.
        """
        ...

    def settle(self, reservation_id: str, amount: float) -> None:
        """Record what the vendor actually charged for a reserved call."""
        ...

    def release(self, reservation_id: str, reason: str) -> None:
        """Cancel a reservation for a call that was certainly not billed."""
        ...

    def mark_unknown(self, reservation_id: str, reason: str) -> None:
        """Keep a reservation whose billing outcome is unknown, for later reconciliation."""
        ...

    def mark_submitted(self, reservation_id: str, job_id: str) -> None:
        """An asynchronous paid job was accepted with vendor job id ``job_id``: the reservation
        stays counted against the budgets until the job is polled to completion and settled."""
        ...

    def open_job(self, vendor: str, operation: str, request_key: str) -> SubmittedJob | None:
        """The submitted, unsettled job of this exact request, if any (to poll, not rebuy)."""
        ...


class NullSpendHook:
    """A hook that accepts everything and records nothing."""

    def reserve(
        self, *, vendor: str, operation: str, request_key: str, estimate: float, unit: str
    ) -> str:
        return uuid.uuid4().hex

    def settle(self, reservation_id: str, amount: float) -> None:
        return None

    def release(self, reservation_id: str, reason: str) -> None:
        return None

    def mark_unknown(self, reservation_id: str, reason: str) -> None:
        return None

    def mark_submitted(self, reservation_id: str, job_id: str) -> None:
        return None

    def open_job(self, vendor: str, operation: str, request_key: str) -> SubmittedJob | None:
        return None  # it records nothing, so it knows no job to resume


@dataclass
class SpendEntry:
    """One reservation as kept by :class:`MemorySpendHook`."""

    id: str
    vendor: str
    operation: str
    request_key: str
    estimate: float
    unit: str
    state: str = "reserved"
    amount: float = 0.0
    reason: str = ""
    job_id: str | None = None


@dataclass
class MemorySpendHook:
    """Thread-safe in-memory ledger, for tests and benchmarks."""

    entries: dict[str, SpendEntry] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def reserve(
        self, *, vendor: str, operation: str, request_key: str, estimate: float, unit: str
    ) -> str:
        rid = uuid.uuid4().hex
        with self._lock:
            self.entries[rid] = SpendEntry(rid, vendor, operation, request_key, estimate, unit)
        return rid

    def settle(self, reservation_id: str, amount: float) -> None:
        with self._lock:
            entry = self.entries[reservation_id]
            entry.state, entry.amount = "settled", float(amount)

    def release(self, reservation_id: str, reason: str) -> None:
        with self._lock:
            entry = self.entries[reservation_id]
            entry.state, entry.reason = "released", reason

    def mark_unknown(self, reservation_id: str, reason: str) -> None:
        with self._lock:
            entry = self.entries[reservation_id]
            entry.state, entry.reason = "unknown", reason

    def mark_submitted(self, reservation_id: str, job_id: str) -> None:
        with self._lock:
            entry = self.entries[reservation_id]
            entry.state, entry.job_id = "submitted", job_id

    def open_job(self, vendor: str, operation: str, request_key: str) -> SubmittedJob | None:
        with self._lock:
            for entry in reversed(self.entries.values()):  # the latest first, as the ledger does
                if (
                    entry.state == "submitted"
                    and entry.job_id is not None
                    and (entry.vendor, entry.operation, entry.request_key)
                    == (vendor, operation, request_key)
                ):
                    return SubmittedJob(entry.id, entry.job_id)
        return None

    def total(self, vendor: str | None = None, unit: str | None = None) -> float:
        """Sum of settled amounts, optionally for one vendor and unit."""
        with self._lock:
            return sum(
                e.amount
                for e in self.entries.values()
                if e.state == "settled"
                and (vendor is None or e.vendor == vendor)
                and (unit is None or e.unit == unit)
            )
