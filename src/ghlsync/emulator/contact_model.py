"""Contacts as HighLevel stores and shows them: views, webhook bodies, email/phone normalisation.

Shared by the contacts routes, contact search and seeding; no HTTP here.
"""

from __future__ import annotations

from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from ghlsync.emulator.common import ApiError
from ghlsync.emulator.state import Entity, iso_from_ms, ms_from_iso

DND_CHANNELS = ("Call", "Email", "SMS", "WhatsApp", "GMB", "FB")
DND_STATUSES = ("active", "inactive", "permanent")

DATE_FIELDS = ("dateAdded", "dateUpdated")
WEBHOOK_FIELDS = (
    "id",
    "address1",
    "city",
    "state",
    "companyName",
    "country",
    "source",
    "dateAdded",
    "dateOfBirth",
    "dnd",
    "email",
    "name",
    "firstName",
    "lastName",
    "phone",
    "postalCode",
    "tags",
    "website",
    "attachments",
    "assignedTo",
    "customFields",
)


def full_name(contact: Entity) -> str:
    return " ".join(part for part in (contact.get("firstName"), contact.get("lastName")) if part)


def contact_view(contact: Entity) -> Entity:
    """A stored contact as HighLevel returns it (``GetContectByIdSchema``).

    Known differences from the spec's schema, kept on purpose: ``customFields[].value`` is
    typed as a string there, but values keep their type (numbers for NUMERICAL/MONETORY, lists
    for CHECKBOX/MULTIPLE_OPTIONS, objects for TEXTBOX_LIST/FILE_UPLOAD), as the spec's own
    write schemas (``customFieldsInputArraySchema``/``ObjectSchema``) and integrators describe.
    """
    view = {
        "tags": [],
        "customFields": [],
        "dnd": False,
        "type": "lead",
        **contact,
    }
    name = full_name(contact)
    view["contactName"] = name.lower() if name else None
    if contact.get("firstName"):
        view["firstNameLowerCase"] = contact["firstName"].lower()
    if contact.get("lastName"):
        view["lastNameLowerCase"] = contact["lastName"].lower()
    if name:
        view["name"] = name
        view["fullNameLowerCase"] = name.lower()
    if contact.get("email"):
        view["emailLowerCase"] = contact["email"]
    return view


def webhook_body(contact: Entity, *, with_dnd: bool = False) -> Entity:
    view = contact_view(contact)
    view.setdefault("attachments", [])  # an array in the webhook docs (a string in the REST spec)
    body = {key: view[key] for key in WEBHOOK_FIELDS if key in view}
    if with_dnd:
        body["dndSettings"] = view.get("dndSettings", {})
    return body


# --------------------------------------------------------------------------- validation
def normalize_email(value: Any) -> str:
    if not isinstance(value, str):
        raise ApiError(422, ["email must be an email"])
    try:
        normalized = validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise ApiError(422, ["email must be an email"]) from None
    return normalized.lower()


def normalize_phone(value: Any, country: str | None) -> str:
    """E.164, or 422. Numbers without ``+`` are read in ``country`` (default US)."""
    if not isinstance(value, str) or not value.strip():
        raise ApiError(422, ["phone must be a valid phone number"])
    try:
        parsed = phonenumbers.parse(value, (country or "US").upper())
    except phonenumbers.NumberParseException:
        raise ApiError(422, ["phone must be a valid phone number"]) from None
    if not phonenumbers.is_possible_number(parsed):
        raise ApiError(422, ["phone must be a valid phone number"])
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def as_iso(value: Any) -> str:
    if isinstance(value, bool):
        raise TypeError(value)
    if isinstance(value, int | float):
        return iso_from_ms(int(value))
    if isinstance(value, str):
        if value.isdigit():
            return iso_from_ms(int(value))
        return iso_from_ms(ms_from_iso(value))
    raise TypeError(value)
