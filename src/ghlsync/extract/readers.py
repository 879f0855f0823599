"""Readers: how each stream pulls its raw records, one small async generator per stream.

A reader takes a ``ReadContext`` (client, location, the stream's previous bookmark, options) and
yields ``Page``s: the raw records of one response and, for incremental streams read in
ascending cursor order, the cursor value the page reaches (its last record's, so the engine
parses one timestamp per page, not per record). ``streams.STREAMS`` names each stream's reader;
the engine (``engine.read_stream``) shapes, filters, diffs ids and builds the bookmarks, so a
new stream is one ``Stream`` entry plus, at most, a reader of a few lines here.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ghlsync.client.resources.conversations import Conversation
from ghlsync.client.timestamps import iso
from ghlsync.errors import GHLSyncError
from ghlsync.extract.schemas import epoch_ms_fields
from ghlsync.extract.state import EPOCH, parse_ts, start_from
from ghlsync.mapping.custom_fields import FieldDef, field_defs
from ghlsync.mapping.search_rows import contact_from_search_row

if TYPE_CHECKING:
    from ghlsync.client import AsyncGHLClient
    from ghlsync.client.pagination import PageStream

log = logging.getLogger("ghlsync.extract")

#: HighLevel's per-location burst limit is 100 requests per 10 s: 10 requests a second.
REQUESTS_PER_SECOND = 10


@dataclass
class ReadOptions:
    """How streams read; the defaults suit a scheduled run every few minutes to hours."""

    overlap: dt.timedelta = dt.timedelta(minutes=5)
    start_date: str | None = None
    full_refresh: bool = False
    page_size: int = 500
    #: calendar_events: each run re-reads events starting from ``bookmark - events_lookback``
    events_lookback: dt.timedelta = dt.timedelta(days=30)
    #: calendar_events: ... up to ``now + events_lookahead`` (bookings ahead of time; one further
    #: ahead is read once it comes within this horizon)
    events_lookahead: dt.timedelta = dt.timedelta(days=180)
    #: calendar_events: the first run starts here when ``start_date`` is not given (older
    #: history costs a request per calendar and 31 days: ask for it with ``--start-date``)
    events_history: dt.timedelta = dt.timedelta(days=90)
    #: calendar_events: one request per calendar and window (the endpoint has no paging)
    events_window: dt.timedelta = dt.timedelta(days=31)
    #: child streams: parents read at once (the client's limiter still paces the requests;
    #: a few in flight reach the rate limit despite each request's latency)
    child_concurrency: int = 4


class _Warnings(Protocol):
    warnings: list[str]


class FieldKeys:
    """Custom field definitions per location, read once per run and shared by the streams.

    ``get`` gives ``{field id: FieldDef}`` for shaping (an unreadable definition list is a warning:
    raw values still load); ``definitions`` gives the list to the ``custom_fields`` stream, so
    the stream and the shaping cost one request per location, not two.
    """

    def __init__(self, report: _Warnings | None = None) -> None:
        self.report = report
        self._definitions: dict[str, list[Mapping[str, Any]]] = {}
        self._errors: dict[str, GHLSyncError] = {}
        self._cache: dict[str, dict[str, FieldDef]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def _load(self, client: AsyncGHLClient, location_id: str) -> None:
        lock = self._locks.setdefault(location_id, asyncio.Lock())
        async with lock:
            if location_id in self._definitions or location_id in self._errors:
                return
            try:
                listed = await client.custom_fields.list(location_id)
            except GHLSyncError as error:
                self._errors[location_id] = error
                return
            self._definitions[location_id] = [d for d in listed if isinstance(d, Mapping)]

    async def prefetch(self, client: AsyncGHLClient, location_id: str) -> None:
        """Read the definitions now (an error is kept for ``get`` and ``definitions``)."""
        await self._load(client, location_id)

    async def definitions(
        self, client: AsyncGHLClient, location_id: str
    ) -> list[Mapping[str, Any]]:
        """The definitions, or the error reading them raised again."""
        await self._load(client, location_id)
        if location_id in self._errors:
            raise self._errors[location_id]
        return self._definitions[location_id]

    async def get(self, client: AsyncGHLClient, location_id: str) -> dict[str, FieldDef]:
        await self._load(client, location_id)
        if location_id not in self._cache:
            error = self._errors.get(location_id)
            if error is not None and self.report is not None:
                self.report.warnings.append(
                    f"{location_id}: custom field definitions unreadable, "
                    f"custom_field_values left out: {error}"
                )
            self._cache[location_id] = field_defs(self._definitions.get(location_id, []))
        return self._cache[location_id]


@dataclass
class ReadContext:
    """What a reader may use. ``bookmark`` is the stream's own (None on a full refresh)."""

    client: AsyncGHLClient
    location_id: str
    bookmark: Mapping[str, Any] | None
    options: ReadOptions
    keys: FieldKeys
    warn: Callable[[str], None] = field(default=lambda message: None)
    #: the run's start (UTC), the same for every stream of the location
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    def since(self) -> str:
        """Where an incremental read starts: ``cursor - overlap``, never before ``start_date``."""
        return start_from(
            self.bookmark, overlap=self.options.overlap, start_date=self.options.start_date
        )

    def since_or_none(self) -> dt.datetime | None:
        """``since()`` as a datetime, or None when it would be the epoch (no filter at all)."""
        since = self.since()
        return None if since == EPOCH else parse_ts(since)


@dataclass
class Page:
    """The raw records of one response; ``cursor``: the cursor value the page reaches."""

    records: Sequence[Any]
    cursor: Any = None
    #: False for a marker page that only moves the cursor (no request behind it)
    request: bool = True


Reader = Callable[[ReadContext], AsyncIterator[Page]]


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def single(fetch: Callable[[AsyncGHLClient, str], Awaitable[Any]]) -> Reader:
    """A reader of one unpaged call returning the records (``users.list``, ``tags.list``...)."""

    async def read(ctx: ReadContext) -> AsyncIterator[Page]:
        yield Page(_list(await fetch(ctx.client, ctx.location_id)))

    return read


def paged(pages: Callable[[ReadContext], PageStream], cursor_field: str | None = None) -> Reader:
    """A reader of a ``PageStream``; with ``cursor_field`` each page carries its last record's
    value of it (the stream must come sorted ascending by that field)."""

    async def read(ctx: ReadContext) -> AsyncIterator[Page]:
        async for page in pages(ctx):
            records = page.records
            last = records[-1].get(cursor_field) if cursor_field and records else None
            yield Page(records, cursor=last)

    return read


async def read_location(ctx: ReadContext) -> AsyncIterator[Page]:
    response = await ctx.client.locations.get(ctx.location_id)
    location = response.get("location") if isinstance(response, Mapping) else None
    yield Page([location] if location else [])


async def read_custom_fields(ctx: ReadContext) -> AsyncIterator[Page]:
    yield Page(list(await ctx.keys.definitions(ctx.client, ctx.location_id)))


def read_contacts(ctx: ReadContext) -> PageStream:
    return ctx.client.contacts.pages(
        ctx.location_id, since=ctx.since(), page_size=ctx.options.page_size
    )


async def read_contact_rows(ctx: ReadContext) -> AsyncIterator[Page]:
    """Contacts through search, ascending by ``dateUpdated`` from ``bookmark - overlap``, each
    row in the GET shape (``address1``, ISO ``dateOfBirth``: GHL-NOTES §4). Search lags writes
    by seconds; the overlap re-reads what the previous run could not see yet."""
    async for page in read_contacts(ctx):
        records = [
            contact_from_search_row(row) if isinstance(row, Mapping) else row
            for row in page.records
        ]
        last = records[-1].get("dateUpdated") if records else None
        yield Page(records, cursor=last)


def _ms_to_iso(value: Any) -> str | None:
    """Conversations carry ``lastMessageDate`` as epoch milliseconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return iso(dt.datetime.fromtimestamp(value / 1000, dt.UTC))
    return value if isinstance(value, str) else None


def _conversations(ctx: ReadContext) -> PageStream:
    return ctx.client.conversations.pages(
        ctx.location_id,
        since=ctx.since_or_none(),
        sort="asc",
        page_size=min(ctx.options.page_size, 100),
    )


#: conversation dates HighLevel sends as epoch milliseconds (GHL-NOTES §4 "Dates"); written as
#: ISO-8601 timestamps like every other table's dates
CONVERSATION_MS_FIELDS = epoch_ms_fields(Conversation)


def _iso_dates(record: Any) -> Any:
    if not isinstance(record, Mapping):
        return record
    out = dict(record)
    for name in CONVERSATION_MS_FIELDS:
        if name in out and out[name] is not None:
            out[name] = _ms_to_iso(out[name])
    return out


async def read_conversations(ctx: ReadContext) -> AsyncIterator[Page]:
    """Ascending by ``lastMessageDate`` from ``bookmark - overlap`` (``startAfterDate``)."""
    async for page in _conversations(ctx):
        records = page.records
        last = _ms_to_iso(records[-1].get("lastMessageDate")) if records else None
        yield Page([_iso_dates(r) for r in records], cursor=last)


def quota_warning(ctx: ReadContext, stream: str, parent: str, total: int | None) -> None:
    """The cost of a child stream: one request per parent record."""
    n = total if total is not None else 0
    seconds = max(1, round(n / REQUESTS_PER_SECOND)) if n else 0
    message = (
        f"{ctx.location_id}: {stream}: one request per {parent}: ~{n} requests, "
        f"~{seconds} s at HighLevel's limit ({REQUESTS_PER_SECOND} requests/s per location)"
    )
    log.warning("%s", message)
    ctx.warn(message)


async def _all(calls: Sequence[Awaitable[Any]]) -> list[Any]:
    """Await ``calls`` together, results in order; the first error cancels the rest and is
    raised as itself (not an ``ExceptionGroup``: ``engine.guarded`` sorts errors by type)."""
    tasks = [asyncio.ensure_future(call) for call in calls]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        raise


def _chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    size = max(1, size)
    return [items[i : i + size] for i in range(0, len(items), size)]


def _with(record: Any, key: str, value: str) -> Any:
    if isinstance(record, Mapping) and key not in record:
        return {**record, key: value}
    return record


async def _messages_of(ctx: ReadContext, conversation_id: str) -> list[list[Any]]:
    """Every page of one conversation's messages."""
    return [
        list(page.records)
        async for page in ctx.client.conversations.message_pages(
            conversation_id, location_id=ctx.location_id
        )
    ]


async def read_messages(ctx: ReadContext) -> AsyncIterator[Page]:
    """Messages of the conversations whose last message is after ``bookmark - overlap``.

    The cursor (the parents' ``lastMessageDate``) moves after all messages of a page of
    conversations, so a crash re-reads that page's conversations, never skips one.
    """
    warned = False
    async for page in _conversations(ctx):
        if not warned:
            quota_warning(ctx, "messages", "conversation", page.total or len(page.records))
            warned = True
        yield Page([], request=True)  # the conversations page itself (counted, no records)
        ids = [c.get("id") for c in page.records if isinstance(c.get("id"), str)]
        for chunk in _chunks(ids, ctx.options.child_concurrency):
            for conversation_id, pages in zip(
                chunk, await _all([_messages_of(ctx, cid) for cid in chunk]), strict=True
            ):
                for records in pages:
                    yield Page([_with(m, "conversationId", conversation_id) for m in records])
        if page.records:
            last = _ms_to_iso(page.records[-1].get("lastMessageDate"))
            yield Page([], cursor=last, request=False)


def _per_contact(name: str, fetch: Callable[[AsyncGHLClient, str, str], Awaitable[Any]]) -> Reader:
    """A child of contacts: for each contact updated since ``bookmark - overlap`` (the contacts
    search, ascending by ``dateUpdated``), one request for its ``name``."""

    async def read(ctx: ReadContext) -> AsyncIterator[Page]:
        warned = False
        async for page in read_contacts(ctx):
            if not warned:
                quota_warning(ctx, name, "contact", page.total or len(page.records))
                warned = True
            yield Page([], request=True)  # the contacts search page
            ids = [c.get("id") for c in page.records if isinstance(c.get("id"), str)]
            for chunk in _chunks(ids, ctx.options.child_concurrency):
                answers = await _all([fetch(ctx.client, cid, ctx.location_id) for cid in chunk])
                for contact_id, children in zip(chunk, answers, strict=True):
                    yield Page([_with(c, "contactId", contact_id) for c in _list(children)])
            if page.records:
                yield Page([], cursor=page.records[-1].get("dateUpdated"), request=False)

    return read


async def _notes(client: AsyncGHLClient, contact_id: str, location_id: str) -> Any:
    return await client.contacts.list_notes(contact_id, location_id=location_id)


async def _tasks(client: AsyncGHLClient, contact_id: str, location_id: str) -> Any:
    return await client.contacts.list_tasks(contact_id, location_id=location_id)


read_notes = _per_contact("notes", _notes)
read_tasks = _per_contact("tasks", _tasks)


def events_range(ctx: ReadContext) -> tuple[dt.datetime, dt.datetime]:
    """The ``startTime`` range calendar_events reads this run.

    First run: from ``start_date`` (else ``events_history`` back) to ``now + lookahead``.
    Later runs: from ``bookmark - events_lookback`` (never before ``start_date``): an event
    changed since the last run is caught when it starts within that range, i.e. no more than
    ``events_lookback`` before the last run or ``events_lookahead`` after this one.
    """
    options = ctx.options
    upper = ctx.now + options.events_lookahead
    cursor = (ctx.bookmark or {}).get("cursor")
    if cursor:
        lower = parse_ts(cursor) - options.events_lookback
    else:
        lower = ctx.now - options.events_history
    if options.start_date:
        lower = max(lower, parse_ts(options.start_date)) if cursor else parse_ts(options.start_date)
    return lower, upper


async def read_calendar_events(ctx: ReadContext) -> AsyncIterator[Page]:
    """Every calendar's events in ``events_range``, one request per calendar and window."""
    lower, upper = events_range(ctx)
    calendars = _list(await ctx.client.calendars.list(ctx.location_id))
    yield Page([])  # the calendars list
    seen: set[str] = set()
    for calendar in calendars:
        calendar_id = calendar.get("id") if isinstance(calendar, Mapping) else None
        if not isinstance(calendar_id, str):
            continue
        start = lower
        while start < upper:
            end = min(start + ctx.options.events_window, upper)
            events = await ctx.client.calendars.events(
                ctx.location_id, start=start, end=end, calendar_id=calendar_id
            )
            fresh = []
            for event in events:
                event_id = str(event.get("id", ""))
                if event_id not in seen:  # an event on a window's edge comes back twice
                    seen.add(event_id)
                    fresh.append(event)
            yield Page(fresh)
            start = end


def read_opportunities(ctx: ReadContext) -> PageStream:
    return ctx.client.opportunities.pages(ctx.location_id)


def read_submissions(kind: str) -> Reader:
    async def read(ctx: ReadContext) -> AsyncIterator[Page]:
        resource = ctx.client.forms if kind == "forms" else ctx.client.surveys
        async for page in resource.submission_pages(ctx.location_id):
            yield Page(page.records)

    return read
