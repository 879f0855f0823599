"""Contacts (``apps/contacts.json``): CRUD, upsert, search, list, duplicates, tags, notes, tasks.

Behaviours the spec leaves out follow ``GHL-NOTES.md``:
- duplicates follow the location's "Allow Duplicate Contact" setting: a create that matches an
  existing contact answers 400 with ``meta.contactId`` / ``meta.matchingField``; an upsert
  updates the contact matching the first field of the configured priority and drops the other
  field's value when it belongs to a different contact;
- ``tags`` in create/update/upsert replace; ``POST``/``DELETE /contacts/{id}/tags`` add/remove;
- ``customFields`` are written as ``[{id | key, field_value | value}]`` and read as
  ``[{id, value}]``;
- emails are lowercased, phones stored in E.164; invalid ones answer 422;
- ``POST /contacts/search``: ``page`` * ``pageLimit`` may not pass 10,000 (use ``searchAfter``);
  each contact carries ``searchAfter`` ``[sort value, id]``, dates as epoch milliseconds; the
  response carries ``total`` and ``count`` (both the number of matches: the spec names
  ``count``, integrations report ``total``) and the last record's ``searchAfter``.
Every write stamps ``dateUpdated`` (strictly increasing per emulator) and emits a webhook event.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ghlsync.emulator.common import (
    ApiError,
    int_param,
    json_body,
    new_trace_id,
    ok,
    require,
    store_of,
)
from ghlsync.emulator.contact_model import (
    DND_CHANNELS,
    DND_STATUSES,
    as_iso,
    contact_view,
    full_name,
    normalize_email,
    normalize_phone,
    webhook_body,
)
from ghlsync.emulator.contact_search import SEARCH_FIELDS, search_contacts_in, text_query
from ghlsync.emulator.contact_seed import seed as seed
from ghlsync.emulator.routes._listing import location_query
from ghlsync.emulator.routes.custom_fields import resolve_values
from ghlsync.emulator.routes.locations import ensure_tags
from ghlsync.emulator.state import (
    ContactCollection,
    Entity,
    LocationState,
    Store,
    Token,
    ms_from_iso,
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
            contact["tags"] = _unique(tag.strip() for tag in value if tag.strip())
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


def _unique(items: Iterable[str]) -> list[str]:
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
def _save(store: Store, location_id: str, before: Entity | None, after: Entity) -> Entity:
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


def _location(store: Store, location_id: str) -> LocationState:
    location = store.locations.get(location_id)
    if location is None:
        raise ApiError(400, "Location not found", error="Bad Request")
    return location


async def create_contact(request: Request) -> Response:
    require(request, scope="contacts.write")
    body = await json_body(request, allowed=CREATE_FIELDS, required={"locationId"})
    location_id = str(body["locationId"])
    require(request, scope="contacts.write", location_id=location_id)
    store = store_of(request)
    with store.lock:
        location = _location(store, location_id)
        contact = apply_fields(store, location, body, None)
        contact["id"] = store.new_id()
        contact["locationId"] = location_id
        contact.setdefault("type", "lead")
        contacts = store.contacts(location_id)
        check_duplicates(location, contacts, contact)
        ensure_tags(store, location_id, contact.get("tags") or [])
        _save(store, location_id, None, contact)
    return ok({"contact": contact_view(contact)}, status=201)


def _contact(request: Request, scope: str) -> tuple[Store, Token, LocationState, Entity]:
    token = require(request, scope=scope)
    store = store_of(request)
    contact_id = request.path_params["contactId"]
    found = store.find("contacts", contact_id)
    if found is None:
        raise ApiError(400, "Contact not found", error="Bad Request")
    location_id, contact = found
    require(request, scope=scope, location_id=location_id)
    return store, token, store.locations[location_id], contact


async def get_contact(request: Request) -> Response:
    _, _, _, contact = _contact(request, "contacts.readonly")
    # HighLevel's bodies carry a traceId (GHL-NOTES §1)
    return ok({"contact": contact_view(contact), "traceId": _trace()})


async def update_contact(request: Request) -> Response:
    store, _, location, current = _contact(request, "contacts.write")
    body = await json_body(request, allowed=UPDATE_FIELDS)
    with store.lock:
        contact = apply_fields(store, location, body, current)
        contacts = store.contacts(location.id)
        check_duplicates(location, contacts, contact)
        ensure_tags(store, location.id, contact.get("tags") or [])
        _save(store, location.id, current, contact)
    return ok({"succeded": True, "contact": contact_view(contact)})


async def delete_contact(request: Request) -> Response:
    store, _, location, contact = _contact(request, "contacts.write")
    with store.lock:
        store.delete(location.id, "contacts", contact["id"])
        store.emit("ContactDelete", location.id, webhook_body(contact))
    return ok({"succeded": True})


async def upsert_contact(request: Request) -> Response:
    require(request, scope="contacts.write")
    body = await json_body(request, allowed=UPSERT_FIELDS, required={"locationId"})
    location_id = str(body["locationId"])
    require(request, scope="contacts.write", location_id=location_id)
    store = store_of(request)
    with store.lock:
        location = _location(store, location_id)
        contacts = store.contacts(location_id)
        # normalise first so matching compares what would be stored
        probe = apply_fields(store, location, body, None)
        settings = location.duplicates
        match_id: str | None = None
        matched_field: str | None = None
        create_new = settings.allow_duplicate_contact and bool(
            body.get("createNewIfDuplicateAllowed")
        )
        if not create_new:
            for field in settings.priority:
                match_id = find_duplicate(contacts, field, probe.get(field))
                if match_id is not None:
                    matched_field = field
                    break
        if match_id is None:
            contact = probe
            contact["id"] = store.new_id()
            contact["locationId"] = location_id
            contact.setdefault("type", "lead")
            if not settings.allow_duplicate_contact:
                check_duplicates(location, contacts, contact)
            ensure_tags(store, location_id, contact.get("tags") or [])
            _save(store, location_id, None, contact)
            return ok({"new": True, "contact": contact_view(contact), "traceId": _trace()})
        current = contacts.items[match_id]
        effective = dict(body)
        # The other checked field belongs to another contact: ignore it (HighLevel's upsert
        # description), so the phone (or email) is silently dropped rather than duplicated.
        for field in settings.priority:
            if field == matched_field:
                continue
            other = find_duplicate(contacts, field, probe.get(field), exclude=match_id)
            if other is not None:
                effective.pop(field, None)
        # HighLevel silently drops ``gender`` on an existing contact (GHL-NOTES §4, hl-docs#313)
        effective.pop("gender", None)
        contact = apply_fields(store, location, effective, current)
        ensure_tags(store, location_id, contact.get("tags") or [])
        _save(store, location_id, current, contact)
    return ok({"new": False, "contact": contact_view(contact), "traceId": _trace()})


def _trace() -> str:
    return new_trace_id()


# --------------------------------------------------------------------------- tags
async def add_tags(request: Request) -> Response:
    store, _, location, current = _contact(request, "contacts.write")
    body = await json_body(request, allowed={"tags"}, required={"tags"})
    tags = _tags_body(body)
    with store.lock:
        contact = dict(current)
        contact["tags"] = _unique([*(current.get("tags") or []), *tags])
        ensure_tags(store, location.id, tags)
        _save(store, location.id, current, contact)
    return ok({"tags": contact["tags"]}, status=201)


async def remove_tags(request: Request) -> Response:
    store, _, location, current = _contact(request, "contacts.write")
    body = await json_body(request, allowed={"tags"}, required={"tags"})
    tags = set(_tags_body(body))
    with store.lock:
        contact = dict(current)
        contact["tags"] = [tag for tag in current.get("tags") or [] if tag not in tags]
        _save(store, location.id, current, contact)
    return ok({"tags": contact["tags"]})


def _tags_body(body: Entity) -> list[str]:
    tags = body["tags"]
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise ApiError(422, ["each value in tags must be a string"])
    return _unique(tag.strip() for tag in tags if tag.strip())


async def bulk_tags(request: Request) -> Response:
    kind = request.path_params["type"]
    require(request, scope="contacts.write")
    body = await json_body(
        request,
        allowed={"contacts", "tags", "locationId", "removeAllTags"},
        required={"contacts", "locationId"},
    )
    location_id = str(body["locationId"])
    require(request, scope="contacts.write", location_id=location_id)
    if kind not in ("add", "remove"):
        raise ApiError(422, ["type must be one of the following values: add, remove"])
    if "tags" not in body and not body.get("removeAllTags"):
        raise ApiError(422, ["tags should not be empty"])
    tags = _tags_body({"tags": body.get("tags") or []})
    ids = body["contacts"]
    if not isinstance(ids, list):
        raise ApiError(422, ["contacts must be an array"])
    store = store_of(request)
    responses: list[Entity] = []
    errors = 0
    with store.lock:
        contacts = store.contacts(location_id)
        for contact_id in ids:
            current = contacts.get(str(contact_id))
            if current is None:
                errors += 1
                found = store.find("contacts", str(contact_id))
                message = (
                    "contact does not belong to location"
                    if found is not None
                    else "contact is deleted"
                    if str(contact_id) in contacts.deleted
                    else "contact id is not a valid firebase id"
                )
                responses.append({"contactId": contact_id, "message": message, "type": "error"})
                continue
            old = list(current.get("tags") or [])
            if kind == "add":
                new = _unique([*old, *tags])
            elif body.get("removeAllTags"):
                new = []
            else:
                new = [tag for tag in old if tag not in tags]
            contact = dict(current)
            contact["tags"] = new
            if kind == "add":
                ensure_tags(store, location_id, tags)
            _save(store, location_id, current, contact)
            responses.append(
                {
                    "contactId": contact_id,
                    "message": "Tags updated",
                    "type": "success",
                    "oldTags": old,
                    "tagsAdded": [tag for tag in new if tag not in old],
                    "tagsRemoved": [tag for tag in old if tag not in new],
                }
            )
    answer: dict[str, Any] = {"succeded": errors == 0, "errorCount": errors, "responses": responses}
    if request.headers.get("version") == "v3":
        answer = {"succeeded": errors == 0, **answer}  # v3 spells it right, keeps the old key
    return ok(answer, status=201)


# --------------------------------------------------------------------------- duplicates lookup
async def duplicate_lookup(request: Request) -> Response:
    location_id = request.query_params.get("locationId")
    if not location_id:
        raise ApiError(422, ["locationId should not be empty"])
    require(request, scope="contacts.readonly", location_id=location_id)
    store = store_of(request)
    location = _location(store, location_id)
    contacts = store.contacts(location_id)
    email = request.query_params.get("email")
    number = request.query_params.get("number")
    if not email and not number:
        # wording as integrators report it (marioaldayuz/n8n-highlevel#10)
        raise ApiError(400, "Pass at least one of number, email query parameter")
    candidates: list[tuple[str, str | None]] = []
    if email:
        candidates.append(("email", normalize_email_key(email)))
    if number:
        candidates.append(("phone", normalize_phone(number, location.record.get("country"))))
    if location.duplicates.allow_duplicate_contact:
        order = {"email": 0, "phone": 1}
    else:
        order = {field: i for i, field in enumerate(location.duplicates.priority)}
    candidates.sort(key=lambda item: order.get(item[0], 9))
    for field, value in candidates:
        found = find_duplicate(contacts, field, value)
        if found is not None:
            return ok({"contact": contact_view(contacts.items[found])})
    return ok({"contact": None})


# --------------------------------------------------------------------------- search


async def search_contacts(request: Request) -> Response:
    require(request, scope="contacts.readonly")
    body = await json_body(request, allowed=SEARCH_FIELDS, required={"locationId"})
    location_id = str(body["locationId"])
    require(request, scope="contacts.readonly", location_id=location_id)
    store = store_of(request)
    location = _location(store, location_id)
    with store.lock:
        result = search_contacts_in(
            location, body, now=store.clock.time(), index_delay_s=store.search_index_delay_s
        )
    result["traceId"] = _trace()
    return ok(result)


# --------------------------------------------------------------------------- deprecated list
async def business_contacts(request: Request) -> Response:
    """``GET /contacts/business/{businessId}``: the location's contacts of a business, oldest
    first; ``skip``/``limit`` (≤ 100), ``query`` text; ``{contacts, count}``."""
    location_id = location_query(request, "contacts.readonly")
    store = store_of(request)
    limit = int_param(request, "limit", 25, minimum=1, maximum=100)
    skip = int_param(request, "skip", 0)
    query_text = (request.query_params.get("query") or "").strip().lower()
    predicate = text_query(query_text) if query_text else None
    business_id = request.path_params["businessId"]
    contacts = store.contacts(location_id)
    matches = [
        contact
        for contact in contacts
        if contact.get("businessId") == business_id and (predicate is None or predicate(contact))
    ]
    matches.sort(key=lambda contact: (contact.get("dateAdded") or "", contact["id"]))
    page = matches[skip : skip + limit]
    return ok({"contacts": [contact_view(contact) for contact in page], "count": len(matches)})


async def list_contacts(request: Request) -> Response:
    location_id = location_query(request, "contacts.readonly")
    store = store_of(request)
    limit = int_param(request, "limit", 20, minimum=1, maximum=100)
    start_after = request.query_params.get("startAfter")
    start_after_id = request.query_params.get("startAfterId")
    query_text = (request.query_params.get("query") or "").strip().lower()
    with store.lock:
        contacts = store.contacts(location_id)
        index = contacts.by_added
        start = 0
        if start_after:
            try:
                after_iso = as_iso(start_after)
            except (ValueError, TypeError):
                raise ApiError(422, ["startAfter must be a timestamp in milliseconds"]) from None
            key = (after_iso, start_after_id or "\uffff")
            start = bisect.bisect_right(index, key)
        predicate = text_query(query_text) if query_text else None
        found: list[Entity] = []
        position = start
        while position < len(index) and len(found) < limit:
            contact = contacts.items[index[position][1]]
            position += 1
            if predicate is None or predicate(contact):
                found.append(contact)
        if predicate is None:
            total = len(index)
            more = position < len(index)
        else:
            total = sum(1 for c in contacts.items.values() if predicate(c))
            more = any(predicate(contacts.items[i]) for _, i in index[position:])
    last = found[-1] if found else None
    next_after = ms_from_iso(last["dateAdded"]) if last and more else None
    next_id = last["id"] if last and more else None
    current_page = start // limit + 1 if predicate is None else None
    next_url = None
    if next_after is not None:
        params = {
            "locationId": location_id,
            "limit": limit,
            "startAfter": next_after,
            "startAfterId": next_id,
        }
        if query_text:
            params["query"] = query_text
        next_url = f"{request.base_url}contacts/?{urlencode(params)}"
    return ok(
        {
            "contacts": [contact_view(contact) for contact in found],
            # the spec's ContactsSearchSuccessfulResponseDto names ``count`` (GHL-NOTES §4)
            "count": total,
            "meta": {
                "total": total,
                "nextPageUrl": next_url,
                "startAfterId": next_id,
                "startAfter": next_after,
                "currentPage": current_page,
                "nextPage": current_page + 1 if current_page and next_url else None,
                "prevPage": current_page - 1 if current_page and current_page > 1 else None,
            },
        }
    )


# --------------------------------------------------------------------------- notes
NOTE_FIELDS = {"userId", "body", "title", "color", "pinned"}


def note_view(note: Entity) -> Entity:
    return {key: value for key, value in note.items() if key != "locationId"}


def _note(request: Request, scope: str) -> tuple[Store, LocationState, Entity, Entity]:
    store, _, location, contact = _contact(request, scope)
    note = location.collection("notes").get(request.path_params["id"])
    if note is None or note.get("contactId") != contact["id"]:
        raise ApiError(404, "Note not found")
    return store, location, contact, note


async def list_notes(request: Request) -> Response:
    _, _, location, contact = _contact(request, "contacts.readonly")
    notes = [
        note_view(note)
        for note in location.collection("notes")
        if note.get("contactId") == contact["id"]
    ]
    notes.sort(key=lambda note: note.get("dateAdded") or "", reverse=True)
    return ok({"notes": notes})


async def create_note(request: Request) -> Response:
    store, _, location, contact = _contact(request, "contacts.write")
    body = await json_body(request, allowed=NOTE_FIELDS, required={"body"})
    with store.lock:
        note = {
            "id": store.new_id(),
            "body": str(body["body"]),
            "userId": body.get("userId"),
            "title": body.get("title"),
            "color": body.get("color"),
            "pinned": bool(body.get("pinned", False)),
            "dateAdded": store.now(),
            "contactId": contact["id"],
            "locationId": location.id,
        }
        note = {key: value for key, value in note.items() if value is not None}
        location.collection("notes").put(note)
        store.emit("NoteCreate", location.id, _note_event(note))
    return ok({"note": note_view(note)}, status=201)


def _note_event(note: Entity) -> Entity:
    return {key: note.get(key) for key in ("id", "body", "contactId", "dateAdded")}


async def get_note(request: Request) -> Response:
    _, _, _, note = _note(request, "contacts.readonly")
    return ok({"note": note_view(note)})


async def update_note(request: Request) -> Response:
    store, location, _, note = _note(request, "contacts.write")
    body = await json_body(request, allowed=NOTE_FIELDS)
    with store.lock:
        updated = {**note, **{key: value for key, value in body.items() if value is not None}}
        updated["dateUpdated"] = store.now()
        location.collection("notes").put(updated)
        store.emit("NoteUpdate", location.id, _note_event(updated))
    return ok({"note": note_view(updated)})


async def delete_note(request: Request) -> Response:
    store, location, _, note = _note(request, "contacts.write")
    with store.lock:
        store.delete(location.id, "notes", note["id"])
        store.emit("NoteDelete", location.id, _note_event(note))
    return ok({"succeded": True})


# --------------------------------------------------------------------------- tasks
TASK_FIELDS = {"title", "body", "dueDate", "completed", "assignedTo"}


def task_view(task: Entity) -> Entity:
    return {key: value for key, value in task.items() if key != "locationId"}


def _task_event(task: Entity) -> Entity:
    """The Task* webhook body (``docs/webhook events/TaskCreate.md``): every field a string,
    ``body`` empty when the task has none, unset ones left out."""
    keys = ("id", "assignedTo", "contactId", "title", "dateAdded", "dueDate")
    event = {key: task[key] for key in keys if task.get(key) is not None}
    event["body"] = task.get("body") or ""
    return event


def _check_task(body: Entity) -> None:
    messages: list[str] = []
    if "completed" in body and not isinstance(body["completed"], bool):
        messages.append("completed must be a boolean value")
    if body.get("dueDate") is not None:
        try:
            as_iso(body["dueDate"])
        except (ValueError, TypeError):
            messages.append("dueDate must be a valid ISO 8601 date string")
    if messages:
        raise ApiError(422, messages)


def _task(request: Request, scope: str) -> tuple[Store, LocationState, Entity, Entity]:
    store, _, location, contact = _contact(request, scope)
    task = location.collection("tasks").get(request.path_params["taskId"])
    if task is None or task.get("contactId") != contact["id"]:
        raise ApiError(404, "Task not found")
    return store, location, contact, task


async def list_tasks(request: Request) -> Response:
    _, _, location, contact = _contact(request, "contacts.readonly")
    tasks = [
        task_view(task)
        for task in location.collection("tasks")
        if task.get("contactId") == contact["id"]
    ]
    tasks.sort(key=lambda task: task.get("dueDate") or "")
    return ok({"tasks": tasks})


async def create_task(request: Request) -> Response:
    _contact(request, "contacts.write")
    body = await json_body(request, allowed=TASK_FIELDS, required={"title", "dueDate"})
    if "completed" not in body:
        raise ApiError(422, ["completed must be a boolean value"])
    _check_task(body)
    store, _, location, contact = _contact(request, "contacts.write")
    with store.lock:
        now = store.now()
        task = {
            "id": store.new_id(),
            "title": str(body["title"]),
            "body": body.get("body"),
            "assignedTo": body.get("assignedTo"),
            "dueDate": as_iso(body["dueDate"]),
            "completed": body["completed"],
            "contactId": contact["id"],
            "locationId": location.id,
            "dateAdded": now,
            "dateUpdated": now,
        }
        task = {key: value for key, value in task.items() if value is not None}
        location.collection("tasks").put(task)
        store.emit("TaskCreate", location.id, _task_event(task))
        if task["completed"]:
            store.emit("TaskComplete", location.id, _task_event(task))
    return ok({"task": task_view(task)}, status=201)


async def get_task(request: Request) -> Response:
    _, _, _, task = _task(request, "contacts.readonly")
    return ok({"task": task_view(task)})


async def _write_task(request: Request, body: Entity) -> Response:
    _check_task(body)
    store, location, _, task = _task(request, "contacts.write")
    with store.lock:
        updated = dict(task)
        for key, value in body.items():
            if value is None:
                continue
            updated[key] = as_iso(value) if key == "dueDate" else value
        updated["dateUpdated"] = store.now()
        location.collection("tasks").put(updated)
        if updated.get("completed") and not task.get("completed"):
            store.emit("TaskComplete", location.id, _task_event(updated))
    return ok({"task": task_view(updated)})


async def update_task(request: Request) -> Response:
    _task(request, "contacts.write")
    body = await json_body(request, allowed=TASK_FIELDS)
    return await _write_task(request, body)


async def complete_task(request: Request) -> Response:
    _task(request, "contacts.write")
    body = await json_body(request, allowed={"completed"}, required={"completed"})
    return await _write_task(request, body)


async def delete_task(request: Request) -> Response:
    store, location, _, task = _task(request, "contacts.write")
    with store.lock:
        store.delete(location.id, "tasks", task["id"])
        store.emit("TaskDelete", location.id, _task_event(task))
    return ok({"succeded": True})


TASK_SEARCH_FIELDS = {
    "contactId",
    "completed",
    "assignedTo",
    "query",
    "limit",
    "skip",
    "businessId",
}


async def search_location_tasks(request: Request) -> Response:
    """``POST /locations/{locationId}/tasks/search``: tasks of every contact, filtered.

    Ordered by ``dateAdded`` then id, so ``skip``/``limit`` paging is stable. The spec types
    ``tasks`` items as arrays; HighLevel returns task objects (GHL-NOTES), as here.
    """
    location_id = request.path_params["locationId"]
    require(request, scope="locations/tasks.readonly", location_id=location_id)
    body = await json_body(request, allowed=TASK_SEARCH_FIELDS)
    messages: list[str] = []
    for key in ("limit", "skip"):
        value = body.get(key)
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or value < 0
        ):
            messages.append(f"{key} must be a non-negative integer")
    for key in ("contactId", "assignedTo"):
        if key in body and not isinstance(body[key], list):
            messages.append(f"{key} must be an array")
    if "completed" in body and not isinstance(body["completed"], bool):
        messages.append("completed must be a boolean value")
    if messages:
        raise ApiError(422, messages)
    store = store_of(request)
    contact_ids = set(body.get("contactId") or [])
    assigned = set(body.get("assignedTo") or [])
    text = str(body.get("query") or "").strip().lower()
    with store.lock:
        tasks = [
            task
            for task in store.collection(location_id, "tasks")
            if (not contact_ids or task.get("contactId") in contact_ids)
            and (not assigned or task.get("assignedTo") in assigned)
            and ("completed" not in body or bool(task.get("completed")) == body["completed"])
            and (not text or text in str(task.get("title", "")).lower())
        ]
    tasks.sort(key=lambda task: (task.get("dateAdded") or "", task["id"]))
    skip = int(body.get("skip") or 0)
    limit = int(body.get("limit") or 25)
    return ok({"tasks": [task_view(task) for task in tasks[skip : skip + limit]]})


# --------------------------------------------------------------------------- appointments
async def contact_appointments(request: Request) -> Response:
    _, _, location, contact = _contact(request, "contacts.readonly")
    events = [
        event
        for event in location.collection("calendar_events")
        if event.get("contactId") == contact["id"]
    ]
    events.sort(key=lambda event: str(event.get("startTime") or ""))
    return ok({"events": events})


# --------------------------------------------------------------------------- seed


routes: list[BaseRoute] = [
    Route("/contacts/search", search_contacts, methods=["POST"]),
    Route("/contacts/business/{businessId}", business_contacts, methods=["GET"]),
    Route("/contacts/search/duplicate", duplicate_lookup, methods=["GET"]),
    Route("/contacts/upsert", upsert_contact, methods=["POST"]),
    Route("/contacts/bulk/tags/update/{type}", bulk_tags, methods=["POST"]),
    Route("/contacts/", list_contacts, methods=["GET"]),
    Route("/contacts/", create_contact, methods=["POST"]),
    Route("/contacts", list_contacts, methods=["GET"]),
    Route("/contacts", create_contact, methods=["POST"]),
    Route("/contacts/{contactId}", get_contact, methods=["GET"]),
    Route("/contacts/{contactId}", update_contact, methods=["PUT"]),
    Route("/contacts/{contactId}", delete_contact, methods=["DELETE"]),
    Route("/contacts/{contactId}/tags", add_tags, methods=["POST"]),
    Route("/contacts/{contactId}/tags", remove_tags, methods=["DELETE"]),
    Route("/contacts/{contactId}/notes", list_notes, methods=["GET"]),
    Route("/contacts/{contactId}/notes", create_note, methods=["POST"]),
    Route("/contacts/{contactId}/notes/{id}", get_note, methods=["GET"]),
    Route("/contacts/{contactId}/notes/{id}", update_note, methods=["PUT"]),
    Route("/contacts/{contactId}/notes/{id}", delete_note, methods=["DELETE"]),
    Route("/contacts/{contactId}/tasks", list_tasks, methods=["GET"]),
    Route("/contacts/{contactId}/tasks", create_task, methods=["POST"]),
    Route("/contacts/{contactId}/tasks/{taskId}", get_task, methods=["GET"]),
    Route("/contacts/{contactId}/tasks/{taskId}", update_task, methods=["PUT"]),
    Route("/contacts/{contactId}/tasks/{taskId}", delete_task, methods=["DELETE"]),
    Route("/contacts/{contactId}/tasks/{taskId}/completed", complete_task, methods=["PUT"]),
    Route("/contacts/{contactId}/appointments", contact_appointments, methods=["GET"]),
    Route("/locations/{locationId}/tasks/search", search_location_tasks, methods=["POST"]),
]
