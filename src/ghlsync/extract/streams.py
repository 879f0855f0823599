"""The stream registry: what ``ghlsync extract`` reads, declared once per stream.

Each ``Stream`` names its primary key, its reader (``ghlsync.extract.readers``: which client
call, how pages and records come out), the endpoint and paginator (documentation and the Singer
catalog), its replication mode, the scope it needs, its parent (child streams) and a JSON schema
(the Singer tap sends it; dlt infers types from data and takes the primary key and write
disposition from here). ``docs/extract-streams.md`` tables every stream; a test keeps it in sync.

Replication modes:

- ``incremental``: re-read from ``bookmark - overlap`` by a cursor the API can filter or sort
  on (contacts' ``dateUpdated``, conversations' ``lastMessageDate``, the parents' cursor for
  child streams); merging on the primary key makes the overlap free of duplicates. Deletes are
  not visible.
- ``full``: read every record each run and compare the ids with the previous run's (kept in the
  state): ids that disappeared are written as tombstones (``_ghlsync_deleted = true``) which the
  dlt source turns into hard deletes. ``changed_field`` (opportunities, businesses, invoices,
  products, orders, transactions) keeps the full scan, for the deletes, but emits only records whose
  ``changed_field`` is at or after ``bookmark cursor - overlap``, so unchanged rows are not
  rewritten each run.
"""

from __future__ import annotations

from typing import Any

from ghlsync.extract import readers as r
from ghlsync.extract.shape import DELETED, LOCATION_ID
from ghlsync.extract.stream_types import (
    _ARR,
    _B,
    _BY_KEY,
    _CUSTOM,
    _DT,
    _N,
    _OBJ,
    _S,
    _STR_LIST,
    Mode,
    Stream,
)
from ghlsync.extract.stream_types import obj as _obj
from ghlsync.extract.streams_objects import OBJECT_STREAMS

__all__ = ["DELETED", "LOCATION_ID", "STREAMS", "Mode", "Stream", "select"]


def _users(client: Any, location_id: str) -> Any:
    return client.users.list(location_id)


def _tags(client: Any, location_id: str) -> Any:
    return client.tags.list(location_id)


def _campaigns(client: Any, location_id: str) -> Any:
    return client.campaigns.list(location_id)


def _pipelines(client: Any, location_id: str) -> Any:
    return client.pipelines.list(location_id)


def _calendars(client: Any, location_id: str) -> Any:
    return client.calendars.list(location_id)


def _businesses(ctx: r.ReadContext) -> Any:
    return ctx.client.businesses.pages(ctx.location_id)


def _invoices(ctx: r.ReadContext) -> Any:
    return ctx.client.invoices.pages(ctx.location_id, page_size=min(ctx.options.page_size, 100))


def _products(ctx: r.ReadContext) -> Any:
    return ctx.client.products.pages(ctx.location_id, page_size=min(ctx.options.page_size, 100))


def _orders(ctx: r.ReadContext) -> Any:
    return ctx.client.payments.order_pages(
        ctx.location_id, page_size=min(ctx.options.page_size, 100)
    )


def _transactions(ctx: r.ReadContext) -> Any:
    return ctx.client.payments.transaction_pages(
        ctx.location_id, page_size=min(ctx.options.page_size, 100)
    )


_SUBMISSION = {
    "contactId": _S,
    "name": _S,
    "email": _S,
    "createdAt": _DT,
    "others": _OBJ,
}
_MONEY = {
    "altId": _S,
    "altType": _S,
    "contactId": _S,
    "currency": _S,
    "amount": _N,
    "status": {"type": ["string", "object", "null"]},
    "liveMode": _B,
    "createdAt": _DT,
    "updatedAt": _DT,
}

STREAMS: dict[str, Stream] = {
    s.name: s
    for s in (
        Stream(
            name="locations",
            endpoint="GET /locations/{locationId}",
            resource_method="locations.get",
            paginator="single",
            scope="locations.readonly",
            mode="full",
            reader=r.read_location,
            json_schema=_obj(
                {
                    "name": _S,
                    "companyId": _S,
                    "timezone": _S,
                    "email": _S,
                    "phone": _S,
                    "address": _S,
                    "city": _S,
                    "state": _S,
                    "country": _S,
                    "postalCode": _S,
                    "website": _S,
                }
            ),
        ),
        Stream(
            name="users",
            endpoint="GET /users/?locationId=",
            resource_method="users.list",
            paginator="single",
            scope="users.readonly",
            mode="full",
            reader=r.single(_users),
            json_schema=_obj(
                {
                    "name": _S,
                    "firstName": _S,
                    "lastName": _S,
                    "email": _S,
                    "phone": _S,
                    "roles": _OBJ,
                    "permissions": _OBJ,
                    "deleted": _B,
                }
            ),
        ),
        Stream(
            name="custom_fields",
            endpoint="GET /locations/{locationId}/customFields",
            resource_method="custom_fields.list",
            paginator="single",
            scope="locations/customFields.readonly",
            mode="full",
            reader=r.read_custom_fields,
            json_schema=_obj(
                {
                    "name": _S,
                    "fieldKey": _S,
                    "dataType": _S,
                    "model": _S,
                    "position": _N,
                    "placeholder": _S,
                    "picklistOptions": _ARR,
                }
            ),
        ),
        Stream(
            name="tags",
            endpoint="GET /locations/{locationId}/tags",
            resource_method="tags.list",
            paginator="single",
            scope="locations/tags.readonly",
            mode="full",
            reader=r.single(_tags),
            json_schema=_obj({"name": _S, "locationId": _S}),
        ),
        Stream(
            name="campaigns",
            endpoint="GET /campaigns/",
            resource_method="campaigns.list",
            paginator="single",
            scope="campaigns.readonly",
            mode="full",
            reader=r.single(_campaigns),
            json_schema=_obj({"name": _S, "status": _S, "locationId": _S}),
        ),
        Stream(
            name="contacts",
            endpoint="POST /contacts/search",
            resource_method="contacts.pages",
            paginator="SearchAfterPaginator",
            scope="contacts.readonly",
            mode="incremental",
            cursor_field="dateUpdated",
            custom_fields=True,
            reader=r.read_contact_rows,
            json_schema=_obj(
                {
                    "firstName": _S,
                    "lastName": _S,
                    "email": _S,
                    "phone": _S,
                    "companyName": _S,
                    "source": _S,
                    "type": _S,
                    "tags": _STR_LIST,
                    "dnd": _B,
                    "assignedTo": _S,
                    "dateAdded": _DT,
                    "dateUpdated": _DT,
                    "customFields": _CUSTOM,
                    "custom_field_values": _BY_KEY,
                }
            ),
        ),
        Stream(
            name="pipelines",
            endpoint="GET /opportunities/pipelines",
            resource_method="pipelines.list",
            paginator="single",
            scope="opportunities.readonly",
            mode="full",
            reader=r.single(_pipelines),
            json_schema=_obj(
                {
                    "name": _S,
                    "stages": {
                        "type": ["array", "null"],
                        "items": {
                            "type": "object",
                            "properties": {
                                "id": _S,
                                "name": _S,
                                "position": _N,
                                "showInFunnel": _B,
                                "showInPieChart": _B,
                            },
                        },
                    },
                }
            ),
        ),
        Stream(
            name="opportunities",
            endpoint="GET /opportunities/search",
            resource_method="opportunities.pages",
            paginator="CursorPaginator",
            scope="opportunities.readonly",
            mode="full",
            cursor_field="updatedAt",
            changed_field="updatedAt",
            custom_fields=True,
            reader=r.paged(r.read_opportunities),
            json_schema=_obj(
                {
                    "name": _S,
                    "status": _S,
                    "monetaryValue": _N,
                    "pipelineId": _S,
                    "pipelineStageId": _S,
                    "assignedTo": _S,
                    "contactId": _S,
                    "source": _S,
                    "lastStatusChangeAt": _DT,
                    "createdAt": _DT,
                    "updatedAt": _DT,
                    "customFields": _CUSTOM,
                    "custom_field_values": _BY_KEY,
                }
            ),
        ),
        Stream(
            name="calendars",
            endpoint="GET /calendars/?locationId=",
            resource_method="calendars.list",
            paginator="single",
            scope="calendars.readonly",
            mode="full",
            reader=r.single(_calendars),
            json_schema=_obj(
                {
                    "name": _S,
                    "description": _S,
                    "groupId": _S,
                    "calendarType": _S,
                    "eventType": _S,
                    "slug": _S,
                    "isActive": _B,
                    "slotDuration": _N,
                    "teamMembers": _ARR,
                }
            ),
        ),
        Stream(
            name="calendar_events",
            endpoint="GET /calendars/events (per calendar and time window)",
            resource_method="calendars.events",
            paginator="time windows",
            scope="calendars/events.readonly",
            also_needs=("calendars.readonly",),
            mode="incremental",
            cursor_field="dateUpdated",
            changed_field="dateUpdated",
            reader=r.read_calendar_events,
            json_schema=_obj(
                {
                    "title": _S,
                    "calendarId": _S,
                    "contactId": _S,
                    "groupId": _S,
                    "appointmentStatus": _S,
                    "assignedUserId": _S,
                    "users": _STR_LIST,
                    "address": _S,
                    "notes": _S,
                    "isRecurring": _B,
                    "startTime": _DT,
                    "endTime": _DT,
                    "dateAdded": _DT,
                    "dateUpdated": _DT,
                }
            ),
        ),
        Stream(
            name="conversations",
            endpoint="GET /conversations/search",
            resource_method="conversations.pages",
            paginator="CursorPaginator (startAfterDate)",
            scope="conversations.readonly",
            mode="incremental",
            cursor_field="lastMessageDate",
            reader=r.read_conversations,
            json_schema=_obj(
                {
                    "contactId": _S,
                    "type": _S,
                    "lastMessageBody": _S,
                    "lastMessageType": _S,
                    "lastMessageDate": _DT,
                    "unreadCount": _N,
                    "fullName": _S,
                    "contactName": _S,
                    "email": _S,
                    "phone": _S,
                    "dateAdded": _DT,
                    "dateUpdated": _DT,
                }
            ),
        ),
        Stream(
            name="messages",
            endpoint="GET /conversations/{conversationId}/messages",
            resource_method="conversations.message_pages",
            paginator="CursorPaginator (lastMessageId)",
            scope="conversations/message.readonly",
            mode="incremental",
            parent="conversations",
            default_enabled=False,
            reader=r.read_messages,
            json_schema=_obj(
                {
                    "conversationId": _S,
                    "contactId": _S,
                    "type": _N,
                    "messageType": _S,
                    "direction": _S,
                    "status": _S,
                    "body": _S,
                    "contentType": _S,
                    "source": _S,
                    "userId": _S,
                    "attachments": _STR_LIST,
                    "dateAdded": _DT,
                }
            ),
        ),
        Stream(
            name="notes",
            endpoint="GET /contacts/{contactId}/notes",
            resource_method="contacts.list_notes",
            paginator="single (per contact)",
            scope="contacts.readonly",
            mode="incremental",
            parent="contacts",
            default_enabled=False,
            reader=r.read_notes,
            json_schema=_obj(
                {
                    "contactId": _S,
                    "body": _S,
                    "title": _S,
                    "userId": _S,
                    "color": _S,
                    "pinned": _B,
                    "dateAdded": _DT,
                }
            ),
        ),
        Stream(
            name="tasks",
            endpoint="GET /contacts/{contactId}/tasks",
            resource_method="contacts.list_tasks",
            paginator="single (per contact)",
            scope="contacts.readonly",
            mode="incremental",
            parent="contacts",
            default_enabled=False,
            reader=r.read_tasks,
            json_schema=_obj(
                {
                    "contactId": _S,
                    "title": _S,
                    "body": _S,
                    "assignedTo": _S,
                    "dueDate": _DT,
                    "completed": _B,
                }
            ),
        ),
        Stream(
            name="businesses",
            endpoint="GET /businesses/?locationId=",
            resource_method="businesses.pages",
            paginator="OffsetPaginator (skip)",
            scope="businesses.readonly",
            mode="full",
            cursor_field="updatedAt",
            changed_field="updatedAt",
            reader=r.paged(_businesses),
            json_schema=_obj(
                {
                    "name": _S,
                    "phone": _S,
                    "email": _S,
                    "website": _S,
                    "address": _S,
                    "city": _S,
                    "state": _S,
                    "postalCode": _S,
                    "country": _S,
                    "description": _S,
                    "createdAt": _DT,
                    "updatedAt": _DT,
                }
            ),
        ),
        Stream(
            name="form_submissions",
            endpoint="GET /forms/submissions",
            resource_method="forms.submission_pages",
            paginator="PageNumberPaginator",
            scope="forms.readonly",
            mode="full",
            reader=r.read_submissions("forms"),
            json_schema=_obj({"formId": _S, **_SUBMISSION}),
        ),
        Stream(
            name="survey_submissions",
            endpoint="GET /surveys/submissions",
            resource_method="surveys.submission_pages",
            paginator="PageNumberPaginator",
            scope="surveys.readonly",
            mode="full",
            reader=r.read_submissions("surveys"),
            json_schema=_obj({"surveyId": _S, **_SUBMISSION}),
        ),
        Stream(
            name="invoices",
            endpoint="GET /invoices/?altType=location",
            resource_method="invoices.pages",
            paginator="OffsetPaginator",
            scope="invoices.readonly",
            mode="full",
            cursor_field="updatedAt",
            changed_field="updatedAt",
            reader=r.paged(_invoices),
            json_schema=_obj(
                {
                    **_MONEY,
                    "status": _S,
                    "name": _S,
                    "title": _S,
                    "invoiceNumber": {"type": ["string", "number", "null"]},
                    "issueDate": _DT,
                    "dueDate": _DT,
                    "total": _N,
                    "amountPaid": _N,
                    "amountDue": _N,
                    "contactDetails": _OBJ,
                    "invoiceItems": _ARR,
                }
            ),
        ),
        Stream(
            name="products",
            endpoint="GET /products/?locationId=",
            resource_method="products.pages",
            paginator="OffsetPaginator",
            scope="products.readonly",
            mode="full",
            cursor_field="updatedAt",
            changed_field="updatedAt",
            reader=r.paged(_products),
            json_schema=_obj(
                {
                    "name": _S,
                    "description": _S,
                    "productType": _S,
                    "availableInStore": _B,
                    "image": _S,
                    "slug": _S,
                    "createdAt": _DT,
                    "updatedAt": _DT,
                }
            ),
        ),
        Stream(
            name="orders",
            endpoint="GET /payments/orders?altType=location",
            resource_method="payments.order_pages",
            paginator="OffsetPaginator",
            scope="payments/orders.readonly",
            mode="full",
            cursor_field="updatedAt",
            changed_field="updatedAt",
            reader=r.paged(_orders),
            json_schema=_obj(
                {
                    **_MONEY,
                    "contactName": _S,
                    "contactEmail": _S,
                    "subtotal": _N,
                    "discount": _N,
                    "totalProducts": _N,
                    "sourceType": _S,
                    "sourceName": _S,
                    "sourceId": _S,
                    "fulfillmentStatus": _S,
                }
            ),
        ),
        Stream(
            name="transactions",
            endpoint="GET /payments/transactions?altType=location",
            resource_method="payments.transaction_pages",
            paginator="OffsetPaginator",
            scope="payments/transactions.readonly",
            mode="full",
            cursor_field="updatedAt",
            changed_field="updatedAt",
            reader=r.paged(_transactions),
            json_schema=_obj(
                {
                    **_MONEY,
                    "contactName": _S,
                    "contactEmail": _S,
                    "entityType": _S,
                    "entityId": _S,
                    "entitySourceType": _S,
                    "entitySourceName": _S,
                    "subscriptionId": _S,
                    "chargeId": _S,
                    "paymentProviderType": _S,
                    "amountRefunded": _N,
                }
            ),
        ),
        *OBJECT_STREAMS,
    )
}


def select(names: list[str] | tuple[str, ...] | None = None) -> list[Stream]:
    """The streams to run: ``names`` in registry order, or every default-enabled stream."""
    if not names:
        return [s for s in STREAMS.values() if s.default_enabled]
    unknown = sorted(set(names) - set(STREAMS))
    if unknown:
        from ghlsync.errors import ConfigError

        raise ConfigError(
            f"unknown stream(s): {', '.join(unknown)}",
            hint=f"known streams: {', '.join(STREAMS)}",
        )
    wanted = set(names)
    return [s for s in STREAMS.values() if s.name in wanted]
