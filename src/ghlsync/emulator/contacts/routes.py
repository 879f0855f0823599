"""Contacts (``apps/contacts.json``): CRUD, upsert, search, list, duplicates, tags (notes, tasks
and appointments: ``children``; how a contact is written: ``writes``).

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
from ghlsync.emulator.contacts.filters import text_query
from ghlsync.emulator.contacts.lookup import contact_of
from ghlsync.emulator.contacts.model import as_iso, contact_view, normalize_phone, webhook_body
from ghlsync.emulator.contacts.search import SEARCH_FIELDS, search_contacts_in
from ghlsync.emulator.contacts.writes import (
    CREATE_FIELDS,
    UPDATE_FIELDS,
    UPSERT_FIELDS,
    apply_fields,
    check_duplicates,
    find_duplicate,
    location_or_400,
    save,
    unique,
)
from ghlsync.emulator.routes._listing import location_query
from ghlsync.emulator.routes.locations import ensure_tags
from ghlsync.emulator.state import Entity, ms_from_iso, normalize_email_key


async def create_contact(request: Request) -> Response:
    require(request, scope="contacts.write")
    body = await json_body(request, allowed=CREATE_FIELDS, required={"locationId"})
    location_id = str(body["locationId"])
    require(request, scope="contacts.write", location_id=location_id)
    store = store_of(request)
    with store.lock:
        location = location_or_400(store, location_id)
        contact = apply_fields(store, location, body, None)
        contact["id"] = store.new_id()
        contact["locationId"] = location_id
        contact.setdefault("type", "lead")
        contacts = store.contacts(location_id)
        check_duplicates(location, contacts, contact)
        ensure_tags(store, location_id, contact.get("tags") or [])
        save(store, location_id, None, contact)
    return ok({"contact": contact_view(contact)}, status=201)


async def get_contact(request: Request) -> Response:
    _, _, _, contact = contact_of(request, "contacts.readonly")
    # HighLevel's bodies carry a traceId (GHL-NOTES §1)
    return ok({"contact": contact_view(contact), "traceId": _trace()})


async def update_contact(request: Request) -> Response:
    store, _, location, current = contact_of(request, "contacts.write")
    body = await json_body(request, allowed=UPDATE_FIELDS)
    with store.lock:
        contact = apply_fields(store, location, body, current)
        contacts = store.contacts(location.id)
        check_duplicates(location, contacts, contact)
        ensure_tags(store, location.id, contact.get("tags") or [])
        save(store, location.id, current, contact)
    return ok({"succeded": True, "contact": contact_view(contact)})


async def delete_contact(request: Request) -> Response:
    store, _, location, contact = contact_of(request, "contacts.write")
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
        location = location_or_400(store, location_id)
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
            save(store, location_id, None, contact)
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
        save(store, location_id, current, contact)
    return ok({"new": False, "contact": contact_view(contact), "traceId": _trace()})


def _trace() -> str:
    return new_trace_id()


# --------------------------------------------------------------------------- tags
async def add_tags(request: Request) -> Response:
    store, _, location, current = contact_of(request, "contacts.write")
    body = await json_body(request, allowed={"tags"}, required={"tags"})
    tags = _tags_body(body)
    with store.lock:
        contact = dict(current)
        contact["tags"] = unique([*(current.get("tags") or []), *tags])
        ensure_tags(store, location.id, tags)
        save(store, location.id, current, contact)
    return ok({"tags": contact["tags"]}, status=201)


async def remove_tags(request: Request) -> Response:
    store, _, location, current = contact_of(request, "contacts.write")
    body = await json_body(request, allowed={"tags"}, required={"tags"})
    tags = set(_tags_body(body))
    with store.lock:
        contact = dict(current)
        contact["tags"] = [tag for tag in current.get("tags") or [] if tag not in tags]
        save(store, location.id, current, contact)
    return ok({"tags": contact["tags"]})


def _tags_body(body: Entity) -> list[str]:
    tags = body["tags"]
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise ApiError(422, ["each value in tags must be a string"])
    return unique(tag.strip() for tag in tags if tag.strip())


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
                new = unique([*old, *tags])
            elif body.get("removeAllTags"):
                new = []
            else:
                new = [tag for tag in old if tag not in tags]
            contact = dict(current)
            contact["tags"] = new
            if kind == "add":
                ensure_tags(store, location_id, tags)
            save(store, location_id, current, contact)
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
    location = location_or_400(store, location_id)
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
    location = location_or_400(store, location_id)
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
            "traceId": _trace(),
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
]
