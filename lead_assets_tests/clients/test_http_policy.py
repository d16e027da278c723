"""The HTTP policy both clients share: ``should_retry``, the one decision made after every
attempt, table by table (after stripe-python's ``_should_retry`` tests); the waits of a
``RetryPolicy``; vendor error envelopes read as sentences."""

from __future__ import annotations

import httpx
import pytest

from lead_assets.clients.http_policy import (
    AMBIGUOUS,
    ANSWER,
    LOST,
    NOT_SENT,
    REAUTH,
    RETRY,
    UNREADABLE,
    RetryPolicy,
    error_message,
    should_retry,
)


@pytest.mark.parametrize(
    ("status", "failure", "idempotent", "can_reauth", "expected"),
    [
        # nothing reached the server: always safe to send again
        (None, NOT_SENT, True, False, RETRY),
        (None, NOT_SENT, False, False, RETRY),
        # the request may have been served: only a free or idempotent call is sent again
        (None, LOST, True, False, RETRY),
        (None, LOST, False, False, AMBIGUOUS),
        (None, UNREADABLE, True, False, RETRY),
        (None, UNREADABLE, False, False, AMBIGUOUS),
        # throttled and server errors were not served (so not billed)
        (429, None, True, False, RETRY),
        (429, None, False, False, RETRY),
        (500, None, False, False, RETRY),
        (502, None, True, False, RETRY),
        (503, None, False, False, RETRY),
        # an expired token: log in again once, then it is an answer like any 401
        (401, None, True, True, REAUTH),
        (401, None, False, True, REAUTH),
        (401, None, True, False, ANSWER),
        # successes and client errors are answers: resending would change nothing
        (200, None, False, False, ANSWER),
        (202, None, False, False, ANSWER),
        (400, None, True, False, ANSWER),
        (402, None, False, False, ANSWER),
        (403, None, True, False, ANSWER),
        (404, None, True, False, ANSWER),
        (422, None, False, False, ANSWER),
    ],
)
def test_should_retry(
    status: int | None, failure: str | None, idempotent: bool, can_reauth: bool, expected: str
) -> None:
    got = should_retry(status=status, failure=failure, idempotent=idempotent, can_reauth=can_reauth)
    assert got == expected


def test_neither_status_nor_failure_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        should_retry(idempotent=True)


def test_throttling_backs_off_exponentially_or_honours_retry_after() -> None:
    policy = RetryPolicy(backoff_base=1.0, backoff_cap=8.0)
    waits = [policy.throttle_wait(n, None) for n in range(1, 7)]
    assert all(c / 2 <= w <= c for w, c in zip(waits, [1, 2, 4, 8, 8, 8], strict=True))
    assert policy.throttle_wait(3, 1.5) == 1.5


def test_error_envelopes_become_sentences() -> None:
    def resp(status: int, body: object) -> httpx.Response:
        if isinstance(body, str):
            return httpx.Response(status, text=body)
        return httpx.Response(status, json=body)

    assert (
        error_message(resp(400, {"status": "error", "status_code": 400, "detail": "Bad."}))
        == "Bad."
    )
    assert (
        error_message(resp(400, {"detail": {"seniorities": ["No boss."]}}))
        == "seniorities: No boss."
    )
    assert error_message(resp(400, {"detail": {"non_field_errors": ["Pick one."]}})) == "Pick one."
    assert (
        error_message(resp(403, {"error": "You are not authorized."})) == "You are not authorized."
    )
    assert error_message(resp(502, "<html>Bad gateway</html>")) == "<html>Bad gateway</html>"
