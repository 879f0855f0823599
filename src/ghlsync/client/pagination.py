"""Pagination, written once: small paginator classes that every list resource declares.

A paginator is built from the request for the first page and answers one question per page,
``next_request(response) -> PageRequest | None``. The stop rules and loop detection live in
``Paginator.next_request`` alone; subclasses only say where the next cursor comes from and how it
goes on the request (the idea of the Meltano SDK's ``BaseAPIPaginator``).

Styles HighLevel uses, one class each:

    CursorPaginator       a cursor read from the response: ``GET /contacts/`` and
                          ``GET /opportunities/search`` (``meta.startAfter`` + ``startAfterId``),
                          conversations (``startAfterDate``), messages (``lastMessageId``)
    SearchAfterPaginator  ``POST /contacts/search``: ``page`` first, ``searchAfter`` before the
                          10,000-record window ends (or from the start, to resume)
    PageNumberPaginator   ``page`` + ``limit`` (form and survey submissions)
    OffsetPaginator       ``offset`` + ``limit`` (invoices, products, payments) or ``skip`` +
                          ``limit`` (locations search, businesses, installed locations)
    SinglePagePaginator   one request, no paging (pipelines, users, campaigns, ...)

Loop detection, also in ``next_request`` alone: a repeated cursor, or a page holding the same
records (same ids in the same order) as an earlier page, raises ``PaginationLoopError``.

Stop rules, in order: an empty page; the reported total reached; no next cursor; a short page
when the server reports no total. With a total, a short page is taken as a server-side cap on the
page size and paging goes on (one extra request at worst, never a silent truncation).

``PageStream`` runs a paginator against a ``Requester`` and yields ``Page`` objects;
``RecordStream`` flattens them into records. Both expose ``progress`` (pages, records, total, the
cursor of the next page) for progress bars and resumable extracts.
"""

from __future__ import annotations

import json as jsonlib
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final

from ghlsync.client._protocol import Requester
from ghlsync.errors import MalformedResponseError, PaginationError, PaginationLoopError

Record = dict[str, Any]

#: ``page`` + ``pageLimit`` on ``POST /contacts/search`` reach at most this many records.
SEARCH_WINDOW: Final = 10_000


@dataclass(frozen=True, slots=True)
class PageRequest:
    """One page's call, exactly as ``Requester.request`` takes it (wire names, camelCase)."""

    method: str
    path: str
    params: Mapping[str, Any] = field(default_factory=dict)
    json: Mapping[str, Any] | None = None
    location_id: str | None = None
    company_id: str | None = None
    idempotent: bool | None = None

    def with_params(self, **changes: Any) -> PageRequest:
        """A copy with query parameters set; a ``None`` value removes the parameter."""
        return replace(self, params=_merged(self.params, changes))

    def with_json(self, **changes: Any) -> PageRequest:
        """A copy with body fields set; a ``None`` value removes the field."""
        return replace(self, json=_merged(self.json or {}, changes))

    async def send(self, requester: Requester) -> Any:
        return await requester.request(
            self.method,
            self.path,
            params=dict(self.params) or None,
            json=dict(self.json) if self.json is not None else None,
            location_id=self.location_id,
            company_id=self.company_id,
            idempotent=self.idempotent,
        )


def _merged(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def dig(data: Any, path: str) -> Any:
    """``dig(resp, "meta.total")``: follow a dotted path through dicts; ``None`` when absent."""
    for part in path.split("."):
        if not isinstance(data, Mapping):
            return None
        data = data.get(part)
    return data


def _frozen(value: Any) -> Any:
    """A hashable twin of a cursor (lists and dicts included) for loop detection."""
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), _frozen(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    return value


def _record_ids(records: list[Record]) -> list[Any]:
    """The ``id`` (or ``_id``) of every record, or ``[]`` when some record has none."""
    ids = [record.get("id", record.get("_id")) for record in records]
    return ids if all(i is not None for i in ids) else []


def _page_fingerprint(records: list[Record]) -> int:
    """A hash of a page: its record ids in order, else its whole content."""
    ids = _record_ids(records)
    if ids:
        return hash(("ids", tuple(_frozen(i) for i in ids)))
    return hash(("content", jsonlib.dumps(records, sort_keys=True, default=str)))


class Paginator(ABC):
    """Base of every paginator: the first request, then ``next_request`` per page.

    Subclasses implement ``next_cursor`` (where the next page starts, or ``None``) and
    ``apply_cursor`` (put it on the request). Everything else is here, once.
    """

    def __init__(
        self,
        first: PageRequest,
        *,
        records: str,
        page_size: int | None = None,
        total: Sequence[str] = ("meta.total",),
    ) -> None:
        self.first_request = first
        self.records_path = records
        self.page_size = page_size
        self.total_paths = tuple(total)
        self.current_request = first
        self.page_count = 0
        self.record_count = 0
        self.total: int | None = None
        #: the cursor that fetched the current page (``None`` for the first page)
        self.cursor: Any = None
        self._seen: set[Any] = set()
        #: page fingerprint -> the page number that first had it (repeated-page detection)
        self._pages: dict[int, int] = {}

    def records_of(self, response: Any) -> list[Record]:
        """The records of one page; a 2xx without them is a malformed response."""
        where = f"{self.first_request.method} {self.first_request.path}"
        found = dig(response, self.records_path)
        if found is None:
            parent, _, key = self.records_path.rpartition(".")
            holder = dig(response, parent) if parent else response
            if isinstance(holder, Mapping) and key in holder:
                return []  # an explicit null: no records
            shown = sorted(holder)[:10] if isinstance(holder, Mapping) else type(holder).__name__
            raise MalformedResponseError(
                f"{where}: no {self.records_path!r} in the response ({shown})"
            )
        if not isinstance(found, list) or not all(isinstance(r, dict) for r in found):
            raise MalformedResponseError(f"{where}: {self.records_path!r} is not a list of objects")
        return found

    def total_of(self, response: Any) -> int | None:
        for path in self.total_paths:
            value = dig(response, path)
            if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
                return int(value)
        return None

    def next_request(
        self, response: Any, records: list[Record] | None = None
    ) -> PageRequest | None:
        """Account for one page and return the request for the next, or ``None`` when done."""
        if records is None:
            records = self.records_of(response)
        self.page_count += 1
        self.record_count += len(records)
        total = self.total_of(response)
        if total is not None:
            self.total = total
        if not records:
            return None
        self._check_repeated_page(records)
        if self.total is not None and self.record_count >= self.total:
            return None
        short = self.page_size is not None and len(records) < self.page_size
        if short and self.total is None:
            return None
        cursor = self.next_cursor(response, records)
        if cursor is None:
            return None
        key = _frozen(cursor)
        if key in self._seen:
            raise PaginationLoopError(
                f"{self.first_request.method} {self.first_request.path}: cursor {cursor!r} "
                f"repeated after {self.page_count} pages"
            )
        self._seen.add(key)
        self.cursor = cursor
        self.current_request = self.apply_cursor(self.current_request, cursor)
        return self.current_request

    def _check_repeated_page(self, records: list[Record]) -> None:
        """Raise when this page holds exactly the records of an earlier one: a server that
        ignores ``skip``/``offset``/``page`` and reports no total would otherwise be read
        forever (the cursor of such styles grows, so cursor checks cannot see it)."""
        fingerprint = _page_fingerprint(records)
        first = self._pages.get(fingerprint)
        if first is not None:
            self.record_count -= len(records)
            ids = _record_ids(records)
            shown = f"ids {ids[0]!r}..{ids[-1]!r}" if ids else f"{len(records)} records"
            raise PaginationLoopError(
                f"{self.first_request.method} {self.first_request.path}: page {self.page_count}"
                f" repeats page {first} ({shown}; cursor {self.cursor!r}): the server ignored"
                " the paging parameters"
            )
        self._pages[fingerprint] = self.page_count

    @abstractmethod
    def next_cursor(self, response: Any, records: list[Record]) -> Any:
        """Where the next page starts (any JSON-like value), or ``None`` if there is none."""

    @abstractmethod
    def apply_cursor(self, request: PageRequest, cursor: Any) -> PageRequest:
        """The request for the page that starts at ``cursor``."""


class SinglePagePaginator(Paginator):
    """One request, no paging."""

    def __init__(self, first: PageRequest, *, records: str) -> None:
        super().__init__(first, records=records, total=())

    def next_cursor(self, response: Any, records: list[Record]) -> Any:
        return None

    def apply_cursor(self, request: PageRequest, cursor: Any) -> PageRequest:  # pragma: no cover
        return request


CursorReader = Callable[[Any, list[Record]], Mapping[str, Any] | None]


class CursorPaginator(Paginator):
    """A cursor read from each response and sent back as query parameters.

    ``cursor`` reads the next page's parameters from a response (see ``meta_cursor`` and
    ``record_cursor``); ``None`` or an empty mapping ends the paging.
    """

    def __init__(
        self,
        first: PageRequest,
        *,
        records: str,
        cursor: CursorReader,
        page_size: int | None = None,
        total: Sequence[str] = ("meta.total",),
    ) -> None:
        super().__init__(first, records=records, page_size=page_size, total=total)
        self._read_cursor = cursor

    def next_cursor(self, response: Any, records: list[Record]) -> Any:
        found = self._read_cursor(response, records)
        if not found or all(v is None for v in found.values()):
            return None
        return dict(found)

    def apply_cursor(self, request: PageRequest, cursor: Any) -> PageRequest:
        return request.with_params(**cursor)


def meta_cursor(*names: str, meta: str = "meta", page_param: str | None = None) -> CursorReader:
    """Read ``meta.<name>`` for each name (``startAfter``, ``startAfterId``) as the next params.

    With ``page_param``, a response whose meta has no cursor but a numeric ``nextPage`` goes on
    by page number instead.
    """

    def read(response: Any, records: list[Record]) -> Mapping[str, Any] | None:
        values = {name: dig(response, f"{meta}.{name}") for name in names}
        if all(v is not None and v != "" for v in values.values()):
            return values
        next_page = dig(response, f"{meta}.nextPage")
        if page_param and isinstance(next_page, int) and not isinstance(next_page, bool):
            return {page_param: next_page}
        return None

    return read


def record_cursor(param: str, record_field: str) -> CursorReader:
    """The last record's ``record_field`` becomes ``param`` (``startAfterDate`` for conversations)."""

    def read(response: Any, records: list[Record]) -> Mapping[str, Any] | None:
        value = records[-1].get(record_field) if records else None
        return {param: value} if value is not None else None

    return read


class PageNumberPaginator(Paginator):
    """``page`` + ``limit`` query parameters; ``meta.nextPage: null`` also ends the paging."""

    def __init__(
        self,
        first: PageRequest,
        *,
        records: str,
        page_size: int,
        page_param: str = "page",
        size_param: str = "limit",
        start_page: int = 1,
        total: Sequence[str] = ("meta.total",),
    ) -> None:
        first = first.with_params(**{page_param: start_page, size_param: page_size})
        super().__init__(first, records=records, page_size=page_size, total=total)
        self.page_param = page_param
        self.page_number = start_page

    def next_cursor(self, response: Any, records: list[Record]) -> Any:
        meta = dig(response, "meta")
        if isinstance(meta, Mapping) and "nextPage" in meta:
            announced = meta["nextPage"]
            if announced is None:
                return None
            if isinstance(announced, int) and not isinstance(announced, bool):
                return announced
        return self.page_number + 1

    def apply_cursor(self, request: PageRequest, cursor: Any) -> PageRequest:
        self.page_number = int(cursor)
        return request.with_params(**{self.page_param: self.page_number})


class OffsetPaginator(Paginator):
    """``offset`` (or ``skip``) + ``limit``; the offset moves by the records actually received."""

    def __init__(
        self,
        first: PageRequest,
        *,
        records: str,
        page_size: int,
        offset_param: str = "offset",
        size_param: str = "limit",
        start: int = 0,
        total: Sequence[str] = ("total", "totalCount", "count", "meta.total"),
    ) -> None:
        first = first.with_params(**{offset_param: start, size_param: page_size})
        super().__init__(first, records=records, page_size=page_size, total=total)
        self.offset_param = offset_param
        self.offset = start

    def next_cursor(self, response: Any, records: list[Record]) -> Any:
        return self.offset + len(records)

    def apply_cursor(self, request: PageRequest, cursor: Any) -> PageRequest:
        self.offset = int(cursor)
        return request.with_params(**{self.offset_param: self.offset})


class SearchAfterPaginator(Paginator):
    """``POST /contacts/search``: ``page`` for the first pages, then ``searchAfter``.

    ``page`` + ``pageLimit`` reach at most ``window`` (10,000) records, so the paginator switches
    to the ``searchAfter`` cursor (``[sort value, id]``, returned on each record and/or the
    response) before the next page would cross it. Given ``search_after``, it uses the cursor
    from the first request (resuming an interrupted read).
    """

    def __init__(
        self,
        first: PageRequest,
        *,
        records: str,
        page_size: int,
        search_after: Sequence[Any] | None = None,
        window: int = SEARCH_WINDOW,
        page_param: str = "page",
        size_param: str = "pageLimit",
        cursor_param: str = "searchAfter",
        total: Sequence[str] = ("total", "count", "meta.total"),
    ) -> None:
        if page_size > window:
            raise ValueError(f"page_size {page_size} exceeds the {window}-record window")
        start: dict[str, Any] = {size_param: page_size}
        if search_after is not None:
            start[cursor_param] = list(search_after)
            start[page_param] = None
        else:
            start[page_param] = 1
            start[cursor_param] = None
        first = first.with_json(**start)
        super().__init__(first, records=records, page_size=page_size, total=total)
        self.window = window
        self.page_param = page_param
        self.cursor_param = cursor_param
        self.page_number: int | None = None if search_after is not None else 1

    def search_after_of(self, response: Any, records: list[Record]) -> list[Any] | None:
        """The cursor after this page: the response's own, else the last record's."""
        for candidate in (dig(response, self.cursor_param), records[-1].get(self.cursor_param)):
            if isinstance(candidate, list) and candidate:
                return candidate
        return None

    def next_cursor(self, response: Any, records: list[Record]) -> Any:
        cursor = self.search_after_of(response, records)
        if self.page_number is not None:
            next_page = self.page_number + 1
            if next_page * (self.page_size or 0) <= self.window:
                return {self.page_param: next_page}
            if cursor is None:
                raise PaginationError(
                    f"{self.first_request.method} {self.first_request.path}: page {next_page} "
                    f"would cross the {self.window}-record window and the response carries no "
                    f"{self.cursor_param!r} cursor ({self.record_count} records read)"
                )
        if cursor is None:
            # a full page (or a total not yet reached) without a cursor: stopping would
            # silently drop the rest
            raise PaginationError(
                f"{self.first_request.method} {self.first_request.path}: no "
                f"{self.cursor_param!r} cursor after a full page ({self.record_count} records "
                f"read, total {self.total})"
            )
        return {self.cursor_param: cursor}

    def apply_cursor(self, request: PageRequest, cursor: Any) -> PageRequest:
        if self.page_param in cursor:
            self.page_number = int(cursor[self.page_param])
            return request.with_json(**{self.page_param: self.page_number, self.cursor_param: None})
        self.page_number = None
        return request.with_json(
            **{self.cursor_param: list(cursor[self.cursor_param]), self.page_param: None}
        )


@dataclass(slots=True)
class Progress:
    """Where a stream is: for progress bars and for resuming (``cursor`` is the next page's)."""

    pages: int = 0
    records: int = 0
    total: int | None = None
    cursor: Any = None
    done: bool = False


@dataclass(frozen=True, slots=True)
class Page:
    """One page: its records, the raw response, the request that fetched it, and its place."""

    number: int
    records: list[Record]
    response: Any
    request: PageRequest
    cursor: Any
    next_request: PageRequest | None
    total: int | None

    @property
    def is_last(self) -> bool:
        return self.next_request is None


class PageStream:
    """``async for page in resource.pages(...)``: runs a paginator, one request per page.

    An ``AsyncIterator[Page]``. Requests are sent lazily and one at a time; ``progress`` is
    updated before each page is handed out. A stream runs once.
    """

    def __init__(self, requester: Requester, paginator: Paginator) -> None:
        self.requester = requester
        self.paginator = paginator
        self.progress = Progress()
        self._pages: AsyncIterator[Page] | None = None

    def __aiter__(self) -> PageStream:
        return self

    async def __anext__(self) -> Page:
        if self._pages is None:
            self._pages = self._run()
        return await anext(self._pages)

    async def _run(self) -> AsyncIterator[Page]:
        paginator = self.paginator
        request: PageRequest | None = paginator.first_request
        while request is not None:
            cursor = paginator.cursor
            response = await request.send(self.requester)
            records = paginator.records_of(response)
            following = paginator.next_request(response, records)
            progress = self.progress
            progress.pages = paginator.page_count
            progress.records = paginator.record_count
            progress.total = paginator.total
            progress.cursor = paginator.cursor if following is not None else None
            progress.done = following is None
            yield Page(
                number=paginator.page_count,
                records=records,
                response=response,
                request=request,
                cursor=cursor,
                next_request=following,
                total=paginator.total,
            )
            request = following

    def records(self) -> RecordStream:
        return RecordStream(self)


class RecordStream:
    """``async for record in resource.iterate(...)``: the records of a ``PageStream``.

    An ``AsyncIterator[dict[str, Any]]``; ``progress`` and ``pages`` (the underlying
    ``PageStream``, with the current ``Page``) stay reachable while iterating.
    """

    def __init__(self, pages: PageStream) -> None:
        self.pages = pages
        self.page: Page | None = None
        self._records: AsyncIterator[Record] | None = None

    @property
    def progress(self) -> Progress:
        return self.pages.progress

    def __aiter__(self) -> RecordStream:
        return self

    async def __anext__(self) -> Record:
        if self._records is None:
            self._records = self._run()
        return await anext(self._records)

    async def _run(self) -> AsyncIterator[Record]:
        async for page in self.pages:
            self.page = page
            for record in page.records:
                yield record

    async def collect(self) -> list[Record]:
        """All records in a list (for small streams and tests)."""
        return [record async for record in self]
