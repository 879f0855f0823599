"""How a contact is written: field checks (DND, custom fields, email and phone), the
location's duplicate rules, and the one write path (``save``: stamps, indexes, webhooks)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ghlsync.emulator.common import ApiError
from ghlsync.emulator.contacts.model import (
    DND_CHANNELS,
    DND_STATUSES,
    full_name,
    normalize_email,
    normalize_phone,
    webhook_body,
)
from ghlsync.emulator.routes.custom_fields import resolve_values
from ghlsync.emulator.state import (
    ContactCollection,
    Entity,
    LocationState,
    Store,
    normalize_email_key,
)

WRITE_FIELDS = {
    "firstName",
    "lastName",
    "name",
    "email",
    "gender",
    "phone",
    "address1",
    "city",
    "state",
    "postalCode",
    "website",
    "timezone",
    "dnd",
    "dndSettings",
    "inboundDndSettings",
    "tags",
    "customFields",
    "source",
    "dateOfBirth",
    "country",
    "companyName",
    "assignedTo",
}
CREATE_FIELDS = WRITE_FIELDS | {"locationId"}
#: what PUT accepts, found live (GHL-NOTES §4, hl-docs#314): the spec's UpdateContactDto plus
#: ``companyName``, ``keyword``, ``ssn`` and ``type``; ``gender`` and ``locationId`` are refused
UPDATE_FIELDS = (WRITE_FIELDS - {"gender"}) | {"keyword", "ssn", "type"}
UPSERT_FIELDS = CREATE_FIELDS | {"createNewIfDuplicateAllowed"}


# --------------------------------------------------------------------------- views


def _check_dnd_settings(value: Any, name: str, channels: Iterable[str]) -> list[str]:
    if not isinstance(value, dict):
        return [f"{name} must be an object"]
    messages: list[str] = []
    allowed = set(channels)
    for channel, setting in value.items():
        if channel not in allowed:
            messages.append(f"property {name}.{channel} should not exist")
            continue
        if not isinstance(setting, dict) or setting.get("status") not in DND_STATUSES:
            messages.append(
                f"{name}.{channel}.status must be one of the following values: "
                + ", ".join(DND_STATUSES)
            )
    return messages


def apply_fields(
    store: Store,
    location: LocationState,
    body: Entity,
    current: Entity | None,
) -> Entity:
    """The contact after applying ``body`` (validated, normalised) to ``current``."""
    contact: Entity = dict(current) if current else {}
    messages: list[str] = []
    for key in ("firstName", "lastName", "name", "address1", "city", "state", "postalCode"):
        if key in body and body[key] is not None and not isinstance(body[key], str):
            messages.append(f"{key} must be a string")
    for key in (
        "website",
        "timezone",
        "source",
        "companyName",
        "assignedTo",
        "gender",
        "country",
        "keyword",
        "ssn",
        "type",
    ):
        if key in body and body[key] is not None and not isinstance(body[key], str):
            messages.append(f"{key} must be a string")
    if "dnd" in body and not isinstance(body["dnd"], bool):
        messages.append("dnd must be a boolean value")
    if "tags" in body and not (
        isinstance(body["tags"], list) and all(isinstance(tag, str) for tag in body["tags"])
    ):
        messages.append("each value in tags must be a string")
    if body.get("dndSettings") is not None:
        messages += _check_dnd_settings(body["dndSettings"], "dndSettings", DND_CHANNELS)
    if body.get("inboundDndSettings") is not None:
        messages += _check_dnd_settings(body["inboundDndSettings"], "inboundDndSettings", ("all",))
    if messages:
        raise ApiError(422, messages)
    country = body.get("country") or contact.get("country") or location.record.get("country")
    # an invalid email and an invalid phone are reported together, as HighLevel lists them
    invalid: list[str] = []
    for key, value in body.items():
        if key in ("locationId", "createNewIfDuplicateAllowed", "customFields", "name"):
            continue
        if key in ("email", "phone"):
            if value in (None, ""):
                contact.pop(key, None)
                continue
            try:
                contact[key] = (
                    normalize_email(value) if key == "email" else normalize_phone(value, country)
                )
            except ApiError as exc:
                invalid += exc.message if isinstance(exc.message, list) else [exc.message]
        elif key == "tags":
            contact["tags"] = unique(tag.strip() for tag in value if tag.strip())
        elif key in ("dndSettings", "inboundDndSettings") and value is not None:
            continue  # merged below, with HighLevel's own message
        elif value is None:
            contact.pop(key, None)
        else:
            contact[key] = value
    if invalid:
        raise ApiError(422, invalid)
    for key in ("dndSettings", "inboundDndSettings"):
        if isinstance(body.get(key), dict):
            contact[key] = _stamp_dnd(store, current, key, body[key])
    if body.get("name") and not (body.get("firstName") or body.get("lastName")):
        first, _, last = str(body["name"]).strip().partition(" ")
        contact["firstName"] = first
        if last:
            contact["lastName"] = last
    if "customFields" in body:
        contact["customFields"] = resolve_values(
            store,
            location.id,
            body["customFields"],
            model="contact",
            current=contact.get("customFields"),
        )
    return contact


def _stamp_dnd(store: Store, current: Entity | None, key: str, written: Entity) -> Entity:
    """HighLevel writes each DND channel's ``message`` itself ("Updated by ... at ...";
    GHL-NOTES §4): a channel whose status changes gets a new message, whatever was sent."""
    before = (current or {}).get(key) or {}
    merged: Entity = {}  # the written object replaces the stored one, as before
    for channel, setting in written.items():
        old = before.get(channel) or {}
        entry = dict(setting)
        if old.get("status") != setting.get("status") or "message" not in old:
            entry["message"] = f"Updated by API at {store.now_readonly()}"
        else:
            entry["message"] = old["message"]
        merged[channel] = entry
    return merged


def unique(items: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return list(seen)


# --------------------------------------------------------------------------- duplicates
def find_duplicate(
    contacts: ContactCollection, field: str, value: str | None, exclude: str | None = None
) -> str | None:
    if not value:
        return None
    index = contacts.by_email if field == "email" else contacts.by_phone
    key = normalize_email_key(value) if field == "email" else value
    for contact_id in index.get(key, ()):
        if contact_id != exclude:
            return contact_id
    return None


def _duplicate_error(contacts: ContactCollection, contact_id: str, field: str) -> ApiError:
    existing = contacts.items[contact_id]
    return ApiError(
        400,
        "This location does not allow duplicated contacts.",
        extra={
            "meta": {
                "contactName": full_name(existing) or None,
                "contactId": contact_id,
                "matchingField": field,
            }
        },
    )


def check_duplicates(location: LocationState, contacts: ContactCollection, contact: Entity) -> None:
    """400 naming the existing contact when duplicates are not allowed."""
    if location.duplicates.allow_duplicate_contact:
        return
    for field in location.duplicates.priority:
        found = find_duplicate(contacts, field, contact.get(field), exclude=contact.get("id"))
        if found is not None:
            raise _duplicate_error(contacts, found, field)


# --------------------------------------------------------------------------- writes
def save(store: Store, location_id: str, before: Entity | None, after: Entity) -> Entity:
    after["dateUpdated"] = store.now()
    if before is None:
        after["dateAdded"] = after["dateUpdated"]
    contacts = store.contacts(location_id)
    _remember_write(store, contacts, after["id"], before)
    contacts.put(after)
    _emit_changes(store, location_id, before, after)
    return after


def _remember_write(
    store: Store, contacts: ContactCollection, contact_id: str, before: Entity | None
) -> None:
    """Note when a contact was written and what search showed before (the indexing delay)."""
    if store.search_index_delay_s <= 0:
        contacts.recent.clear()
        return
    pending = contacts.recent.get(contact_id)
    # while an earlier write is still unindexed, search keeps showing the version before it
    shown_before = pending[1] if pending is not None else before
    contacts.recent[contact_id] = (store.clock.time(), shown_before)


def _emit_changes(store: Store, location_id: str, before: Entity | None, after: Entity) -> None:
    if before is None:
        store.emit("ContactCreate", location_id, webhook_body(after))
        return
    store.emit("ContactUpdate", location_id, webhook_body(after))
    if list(before.get("tags") or []) != list(after.get("tags") or []):
        store.emit("ContactTagUpdate", location_id, webhook_body(after))
    if before.get("dnd") != after.get("dnd") or before.get("dndSettings") != after.get(
        "dndSettings"
    ):
        store.emit("ContactDndUpdate", location_id, webhook_body(after, with_dnd=True))


def location_or_400(store: Store, location_id: str) -> LocationState:
    location = store.locations.get(location_id)
    if location is None:
        raise ApiError(400, "Location not found", error="Bad Request")
    return location
