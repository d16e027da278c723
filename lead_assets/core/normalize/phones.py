"""Phones to E.164 with phonenumbers; the region comes from the lead's country.

Phone numbers are nearly all distinct in a lead list, so caching on the whole value does not help,
and phonenumbers costs ~100 µs a number. What phonenumbers decides (international or trunk prefix
to strip, country code to add, validity, line type) depends on the number's leading digits and
its length, not on its last digits. So the library runs once per *shape* (region, first seven
characters of the digits, number of digits) and the answer is reused for every number of that
shape, carrying over its own tail digits. ``lead_assets_tests`` checks the shortcut against the
library on random numbers of many countries.
"""

from __future__ import annotations

import re
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
_EXTENSION = re.compile(r"(?:\s*(?:ext\.?|extension|x|#)\s*\d+)\s*$", re.IGNORECASE)
_NOT_DIGIT = re.compile(r"\D")
_SHAPE_PREFIX = 7


def phone_digits(raw: str) -> str:
    """Digits of a number with a leading ``+`` kept (``00`` becomes ``+``); extensions dropped."""
    text = _EXTENSION.sub("", raw.strip())
    plus = text.startswith("+")
    digits = _NOT_DIGIT.sub("", text)
    if not plus and digits.startswith("00"):
        plus, digits = True, digits[2:]
    return ("+" if plus else "") + digits


@lru_cache(maxsize=100_000)
def parse_with_library(text: str, region: str) -> tuple[str | None, str | None, str | None]:
    """(E.164, type, error) straight from phonenumbers."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        return None, None, f"unparseable phone ({exc.error_type})"
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    # number_type is UNKNOWN exactly when is_valid_number is False (both match the number against
    # its region's patterns, which for +1 means trying up to 25 regions): asking once halves the
    # library's cost, the largest part of standardizing a file.
    kind = phonenumbers.number_type(number)
    if kind == PhoneNumberType.UNKNOWN:
        # +1 555 01xx is reserved for fiction and test fixtures: keep it, typed "other".
        if number.country_code == 1 and str(number.national_number)[3:7] == "5550":
            return e164, "other", None
        return None, None, "invalid phone number"
    return e164, _TYPES.get(kind, "other"), None


_SHAPES: dict[tuple[str, str, int], tuple[str | None, str | None, str | None, int]] = {}


def _shape(
    region: str, head: str, length: int, example: str
) -> tuple[str | None, str | None, str | None, int]:
    """The library's answer for the first number of a shape (keyed without the example's tail),
    and how many tail digits the answer shares with the number."""
    key = (region, head, length)
    found = _SHAPES.get(key)
    if found is not None:
        return found
    e164, kind, error = parse_with_library(example, region)
    tail = length - _SHAPE_PREFIX
    if e164 is None:
        answer: tuple[str | None, str | None, str | None, int] = (None, kind, error, 0)
    elif tail > 0 and e164.endswith(example[-tail:]):
        # The shortcut holds only if the answer ends with the number's own tail digits.
        answer = (e164[:-tail], kind, None, tail)
    else:
        answer = (None, None, "shape not reusable", -1)
    if len(_SHAPES) < 500_000:
        _SHAPES[key] = answer
    return answer


def normalize_phone(
    raw: str, region: str | None = "US"
) -> tuple[str | None, str | None, str | None]:
    """(E.164, type, error). ``region`` (ISO alpha-2) is used when the number has no + prefix."""
    digits = phone_digits(raw)
    if len(digits.lstrip("+")) < 3:
        return (None, None, None) if not raw.strip() else (None, None, "too few digits")
    region = region or "US"
    if len(digits) <= _SHAPE_PREFIX:
        return parse_with_library(digits, region)
    head = digits[:_SHAPE_PREFIX]
    prefix, kind, error, tail = _shape(region, head, len(digits), digits)
    if tail == -1:
        return parse_with_library(digits, region)
    if prefix is None:
        return None, kind, error
    return prefix + digits[-tail:], kind, None
