"""Contacts: CRUD, upsert, search (one page or every record), duplicates, tags, notes, tasks.

Wire shapes: ``apps/contacts.json``; search body from GHL-NOTES "Contacts" (the spec's is empty).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, Required, TypedDict, cast

from ghlsync.client.pagination import (
    CursorPaginator,
    PageRequest,
    PageStream,
    SearchAfterPaginator,
    meta_cursor,
)
from ghlsync.client.resources._base import Resource, enveloped, records_from, segment, to_wire
from ghlsync.client.resources.wire import INFERRED, DateTime
from ghlsync.client.timestamps import iso
from ghlsync.errors import GHLSyncError, OutcomeUnknownError

SEARCH_MAX_PAGE: int = 500
LIST_MAX_PAGE: int = 100


class CustomFieldValue(TypedDict, total=False):
    """One item of a record's ``customFields``; ids differ per location (``mapping`` reads
    them back by ``fieldKey``)."""

    id: Required[str]
    key: Annotated[str, INFERRED]
    value: Annotated[Any, INFERRED]
    #: opportunities send ``fieldValue``; writes take ``field_value`` (``mapping.VALUE_KEYS``)
    fieldValue: Annotated[Any, INFERRED]
    field_value: Annotated[Any, INFERRED]


class Contact(TypedDict, total=False):
    """A contact (``POST /contacts/search`` row; ``GET`` adds a few fields)."""

    id: str
    firstName: str
    lastName: str
    email: str
    phone: str
    companyName: str
    source: str
    type: str
    tags: list[str]
    dnd: bool
    assignedTo: str
    dateAdded: DateTime
    dateUpdated: DateTime
    customFields: list[CustomFieldValue]
    locationId: Annotated[str, INFERRED]
    name: Annotated[str, INFERRED]
    address1: Annotated[str, INFERRED]
    city: Annotated[str, INFERRED]
    state: Annotated[str, INFERRED]
    postalCode: Annotated[str, INFERRED]
    country: Annotated[str, INFERRED]
    website: Annotated[str, INFERRED]
    timezone: Annotated[str, INFERRED]
    dndSettings: Annotated[dict[str, Any], INFERRED]
    dateOfBirth: Annotated[str, INFERRED]
    searchAfter: Annotated[list[Any], INFERRED]


class ContactResponse(TypedDict, total=False):
    contact: Contact
    traceId: str


class CreatedContact(TypedDict, total=False):
    """``POST /contacts/`` answer; ``reconciled`` is ghlsync's: True when the contact was found
    through the duplicate lookup after an ``OutcomeUnknownError`` instead of from the answer."""

    contact: Contact
    traceId: str
    reconciled: bool


class UpsertResponse(TypedDict, total=False):
    new: bool
    contact: Contact
    traceId: str


class ContactSearchResponse(TypedDict, total=False):
    contacts: list[Contact]
    total: int
    count: int
    searchAfter: list[Any]
    traceId: str


class ContactListResponse(TypedDict, total=False):
    contacts: list[Contact]
    count: int
    meta: dict[str, Any]


class DuplicateResponse(TypedDict, total=False):
    contact: Contact | None
    matchingField: str
    traceId: str


class TagsResponse(TypedDict, total=False):
    tags: list[str]
    tagsAdded: list[str]
    traceId: str


class Note(TypedDict, total=False):
    id: str
    contactId: str
    body: str
    title: str
    userId: str
    color: str
    pinned: bool
    dateAdded: DateTime


class Task(TypedDict, total=False):
    id: str
    contactId: str
    title: str
    body: str
    assignedTo: str
    dueDate: DateTime
    completed: bool


def updated_since_filter(since: dt.datetime | str) -> dict[str, Any]:
    """The search filter for records updated at or after ``since`` (ISO-8601, UTC)."""
    return {"field": "dateUpdated", "operator": "range", "value": {"gte": iso(since)}}


class ContactsResource(Resource):
    """``client.contacts``."""

    # -- single records -------------------------------------------------------------------------

    async def create(
        self,
        location_id: str,
        *,
        email: str | None = None,
        phone: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        tags: Sequence[str] | None = None,
        custom_fields: Sequence[Mapping[str, Any]] | None = None,
        **fields: Any,
    ) -> CreatedContact:
        """``POST /contacts/``. Not resent on an unknown outcome: reconciled instead.

        If the outcome is unknown (``OutcomeUnknownError``), the contact is looked up by email /
        phone through ``GET /contacts/search/duplicate``; when found it is returned with
        ``reconciled=True`` (it may be a contact that existed before: with duplicates refused,
        the create would then have failed anyway). Otherwise ``OutcomeUnknownError`` is raised
        again, saying so. Nothing is ever sent twice.
        """
        body = to_wire(
            {
                "location_id": location_id,
                "email": email,
                "phone": phone,
                "first_name": first_name,
                "last_name": last_name,
                "tags": list(tags) if tags is not None else None,
                "custom_fields": [dict(c) for c in custom_fields] if custom_fields else None,
                **fields,
            }
        )
        try:
            response = await self._call("POST", "/contacts/", json=body, location_id=location_id)
        except OutcomeUnknownError as exc:
            return await self._reconcile(location_id, email=email, phone=phone, error=exc)
        created = cast(CreatedContact, dict(response or {}))
        created["reconciled"] = False
        return created

    async def _reconcile(
        self, location_id: str, *, email: str | None, phone: str | None, error: OutcomeUnknownError
    ) -> CreatedContact:
        if not email and not phone:
            raise OutcomeUnknownError(
                "create may or may not have happened and the contact has neither email nor "
                "phone to look it up by; it was not resent",
                **_unknown_context(error),
            ) from error
        try:
            found = await self.find_duplicate(location_id, email=email, phone=phone)
        except GHLSyncError as lookup_error:
            raise OutcomeUnknownError(
                f"create may or may not have happened; the duplicate lookup that would tell "
                f"failed too ({type(lookup_error).__name__}); it was not resent",
                **_unknown_context(error),
            ) from lookup_error
        contact = found.get("contact")
        if contact:
            return {"contact": contact, "reconciled": True}
        raise OutcomeUnknownError(
            "create may or may not have happened: no contact with this email/phone was found "
            "by the duplicate lookup (search may lag writes by seconds); it was not resent",
            **_unknown_context(error),
        ) from error

    async def get(self, contact_id: str, *, location_id: str | None = None) -> ContactResponse:
        """``GET /contacts/{contactId}``."""
        path = f"/contacts/{segment(contact_id)}"
        return cast(ContactResponse, await self._call("GET", path, location_id=location_id))

    async def update(
        self,
        contact_id: str,
        *,
        location_id: str | None = None,
        tags: Sequence[str] | None = None,
        custom_fields: Sequence[Mapping[str, Any]] | None = None,
        **fields: Any,
    ) -> ContactResponse:
        """``PUT /contacts/{contactId}``. ``tags`` here REPLACES the contact's tags."""
        body = to_wire(
            {
                "tags": list(tags) if tags is not None else None,
                "custom_fields": [dict(c) for c in custom_fields] if custom_fields else None,
                **fields,
            }
        )
        path = f"/contacts/{segment(contact_id)}"
        response = await self._call("PUT", path, json=body, location_id=location_id)
        return cast(ContactResponse, response)

    async def delete(self, contact_id: str, *, location_id: str | None = None) -> dict[str, Any]:
        """``DELETE /contacts/{contactId}``."""
        path = f"/contacts/{segment(contact_id)}"
        return cast(dict[str, Any], await self._call("DELETE", path, location_id=location_id))

    async def upsert(
        self,
        location_id: str,
        *,
        email: str | None = None,
        phone: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        tags: Sequence[str] | None = None,
        custom_fields: Sequence[Mapping[str, Any]] | None = None,
        **fields: Any,
    ) -> UpsertResponse:
        """``POST /contacts/upsert``: safe to resend (matched by the location's duplicate rule).

        ``tags`` REPLACES the contact's tags; use ``add_tags`` to keep existing ones.
        """
        body = to_wire(
            {
                "location_id": location_id,
                "email": email,
                "phone": phone,
                "first_name": first_name,
                "last_name": last_name,
                "tags": list(tags) if tags is not None else None,
                "custom_fields": [dict(c) for c in custom_fields] if custom_fields else None,
                **fields,
            }
        )
        response = await self._call(
            "POST", "/contacts/upsert", json=body, location_id=location_id, idempotent=True
        )
        return cast(UpsertResponse, response)

    async def find_duplicate(
        self, location_id: str, *, email: str | None = None, phone: str | None = None
    ) -> DuplicateResponse:
        """``GET /contacts/search/duplicate``: the contact the location's duplicate rule matches."""
        if not email and not phone:
            raise ValueError("find_duplicate needs an email or a phone")
        params = to_wire({"location_id": location_id, "email": email, "number": phone})
        response = await self._call(
            "GET", "/contacts/search/duplicate", params=params, location_id=location_id
        )
        return cast(DuplicateResponse, response or {})

    # -- search and listing ---------------------------------------------------------------------

    @staticmethod
    def _search_body(
        location_id: str,
        *,
        query: str | None,
        filters: Sequence[Mapping[str, Any]] | None,
        sort: Sequence[Mapping[str, Any]] | None,
        since: dt.datetime | str | None,
    ) -> dict[str, Any]:
        all_filters = [dict(f) for f in filters or ()]
        if since is not None:
            all_filters.append(updated_since_filter(since))
            sort = sort or [{"field": "dateUpdated", "direction": "asc"}]
        return to_wire(
            {
                "location_id": location_id,
                "query": query,
                "filters": all_filters or None,
                "sort": [dict(s) for s in sort] if sort else None,
            }
        )

    async def search(
        self,
        location_id: str,
        *,
        query: str | None = None,
        filters: Sequence[Mapping[str, Any]] | None = None,
        sort: Sequence[Mapping[str, Any]] | None = None,
        page: int | None = 1,
        page_limit: int = 100,
        search_after: Sequence[Any] | None = None,
    ) -> ContactSearchResponse:
        """One page of ``POST /contacts/search`` (a read: safe to resend).

        ``page`` * ``page_limit`` must stay within 10,000; beyond, pass ``search_after`` (and
        ``page=None``). To read everything use ``iterate`` / ``pages``.
        """
        body = self._search_body(location_id, query=query, filters=filters, sort=sort, since=None)
        body["pageLimit"] = min(page_limit, SEARCH_MAX_PAGE)
        if search_after is not None:
            body["searchAfter"] = list(search_after)
        elif page is not None:
            body["page"] = page
        response = await self._call(
            "POST", "/contacts/search", json=body, location_id=location_id, idempotent=True
        )
        return cast(ContactSearchResponse, response)

    def pages(
        self,
        location_id: str,
        *,
        since: dt.datetime | str | None = None,
        query: str | None = None,
        filters: Sequence[Mapping[str, Any]] | None = None,
        sort: Sequence[Mapping[str, Any]] | None = None,
        page_size: int = SEARCH_MAX_PAGE,
        search_after: Sequence[Any] | None = None,
    ) -> PageStream:
        """Every page of a contacts search (``POST /contacts/search``), past 10,000 records.

        ``since``: only contacts with ``dateUpdated >= since``, sorted by ``dateUpdated``
        ascending (unless ``sort`` is given), so a bookmark can be the last record's
        ``dateUpdated``. ``search_after``: resume from a cursor (``progress.cursor``).
        """
        body = self._search_body(location_id, query=query, filters=filters, sort=sort, since=since)
        first = PageRequest(
            "POST", "/contacts/search", json=body, location_id=location_id, idempotent=True
        )
        paginator = SearchAfterPaginator(
            first,
            records="contacts",
            page_size=min(page_size, SEARCH_MAX_PAGE),
            search_after=search_after,
        )
        return self._stream(paginator)

    iterate = records_from(pages)

    async def list_page(
        self,
        location_id: str,
        *,
        limit: int = LIST_MAX_PAGE,
        query: str | None = None,
        start_after: int | None = None,
        start_after_id: str | None = None,
    ) -> ContactListResponse:
        """One page of the deprecated ``GET /contacts/`` (``meta.startAfter`` pages on)."""
        params = to_wire(
            {
                "location_id": location_id,
                "limit": min(limit, LIST_MAX_PAGE),
                "query": query,
                "start_after": start_after,
                "start_after_id": start_after_id,
            }
        )
        response = await self._call("GET", "/contacts/", params=params, location_id=location_id)
        return cast(ContactListResponse, response)

    def list_pages(
        self,
        location_id: str,
        *,
        query: str | None = None,
        page_size: int = LIST_MAX_PAGE,
        start_after: int | None = None,
        start_after_id: str | None = None,
    ) -> PageStream:
        """Every page of the deprecated ``GET /contacts/`` (cursor ``startAfter`` +
        ``startAfterId`` from ``meta``), for older consumers; prefer ``pages``."""
        size = min(page_size, LIST_MAX_PAGE)
        params = to_wire(
            {
                "location_id": location_id,
                "limit": size,
                "query": query,
                "start_after": start_after,
                "start_after_id": start_after_id,
            }
        )
        paginator = CursorPaginator(
            self._get("/contacts/", params, location_id=location_id),
            records="contacts",
            cursor=meta_cursor("startAfter", "startAfterId"),
            page_size=size,
            total=("meta.total",),
        )
        return self._stream(paginator)

    # -- tags -----------------------------------------------------------------------------------

    async def add_tags(
        self, contact_id: str, tags: Sequence[str], *, location_id: str | None = None
    ) -> TagsResponse:
        """``POST /contacts/{contactId}/tags``: adds, keeping existing tags (safe to resend)."""
        path = f"/contacts/{segment(contact_id)}/tags"
        response = await self._call(
            "POST", path, json={"tags": list(tags)}, location_id=location_id, idempotent=True
        )
        return cast(TagsResponse, response)

    async def remove_tags(
        self, contact_id: str, tags: Sequence[str], *, location_id: str | None = None
    ) -> TagsResponse:
        """``DELETE /contacts/{contactId}/tags``."""
        path = f"/contacts/{segment(contact_id)}/tags"
        response = await self._call(
            "DELETE", path, json={"tags": list(tags)}, location_id=location_id
        )
        return cast(TagsResponse, response)

    async def bulk_update_tags(
        self,
        location_id: str,
        action: Literal["add", "remove"],
        *,
        contact_ids: Sequence[str],
        tags: Sequence[str],
        remove_all_tags: bool | None = None,
    ) -> dict[str, Any]:
        """``POST /contacts/bulk/tags/update/{type}``: add or remove tags on many contacts."""
        body = to_wire(
            {
                "contacts": list(contact_ids),
                "tags": list(tags),
                "location_id": location_id,
                "remove_all_tags": remove_all_tags,
            }
        )
        path = f"/contacts/bulk/tags/update/{segment(action)}"
        response = await self._call(
            "POST", path, json=body, location_id=location_id, idempotent=True
        )
        return cast(dict[str, Any], response)

    # -- notes ----------------------------------------------------------------------------------

    async def list_notes(self, contact_id: str, *, location_id: str | None = None) -> list[Note]:
        """``GET /contacts/{contactId}/notes``."""
        path = f"/contacts/{segment(contact_id)}/notes"
        response = await self._call("GET", path, location_id=location_id)
        return cast(list[Note], (response or {}).get("notes", []))

    async def create_note(
        self,
        contact_id: str,
        body: str,
        *,
        location_id: str | None = None,
        user_id: str | None = None,
        title: str | None = None,
        **fields: Any,
    ) -> Note:
        """``POST /contacts/{contactId}/notes`` (not resent on an unknown outcome)."""
        payload = to_wire({"body": body, "user_id": user_id, "title": title, **fields})
        path = f"/contacts/{segment(contact_id)}/notes"
        response = await self._call("POST", path, json=payload, location_id=location_id)
        return cast(Note, enveloped(response, "note"))

    async def get_note(
        self, contact_id: str, note_id: str, *, location_id: str | None = None
    ) -> Note:
        """``GET /contacts/{contactId}/notes/{id}``."""
        path = f"/contacts/{segment(contact_id)}/notes/{segment(note_id)}"
        response = await self._call("GET", path, location_id=location_id)
        return cast(Note, enveloped(response, "note"))

    async def update_note(
        self,
        contact_id: str,
        note_id: str,
        *,
        location_id: str | None = None,
        body: str | None = None,
        user_id: str | None = None,
        title: str | None = None,
        **fields: Any,
    ) -> Note:
        """``PUT /contacts/{contactId}/notes/{id}``."""
        payload = to_wire({"body": body, "user_id": user_id, "title": title, **fields})
        path = f"/contacts/{segment(contact_id)}/notes/{segment(note_id)}"
        response = await self._call("PUT", path, json=payload, location_id=location_id)
        return cast(Note, enveloped(response, "note"))

    async def delete_note(
        self, contact_id: str, note_id: str, *, location_id: str | None = None
    ) -> dict[str, Any]:
        """``DELETE /contacts/{contactId}/notes/{id}``."""
        path = f"/contacts/{segment(contact_id)}/notes/{segment(note_id)}"
        return cast(dict[str, Any], await self._call("DELETE", path, location_id=location_id))

    # -- tasks ----------------------------------------------------------------------------------

    async def list_tasks(self, contact_id: str, *, location_id: str | None = None) -> list[Task]:
        """``GET /contacts/{contactId}/tasks``."""
        path = f"/contacts/{segment(contact_id)}/tasks"
        response = await self._call("GET", path, location_id=location_id)
        return cast(list[Task], (response or {}).get("tasks", []))

    async def create_task(
        self,
        contact_id: str,
        *,
        title: str,
        due_date: dt.datetime | str,
        completed: bool = False,
        body: str | None = None,
        assigned_to: str | None = None,
        location_id: str | None = None,
    ) -> Task:
        """``POST /contacts/{contactId}/tasks`` (not resent on an unknown outcome)."""
        payload = to_wire(
            {
                "title": title,
                "due_date": iso(due_date),
                "completed": completed,
                "body": body,
                "assigned_to": assigned_to,
            }
        )
        path = f"/contacts/{segment(contact_id)}/tasks"
        response = await self._call("POST", path, json=payload, location_id=location_id)
        return cast(Task, enveloped(response, "task"))

    async def get_task(
        self, contact_id: str, task_id: str, *, location_id: str | None = None
    ) -> Task:
        """``GET /contacts/{contactId}/tasks/{taskId}``."""
        path = f"/contacts/{segment(contact_id)}/tasks/{segment(task_id)}"
        response = await self._call("GET", path, location_id=location_id)
        return cast(Task, enveloped(response, "task"))

    async def update_task(
        self,
        contact_id: str,
        task_id: str,
        *,
        location_id: str | None = None,
        title: str | None = None,
        due_date: dt.datetime | str | None = None,
        completed: bool | None = None,
        body: str | None = None,
        assigned_to: str | None = None,
    ) -> Task:
        """``PUT /contacts/{contactId}/tasks/{taskId}``."""
        payload = to_wire(
            {
                "title": title,
                "due_date": iso(due_date) if due_date is not None else None,
                "completed": completed,
                "body": body,
                "assigned_to": assigned_to,
            }
        )
        path = f"/contacts/{segment(contact_id)}/tasks/{segment(task_id)}"
        response = await self._call("PUT", path, json=payload, location_id=location_id)
        return cast(Task, enveloped(response, "task"))

    async def set_task_completed(
        self,
        contact_id: str,
        task_id: str,
        completed: bool = True,
        *,
        location_id: str | None = None,
    ) -> Task:
        """``PUT /contacts/{contactId}/tasks/{taskId}/completed``."""
        path = f"/contacts/{segment(contact_id)}/tasks/{segment(task_id)}/completed"
        response = await self._call(
            "PUT", path, json={"completed": completed}, location_id=location_id
        )
        return cast(Task, enveloped(response, "task"))

    async def delete_task(
        self, contact_id: str, task_id: str, *, location_id: str | None = None
    ) -> dict[str, Any]:
        """``DELETE /contacts/{contactId}/tasks/{taskId}``."""
        path = f"/contacts/{segment(contact_id)}/tasks/{segment(task_id)}"
        return cast(dict[str, Any], await self._call("DELETE", path, location_id=location_id))

    # -- appointments ---------------------------------------------------------------------------

    async def list_appointments(
        self, contact_id: str, *, location_id: str | None = None
    ) -> list[dict[str, Any]]:
        """``GET /contacts/{contactId}/appointments``."""
        path = f"/contacts/{segment(contact_id)}/appointments"
        response = await self._call("GET", path, location_id=location_id)
        return cast(list[dict[str, Any]], (response or {}).get("events", []))


def _unknown_context(error: OutcomeUnknownError) -> dict[str, Any]:
    """The call, scope and attempts of ``error``, kept on the error that replaces it (the
    caller reconciles with them)."""
    return {
        "method": error.method,
        "path": error.path,
        "cause": error,
        "location_id": error.location_id,
        "company_id": error.company_id,
        "attempts": error.attempts,
    }
