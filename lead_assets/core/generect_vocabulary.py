"""Generect vocabularies and the mappings the contract asks for (``docs/vendor_contract.md``,
A-G1, A-G13).

One internal seniority scale (the documented request values) and the four vocabularies in
circulation mapped onto it; headcount labels with their aliases folded onto the canonical
``"10 000+"``; company types; a LinkedIn industry list. Shared by the client (validation before
any call) and the sandbox (strict validation of what it receives).
"""

from __future__ import annotations

SENIORITIES = (
    "owner",
    "founder",
    "c_suite",
    "partner",
    "vp",
    "head",
    "director",
    "manager",
    "senior",
    "entry",
    "intern",
)

#: Every spelling seen in the four vocabularies, lowercased -> internal value.
SENIORITY_ALIASES: dict[str, str] = {
    **{s: s for s in SENIORITIES},
    "c-suite": "c_suite",
    "c suite": "c_suite",
    "cxo": "c_suite",
    "c-level": "c_suite",
    "president": "c_suite",
    "owner / partner": "owner",
    "vice president": "vp",
    "entry level": "entry",
    "entry level manager": "manager",
    "experienced manager": "manager",
    "in training": "intern",
    "specialist": "entry",
    "strategic": "senior",
}
#: Internal value -> the Sales-Navigator label the backend really indexes (the retry of A-G1).
SALES_NAVIGATOR_LABEL = {
    "owner": "Owner / Partner",
    "founder": "Owner / Partner",
    "partner": "Owner / Partner",
    "c_suite": "CXO",
    "vp": "Vice President",
    "head": "Director",
    "director": "Director",
    "manager": "Experienced Manager",
    "senior": "Senior",
    "entry": "Entry Level",
    "intern": "In Training",
}

HEADCOUNTS = (
    "1-10",
    "11-50",
    "51-200",
    "201-500",
    "501-1000",
    "1001-5000",
    "5001-10000",
    "10 000+",
)
HEADCOUNT_ALIASES = {
    "10001+": "10 000+",
    "10,000+": "10 000+",
    "10000+": "10 000+",
    "10,001+": "10 000+",
    "10 001+": "10 000+",
}

COMPANY_TYPES = (
    "Public Company",
    "Privately Held",
    "Non Profit",
    "Government Agency",
    "Educational",
    "Self Employed",
    "Partnership",
    "Self Owned",
)

INDUSTRIES = (
    "Software Development",
    "IT Services and IT Consulting",
    "Financial Services",
    "Hospitals and Health Care",
    "Biotechnology Research",
    "Transportation, Logistics, Supply Chain and Storage",
    "Retail",
    "Manufacturing",
    "Marketing Services",
    "Computer and Network Security",
    "Food and Beverage Manufacturing",
    "Renewable Energy Power Generation",
    "Venture Capital and Private Equity Principals",
    "Online Media",
    "Information Technology & Services",
    "Internet Marketplace Platforms",
    "Advertising Services",
    "Banking",
    "Insurance",
    "Real Estate",
    "Staffing and Recruiting",
    "Telecommunications",
    "Education",
    "Higher Education",
    "Pharmaceutical Manufacturing",
    "Medical Equipment Manufacturing",
    "Business Consulting and Services",
    "Accounting",
    "Legal Services",
    "Construction",
    "Wholesale",
    "Import and Export",
    "Robotics Engineering",
    "Government Administration",
    "Non-profit Organizations",
    "E-Learning Providers",
    "Computer Games",
    "Semiconductor Manufacturing",
    "Automation Machinery Manufacturing",
    "Truck Transportation",
)

#: Fields the database endpoints accept; anything realtime-only gets a 400 (A-G14).
DATABASE_LEAD_FIELDS = frozenset(
    {
        "job_titles",
        "seniorities",
        "locations",
        "exclude_locations",
        "company_locations",
        "exclude_company_locations",
        "company_industries",
        "exclude_company_industries",
        "company_headcounts",
        "exclude_company_headcounts",
        "company_types",
        "company_id",
        "company_link",
        "company_name",
        "exclude_names",
        "exclude_ids",
        "filter_empty_vars",
        "limit_by",
        "offset_by",
        "strict",
        "skip_truncated_names",
        "skip_1_symbol_name",
        "without_company",
    }
)
REALTIME_ONLY_LEAD_FIELDS = frozenset(
    {
        "personas",
        "first_name",
        "last_name",
        "lead_industries",
        "exclude_lead_industries",
        "past_job_titles",
        "functions",
        "exclude_functions",
        "past_company_names",
        "past_company_ids",
        "exclude_past_company_ids",
        "exclude_current_company_ids",
        "groups",
        "groups_keywords",
        "schools",
        "years_of_experience",
        "years_in_position",
        "years_in_company",
        "num_of_connections",
        "mentioned_in_news",
        "changed_jobs",
        "posted_on_linkedin",
        "keywords",
        "linkedin_filter_link",
        "include_full_profile",
        "find_by_emails",
        "include_total_count",
        "max_profiles_scanned",
        "include_emails",
    }
)
DATABASE_COMPANY_FIELDS = frozenset(
    {
        "industries",
        "exclude_industries",
        "sub_industries",
        "headcounts",
        "locations",
        "exclude_locations",
        "company_types",
        "exclude_ids",
        "exclude_domains",
        "limit_by",
        "offset_by",
        "strict",
        "apply_domain_blocklist",
    }
)


def normalize_seniority(value: str) -> str | None:
    """Any of the four vocabularies -> the internal value, or None when unknown."""
    return SENIORITY_ALIASES.get(" ".join(str(value).split()).lower())


def normalize_headcount(value: str) -> str | None:
    """A headcount label or alias -> the canonical label, or None when not a bucket."""
    text = " ".join(str(value).split())
    if text in HEADCOUNTS:
        return text
    return HEADCOUNT_ALIASES.get(text.replace(" ", "")) or HEADCOUNT_ALIASES.get(text)
