"""Company headcount into the vendor's bucket labels."""

from __future__ import annotations

import re
from functools import lru_cache

BUCKETS = ("1-10", "11-50", "51-200", "201-500", "501-1000", "1001-5000", "5001-10000", "10 000+")
_UPPER = (10, 50, 200, 500, 1000, 5000, 10000)


def bucket_for(n: int) -> str:
    """The label whose range holds ``n`` employees."""
    for upper, label in zip(_UPPER, BUCKETS, strict=False):
        if n <= upper:
            return label
    return BUCKETS[-1]


@lru_cache(maxsize=10_000)
def headcount_bucket(raw: str) -> str | None:
    """ "51-200", "10,001+", "10001+", "250", "1k-5k" -> vendor label; None when unreadable."""
    text = raw.strip().lower().replace(",", "").replace(" ", "").replace("employees", "")
    if not text:
        return None
    text = re.sub(r"(\d+(?:\.\d+)?)k", lambda m: str(int(float(m.group(1)) * 1000)), text)
    numbers = [int(n) for n in re.findall(r"\d+", text)]
    if not numbers:
        return None
    if text.endswith("+"):
        return bucket_for(numbers[0] + 1)  # "N+" means more than N: "10000+" is the top bucket
    if len(numbers) == 1:
        return bucket_for(numbers[0])
    low, high = numbers[0], numbers[1]
    # A range that matches a bucket exactly keeps its label; otherwise use its midpoint.
    for label in BUCKETS:
        if label.replace(" ", "") == f"{low}-{high}":
            return label
    return bucket_for((low + high) // 2)
