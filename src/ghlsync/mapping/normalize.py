"""Normalise the identity fields HighLevel matches contacts on.

HighLevel matches duplicates on email and phone, so a sync that sends ``Ann@Example.com`` once and
``ann@example.com`` later, or ``(415) 555-2671`` and ``+14155552671``, must send the same value
both times. Phones go out as E.164; without a country HighLevel guesses one (often US) or refuses
the number (GHL-NOTES "Pitfalls"), so a number that has no ``+`` needs a default region.
"""

from __future__ import annotations

import functools
import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from ghlsync.errors import InvalidValueError

# The common case, checked in a few microseconds; anything else goes to email_validator. It only
# accepts what email_validator accepts, normalised the same way (tests compare the two).
_PLAIN_EMAIL = re.compile(
    r"[a-z0-9_%+-]+(?:\.[a-z0-9_%+-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}"
)
_SPECIAL_USE_TLDS = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})
_PHONE_PUNCTUATION = str.maketrans("", "", " ()-.")
_COUNTRY_ALIASES = {"UK": "GB", "USA": "US", "UNITED STATES": "US", "UNITED KINGDOM": "GB"}


def normalize_email(raw: str, *, field: str = "email") -> str:
    """Return the email trimmed and lower-cased, or raise ``InvalidValueError`` saying why."""
    text = raw.strip()
    if not text:
        raise InvalidValueError(field, raw, "is empty")
    folded = text.lower()
    if (
        len(folded) <= 254
        and _PLAIN_EMAIL.fullmatch(folded)
        and "--" not in folded.partition("@")[2]
        and len(folded.partition("@")[0]) <= 64
        and folded.rpartition(".")[2] not in _SPECIAL_USE_TLDS
    ):
        return folded
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidValueError(field, raw, f"is not a valid email address: {exc}") from None
    return result.normalized.lower()


def normalize_country(raw: str, *, field: str = "country") -> str:
    """Return an ISO 3166-1 alpha-2 code (``US``) for a code or a few common names."""
    text = raw.strip().upper()
    text = _COUNTRY_ALIASES.get(text, text)
    if len(text) != 2 or not text.isalpha() or text not in _regions():
        raise InvalidValueError(field, raw, "is not a two-letter ISO country code such as US or GB")
    return text


def normalize_phone(raw: str, *, default_region: str | None = "US", field: str = "phone") -> str:
    """Return the number in E.164 (``+14155552671``), or raise ``InvalidValueError`` saying why.

    ``default_region`` applies only to numbers written without a leading ``+``; pass ``None`` to
    refuse such numbers instead of guessing.
    """
    text = raw.strip()
    if not text:
        raise InvalidValueError(field, raw, "is empty")
    fast = _nanp(text, default_region)
    if fast is not None:
        return fast
    region = None if text.startswith("+") else default_region
    if region is None and not text.startswith("+"):
        raise InvalidValueError(
            field,
            raw,
            "has no country code; write it as +<country><number> or set a default country",
        )
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidValueError(field, raw, f"is not a phone number: {exc}") from None
    if not phonenumbers.is_valid_number(number):
        where = f" for region {region}" if region else ""
        raise InvalidValueError(field, raw, f"is not a valid phone number{where}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@functools.cache
def _regions() -> frozenset[str]:
    return frozenset(phonenumbers.SUPPORTED_REGIONS)


def _nanp(text: str, default_region: str | None) -> str | None:
    """E.164 for a valid US number written plainly (``(415) 555-2671``, ``+14155552671``),
    without a full parse; None: let ``phonenumbers.parse`` decide."""
    digits = text.translate(_PHONE_PUNCTUATION)
    if digits.startswith("+1"):
        digits = digits[2:]
    elif default_region not in ("US", "CA") or digits.startswith("+"):
        return None
    elif len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) != 10 or not digits.isdigit():
        return None
    number = phonenumbers.PhoneNumber(country_code=1, national_number=int(digits))
    if phonenumbers.is_valid_number_for_region(number, "US"):
        return f"+1{digits}"
    return None
