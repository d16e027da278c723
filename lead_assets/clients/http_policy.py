"""One request policy for both vendors: timeouts always, retries only where they cannot pay twice.

- 429 is retried: a throttled call was not served, so it was not billed. ``Retry-After`` is
  honoured when present; otherwise exponential backoff with full jitter (1, 2, 4, 8 s, capped), or a
  fixed wait for vendors that document one (Leedrush: 60 s).
- 5xx answers are retried: the vendor answered that it failed, and failed calls are not billed
  (Generect bills from ``meta.amount_charged`` of successful answers only).
- A connection that could not be opened is retried: nothing was sent.
- A timeout or a connection dropped *after* the request was sent, or a 200 whose body is not
  JSON, is retried only for free or idempotent calls. For a billable call the outcome is unknown:
  the caller marks the reservation ``unknown`` and raises :class:`AmbiguousChargeError`.
- Other 4xx are never retried: they would fail again unchanged.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class RetryPolicy:
    """How many times and how long to wait. ``sleep`` is injectable so tests run fast."""

    max_attempts: int = 6
    backoff_base: float = 1.0
    backoff_cap: float = 8.0
    #: Wait after a 429 without Retry-After; None means exponential backoff.
    throttled_wait: float | None = None
    max_retry_after: float = 120.0
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    def backoff(self, attempt: int) -> float:
        """Full-jitter exponential backoff for retry number ``attempt`` (1-based)."""
        ceiling = min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))
        return self.rng.uniform(ceiling / 2, ceiling)

    def throttle_wait(self, attempt: int, retry_after: float | None) -> float:
        """Wait after a 429: Retry-After when present, else the vendor's fixed wait or backoff."""
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        if self.throttled_wait is not None:
            return self.throttled_wait
        return self.backoff(attempt)


#: What :func:`should_retry` answers.
RETRY = "retry"  # wait (backoff, or Retry-After for a 429) and send again
REAUTH = "reauth"  # log in again and send again, once
AMBIGUOUS = "ambiguous"  # a paid call may have been billed: never resend, reconcile
ANSWER = "answer"  # hand the response to the caller (a success, or an error to raise)

#: Transport failures, by whether the request can have reached the server.
NOT_SENT = "not_sent"  # the connection could not be opened
LOST = "lost"  # a timeout or a drop after the request was written
UNREADABLE = "unreadable"  # a 2xx whose body could not be read


def should_retry(
    *,
    status: int | None = None,
    failure: str | None = None,
    idempotent: bool,
    can_reauth: bool = False,
) -> str:
    """May this attempt be sent again? The one decision both clients make after every attempt
    (a pure function: see the module docstring for why each case is safe).

    ``status`` is the HTTP status when an answer arrived; ``failure`` one of :data:`NOT_SENT`,
    :data:`LOST`, :data:`UNREADABLE` otherwise; ``idempotent`` is False for a billable call."""
    if failure == NOT_SENT:
        return RETRY
    if failure in (LOST, UNREADABLE):
        return RETRY if idempotent else AMBIGUOUS
    if status is None:
        raise ValueError("give either an HTTP status or a transport failure")
    if status == 401 and can_reauth:
        return REAUTH
    if status == 429 or status >= 500:
        return RETRY
    return ANSWER


def retry_after_seconds(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds (delta form); None when absent or unreadable."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


@dataclass
class Outcome:
    """What happened to one logical call after retries."""

    response: httpx.Response | None
    attempts: int
    throttled: int = 0
    #: Set when a billable call may have been billed but no usable answer came back.
    ambiguous: str | None = None
    #: Set when the call failed without reaching the vendor or after retries were exhausted.
    error: str | None = None


def send(
    http: httpx.Client,
    method: str,
    url: str,
    *,
    policy: RetryPolicy,
    idempotent: bool,
    expect_json: bool = True,
    **kwargs: Any,
) -> Outcome:
    """Send with the policy above. Never raises for transport problems: the Outcome says what
    happened, so the caller can settle, release or mark its spend reservation correctly."""
    throttled = 0
    last_error = "no attempt made"
    for attempt in range(1, policy.max_attempts + 1):
        response: httpx.Response | None = None
        failure = None
        try:
            response = http.request(method, url, **kwargs)
        except httpx.ConnectError as exc:
            failure, last_error = NOT_SENT, f"could not connect ({exc.__class__.__name__})"
        except (
            httpx.TimeoutException,
            httpx.RemoteProtocolError,
            httpx.ReadError,
            httpx.WriteError,
        ) as exc:
            failure, last_error = LOST, f"{exc.__class__.__name__} after the request was sent"
        if response is not None and expect_json and response.status_code < 300:
            try:
                response.json()
            except ValueError:
                failure, last_error = UNREADABLE, "the answer was not valid JSON"
        decision = should_retry(
            # No failure means the request returned a response.
            status=None if failure or response is None else response.status_code,
            failure=failure,
            idempotent=idempotent,
        )
        if decision == AMBIGUOUS:
            return Outcome(None, attempt, throttled, ambiguous=last_error)
        if decision == ANSWER:
            return Outcome(response, attempt, throttled)
        if response is not None and not failure and response.status_code == 429:
            throttled += 1
            last_error = "throttled (429)"
            policy.sleep(policy.throttle_wait(attempt, retry_after_seconds(response)))
            continue
        if response is not None and not failure:
            last_error = f"server error {response.status_code}"
        policy.sleep(policy.backoff(attempt))
    return Outcome(
        None,
        policy.max_attempts,
        throttled,
        error=f"gave up after {policy.max_attempts} attempts: {last_error}",
    )


def error_message(response: httpx.Response) -> str:
    """A readable sentence from any of the vendors' error shapes (A-G10): ``detail`` as a string,
    a field map or ``non_field_errors``, a FastAPI list, ``error``, ``message``, or raw text."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return text[:300] or f"HTTP {response.status_code}"
    if isinstance(body, dict):
        for key in ("detail", "error", "message"):
            if key in body:
                return _error_text(body[key])
    return _error_text(body)


def _error_text(detail: object) -> str:
    """An error body part (text, field map, FastAPI list) as one readable sentence."""
    if isinstance(detail, str):
        return detail
    if isinstance(detail, dict):
        parts = []
        for field_name, messages in detail.items():
            msgs = messages if isinstance(messages, list) else [messages]
            label = "" if field_name == "non_field_errors" else f"{field_name}: "
            parts.append(label + "; ".join(_error_text(m) for m in msgs))
        return ". ".join(parts)
    if isinstance(detail, list):
        return "; ".join(
            (
                f"{'.'.join(str(x) for x in d.get('loc', []))}: {d.get('msg')}"
                if isinstance(d, dict) and "msg" in d
                else _error_text(d)
            )
            for d in detail
        )
    return str(detail)
