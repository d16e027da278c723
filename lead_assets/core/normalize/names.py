"""Person names with nameparser: casing, prefixes/suffixes, and "Last, First"."""

from __future__ import annotations

import re
from functools import lru_cache

from nameparser import HumanName

_SIMPLE = re.compile(r"^[A-Za-zÀ-ÖØ-öø-ÿ]+(?:[-'][A-Za-zÀ-ÖØ-öø-ÿ]+)*$")
_PARTICLES = {
    "van",
    "von",
    "der",
    "den",
    "de",
    "del",
    "della",
    "da",
    "di",
    "la",
    "le",
    "du",
    "dos",
    "das",
    "ter",
    "ten",
    "bin",
    "al",
}


def _case_token(token: str) -> str:
    if token.lower() in _PARTICLES:
        return token.lower()
    parts = re.split(r"([-'])", token)
    out = []
    for part in parts:
        if part in "-'":
            out.append(part)
            continue
        p = part.lower().capitalize()
        if p.startswith("Mc") and len(p) > 2:
            p = "Mc" + p[2:].capitalize()
        out.append(p)
    return "".join(out)


@lru_cache(maxsize=200_000)
def case_name(text: str) -> str:
    """Proper-case a name part unless it is already mixed case (respect "DeShawn", "McDonald")."""
    text = " ".join(text.split())
    if not text:
        return ""
    if text != text.lower() and text != text.upper():
        return text
    return " ".join(_case_token(t) for t in text.split(" "))


@lru_cache(maxsize=200_000)
def split_name(first: str, last: str, full: str) -> tuple[str, str, str, str]:
    """(first, middle, last, full) from whatever the file gave; prefixes and suffixes dropped."""
    first, last, full = first.strip(), last.strip(), full.strip()
    if first and last and _SIMPLE.match(first) and _SIMPLE.match(last):
        f, m, lst = case_name(first), "", case_name(last)
    else:
        source = full if not (first or last) else f"{first} {last}".strip()
        if not source:
            return "", "", "", ""
        parsed = HumanName(source)
        f, m, lst = parsed.first, parsed.middle, parsed.last
        if not f and not lst and parsed.title:  # "Dr." alone
            return "", "", "", ""
        f, m, lst = case_name(f), case_name(m), case_name(lst)
        if first and not last and not f:
            f = case_name(first)
    full_out = " ".join(p for p in (f, m, lst) if p)
    return f, m, lst, full_out
