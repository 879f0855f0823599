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
import json
import random
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlencode

import phonenumbers
from email_validator import EmailNotValidError, validate_email
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
from ghlsync.emulator.routes.custom_fields import resolve_values
from ghlsync.emulator.routes.locations import SEED_TAGS, ensure_tags
from ghlsync.emulator.seed import (
    EMAIL_DOMAINS,
    FIRST_NAMES,
    LAST_NAMES,
    SeedOptions,
    location_index,
)
from ghlsync.emulator.state import (
    ContactCollection,
    Entity,
    LocationState,
    Store,
    Token,
    iso_from_ms,
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
UPDATE_FIELDS = WRITE_FIELDS - {"companyName", "gender"}
UPSERT_FIELDS = CREATE_FIELDS | {"createNewIfDuplicateAllowed"}
DND_CHANNELS = ("Call", "Email", "SMS", "WhatsApp", "GMB", "FB")
DND_STATUSES = ("active", "inactive", "permanent")
MAX_WINDOW = 10_000
MAX_PAGE_LIMIT = 500
SEARCH_FIELDS = {"locationId", "page", "pageLimit", "searchAfter", "filters", "sort", "query"}
OPERATORS = ("eq", "not_eq", "contains", "not_contains", "exists", "not_exists", "range")
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


# --------------------------------------------------------------------------- views
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
    for key in ("website", "timezone", "source", "companyName", "assignedTo", "gender", "country"):
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
    for key, value in body.items():
        if key in ("locationId", "createNewIfDuplicateAllowed", "customFields", "name"):
            continue
        if key == "email":
            if value in (None, ""):
                contact.pop("email", None)
            else:
                contact["email"] = normalize_email(value)
        elif key == "phone":
            if value in (None, ""):
                contact.pop("phone", None)
            else:
                contact["phone"] = normalize_phone(value, country)
        elif key == "tags":
            contact["tags"] = _unique(tag.strip() for tag in value if tag.strip())
        elif value is None:
            contact.pop(key, None)
        else:
            contact[key] = value
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
    return ok({"contact": contact_view(contact)})


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
    return ok({"succeded": errors == 0, "errorCount": errors, "responses": responses}, status=201)


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
class _Query:
    """A compiled ``POST /contacts/search`` body."""

    def __init__(self, location: LocationState, body: Entity) -> None:
        self.location = location
        self.messages: list[str] = []
        self.ranges: dict[str, tuple[str | None, bool, str | None, bool]] = {}
        self.candidates: set[str] | None = None
        filters = body.get("filters") or []
        if not isinstance(filters, list):
            raise ApiError(422, ["filters must be an array"])
        residual: list[Callable[[Entity], bool]] = []
        for index, item in enumerate(filters):
            if self._index_hint(item):
                continue
            residual.append(self._compile(item, f"filters.{index}"))
        query = body.get("query")
        if query is not None:
            if not isinstance(query, str) or len(query) > 75:
                self.messages.append("query must be a string of at most 75 characters")
            elif query.strip():
                residual.append(_text_query(query.strip().lower()))
        if self.messages:
            raise ApiError(422, self.messages)
        self.predicate: Callable[[Entity], bool] | None = None
        if residual:
            self.predicate = residual[0] if len(residual) == 1 else _all(residual)

    def _index_hint(self, item: Any) -> bool:
        """Take an indexable top-level filter out of the predicate; True when taken."""
        if not isinstance(item, dict) or "group" in item:
            return False
        field, operator, value = item.get("field"), item.get("operator"), item.get("value")
        if field in DATE_FIELDS and operator == "range" and isinstance(value, dict):
            if field in self.ranges or set(value) - {"gt", "gte", "lt", "lte"}:
                return False
            low = value.get("gte", value.get("gt"))
            high = value.get("lte", value.get("lt"))
            try:
                self.ranges[field] = (
                    None if low is None else _iso(low),
                    "gt" in value,
                    None if high is None else _iso(high),
                    "lt" in value,
                )
            except (ValueError, TypeError):
                self.messages.append(f"{field} range values must be dates")
            return True
        if operator == "eq" and field in ("email", "phone", "id") and isinstance(value, str):
            contacts = self.location.collection("contacts")
            assert isinstance(contacts, ContactCollection)
            if field == "email":
                ids = set(contacts.by_email.get(normalize_email_key(value), ()))
            elif field == "phone":
                try:
                    phone = normalize_phone(value, self.location.record.get("country"))
                except ApiError:
                    phone = value
                ids = set(contacts.by_phone.get(phone, ()))
            else:
                ids = {value} if value in contacts else set()
            self.candidates = ids if self.candidates is None else self.candidates & ids
            return True
        return False

    def _compile(self, item: Any, where: str) -> Callable[[Entity], bool]:
        if not isinstance(item, dict):
            self.messages.append(f"{where} must be an object")
            return _never
        if "group" in item:
            group = str(item.get("group", "")).upper()
            parts = item.get("filters")
            if group not in ("AND", "OR") or not isinstance(parts, list):
                self.messages.append(f"{where}.group must be AND or OR with a filters array")
                return _never
            compiled = [self._compile(part, f"{where}.filters.{i}") for i, part in enumerate(parts)]
            return _all(compiled) if group == "AND" else _any(compiled)
        field, operator, value = item.get("field"), item.get("operator"), item.get("value")
        if not isinstance(field, str) or not field:
            self.messages.append(f"{where}.field should not be empty")
            return _never
        if operator not in OPERATORS:
            self.messages.append(f"{where}.operator must be one of: {', '.join(OPERATORS)}")
            return _never
        getter = _getter(field)
        if getter is None:
            self.messages.append(f"{where}.field {field} is not supported")
            return _never
        if operator == "exists":
            return lambda c: _present(getter(c))
        if operator == "not_exists":
            return lambda c: not _present(getter(c))
        if operator == "range":
            return self._range(getter, field, value, where)
        if value is None:
            self.messages.append(f"{where}.value should not be empty")
            return _never
        wanted = _normal_value(field, value)
        if operator in ("eq", "not_eq"):
            test: Callable[[Entity], bool] = lambda c: _equals(getter(c), wanted)  # noqa: E731
        else:
            test = lambda c: _contains(getter(c), wanted)  # noqa: E731
        if operator.startswith("not_"):
            return lambda c: not test(c)
        return test

    def _range(
        self, getter: Callable[[Entity], Any], field: str, value: Any, where: str
    ) -> Callable[[Entity], bool]:
        if not isinstance(value, dict) or not value or set(value) - {"gt", "gte", "lt", "lte"}:
            self.messages.append(f"{where}.value must be an object with gt, gte, lt or lte")
            return _never
        try:
            bounds = {key: _normal_value(field, raw, for_range=True) for key, raw in value.items()}
        except (ValueError, TypeError):
            self.messages.append(f"{where}.value has an invalid bound")
            return _never

        def test(contact: Entity) -> bool:
            current = getter(contact)
            if current is None or current == "":
                return False
            try:
                if "gt" in bounds and not current > bounds["gt"]:
                    return False
                if "gte" in bounds and not current >= bounds["gte"]:
                    return False
                if "lt" in bounds and not current < bounds["lt"]:
                    return False
                return not ("lte" in bounds and not current <= bounds["lte"])
            except TypeError:
                return False

        return test


def _iso(value: Any) -> str:
    if isinstance(value, bool):
        raise TypeError(value)
    if isinstance(value, int | float):
        return iso_from_ms(int(value))
    if isinstance(value, str):
        if value.isdigit():
            return iso_from_ms(int(value))
        return iso_from_ms(ms_from_iso(value))
    raise TypeError(value)


def _normal_value(field: str, value: Any, *, for_range: bool = False) -> Any:
    if field in DATE_FIELDS or field == "dateOfBirth":
        return _iso(value)
    if isinstance(value, str):
        return value if for_range else value.lower()
    if isinstance(value, list):
        return [item.lower() if isinstance(item, str) else item for item in value]
    return value


_CONTACT_FIELDS = {
    "id",
    "email",
    "phone",
    "firstName",
    "lastName",
    "source",
    "country",
    "dnd",
    "companyName",
    "address1",
    "city",
    "state",
    "postalCode",
    "website",
    "timezone",
    "assignedTo",
    "type",
    "businessId",
    "gender",
    "tags",
    "dateAdded",
    "dateUpdated",
    "dateOfBirth",
}


def _getter(field: str) -> Callable[[Entity], Any] | None:
    if field in _CONTACT_FIELDS:
        if field == "type":
            return lambda c: c.get("type", "lead")
        if field == "dnd":
            return lambda c: c.get("dnd", False)
        return lambda c: c.get(field)
    if field in ("name", "contactName", "fullNameLowerCase"):
        return lambda c: full_name(c) or None
    if field.startswith(("customFields.", "customField.")):
        field_id = field.split(".", 1)[1]

        def custom(contact: Entity) -> Any:
            for item in contact.get("customFields") or ():
                if item["id"] == field_id:
                    return item["value"]
            return None

        return custom
    return None


def _present(value: Any) -> bool:
    return value not in (None, "", [], {})


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _equals(current: Any, wanted: Any) -> bool:
    if isinstance(current, list):
        lowered = [_lower(item) for item in current]
        if isinstance(wanted, list):
            return any(item in lowered for item in wanted)
        return wanted in lowered
    if isinstance(wanted, list):
        return _lower(current) in wanted
    return bool(_lower(current) == wanted)


def _contains(current: Any, wanted: Any) -> bool:
    if current is None:
        return False
    needles = wanted if isinstance(wanted, list) else [wanted]
    haystacks = current if isinstance(current, list) else [current]
    for hay in haystacks:
        text = str(hay).lower()
        if any(str(needle) in text for needle in needles):
            return True
    return False


def _text_query(text: str) -> Callable[[Entity], bool]:
    def test(contact: Entity) -> bool:
        for key in ("firstName", "lastName", "email", "phone", "companyName"):
            value = contact.get(key)
            if value and text in value.lower():
                return True
        return text in full_name(contact).lower()

    return test


def _all(tests: list[Callable[[Entity], bool]]) -> Callable[[Entity], bool]:
    return lambda c: all(test(c) for test in tests)


def _any(tests: list[Callable[[Entity], bool]]) -> Callable[[Entity], bool]:
    return lambda c: any(test(c) for test in tests)


def _never(contact: Entity) -> bool:
    return False


def _in_ranges(
    contact: Entity, ranges: dict[str, tuple[str | None, bool, str | None, bool]]
) -> bool:
    for field, (low, low_strict, high, high_strict) in ranges.items():
        value = contact.get(field) or ""
        if low is not None and (value < low or (low_strict and value == low)):
            return False
        if high is not None and (value > high or (high_strict and value == high)):
            return False
    return True


def _sort_spec(body: Entity) -> tuple[str, bool]:
    sort = body.get("sort")
    if sort in (None, []):
        return "dateAdded", True
    if isinstance(sort, dict):
        sort = [sort]
    if not isinstance(sort, list) or not isinstance(sort[0], dict):
        raise ApiError(422, ["sort must be an array of {field, direction}"])
    if len(sort) > 1:
        raise ApiError(422, ["sort supports one field (ties are broken by id)"])
    field = sort[0].get("field")
    direction = str(sort[0].get("direction", "desc")).lower()
    if direction not in ("asc", "desc") or not isinstance(field, str) or _getter(field) is None:
        raise ApiError(422, ["sort field must be a contact field and direction asc or desc"])
    return field, direction == "desc"


def _cursor_value(field: str, contact: Entity) -> Any:
    getter = _getter(field)
    value: Any = contact.get(field) if getter is None else getter(contact)
    if field in DATE_FIELDS:
        return ms_from_iso(value) if value else 0
    return value


def search_contacts_in(
    location: LocationState, body: Entity, *, now: float = 0.0, index_delay_s: float = 0.0
) -> Entity:
    """Run one search over a location; returns the response body (no auth, no HTTP).

    With ``index_delay_s`` > 0, contacts written less than that long before ``now`` are shown
    as search last indexed them: a new contact is missing, an updated one shows its previous
    version (GHL-NOTES: "writes appear in search after a few seconds").
    """
    messages: list[str] = []
    page_limit = body.get("pageLimit")
    if not isinstance(page_limit, int) or isinstance(page_limit, bool):
        messages.append("pageLimit must be an integer number")
    elif not 1 <= page_limit <= MAX_PAGE_LIMIT:
        messages.append(f"pageLimit must not be greater than {MAX_PAGE_LIMIT} or less than 1")
    page = body.get("page")
    search_after = body.get("searchAfter")
    if page is not None and (not isinstance(page, int) or isinstance(page, bool) or page < 1):
        messages.append("page must be a positive integer")
    if search_after is not None and (not isinstance(search_after, list) or len(search_after) != 2):
        messages.append("searchAfter must be an array of [sort value, id]")
    if messages:
        raise ApiError(422, messages)
    assert isinstance(page_limit, int)
    if search_after is not None and page not in (None, 1):
        raise ApiError(422, ["page must be omitted when searchAfter is given"])
    offset = 0 if search_after is not None else ((page or 1) - 1) * page_limit
    if search_after is None and offset + page_limit > MAX_WINDOW:
        raise ApiError(
            422,
            [
                f"page * pageLimit must not exceed {MAX_WINDOW}: use searchAfter (the last "
                "record's searchAfter value) to read past the first 10,000 records"
            ],
        )
    field, descending = _sort_spec(body)
    query = _Query(location, body)
    contacts = location.collection("contacts")
    assert isinstance(contacts, ContactCollection)
    if query.candidates is None and field in DATE_FIELDS:
        cache_key = json.dumps(
            [field, body.get("filters"), body.get("query")], sort_keys=True, default=str
        )
        found, total = _search_indexed(
            contacts, query, field, descending, search_after, offset, page_limit, cache_key
        )
    else:
        found, total = _search_scan(
            contacts, query, field, descending, search_after, offset, page_limit
        )
    if index_delay_s > 0:
        found = _as_indexed(contacts, found, now - index_delay_s)
    records = []
    for contact in found:
        view = contact_view(contact)
        view["searchAfter"] = [_cursor_value(field, contact), contact["id"]]
        records.append(view)
    return {
        "contacts": records,
        "total": total,
        "count": total,
        "searchAfter": records[-1]["searchAfter"] if records else None,
    }


def _as_indexed(contacts: ContactCollection, found: list[Entity], cutoff: float) -> list[Entity]:
    recent = contacts.recent
    for contact_id in [key for key, (at, _) in recent.items() if at <= cutoff]:
        del recent[contact_id]
    shown: list[Entity] = []
    for contact in found:
        pending = recent.get(contact["id"])
        if pending is None:
            shown.append(contact)
        elif pending[1] is not None:
            shown.append(pending[1])
    return shown


def _search_indexed(
    contacts: ContactCollection,
    query: _Query,
    field: str,
    descending: bool,
    search_after: list[Any] | None,
    offset: int,
    limit: int,
    cache_key: str,
) -> tuple[list[Entity], int]:
    index = contacts.by_updated if field == "dateUpdated" else contacts.by_added
    ranges = dict(query.ranges)
    lo, hi = 0, len(index)
    own = ranges.pop(field, None)
    if own is not None:
        low, low_strict, high, high_strict = own
        if low is not None:
            lo = (bisect.bisect_right if low_strict else bisect.bisect_left)(
                index, (low, "\uffff" if low_strict else "")
            )
        if high is not None:
            hi = (bisect.bisect_left if high_strict else bisect.bisect_right)(
                index, (high, "" if high_strict else "\uffff")
            )
    start, stop = lo, max(lo, hi)
    if search_after is not None:
        try:
            key = (_iso(search_after[0]), str(search_after[1]))
        except (ValueError, TypeError):
            raise ApiError(422, ["searchAfter must be [sort value, id] as returned"]) from None
        if descending:
            stop = max(start, min(stop, bisect.bisect_left(index, key, start, stop)))
        else:
            start = min(stop, max(start, bisect.bisect_right(index, key, start, stop)))
    items = contacts.items
    predicate = query.predicate
    if ranges:
        base = predicate

        def predicate(contact: Entity) -> bool:
            return _in_ranges(contact, ranges) and (base is None or base(contact))

    found: list[Entity] = []
    skipped = 0
    positions = range(stop - 1, start - 1, -1) if descending else range(start, stop)
    for position in positions:
        contact = items[index[position][1]]
        if predicate is not None and not predicate(contact):
            continue
        if skipped < offset:
            skipped += 1
            continue
        found.append(contact)
        if len(found) >= limit:
            break
    if predicate is None:
        total = max(hi - lo, 0)
    else:
        cached = contacts.total_cache.get(cache_key)
        if cached is not None and cached[0] == contacts.version:
            total = cached[1]
        else:
            # a filter no index answers: count once per (query, data version), so paging
            # through a big location does not rescan it for every page
            total = sum(
                1 for position in range(lo, max(lo, hi)) if predicate(items[index[position][1]])
            )
            if len(contacts.total_cache) > 256:
                contacts.total_cache.clear()
            contacts.total_cache[cache_key] = (contacts.version, total)
    return found, total


def _search_scan(
    contacts: ContactCollection,
    query: _Query,
    field: str,
    descending: bool,
    search_after: list[Any] | None,
    offset: int,
    limit: int,
) -> tuple[list[Entity], int]:
    pool: Iterable[Entity]
    if query.candidates is not None:
        pool = [contacts.items[i] for i in query.candidates if i in contacts.items]
    else:
        pool = contacts.items.values()
    predicate = query.predicate
    ranges = query.ranges
    matches = [
        contact
        for contact in pool
        if (not ranges or _in_ranges(contact, ranges)) and (predicate is None or predicate(contact))
    ]

    def key(contact: Entity) -> tuple[int, Any, str]:
        value = _cursor_value(field, contact)
        return (0 if value is None else 1, _sortable(value), contact["id"])

    matches.sort(key=key, reverse=descending)
    total = len(matches)
    if search_after is not None:
        value = search_after[0]
        if field in DATE_FIELDS and value is not None:
            try:
                value = ms_from_iso(_iso(value))  # accept ms or an ISO string back
            except (ValueError, TypeError):
                raise ApiError(422, ["searchAfter must be [sort value, id] as returned"]) from None
        after = (0 if value is None else 1, _sortable(value), str(search_after[1]))
        try:
            if descending:
                matches = [c for c in matches if key(c) < after]
            else:
                matches = [c for c in matches if key(c) > after]
        except TypeError:
            raise ApiError(422, ["searchAfter must be [sort value, id] as returned"]) from None
    return matches[offset : offset + limit], total


def _sortable(value: Any) -> Any:
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    return value


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
    return ok(result)


# --------------------------------------------------------------------------- deprecated list
async def list_contacts(request: Request) -> Response:
    location_id = request.query_params.get("locationId")
    if not location_id:
        require(request, scope="contacts.readonly")
        raise ApiError(422, ["locationId should not be empty"])
    require(request, scope="contacts.readonly", location_id=location_id)
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
                after_iso = _iso(start_after)
            except (ValueError, TypeError):
                raise ApiError(422, ["startAfter must be a timestamp in milliseconds"]) from None
            key = (after_iso, start_after_id or "\uffff")
            start = bisect.bisect_right(index, key)
        predicate = _text_query(query_text) if query_text else None
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
    keys = ("id", "assignedTo", "body", "contactId", "title", "dateAdded", "dueDate")
    return {key: task.get(key) for key in keys}


def _check_task(body: Entity) -> None:
    messages: list[str] = []
    if "completed" in body and not isinstance(body["completed"], bool):
        messages.append("completed must be a boolean value")
    if body.get("dueDate") is not None:
        try:
            _iso(body["dueDate"])
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
            "dueDate": _iso(body["dueDate"]),
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
            updated[key] = _iso(value) if key == "dueDate" else value
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
_PHONE_PLANS: tuple[tuple[str, tuple[str, ...], int, int], ...] = (
    # country, prefixes, digits after the prefix, weight
    ("US", ("+1212", "+1312", "+1415", "+1512", "+1617", "+1713", "+1305", "+1206"), 7, 40),
    ("GB", ("+447",), 9, 10),
    ("CA", ("+1416", "+1604", "+1514", "+1403"), 7, 10),
    ("AU", ("+614",), 8, 8),
    ("DE", ("+49151", "+49160", "+49170"), 8, 8),
    ("FR", ("+336", "+337"), 8, 8),
    ("BR", ("+55119", "+55219"), 8, 8),
    ("IN", ("+919", "+918"), 9, 8),
)
_TIMEZONES = {
    "US": "America/New_York",
    "GB": "Europe/London",
    "CA": "America/Toronto",
    "AU": "Australia/Sydney",
    "DE": "Europe/Berlin",
    "FR": "Europe/Paris",
    "BR": "America/Sao_Paulo",
    "IN": "Asia/Kolkata",
}
_SOURCES = (
    "public api",
    "facebook form",
    "website",
    "google ads",
    "referral",
    "import",
    "chat widget",
)
_DAY_MS = 86_400_000


class _IsoCache:
    """Fast ISO-ms formatting for millions of seeded timestamps (hour prefixes are cached)."""

    def __init__(self) -> None:
        self.hours: dict[int, str] = {}

    def __call__(self, ms: int) -> str:
        hour, rest = divmod(ms, 3_600_000)
        prefix = self.hours.get(hour)
        if prefix is None:
            prefix = self.hours[hour] = iso_from_ms(hour * 3_600_000)[:14]
        minutes, rest = divmod(rest, 60_000)
        seconds, millis = divmod(rest, 1000)
        return f"{prefix}{minutes:02d}:{seconds:02d}.{millis:03d}Z"


def seed(store: Store, location: LocationState, rng: random.Random, options: SeedOptions) -> None:
    """Contacts (names, lowercase emails, E.164 phones of eight countries, tags, sources,
    custom fields of every type, DND), notes and tasks, dates spread over ``history_days``."""
    count = options.per_location(options.contacts, location_index(location))
    if count <= 0:
        return
    now_ms = options.anchor_ms or int(store.clock.time() * 1000) - 1000
    span_ms = options.history_days * _DAY_MS
    iso = _IsoCache()
    fields = {field["fieldKey"]: field for field in location.collection("custom_fields")}
    tag_pool = [list(rng.sample(SEED_TAGS, k)) for k in (0, 1, 1, 2, 2, 3) for _ in range(40)]
    plans = [plan for plan in _PHONE_PLANS for _ in range(plan[3])]
    contacts: list[Entity] = []
    added_ms: list[int] = []
    ids = store.new_ids(count)
    rand = rng.random

    n_first, n_last, n_dom = len(FIRST_NAMES), len(LAST_NAMES), len(EMAIL_DOMAINS)
    tag_n, plan_n, source_n = len(tag_pool), len(plans), len(_SOURCES)
    salt = location_index(location)
    fk = {key.split(".", 1)[1]: field["id"] for key, field in fields.items()}
    locals_ = [
        [f"{first}.{last}".lower().replace("'", "") for last in LAST_NAMES] for first in FIRST_NAMES
    ]
    # shared, never mutated in place (writes replace dndSettings as a whole)
    dnd_settings = {
        "SMS": {"status": "active", "message": "Opted out by SMS reply", "code": "STOP"},
        "Email": {"status": "inactive", "message": "", "code": ""},
    }
    location_id = location.id
    for i in range(count):
        first_at = int(rand() * n_first)
        last_at = int(rand() * n_last)
        first = FIRST_NAMES[first_at]
        last = LAST_NAMES[last_at]
        country, prefixes, digits, _ = plans[int(rand() * plan_n)]
        suffix = (i * 7_919 + salt * 104_729) % (10**digits)
        phone = f"{prefixes[i % len(prefixes)]}{suffix:0{digits}d}"
        added = now_ms - int(rand() * span_ms)
        added_ms.append(added)
        updated = added + int(rand() * (now_ms - added))
        contact: Entity = {
            "id": ids[i],
            "locationId": location_id,
            "firstName": first,
            "lastName": last,
            "email": f"{locals_[first_at][last_at]}{i}@{EMAIL_DOMAINS[int(rand() * n_dom)]}",
            "phone": phone,
            "country": country,
            "timezone": _TIMEZONES[country],
            "source": _SOURCES[int(rand() * source_n)],
            "tags": tag_pool[int(rand() * tag_n)],
            "type": "lead" if rand() < 0.7 else "customer",
            "dateAdded": iso(added),
            "dateUpdated": iso(updated),
        }
        roll = rand()
        if roll < 0.35 and fk:
            contact["customFields"] = _seed_custom_values(fk, i, rand)
        if roll > 0.92:
            contact["dnd"] = True
            contact["dndSettings"] = dnd_settings
        contacts.append(contact)
    store.contacts(location.id).bulk_load(contacts)
    _seed_activities(store, location, rng, contacts, added_ms, iso, now_ms, options)


def _seed_custom_values(fk: dict[str, str], i: int, rand: Callable[[], float]) -> list[Entity]:
    values: list[Entity] = [
        {"id": fk["membership_status"], "value": ("active", "paused", "cancelled")[i % 3]},
        {"id": fk["company_size"], "value": 1 + i % 500},
        {"id": fk["lifetime_value"], "value": round(rand() * 5000, 2)},
        {"id": fk["referral_code"], "value": f"REF{i:06d}"},
    ]
    if i % 2:
        values.append({"id": fk["interests"], "value": ["yoga", "running"][: 1 + i % 2]})
        values.append({"id": fk["preferred_channel"], "value": ("email", "sms", "call")[i % 3]})
        values.append({"id": fk["renewal_date"], "value": f"2027-{1 + i % 12:02d}-15"})
    if i % 5 == 0:
        values.append({"id": fk["services"], "value": ["cleaning", "whitening"]})
        values.append({"id": fk["notes_summary"], "value": "Prefers morning appointments."})
        values.append({"id": fk["alternate_phone"], "value": "+15125550100"})
        values.append({"id": fk["household"], "value": {"adults": "2", "children": "1"}})
    if i % 11 == 0:
        values.append(
            {"id": fk["contract"], "value": [{"url": f"https://files.example.com/c{i}.pdf"}]}
        )
        values.append({"id": fk["consent_signature"], "value": f"signed-{i}"})
    return [item for item in values if item["id"]]


_NOTE_BODIES = (
    "Called, left a voicemail.",
    "Asked for a quote on the premium plan.",
    "Booked a follow-up for next week.",
    "Prefers to be contacted by email.",
    "Interested in the annual membership.",
)
_TASK_TITLES = (
    "Follow up",
    "Send quote",
    "Confirm appointment",
    "Collect feedback",
    "Renewal call",
)


def _seed_activities(
    store: Store,
    location: LocationState,
    rng: random.Random,
    contacts: list[Entity],
    added_ms: list[int],
    iso: _IsoCache,
    now_ms: int,
    options: SeedOptions,
) -> None:
    notes = location.collection("notes")
    tasks = location.collection("tasks")
    n_notes = min(options.count("notes", max(len(contacts) // 10, 1)), len(contacts))
    n_tasks = min(options.count("tasks", max(len(contacts) // 20, 1)), len(contacts))
    note_ids = store.new_ids(n_notes)
    for n, i in enumerate(rng.sample(range(len(contacts)), n_notes)):
        contact, added = contacts[i], added_ms[i]
        at = iso(added + int(rng.random() * (now_ms - added)))
        note_id = note_ids[n]
        notes.items[note_id] = {
            "id": note_id,
            "body": _NOTE_BODIES[rng.randrange(len(_NOTE_BODIES))],
            "dateAdded": at,
            "contactId": contact["id"],
            "locationId": location.id,
            "pinned": False,
        }
    task_ids = store.new_ids(n_tasks)
    for n, i in enumerate(rng.sample(range(len(contacts)), n_tasks)):
        contact, added = contacts[i], added_ms[i]
        at_ms = added + int(rng.random() * (now_ms - added))
        at = iso(at_ms)
        due = iso(at_ms + rng.randrange(1, 30) * _DAY_MS)
        task_id = task_ids[n]
        tasks.items[task_id] = {
            "id": task_id,
            "title": _TASK_TITLES[rng.randrange(len(_TASK_TITLES))],
            "body": "",
            "dueDate": due,
            "completed": rng.random() < 0.4,
            "contactId": contact["id"],
            "locationId": location.id,
            "dateAdded": at,
            "dateUpdated": at,
        }


routes: list[BaseRoute] = [
    Route("/contacts/search", search_contacts, methods=["POST"]),
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
]
