"""Exceptions raised by the vendor clients.

Each exception carries a readable message built from the vendor's error envelope, the HTTP status
and the operation. None of them ever contains an API key, a JWT or a password.
"""

from __future__ import annotations

from typing import Any


class VendorError(Exception):
    """A vendor call failed; ``str(err)`` is a sentence a user can act on."""

    def __init__(
        self,
        message: str,
        *,
        vendor: str,
        operation: str,
        status_code: int | None = None,
        detail: object = None,
    ) -> None:
        super().__init__(message)
        self.vendor = vendor
        self.operation = operation
        self.status_code = status_code
        self.detail = detail


class AuthenticationError(VendorError):
    """401: the key, token or credentials were refused."""


class NotEntitledError(VendorError):
    """403: the account or plan is not entitled to this endpoint."""


class InsufficientFundsError(VendorError):
    """402, or a 400 whose detail says "insufficient funds". Never retried: spending stops."""


class RateLimitedError(VendorError):
    """429 that persisted after the client's retries."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ValidationError(VendorError):
    """400/422: the request itself is wrong and will fail again unchanged."""


class NotFoundError(VendorError):
    """404 (unknown batch, expired job, unknown path)."""


class UpstreamError(VendorError):
    """5xx, timeouts, dropped connections or malformed bodies after retries were exhausted."""


class AmbiguousChargeError(UpstreamError):
    """A billable call failed in a way that may have been billed (e.g. a read timeout after the
    request was sent). It is not retried; the ledger keeps the reservation for reconciliation."""


class BudgetExceededError(Exception):
    """Raised by a spend hook when a reservation would exceed a run, day or credit budget."""
