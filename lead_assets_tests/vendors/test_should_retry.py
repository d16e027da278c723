"""``should_retry``: the one decision both clients make after every attempt, table by table
(after stripe-python's ``_should_retry`` tests)."""

from __future__ import annotations

import pytest

from lead_assets.clients.http_policy import (
    AMBIGUOUS,
    ANSWER,
    LOST,
    NOT_SENT,
    REAUTH,
    RETRY,
    UNREADABLE,
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
def test_should_retry(status, failure, idempotent, can_reauth, expected) -> None:  # type: ignore[no-untyped-def]
    got = should_retry(status=status, failure=failure, idempotent=idempotent, can_reauth=can_reauth)
    assert got == expected


def test_neither_status_nor_failure_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        should_retry(idempotent=True)
