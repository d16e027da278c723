"""Job titles: a normalized title, seniority on the vendor scale, and a function.

There is no standard library for titles (design notes): a small rule table, checked in order.
"""

from __future__ import annotations

import re
from functools import lru_cache

# The seniority scale is the vendors' request vocabulary (owner ... intern), kept in one place.
from lead_assets.core.generect_vocabulary import SENIORITIES  # noqa: F401

_ABBREVIATIONS = [
    (r"\bsr\.?(?=\s|$)", "Senior"),
    (r"\bjr\.?(?=\s|$)", "Junior"),
    (r"\bsvp\b", "Senior Vice President"),
    (r"\bevp\b", "Executive Vice President"),
    (r"\bavp\b", "Assistant Vice President"),
    (r"\bvp\b", "Vice President"),
    (r"\bdir\.?(?=\s|$)", "Director"),
    (r"\bmgr\.?(?=\s|$)", "Manager"),
    (r"\bengr?\.?(?=\s|$)", "Engineer"),
    (r"\bmktg\b", "Marketing"),
    (r"\bops\b", "Operations"),
    (r"\bacct\b", "Account"),
    (r"\bexec\.?(?=\s|$)", "Executive"),
    (r"\basst\.?(?=\s|$)", "Assistant"),
    (r"\bhr\b", "HR"),
    (r"\bit\b", "IT"),
    (r"\bbd\b", "Business Development"),
    (r"\bsdr\b", "Sales Development Representative"),
    (r"\bbdr\b", "Business Development Representative"),
    (r"\bae\b", "Account Executive"),
]
_ACRONYMS = {
    "ceo",
    "cto",
    "cfo",
    "coo",
    "cmo",
    "cio",
    "cro",
    "cso",
    "cpo",
    "ciso",
    "cdo",
    "chro",
    "hr",
    "it",
    "ai",
    "ml",
    "qa",
    "ux",
    "ui",
    "seo",
    "saas",
    "b2b",
    "gtm",
    "pr",
}

# (pattern, seniority) checked in order: the first match wins.
_SENIORITY_RULES = [
    (r"\bintern(ship)?\b|\btrainee\b|\bworking student\b|\bapprentice\b", "intern"),
    (r"\bco-?founder\b|\bfounder\b", "founder"),
    (r"\bowner\b|\bproprietor\b", "owner"),
    (
        r"\bchief\b|\bc[etfoimrsdp]o\b|\bciso\b|\bchro\b|(?<!vice )\bpresident\b|\bmanaging director\b|\bgeneral manager\b",
        "c_suite",
    ),
    (r"(?<!business )\bpartner\b", "partner"),
    (r"\bvice president\b|\bvp\b", "vp"),
    (r"\bhead of\b|\bhead\b", "head"),
    (r"\bdirector\b", "director"),
    (r"\bmanager\b|\blead\b|\bsupervisor\b|\bteam lead\b", "manager"),
    (r"\bsenior\b|\bprincipal\b|\bstaff\b|\bsr\b", "senior"),
    (
        r"\bjunior\b|\bassociate\b|\bassistant\b|\bcoordinator\b|\bspecialist\b|\brepresentative\b|\bengineer\b|\banalyst\b|\bexecutive\b|\bconsultant\b|\bdeveloper\b|\bdesigner\b",
        "entry",
    ),
]

_FUNCTION_RULES = [
    (
        r"\bsales\b|\baccount executive\b|\baccount manager\b|\brevenue\b|\bcro\b|sales development",
        "Sales",
    ),
    (
        r"\bmarketing\b|\bcmo\b|\bbrand\b|\bgrowth\b|\bdemand gen|\bcontent\b|\bseo\b|\bcommunications?\b|\bpr\b",
        "Marketing",
    ),
    (r"\bbusiness development\b", "Business Development"),
    (
        r"\bcustomer success\b|\bsupport\b|\bcustomer service\b|\bcustomer experience\b",
        "Customer Success and Support",
    ),
    (r"\bproduct\b|\bcpo\b", "Product Management"),
    (
        r"\bsecurity\b|\bciso\b|\binformation technology\b|\bit\b|\bsystems? admin|\binfrastructure\b|\bcio\b",
        "Information Technology",
    ),
    (
        r"\bengineer|\bdeveloper\b|\bsoftware\b|\bcto\b|\bdevops\b|\bdata scien|\bmachine learning\b|\barchitect\b",
        "Engineering",
    ),
    (r"\bfinance\b|\bfinancial\b|\bcfo\b|\baccount(ant|ing)\b|\bcontroller\b|\btreasur", "Finance"),
    (r"\bhr\b|\bhuman resources\b|\bpeople\b|\btalent\b|\brecruit|\bchro\b", "Human Resources"),
    (r"\blegal\b|\bcounsel\b|\battorney\b|\bcompliance\b", "Legal"),
    (r"\boperations\b|\bcoo\b|\bsupply chain\b|\blogistics\b|\bprocurement\b", "Operations"),
    (r"\bresearch\b|\bscientist\b", "Research"),
    (r"\bdesign(er)?\b|\bux\b|\bui\b", "Arts and Design"),
    (
        r"\bceo\b|\bfounder\b|\bowner\b|\bpresident\b|\bmanaging director\b|\bgeneral manager\b",
        "Entrepreneurship",
    ),
]


def _title_case(text: str) -> str:
    words = []
    for word in text.split():
        low = word.lower()
        if low in _ACRONYMS:
            words.append(low.upper())
        elif low in {"of", "and", "the", "for", "in", "to", "at", "&"}:
            words.append(low)
        elif word.isupper() and len(word) <= 4 and word.isalpha():
            words.append(word)
        else:
            words.append(
                word[:1].upper() + word[1:].lower() if word.islower() or word.isupper() else word
            )
    if words:
        words[0] = words[0][:1].upper() + words[0][1:]
    return " ".join(words)


@lru_cache(maxsize=100_000)
def normalize_title(raw: str) -> tuple[str, str | None, str | None]:
    """(normalized title, seniority or None, function or None)."""
    text = " ".join(raw.replace("/", " / ").split())
    if not text:
        return "", None, None
    expanded = text
    for pattern, replacement in _ABBREVIATIONS:
        expanded = re.sub(pattern, replacement, expanded, flags=re.IGNORECASE)
    normalized = _title_case(" ".join(expanded.split()).replace(" / ", "/"))
    probe = f" {normalized.lower()} {text.lower()} "
    seniority = next((s for pattern, s in _SENIORITY_RULES if re.search(pattern, probe)), None)
    function = next((f for pattern, f in _FUNCTION_RULES if re.search(pattern, probe)), None)
    return normalized, seniority, function
