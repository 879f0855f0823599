"""Normalise the identity fields HighLevel matches contacts on.

HighLevel matches duplicates on email and phone, so a sync that sends ``Ann@Example.com`` once and
``ann@example.com`` later, or ``(415) 555-2671`` and ``+14155552671``, must send the same value
both times. Phones go out as E.164; without a country HighLevel guesses one (often US) or refuses
the number (GHL-NOTES "Pitfalls"), so a number that has no ``+`` needs a default region.
"""

from __future__ import annotations

import functools

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from ghlsync.errors import InvalidValueError

_COUNTRY_ALIASES = {"UK": "GB", "USA": "US", "UNITED STATES": "US", "UNITED KINGDOM": "GB"}


def normalize_email(raw: str, *, field: str = "email") -> str:
    """Return the email trimmed and lower-cased, or raise ``InvalidValueError`` saying why."""
    text = raw.strip()
    if not text:
        raise InvalidValueError(field, raw, "is empty")
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
