"""Registrable domains from websites and emails, with tldextract's bundled suffix list (no network)."""

from __future__ import annotations

from functools import lru_cache

import tldextract

# suffix_list_urls=() : never fetch the public suffix list at run time; use the bundled snapshot.
_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


@lru_cache(maxsize=200_000)
def domain_from_url(raw: str) -> str | None:
    """ "https://www.Acme.co.uk/about" -> "acme.co.uk"; None when there is no registrable domain."""
    text = raw.strip().lower()
    if not text or " " in text.strip():
        return None
    if "@" in text and "/" not in text:
        text = text.rsplit("@", 1)[1]
    result = _EXTRACT(text)
    if not result.domain or not result.suffix:
        return None
    return f"{result.domain}.{result.suffix}"
