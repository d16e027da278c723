"""Webhook signature checks for both vendors: small pure functions, constant-time comparisons.

- Generect signs the raw request body with ``base64(HMAC-SHA256(secret, body))`` and sends it in
  the ``X-Webhook-Signature`` header (contract, Generect webhooks).
- Leedrush signs the raw body with ``hex(HMAC-SHA256(secret, body))``.

Always verify the raw bytes as received: re-serialising parsed JSON changes the bytes and the
signature no longer matches.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

__all__ = [
    "generect_signature",
    "leedrush_signature",
    "verify_generect_signature",
    "verify_leedrush_signature",
]


def _digest(secret: str | bytes, body: bytes) -> bytes:
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, body, hashlib.sha256).digest()


def _same(expected: str, given: str) -> bool:
    """Constant-time equality that never raises: ``hmac.compare_digest`` refuses non-ASCII
    ``str``, so a malformed header (any bytes an attacker sends) is compared as UTF-8 bytes."""
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogateescape"))


def generect_signature(secret: str | bytes, body: bytes) -> str:
    """The signature Generect would send for ``body`` (base64 of the HMAC-SHA256 digest)."""
    return base64.b64encode(_digest(secret, body)).decode()


def leedrush_signature(secret: str | bytes, body: bytes) -> str:
    """The signature Leedrush would send for ``body`` (lowercase hex of the HMAC-SHA256 digest)."""
    return _digest(secret, body).hex()


def verify_generect_signature(secret: str | bytes, body: bytes, signature: str | None) -> bool:
    """True when ``signature`` is Generect's base64 HMAC-SHA256 of ``body``; constant time.

    An empty secret or a missing signature is never valid (an unsigned delivery is rejected).
    """
    if not secret or not isinstance(signature, str) or not signature.strip():
        return False
    return _same(generect_signature(secret, body), signature.strip())


def verify_leedrush_signature(secret: str | bytes, body: bytes, signature: str | None) -> bool:
    """True when ``signature`` is Leedrush's hex HMAC-SHA256 of ``body`` (case-insensitive,
    an optional ``sha256=`` prefix is accepted); constant time.

    An empty secret or a missing or malformed signature is never valid, and never raises."""
    if not secret or not isinstance(signature, str) or not signature.strip():
        return False
    value = signature.strip().lower()
    if value.startswith("sha256="):
        value = value[len("sha256=") :]
    return _same(leedrush_signature(secret, body), value)
