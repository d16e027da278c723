"""Email syntax, normalization, a match key, and role / free-mail / disposable flags."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

#: Local parts that address a function, not a person.
ROLE_LOCAL_PARTS = frozenset(
    [
        "admin",
        "administrator",
        "accounts",
        "accounting",
        "billing",
        "careers",
        "contact",
        "customerservice",
        "dev",
        "devnull",
        "enquiries",
        "finance",
        "hello",
        "help",
        "helpdesk",
        "hr",
        "info",
        "inquiries",
        "invoice",
        "it",
        "jobs",
        "legal",
        "mail",
        "marketing",
        "media",
        "news",
        "newsletter",
        "no-reply",
        "noreply",
        "office",
        "operations",
        "orders",
        "postmaster",
        "press",
        "privacy",
        "recruiting",
        "recruitment",
        "reply",
        "sales",
        "security",
        "service",
        "support",
        "team",
        "webmaster",
    ]
)
FREE_MAIL_DOMAINS = frozenset(
    [
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.co.uk",
        "yahoo.fr",
        "yahoo.de",
        "ymail.com",
        "hotmail.com",
        "hotmail.co.uk",
        "hotmail.fr",
        "hotmail.de",
        "outlook.com",
        "live.com",
        "msn.com",
        "aol.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "proton.me",
        "protonmail.com",
        "gmx.de",
        "gmx.net",
        "gmx.com",
        "web.de",
        "mail.ru",
        "yandex.ru",
        "yandex.com",
        "zoho.com",
        "qq.com",
        "163.com",
        "126.com",
        "naver.com",
        "seznam.cz",
        "libero.it",
        "orange.fr",
        "free.fr",
        "t-online.de",
        "comcast.net",
        "verizon.net",
        "att.net",
        "sbcglobal.net",
        "btinternet.com",
        "fastmail.com",
        "hey.com",
        "tutanota.com",
    ]
)
DISPOSABLE_DOMAINS = frozenset(
    [
        "mailinator.com",
        "guerrillamail.com",
        "guerrillamail.net",
        "10minutemail.com",
        "tempmail.com",
        "temp-mail.org",
        "throwawaymail.com",
        "yopmail.com",
        "sharklasers.com",
        "trashmail.com",
        "getnada.com",
        "dispostable.com",
        "maildrop.cc",
        "fakeinbox.com",
        "mailnesia.com",
        "mintemail.com",
        "spamgourmet.com",
        "tempinbox.com",
        "emailondeck.com",
        "moakt.com",
        "burnermail.io",
    ]
)
_GMAIL = frozenset({"gmail.com", "googlemail.com"})
# The common case, checked without the library: ascii local part and a dotted ascii domain.
_FAST = re.compile(
    r"^[a-z0-9](?:[a-z0-9._%+'-]{0,62}[a-z0-9_%+'-])?@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}$"
)


@dataclass(frozen=True)
class EmailInfo:
    """A normalized address (``email`` is None when invalid) and what we know about it."""

    email: str | None
    match_key: str | None
    domain: str | None
    is_role: bool
    is_free: bool
    is_disposable: bool
    error: str | None = None


def match_key(email: str) -> str:
    """Key under which aliases of one mailbox meet: plus tags dropped everywhere, dots dropped
    and googlemail folded for Gmail."""
    local, _, domain = email.partition("@")
    local = local.split("+", 1)[0]
    if domain in _GMAIL:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


@lru_cache(maxsize=200_000)
def normalize_email(raw: str) -> EmailInfo:
    """Validate syntax (no DNS), lowercase, and flag the address."""
    text = raw.strip().strip("<>").strip().removeprefix("mailto:").strip()
    if not text:
        return EmailInfo(None, None, None, False, False, False, "empty")
    lowered = text.lower()
    if not _FAST.match(lowered) or ".." in lowered:
        try:
            result = validate_email(text, check_deliverability=False)
        except EmailNotValidError as exc:
            return EmailInfo(None, None, None, False, False, False, str(exc))
        lowered = result.normalized.lower()
    local, _, domain = lowered.partition("@")
    return EmailInfo(
        email=lowered,
        match_key=match_key(lowered),
        domain=domain,
        is_role=local.split("+", 1)[0] in ROLE_LOCAL_PARTS,
        is_free=domain in FREE_MAIL_DOMAINS,
        is_disposable=domain in DISPOSABLE_DOMAINS,
    )
