"""Company names: legal suffixes stripped with cleanco, plus a comparison key."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from cleanco import basename


def ascii_fold(text: str) -> str:
    """Drop accents: "Société Générale" -> "Societe Generale"."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


@lru_cache(maxsize=200_000)
def normalize_company(raw: str) -> tuple[str, str]:
    """(display name without legal suffix, comparison key). Empty input gives ("", "")."""
    text = " ".join(raw.split()).strip(" ,.;")
    if not text:
        return "", ""
    display = basename(text).strip(" ,.;-") or text
    key = ascii_fold(display).casefold()
    key = re.sub(r"&", " and ", key)
    key = re.sub(r"[^0-9a-z]+", " ", key).split()
    if key and key[0] == "the" and len(key) > 1:
        key = key[1:]
    return display, "".join(key)
