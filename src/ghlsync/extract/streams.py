"""The stream registry: what ``ghlsync extract`` reads, declared once per stream.

Each ``Stream`` names its primary key, its reader (``ghlsync.extract.readers``: which client
call, how pages and records come out), the endpoint and paginator (documentation and the Singer
catalog), its replication mode, the scope it needs, its parent (child streams) and the wire
shape of its records (the client's ``TypedDict``), from which its JSON schema is derived
(``schemas``: the Singer tap sends it; the dlt source types its Arrow columns from it and takes
the primary key and write disposition from here). ``docs/extract-streams.md`` tables every stream; a test keeps it in sync.

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

from ghlsync.client.resources.calendars import Calendar, CalendarEvent
from ghlsync.client.resources.catalog import Business, Campaign, User
from ghlsync.client.resources.commerce import Invoice, Order, Product, Transaction
from ghlsync.client.resources.contacts import Contact, Note, Task
from ghlsync.client.resources.conversations import Conversation, Message
from ghlsync.client.resources.forms import FormSubmission, SurveySubmission
from ghlsync.client.resources.locations import CustomField, Location, Tag
from ghlsync.client.resources.opportunities import Opportunity, Pipeline
from ghlsync.extract import readers as r
from ghlsync.extract.shape import DELETED, LOCATION_ID
from ghlsync.extract.stream_types import Mode, Stream
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
            shape=Location,
        ),
        Stream(
            name="users",
            endpoint="GET /users/?locationId=",
            resource_method="users.list",
            paginator="single",
            scope="users.readonly",
            mode="full",
            reader=r.single(_users),
            shape=User,
        ),
        Stream(
            name="custom_fields",
            endpoint="GET /locations/{locationId}/customFields",
            resource_method="custom_fields.list",
            paginator="single",
            scope="locations/customFields.readonly",
            mode="full",
            reader=r.read_custom_fields,
            shape=CustomField,
        ),
        Stream(
            name="tags",
            endpoint="GET /locations/{locationId}/tags",
            resource_method="tags.list",
            paginator="single",
            scope="locations/tags.readonly",
            mode="full",
            reader=r.single(_tags),
            shape=Tag,
        ),
        Stream(
            name="campaigns",
            endpoint="GET /campaigns/",
            resource_method="campaigns.list",
            paginator="single",
            scope="campaigns.readonly",
            mode="full",
            reader=r.single(_campaigns),
            shape=Campaign,
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
            shape=Contact,
        ),
        Stream(
            name="pipelines",
            endpoint="GET /opportunities/pipelines",
            resource_method="pipelines.list",
            paginator="single",
            scope="opportunities.readonly",
            mode="full",
            reader=r.single(_pipelines),
            shape=Pipeline,
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
            shape=Opportunity,
        ),
        Stream(
            name="calendars",
            endpoint="GET /calendars/?locationId=",
            resource_method="calendars.list",
            paginator="single",
            scope="calendars.readonly",
            mode="full",
            reader=r.single(_calendars),
            shape=Calendar,
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
            shape=CalendarEvent,
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
            shape=Conversation,
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
            shape=Message,
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
            shape=Note,
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
            shape=Task,
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
            shape=Business,
        ),
        Stream(
            name="form_submissions",
            endpoint="GET /forms/submissions",
            resource_method="forms.submission_pages",
            paginator="PageNumberPaginator",
            scope="forms.readonly",
            mode="full",
            reader=r.read_submissions("forms"),
            shape=FormSubmission,
        ),
        Stream(
            name="survey_submissions",
            endpoint="GET /surveys/submissions",
            resource_method="surveys.submission_pages",
            paginator="PageNumberPaginator",
            scope="surveys.readonly",
            mode="full",
            reader=r.read_submissions("surveys"),
            shape=SurveySubmission,
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
            shape=Invoice,
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
            shape=Product,
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
            shape=Order,
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
            shape=Transaction,
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
