"""ICP profiles: load the YAML and check every value against the vendor vocabularies before any
call, with a suggestion for a near-miss ("Did you mean 'Software Development'?")."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml
from rapidfuzz import process

from lead_assets.core.generect_vocabulary import (
    COMPANY_TYPES,
    HEADCOUNTS,
    INDUSTRIES,
    SENIORITIES,
    normalize_headcount,
    normalize_seniority,
)

_ALLOWED = {
    "job_titles",
    "seniorities",
    "locations",
    "exclude_locations",
    "company_locations",
    "company_industries",
    "exclude_company_industries",
    "company_headcounts",
    "exclude_company_headcounts",
    "company_types",
    "company_name",
}


class ProfileError(ValueError):
    """A profile is invalid; the message names the profile, the field and the value."""


@dataclass(frozen=True)
class IcpProfile:
    """One validated profile."""

    name: str
    lead_criteria: dict
    max_leads_per_pull: int = 100
    budget_usd: float = 5.0
    extra: dict = field(default_factory=dict)


def _suggest(value: str, choices: tuple[str, ...]) -> str:
    match = process.extractOne(value, choices, score_cutoff=60)
    return f" Did you mean {match[0]!r}?" if match else ""


def validate_criteria(name: str, criteria: dict) -> dict:
    """Normalized criteria, or :class:`ProfileError` for the first bad value."""
    unknown = set(criteria) - _ALLOWED
    if unknown:
        raise ProfileError(
            f"profile {name!r}: unsupported field(s) {sorted(unknown)} (database mode accepts {sorted(_ALLOWED)})"
        )
    out = dict(criteria)
    if "seniorities" in out:
        mapped = []
        for value in out["seniorities"]:
            internal = normalize_seniority(value)
            if internal is None:
                raise ProfileError(
                    f"profile {name!r}: seniority {value!r} is not one of {', '.join(SENIORITIES)}.{_suggest(str(value), SENIORITIES)}"
                )
            mapped.append(internal)
        out["seniorities"] = mapped
    for key in ("company_headcounts", "exclude_company_headcounts"):
        if key in out:
            mapped = []
            for value in out[key]:
                canonical = normalize_headcount(str(value))
                if canonical is None:
                    raise ProfileError(
                        f"profile {name!r}: {key} value {value!r} is not a bucket ({', '.join(HEADCOUNTS)})"
                    )
                mapped.append(canonical)
            out[key] = mapped
    for key in ("company_industries", "exclude_company_industries"):
        for value in out.get(key) or []:
            if value not in INDUSTRIES:
                raise ProfileError(
                    f"profile {name!r}: industry {value!r} is not a LinkedIn industry name.{_suggest(str(value), INDUSTRIES)}"
                )
    for value in out.get("company_types") or []:
        if value not in COMPANY_TYPES:
            raise ProfileError(
                f"profile {name!r}: company type {value!r} is not one of {', '.join(COMPANY_TYPES)}"
            )
    for key in ("locations", "company_locations", "exclude_locations"):
        for value in out.get(key) or []:
            if (
                "," in value
                and len(value.split(",")) == 2
                and len(value.split(",")[1].strip()) == 2
            ):
                raise ProfileError(
                    f"profile {name!r}: location {value!r} uses a state abbreviation; write it in LinkedIn spelling, e.g. 'San Francisco, California, United States'"
                )
    if not out:
        raise ProfileError(f"profile {name!r}: at least one filter is required")
    return out


def load_profiles(path: str | Path) -> list[IcpProfile]:
    """Profiles from YAML, all validated (a missing file means no profiles)."""
    path = Path(path)
    if not path.exists():
        return []
    raw = yaml.safe_load(path.read_text()) or {}
    profiles = []
    names = set()
    for item in raw.get("profiles") or []:
        name = str(item.get("name") or "").strip()
        if not name or name in names:
            raise ProfileError(f"{path}: every profile needs a unique name (got {name!r})")
        names.add(name)
        profiles.append(
            IcpProfile(
                name,
                validate_criteria(name, item.get("lead_criteria") or {}),
                int(item.get("max_leads_per_pull", 100)),
                float(item.get("budget_usd", 5.0)),
            )
        )
    return profiles
