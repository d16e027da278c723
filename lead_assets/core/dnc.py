"""Do-not-contact list: emails and domains that must never be enriched (no spend) nor exported.

The list is a CSV with a ``value`` column (or one value per line): an email blocks that mailbox
(compared by match key, so plus tags and Gmail dots do not slip through), a domain blocks the
domain and its subdomains.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from lead_assets.core.missing import blank_column
from lead_assets.core.normalize.emails import normalize_email


@dataclass(frozen=True)
class DoNotContact:
    """Blocked mailbox match keys and blocked domains."""

    emails: frozenset[str] = frozenset()
    domains: frozenset[str] = frozenset()

    def domain_blocked(self, domain: str | None) -> bool:
        """True for a blocked domain or any subdomain of one."""
        if not isinstance(domain, str) or not domain:
            return False  # missing (None by contract; anything else is not a domain either)
        parts = domain.lower().split(".")
        return any(".".join(parts[i:]) in self.domains for i in range(len(parts) - 1))


def load_dnc(path: str | Path) -> DoNotContact:
    """Read the list; a missing file means an empty list."""
    path = Path(path)
    if not path.exists():
        return DoNotContact()
    values: list[str] = []
    with path.open(newline="", encoding="utf-8-sig") as fh:
        for row in csv.reader(fh):
            if (
                row
                and row[0].strip()
                and not row[0].startswith("#")
                and row[0].strip().lower() != "value"
            ):
                values.append(row[0].strip())
    emails, domains = set(), set()
    for value in values:
        if "@" in value:
            info = normalize_email(value)
            if info.match_key:
                emails.add(info.match_key)
        else:
            domains.add(value.lower().lstrip("@.").removeprefix("www."))
    return DoNotContact(frozenset(emails), frozenset(domains))


def apply_dnc(frame: pd.DataFrame, dnc: DoNotContact) -> tuple[pd.Series, pd.Series]:
    """(blocked mask, reason) for rows of a standardized frame (email_match_key, email_domain, domain)."""
    keys = frame.get("email_match_key", blank_column(frame.index))
    email_domains = frame.get("email_domain", blank_column(frame.index))
    domains = frame.get("domain", blank_column(frame.index))
    by_email = keys.isin(dnc.emails) if dnc.emails else pd.Series(False, index=frame.index)
    by_domain = pd.Series(
        [
            dnc.domain_blocked(a) or dnc.domain_blocked(b)
            for a, b in zip(email_domains, domains, strict=True)
        ],
        index=frame.index,
        dtype=bool,
    )
    blocked = by_email | by_domain
    reason = pd.Series("", index=frame.index)
    reason[by_domain] = "on the do-not-contact list (domain)"
    reason[by_email] = "on the do-not-contact list (email)"
    return blocked, reason
