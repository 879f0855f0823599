"""Small helpers of the writer: wire keyword names, answer reading, reconciliation tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ghlsync.errors import APIError
from ghlsync.push.plan import Action


def kw(fields: dict[str, Any]) -> dict[str, Any]:
    """Wire fields as keyword arguments of the contacts resource (which converts
    snake_case back to the wire): ``customFields`` and the rest pass through as they are."""
    out: dict[str, Any] = {}
    for name, value in fields.items():
        out[SNAKE.get(name, name)] = value
    return out


SNAKE = {
    "firstName": "first_name",
    "lastName": "last_name",
    "customFields": "custom_fields",
    "postalCode": "postal_code",
    "companyName": "company_name",
    "dateOfBirth": "date_of_birth",
    "assignedTo": "assigned_to",
    "dndSettings": "dnd_settings",
}


def tag_set(contact: dict[str, Any]) -> frozenset[str] | None:
    tags = contact.get("tags")
    return frozenset(str(t) for t in tags) if isinstance(tags, list) else None


def messages(exc: APIError) -> str:
    return "; ".join(exc.messages) or str(exc)


def is_gone(exc: APIError) -> bool:
    text = " ".join(exc.messages).lower()
    return exc.status == 404 or "not found" in text or "deleted" in text


def iso(epoch_s: float) -> str:
    moment = dt.datetime.fromtimestamp(epoch_s, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def created_since(contact: dict[str, Any], since: float) -> bool:
    added = str(contact.get("dateAdded") or "")
    return bool(added) and added >= iso(since - 1.0)


COMPARED = ("firstName", "lastName")  # in every contact shape, search rows included


def is_ours(contact: dict[str, Any], action: Action) -> bool:
    """Whether ``contact`` carries what our create sent (names and tags, which search rows
    carry too): a contact someone else made with the same email about then does not."""
    for name in COMPARED:
        if name in action.fields and contact.get(name) != action.fields[name]:
            return False
    tags = contact.get("tags")
    return action.contact.tags <= set(tags if isinstance(tags, list) else ())
