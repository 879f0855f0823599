"""Contacts as HighLevel stores and shows them: views, webhook bodies, email/phone normalisation.

Shared by the contacts routes, contact search and seeding; no HTTP here.
"""

from __future__ import annotations

from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from ghlsync.emulator.common import ApiError
from ghlsync.emulator.state import Entity, iso_from_ms, ms_from_iso

#: the spec's six channels plus ``RCS``, which real payloads carry (GHL-NOTES §4)
DND_CHANNELS = ("Call", "Email", "SMS", "WhatsApp", "GMB", "FB", "RCS")
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


#: A ``POST /contacts/search`` row: HighLevel's search shape, not the GET one (GHL-NOTES §4,
#: hl-docs#314): about 35 fields, ``address`` rather than ``address1``, ``dateOfBirth`` in
#: epoch milliseconds, plus ``phoneLabel``, ``businessName``, ``validEmail``,
#: ``additionalEmails`` and the row's own ``searchAfter`` (added by the search).
SEARCH_ROW_FIELDS = (
    "id",
    "locationId",
    "contactName",
    "firstName",
    "firstNameLowerCase",
    "lastName",
    "lastNameLowerCase",
    "email",
    "validEmail",
    "additionalEmails",
    "phone",
    "phoneLabel",
    "additionalPhones",
    "companyName",
    "businessId",
    "businessName",
    "address",
    "city",
    "state",
    "postalCode",
    "country",
    "website",
    "timezone",
    "source",
    "type",
    "tags",
    "dnd",
    "dndSettings",
    "inboundDndSettings",
    "dateOfBirth",
    "assignedTo",
    "followers",
    "customFields",
    "attributions",
    "attributionSource",
    "lastAttributionSource",
    "dateAdded",
    "dateUpdated",
)


def search_row(contact: Entity, business_names: dict[str, str] | None = None) -> Entity:
    """A stored contact as ``POST /contacts/search`` shows it (without ``searchAfter``).

    Values HighLevel's sources leave open (unconfirmed): ``validEmail`` is true for a stored
    email (the emulator validates on write) and null without one; ``phoneLabel`` is null unless
    stored; ``additionalEmails`` / ``additionalPhones`` are empty (not writable: hl-docs#262).
    """
    name = full_name(contact)
    business_id = contact.get("businessId")
    row: Entity = {
        "id": contact["id"],
        "locationId": contact.get("locationId"),
        "contactName": name.lower() if name else None,
        "firstName": contact.get("firstName"),
        "firstNameLowerCase": (contact.get("firstName") or "").lower() or None,
        "lastName": contact.get("lastName"),
        "lastNameLowerCase": (contact.get("lastName") or "").lower() or None,
        "email": contact.get("email"),
        "validEmail": True if contact.get("email") else None,
        "additionalEmails": list(contact.get("additionalEmails") or []),
        "phone": contact.get("phone"),
        "phoneLabel": contact.get("phoneLabel"),
        "additionalPhones": list(contact.get("additionalPhones") or []),
        "companyName": contact.get("companyName"),
        "businessId": business_id,
        "businessName": (business_names or {}).get(business_id) if business_id else None,
        "address": contact.get("address1"),
        "dateOfBirth": dob_ms(contact.get("dateOfBirth")),
        "type": contact.get("type", "lead"),
        "tags": list(contact.get("tags") or []),
        "dnd": contact.get("dnd", False),
        "dndSettings": contact.get("dndSettings") or {},
        "inboundDndSettings": contact.get("inboundDndSettings") or {},
        "followers": list(contact.get("followers") or []),
        "customFields": list(contact.get("customFields") or []),
        "attributions": list(contact.get("attributions") or []),
    }
    for key in SEARCH_ROW_FIELDS:
        if key not in row:
            row[key] = contact.get(key)
    return row


def dob_ms(value: Any) -> int | None:
    """``dateOfBirth`` as search shows it: epoch milliseconds (hl-docs#314)."""
    if value in (None, ""):
        return None
    try:
        return ms_from_iso(as_iso(value))
    except (TypeError, ValueError):
        return None


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
