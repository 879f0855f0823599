"""What the admin API checks before it writes an entity "behind the API".

An admin write skips HighLevel's validation on purpose (tests plant odd data), but it must not
leave the store in a state the routes cannot serve: an id that is not a string, a contact
whose ``email`` is a number (its index lower-cases it), timestamps of two JSON types in one
collection (every sort compares them). Those are refused with 422; anything else is stored
as sent.
"""

from __future__ import annotations

from typing import Any

from ghlsync.emulator.common import ApiError
from ghlsync.emulator.state import Collection, ms_from_iso

TIMESTAMPS = ("dateAdded", "dateUpdated", "createdAt", "updatedAt")
#: contact fields the indexes, search and duplicate lookup read as text
CONTACT_TEXT = (
    "email",
    "phone",
    "firstName",
    "lastName",
    "contactName",
    "firstNameLowerCase",
    "lastNameLowerCase",
    "companyName",
    "businessName",
    "country",
    "city",
    "state",
    "address1",
    "postalCode",
    "source",
    "type",
    "timezone",
    "website",
    "assignedTo",
    "dateOfBirth",
)


def _timestamp_problem(name: str, value: Any, sample: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            ms_from_iso(value)
        except ValueError:
            return f"{name} must be an ISO-8601 date-time"
        if sample is not None and not isinstance(sample, str):
            return f"{name} must be epoch milliseconds, as the other records of this kind"
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        if not -62_135_596_800_000 <= value <= 253_402_300_799_999:
            return f"{name} must be epoch milliseconds within years 1..9999"
        if sample is not None and not isinstance(sample, int):
            return f"{name} must be an ISO-8601 date-time, as the other records of this kind"
        return None
    return f"{name} must be an ISO-8601 date-time or epoch milliseconds"


def check_entity(kind: str, entity: dict[str, Any], collection: Collection) -> None:
    """422 listing what would break the store; nothing when ``entity`` can be stored."""
    problems: list[str] = []
    entity_id = entity.get("id")
    if not isinstance(entity_id, str) or not entity_id:
        problems.append("id must be a non-empty string")
    sample = next(iter(collection.items.values()), None)
    for name in TIMESTAMPS:
        value = entity.get(name)
        if kind == "contacts" and value is not None and not isinstance(value, str):
            # the contact indexes sort dateAdded/dateUpdated as ISO text
            problems.append(f"{name} must be an ISO-8601 date-time")
        elif name in entity:
            other = sample.get(name) if sample is not None and sample is not entity else None
            problem = _timestamp_problem(name, value, other)
            if problem:
                problems.append(problem)
    if kind == "contacts":
        problems += _contact_problems(entity)
    if problems:
        raise ApiError(422, problems)


def _contact_problems(contact: dict[str, Any]) -> list[str]:
    problems = [
        f"{name} must be a string"
        for name in CONTACT_TEXT
        if contact.get(name) is not None and not isinstance(contact[name], str)
    ]
    tags = contact.get("tags")
    if tags is not None and (
        not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags)
    ):
        problems.append("tags must be an array of strings")
    fields = contact.get("customFields")
    if fields is not None and (
        not isinstance(fields, list)
        or not all(isinstance(item, dict) and isinstance(item.get("id"), str) for item in fields)
    ):
        problems.append("customFields must be an array of objects with a string id")
    return problems
