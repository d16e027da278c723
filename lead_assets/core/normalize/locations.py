"""Locations: city, region and ISO 3166-1 alpha-2 country via pycountry."""

from __future__ import annotations

from functools import lru_cache

import pycountry

_ALIASES = {
    "usa": "US",
    "us": "US",
    "u.s.": "US",
    "u.s.a.": "US",
    "united states of america": "US",
    "america": "US",
    "uk": "GB",
    "u.k.": "GB",
    "great britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "britain": "GB",
    "deutschland": "DE",
    "holland": "NL",
    "the netherlands": "NL",
    "españa": "ES",
    "espana": "ES",
    "italia": "IT",
    "schweiz": "CH",
    "suisse": "CH",
    "österreich": "AT",
    "south korea": "KR",
    "korea": "KR",
    "russia": "RU",
    "uae": "AE",
    "czech republic": "CZ",
    "vietnam": "VN",
    "taiwan": "TW",
    "iran": "IR",
    "turkey": "TR",
    "türkiye": "TR",
    "brasil": "BR",
    "méxico": "MX",
}
_US_STATES = {
    "AL": "Alabama",
    "AK": "Alaska",
    "AZ": "Arizona",
    "AR": "Arkansas",
    "CA": "California",
    "CO": "Colorado",
    "CT": "Connecticut",
    "DE": "Delaware",
    "FL": "Florida",
    "GA": "Georgia",
    "HI": "Hawaii",
    "ID": "Idaho",
    "IL": "Illinois",
    "IN": "Indiana",
    "IA": "Iowa",
    "KS": "Kansas",
    "KY": "Kentucky",
    "LA": "Louisiana",
    "ME": "Maine",
    "MD": "Maryland",
    "MA": "Massachusetts",
    "MI": "Michigan",
    "MN": "Minnesota",
    "MS": "Mississippi",
    "MO": "Missouri",
    "MT": "Montana",
    "NE": "Nebraska",
    "NV": "Nevada",
    "NH": "New Hampshire",
    "NJ": "New Jersey",
    "NM": "New Mexico",
    "NY": "New York",
    "NC": "North Carolina",
    "ND": "North Dakota",
    "OH": "Ohio",
    "OK": "Oklahoma",
    "OR": "Oregon",
    "PA": "Pennsylvania",
    "RI": "Rhode Island",
    "SC": "South Carolina",
    "SD": "South Dakota",
    "TN": "Tennessee",
    "TX": "Texas",
    "UT": "Utah",
    "VT": "Vermont",
    "VA": "Virginia",
    "WA": "Washington",
    "WV": "West Virginia",
    "WI": "Wisconsin",
    "WY": "Wyoming",
    "DC": "District of Columbia",
}
_STATE_NAMES = {v.lower(): v for v in _US_STATES.values()}


@lru_cache(maxsize=50_000)
def country_code(raw: str) -> str | None:
    """ISO alpha-2 for a country name, alias or code; None when unknown."""
    text = raw.strip().strip(".").lower()
    if not text:
        return None
    if text in _ALIASES:
        return _ALIASES[text]
    if len(text) == 2 and text.isalpha():
        found = pycountry.countries.get(alpha_2=text.upper())
        return found.alpha_2 if found else None
    if len(text) == 3 and text.isalpha():
        found = pycountry.countries.get(alpha_3=text.upper())
        if found:
            return found.alpha_2
    # Exact names only (name, official or common name): fuzzy search would turn "Paris" into
    # France through subdivision names, and a city into a country is worse than no country.
    try:
        return pycountry.countries.lookup(text).alpha_2
    except LookupError:
        return None


@lru_cache(maxsize=100_000)
def parse_location(
    city: str, region: str, country: str, location: str
) -> tuple[str | None, str | None, str | None]:
    """(city, region, country alpha-2) from separate fields and/or a free-text location such as
    "San Francisco, CA", "London, United Kingdom" or "Berlin, Germany"."""
    city_out = " ".join(city.split()) or None
    region_out = " ".join(region.split()) or None
    code = country_code(country) if country.strip() else None
    parts = [p.strip() for p in location.split(",") if p.strip()] if location.strip() else []
    if parts:
        last = parts[-1]
        # "City, ST" in US exports: a US state code wins over the same ISO country code
        # ("San Francisco, CA" is California, not Canada), unless a country was given.
        is_state = last.upper() in _US_STATES or last.lower() in _STATE_NAMES
        found = (
            None if (is_state and len(parts) > 1 and code in (None, "US")) else country_code(last)
        )
        if found and (len(parts) > 1 or len(last) > 3):
            code = code or found
            parts = parts[:-1]
        if parts and (parts[-1].upper() in _US_STATES or parts[-1].lower() in _STATE_NAMES):
            state = parts[-1]
            region_out = region_out or _US_STATES.get(
                state.upper(), _STATE_NAMES.get(state.lower())
            )
            code = code or "US"
            parts = parts[:-1]
        elif len(parts) >= 2:
            region_out = region_out or parts[-1]
            parts = parts[:-1]
        if parts:
            city_out = city_out or parts[0]
    if region_out and region_out.upper() in _US_STATES and (code in (None, "US")):
        region_out = _US_STATES[region_out.upper()]
        code = code or "US"
    return city_out, region_out, code
