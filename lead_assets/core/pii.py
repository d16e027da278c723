"""Masking a lead's personal data wherever it could leave the warehouse: logs, quarantine reasons,
warehouse error text, Dagster metadata and exceptions.

One helper for the whole project so every place masks the same way:
``john.doe@acme.com`` -> ``j***@acme.com`` (the domain stays: it says which company, not who),
``+1 415 555 0101`` -> ``***01`` (the last two digits, enough to tell two numbers apart in a log).
"""

from __future__ import annotations

import re

# Emails anywhere in free text (the local part is what identifies a person).
_EMAIL = re.compile(
    r"([^\s@<>\"'(),;:\[\]]+)@([A-Za-z0-9\-.\u00a0-\uffff]+\.[A-Za-z\u00a0-\uffff]{2,})"
)
# A phone-like run: 7+ digits, optionally with + ( ) . - / or spaces between them.
_PHONE = re.compile(r"(?<![\w])\+?\(?\d(?:[\d\s().\-/]{5,}\d)(?![\w])")


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def mask_email(value: str) -> str:
    """``j***@acme.com`` for ``john@acme.com``; text without ``@`` is masked entirely."""
    local, sep, domain = value.strip().rpartition("@")
    if not sep:
        return "***"
    return f"{local[:1]}***@{domain}"


def mask_phone(value: str) -> str:
    """``***01``: only the last two digits are kept."""
    digits = re.sub(r"\D", "", value)
    return f"***{digits[-2:]}" if len(digits) >= 2 else "***"


def mask_text(text: str) -> str:
    """``text`` with every email and phone-like number in it masked."""
    if not text:
        return text
    text = _EMAIL.sub(lambda m: mask_email(m.group(0)), text)

    def phone(match: re.Match[str]) -> str:
        found = match.group(0)
        digits = re.sub(r"\D", "", found)
        # Dates (2026-12-01 22:18), times and short counts are not phones.
        if len(digits) < 7 or _DATE.search(found):
            return found
        return mask_phone(found)

    return _PHONE.sub(phone, text)


def mask_value(value: object) -> object:
    """Any metadata or log value masked recursively (strings, lists, dicts)."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: mask_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(mask_value(v) for v in value)
    return value
