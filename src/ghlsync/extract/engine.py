"""Reading streams (async, shared by the dlt source and the Singer tap).

``read_stream`` turns one (stream, location) into ``Batch``es: shaped records, tombstones and
the bookmark that holds once the batch is committed. ``guarded`` wraps it so one location's
failure (403, 5xx after retries, ...) or a missing scope is recorded in the ``Report`` instead of
stopping the others. ``merge`` runs several producers concurrently on one event loop; each
location has its own rate budget in the client's limiter, so locations do not slow each other.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ghlsync.errors import AuthError, GHLSyncError, NotFoundError
from ghlsync.extract.shape import field_keys, shape, tombstone
from ghlsync.extract.state import advance, deleted_ids, start_from
from ghlsync.extract.streams import Stream

if TYPE_CHECKING:
    from ghlsync.client import AsyncGHLClient

Status = Literal["pending", "running", "ok", "skipped", "failed"]


@dataclass
class Batch:
    stream: str
    location_id: str
    records: list[dict[str, Any]]
    #: the bookmark valid once ``records`` are committed; None = unchanged
    bookmark: dict[str, Any] | None = None


@dataclass
class StreamResult:
    location_id: str
    stream: str
    status: Status = "pending"
    records: int = 0
    deleted: int = 0
    pages: int = 0
    seconds: float = 0.0
    message: str = ""


@dataclass
class Report:
    """What happened per location and stream; ``on_change`` feeds progress displays."""

    results: dict[tuple[str, str], StreamResult] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    on_change: Callable[[StreamResult], None] | None = None

    def result(self, location_id: str, stream: str) -> StreamResult:
        key = (location_id, stream)
        if key not in self.results:
            self.results[key] = StreamResult(location_id, stream)
        return self.results[key]

    def changed(self, result: StreamResult) -> None:
        if self.on_change is not None:
            self.on_change(result)

    @property
    def failed_locations(self) -> list[str]:
        return sorted({r.location_id for r in self.results.values() if r.status == "failed"})

    @property
    def ok(self) -> bool:
        return not self.failed_locations

    def totals(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.results.values():
            out[r.stream] = out.get(r.stream, 0) + r.records
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "failed_locations": self.failed_locations,
            "warnings": list(self.warnings),
            "results": [
                {
                    "location_id": r.location_id,
                    "stream": r.stream,
                    "status": r.status,
                    "records": r.records,
                    "deleted": r.deleted,
                    "pages": r.pages,
                    "seconds": round(r.seconds, 3),
                    "message": r.message,
                }
                for r in sorted(self.results.values(), key=lambda r: (r.location_id, r.stream))
            ],
        }


@dataclass
class ReadOptions:
    overlap: dt.timedelta = dt.timedelta(minutes=5)
    start_date: str | None = None
    full_refresh: bool = False
    page_size: int = 500


class FieldKeys:
    """Custom field definitions per location, read once per run (shared by the streams)."""

    def __init__(self, report: Report | None = None) -> None:
        self.report = report
        self._cache: dict[str, dict[str, str]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def get(self, client: AsyncGHLClient, location_id: str) -> dict[str, str]:
        lock = self._locks.setdefault(location_id, asyncio.Lock())
        async with lock:
            if location_id not in self._cache:
                try:
                    definitions = await client.custom_fields.list(location_id)
                except GHLSyncError as error:
                    definitions = []  # readable keys are a convenience; raw values still load
                    if self.report is not None:
                        self.report.warnings.append(
                            f"{location_id}: custom field definitions unreadable, "
                            f"custom_field_values left out: {error}"
                        )
                self._cache[location_id] = field_keys(
                    [d for d in definitions if isinstance(d, Mapping)]
                )
        return self._cache[location_id]


async def _single(client: AsyncGHLClient, stream: Stream, location_id: str) -> list[Any]:
    if stream.name == "locations":
        response = await client.locations.get(location_id)
        location = response.get("location") if isinstance(response, Mapping) else None
        return [location] if location else []
    if stream.name == "custom_fields":
        return list(await client.custom_fields.list(location_id))
    if stream.name == "pipelines":
        return list(await client.pipelines.list(location_id))
    if stream.name == "users":
        return list(await client.users.list(location_id))
    if stream.name == "campaigns":
        return list(await client.campaigns.list(location_id))
    raise GHLSyncError(f"stream {stream.name} has no single-page reader")


async def _pages(
    client: AsyncGHLClient,
    stream: Stream,
    location_id: str,
    bookmark: dict[str, Any] | None,
    options: ReadOptions,
) -> AsyncIterator[list[Any]]:
    if stream.name == "contacts":
        since = start_from(
            None if options.full_refresh else bookmark,
            overlap=options.overlap,
            start_date=options.start_date,
        )
        async for page in client.contacts.pages(
            location_id, since=since, page_size=options.page_size
        ):
            yield list(page.records)
    elif stream.name == "opportunities":
        async for page in client.opportunities.pages(location_id):
            yield list(page.records)
    else:
        yield await _single(client, stream, location_id)


async def read_stream(
    client: AsyncGHLClient,
    stream: Stream,
    location_id: str,
    bookmark: dict[str, Any] | None,
    options: ReadOptions,
    keys: FieldKeys,
    result: StreamResult | None = None,
) -> AsyncIterator[Batch]:
    """Batches of one stream in one location, each with the bookmark it makes safe."""
    names = await keys.get(client, location_id) if stream.custom_fields else {}
    cursor = (bookmark or {}).get("cursor") if not options.full_refresh else None
    seen: set[str] = set()
    async for page in _pages(client, stream, location_id, bookmark, options):
        records = [shape(r, location_id, names) for r in page if isinstance(r, Mapping)]
        if result is not None:
            result.pages += 1
        if stream.mode == "incremental":
            for record in records:
                cursor = advance(cursor, record.get(stream.cursor_field or ""))
            yield Batch(stream.name, location_id, records, {"cursor": cursor} if cursor else None)
        else:
            seen.update(str(r["id"]) for r in records if r.get("id") is not None)
            yield Batch(stream.name, location_id, records)
    if stream.mode == "full":
        gone = [] if options.full_refresh else deleted_ids(bookmark, seen)
        if result is not None:
            result.deleted += len(gone)
        tombstones = [tombstone(i, location_id) for i in gone]
        yield Batch(stream.name, location_id, tombstones, {"ids": sorted(seen)})


def _scope_error(error: AuthError) -> bool:
    text = " ".join(error.messages).lower()
    return error.reason == "scope" or "scope" in text


async def guarded(
    client: AsyncGHLClient,
    stream: Stream,
    location_id: str,
    bookmark: dict[str, Any] | None,
    options: ReadOptions,
    keys: FieldKeys,
    report: Report,
) -> AsyncIterator[Batch]:
    """``read_stream`` with failures recorded in ``report`` (never raised)."""
    result = report.result(location_id, stream.name)
    result.status = "running"
    report.changed(result)
    started = time.monotonic()
    try:
        async for batch in read_stream(
            client, stream, location_id, bookmark, options, keys, result
        ):
            result.records += sum(1 for r in batch.records if not r.get("_ghlsync_deleted"))
            result.seconds = time.monotonic() - started
            report.changed(result)
            yield batch
        result.status = "ok"
    except AuthError as error:
        if _scope_error(error):
            result.status = "skipped"
            result.message = f"token lacks scope {stream.scope}"
            report.warnings.append(
                f"{location_id}: stream {stream.name} skipped: the token lacks scope "
                f"`{stream.scope}`"
            )
        else:
            result.status, result.message = "failed", str(error)
    except NotFoundError as error:
        if any(m.startswith("Cannot ") for m in error.messages):  # no such route (NestJS wording)
            result.status = "skipped"
            result.message = f"endpoint not served: {stream.endpoint}"
            report.warnings.append(f"{location_id}: stream {stream.name} skipped: {error}")
        else:
            result.status, result.message = "failed", str(error)
    except GHLSyncError as error:
        result.status, result.message = "failed", str(error)
    result.seconds = time.monotonic() - started
    report.changed(result)


async def merge(producers: Iterable[AsyncIterator[Batch]], buffer: int = 4) -> AsyncIterator[Batch]:
    """Run producers concurrently; yield their batches as they arrive (each producer's in order)."""
    queue: asyncio.Queue[Batch | None] = asyncio.Queue(maxsize=buffer)

    async def pump(producer: AsyncIterator[Batch]) -> None:
        try:
            async for batch in producer:
                await queue.put(batch)
        finally:
            await queue.put(None)

    tasks = [asyncio.create_task(pump(p)) for p in producers]
    remaining = len(tasks)
    try:
        while remaining:
            item = await queue.get()
            if item is None:
                remaining -= 1
                continue
            yield item
        for task in tasks:
            task.result()  # surface a bug (guarded producers never raise on purpose)
    finally:
        for task in tasks:
            task.cancel()
