"""The one hook through which every billable vendor call is reported.

A client calls :meth:`SpendHook.reserve` *before* sending a billable request, then
:meth:`SpendHook.settle` with the vendor's ``amount_charged`` once the answer arrives, or
:meth:`SpendHook.release` when the call certainly was not billed (e.g. connection refused, 4xx).
When the outcome is unknown (timeout after send), the client calls :meth:`SpendHook.mark_unknown`
and does not retry. The warehouse spend ledger implements this protocol; :class:`NullSpendHook`
records nothing and :class:`MemorySpendHook` keeps entries in memory for tests and benchmarks.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from typing import Protocol


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
