"""Whatever belongs to one batch (or one file) fails alone.

A sensor tick handles many batches; one batch whose rows or remote state break a step must not
fail the tick for all the others (a raising tick also loses its cursor). :func:`each_alone` runs a
step per item, keeps the answers of the items that worked, and turns each failure into a
one-sentence :class:`ItemFailure` that the sensor reports.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class ItemFailure:
    """One item (batch key or file name) that failed, and why, in one masked sentence."""

    key: str
    reason: str

    def __str__(self) -> str:
        return f"{self.key}: {self.reason}"


def failure_reason(exc: BaseException) -> str:
    """``ErrorType: first line of the message``, with emails and phones masked."""
    from lead_assets.core.pii import mask_text

    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    message = mask_text(message)[:300]
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def each_alone(
    items: Iterable[T],
    step: Callable[[T], R],
    key: Callable[[T], str],
    *,
    log: logging.Logger | None = None,
) -> tuple[list[R], list[ItemFailure]]:
    """``step(item)`` for every item; a failing item is recorded, never re-raised."""
    done: list[R] = []
    failed: list[ItemFailure] = []
    for item in items:
        try:
            done.append(step(item))
        except Exception as exc:  # one item's failure is reported, the others go on
            failure = ItemFailure(key(item), failure_reason(exc))
            failed.append(failure)
            (log or logging.getLogger(__name__)).error(f"skipped {failure}")
    return done, failed
