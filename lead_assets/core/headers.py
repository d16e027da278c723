"""Header aliases from real exports, mapped onto canonical lead fields.

Matching is case and punctuation insensitive: "E-mail", "Email Address" and "email_address" all
normalize to the same token. The table covers HubSpot, Salesforce, Sales Navigator, Apollo,
Generect and plain spreadsheets; unknown headers are kept verbatim in raw_uploads but ignored here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

CANONICAL_FIELDS = (
    "first_name",
    "last_name",
    "full_name",
    "email",
    "phone",
    "title",
    "company_name",
    "domain",
    "linkedin_url",
    "city",
    "region",
    "country",
    "location",
    "headcount",
    "industry",
    "vendor_lead_id",
)

_ALIASES: dict[str, tuple[str, ...]] = {
    "first_name": (
        "first name",
        "firstname",
        "first",
        "given name",
        "forename",
        "contact first name",
        "person first name",
        "prénom",
    ),
    "last_name": (
        "last name",
        "lastname",
        "last",
        "surname",
        "family name",
        "contact last name",
        "person last name",
        "nom",
    ),
    "full_name": (
        "full name",
        "name",
        "contact name",
        "contact",
        "person name",
        "lead name",
        "contact full name",
    ),
    "email": (
        "email",
        "e-mail",
        "email address",
        "e-mail address",
        "work email",
        "work_email",
        "business email",
        "email 1",
        "email1",
        "primary email",
        "contact email",
        "person email",
        "corporate email",
        "mail",
        "emailaddress",
        "valid email",
        "valid_email",
    ),
    "phone": (
        "phone",
        "phone number",
        "phone 1",
        "mobile",
        "mobile phone",
        "mobile number",
        "cell",
        "cell phone",
        "direct phone",
        "direct dial",
        "work phone",
        "corporate phone",
        "business phone",
        "telephone",
        "tel",
        "contact phone",
        "phone_number",
        "sanitized phone",
    ),
    "title": (
        "title",
        "job title",
        "jobtitle",
        "position",
        "role",
        "designation",
        "current title",
        "headline title",
        "job_title",
    ),
    "company_name": (
        "company",
        "company name",
        "companyname",
        "account",
        "account name",
        "organization",
        "organisation",
        "organization name",
        "employer",
        "current company",
        "company_name",
        "business name",
    ),
    "domain": (
        "website",
        "company website",
        "web site",
        "url",
        "domain",
        "company domain",
        "website url",
        "company url",
        "company_domain",
        "homepage",
        "web",
        "organization website url",
        "organization website",
        "company website url",
        "account website",
    ),
    "linkedin_url": (
        "linkedin",
        "linkedin url",
        "linkedin profile",
        "person linkedin url",
        "linkedin_url",
        "profile url",
        "linkedin profile url",
        "li url",
    ),
    "city": ("city", "town", "mailing city", "person city", "contact city"),
    "region": (
        "state",
        "region",
        "province",
        "state/region",
        "state region",
        "county",
        "mailing state",
        "person state",
    ),
    "country": (
        "country",
        "country/region",
        "country region",
        "mailing country",
        "person country",
        "nation",
    ),
    "location": ("location", "address", "geography", "geo", "lead location", "person location"),
    "headcount": (
        "employees",
        "# employees",
        "number of employees",
        "employee count",
        "company size",
        "headcount",
        "size",
        "company headcount",
        "staff count",
        "employee range",
        "company_headcount",
        "headcount range",
        "estimated num employees",
        "organization estimated num employees",
        "organization num employees",
        "employees count",
    ),
    "industry": ("industry", "company industry", "sector", "vertical", "organization industry"),
    "vendor_lead_id": (
        "lead id",
        "lead_id",
        "generect id",
        "sales navigator id",
        "record id",
        "contact id",
        "id",
    ),
}


def header_token(header: str) -> str:
    """Lowercase alphanumerics only: the comparison form of a header."""
    return re.sub(r"[^0-9a-z]+", "", header.casefold())


_LOOKUP: dict[str, str] = {
    header_token(a): field for field, aliases in _ALIASES.items() for a in aliases
}
_LOOKUP.update({header_token(f): f for f in CANONICAL_FIELDS})


def map_headers(headers: Iterable[str]) -> dict[str, str]:
    """Original header -> canonical field for every header that is recognized.

    When two headers map to the same field, both are kept in the mapping; the caller takes the
    first non-empty value in header order.
    """
    headers = list(headers)
    mapping: dict[str, str] = {}
    for header in headers:
        field = _LOOKUP.get(header_token(str(header)))
        if field:
            mapping[header] = field
    # Second pass for exports that decorate names ("Email (Work)", "Mobile Phone #2",
    # "LinkedIn Profile Link"): a telling word maps a header only when the field is still missing.
    for header in headers:
        if header in mapping:
            continue
        token = header_token(str(header))
        for word, field in _HINTS:
            if word in token and field not in mapping.values():
                mapping[header] = field
                break
    return mapping


_HINTS = (
    ("email", "email"),
    ("linkedin", "linkedin_url"),
    ("mobile", "phone"),
    ("phone", "phone"),
    ("website", "domain"),
    ("jobtitle", "title"),
    ("firstname", "first_name"),
    ("lastname", "last_name"),
    ("employer", "company_name"),
    ("employees", "headcount"),
)


def has_usable_columns(fields: Iterable[str]) -> bool:
    """An email column, or a name (full or first+last) plus a company column (the vendor's 422)."""
    present = set(fields)
    named = "full_name" in present or {"first_name", "last_name"} <= present
    return "email" in present or (named and ("company_name" in present or "domain" in present))
