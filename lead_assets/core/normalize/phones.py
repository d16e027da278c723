"""Phones to E.164 with phonenumbers; the region comes from the lead's country."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneNumberType

_TYPES = {
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE: "fixed_line",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_line_or_mobile",
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.TOLL_FREE: "toll_free",
}


@lru_cache(maxsize=200_000)
def normalize_phone(
    raw: str, region: str | None = "US"
) -> tuple[str | None, str | None, str | None]:
    """(E.164, type, error). ``region`` (ISO alpha-2) is used when the number has no +prefix."""
    text = raw.strip()
    if not text:
        return None, None, None
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region or "US")
    except phonenumbers.NumberParseException as exc:
        return None, None, f"unparseable phone ({exc.error_type})"
    if not phonenumbers.is_valid_number(number):
        # The +1 555 01xx range is reserved for fiction and test fixtures: keep it, typed "other".
        if number.country_code == 1 and str(number.national_number)[3:7] == "5550":
            return (
                phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
                "other",
                None,
            )
        return None, None, "invalid phone number"
    kind = _TYPES.get(phonenumbers.number_type(number), "other")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), kind, None
