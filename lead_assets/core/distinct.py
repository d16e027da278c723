"""A function applied once per distinct value: lead files repeat their names, companies, titles
and places, so normalizing each distinct value once and mapping the answers back is far cheaper
than once per row (a million names hold a few thousand distinct ones)."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any, cast


def map_unique(keys: Sequence[Hashable], fn: Callable[..., Any], *, star: bool = False) -> list:
    """Apply ``fn`` once per distinct key and map the answers back in order."""
    # With ``star`` the keys are argument tuples.
    answers = {k: (fn(*cast("tuple[Any, ...]", k)) if star else fn(k)) for k in dict.fromkeys(keys)}
    return [answers[k] for k in keys]
