"""Reading streams (async, shared by the dlt source and the Singer tap).

``read_stream`` runs the stream's reader (``readers``) for one location and turns its pages into
``Batch``es: shaped records (only the changed ones for ``changed_field`` streams), tombstones
and the bookmark that holds once the batch is committed. ``guarded`` wraps it so one location's
failure (403, 5xx after retries, ...) or a missing scope is recorded in the ``Report`` instead of
stopping the others. ``merge`` runs several producers concurrently on one event loop; each
location has its own rate budget in the client's limiter, so locations do not slow each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from ghlsync.errors import AuthError, GHLSyncError, NotFoundError
from ghlsync.extract.readers import FieldKeys, ReadContext, ReadOptions
from ghlsync.extract.shape import shape, tombstone
from ghlsync.extract.state import advance, changed_since, clamp, deleted_ids, scan_cursor, sortable
from ghlsync.extract.streams import STREAMS, Stream

if TYPE_CHECKING:
    from ghlsync.client import AsyncGHLClient

#: ``FieldKeys`` and ``ReadOptions`` live in ``readers`` (the readers use them) and are
#: re-exported here, where the dlt source and the Singer tap import them from.
__all__ = [
    "Batch",
    "FieldKeys",
    "ReadOptions",
    "Report",
    "StreamResult",
    "guarded",
    "merge",
    "read_stream",
]

T = TypeVar("T")
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


async def ahead(items: AsyncIterator[T], depth: int = 1) -> AsyncIterator[T]:
    """``items`` read ``depth`` steps ahead in a task: the next page's request is in flight
    while the current page is shaped and loaded (HighLevel answers a 500-contact page in a
    few hundred milliseconds; without this the client idles through every one)."""
    queue: asyncio.Queue[tuple[bool, Any]] = asyncio.Queue(maxsize=depth)

    async def pump() -> None:
        try:
            async for item in items:
                await queue.put((True, item))
        except Exception as error:  # handed to the consumer, which raises it in order
            await queue.put((False, error))
            return
        await queue.put((False, None))

    task = asyncio.create_task(pump())
    try:
        while True:
            more, item = await queue.get()
            if more:
                yield item
            elif item is None:
                break
            else:
                raise item
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def read_stream(
    client: AsyncGHLClient,
    stream: Stream,
    location_id: str,
    bookmark: dict[str, Any] | None,
    options: ReadOptions,
    keys: FieldKeys,
    result: StreamResult | None = None,
    warn: Callable[[str], None] | None = None,
) -> AsyncIterator[Batch]:
    """Batches of one stream in one location, each with the bookmark it makes safe.

    Incremental streams: every batch carries ``{"cursor"}`` as far as its pages reached (the
    reader gives one cursor value per page). Full-table streams: the last batch carries the
    tombstones and ``{"ids"}`` (plus ``{"cursor"}`` with ``changed_field``). A ``changed_field``
    stream bookmarks only at its end, since its cursor filters what the next run emits.
    """
    previous = None if options.full_refresh else bookmark
    now = dt.datetime.now(dt.UTC)
    ctx = ReadContext(
        client, location_id, previous, options, keys, warn or (lambda message: None), now
    )
    defs = await keys.get(client, location_id) if stream.custom_fields else {}
    changed = stream.changed_field
    cutoff = changed_since(previous, overlap=options.overlap) if changed else None
    cursor = (previous or {}).get("cursor")
    seen: set[str] = set()
    async for page in ahead(stream.reader(ctx)):
        records = [shape(r, location_id, defs) for r in page.records if isinstance(r, Mapping)]
        if result is not None and page.request:
            result.pages += 1
        if stream.full_table:
            seen.update(str(r["id"]) for r in records if r.get("id") is not None)
        if changed:
            records = _changed_only(records, changed, cutoff)
            yield Batch(stream.name, location_id, records)
        elif stream.mode == "incremental":
            if page.cursor is not None:
                cursor = clamp(advance(cursor, page.cursor), now)
            yield Batch(stream.name, location_id, records, {"cursor": cursor} if cursor else None)
        else:
            yield Batch(stream.name, location_id, records)
    final: dict[str, Any] = {}
    if changed:
        final["cursor"] = scan_cursor(now)
    tombstones: list[dict[str, Any]] = []
    if stream.full_table:
        gone = [] if previous is None else deleted_ids(previous, seen)
        if result is not None:
            result.deleted += len(gone)
        tombstones = [tombstone(i, location_id) for i in gone]
        final["ids"] = sorted(seen)
    if final:
        yield Batch(stream.name, location_id, tombstones, final)


def _changed_only(
    records: list[dict[str, Any]], field_name: str, cutoff: str | None
) -> list[dict[str, Any]]:
    """The records changed at or after ``cutoff`` (all when None; a record without a readable
    stamp is kept: better rewritten than lost)."""
    if cutoff is None:
        return records
    kept = []
    for record in records:
        stamp = sortable(record.get(field_name))
        if stamp is None or stamp >= cutoff:
            kept.append(record)
    return kept


def _scopes_needed(stream: Stream) -> str:
    """``stream``'s scope, and those of the other calls its reader makes (a child reads its
    parents too; calendar_events lists the calendars first)."""
    parent = STREAMS.get(stream.parent) if stream.parent else None
    others = [(scope, "") for scope in stream.also_needs]
    if parent is not None:
        others.append((parent.scope, f" to read its parent {parent.name}"))
    others = [(scope, why) for scope, why in others if scope != stream.scope]
    if not others:
        return f"`{stream.scope}`"
    return f"`{stream.scope}` (and " + ", ".join(f"`{s}`{why}" for s, why in others) + ")"


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
            client, stream, location_id, bookmark, options, keys, result, report.warnings.append
        ):
            result.records += sum(1 for r in batch.records if not r.get("_ghlsync_deleted"))
            result.seconds = time.monotonic() - started
            report.changed(result)
            yield batch
        result.status = "ok"
    except AuthError as error:
        if _scope_error(error):
            result.status = "skipped"
            needed = _scopes_needed(stream)
            result.message = f"token lacks scope {needed}"
            report.warnings.append(
                f"{location_id}: stream {stream.name} skipped: the token lacks scope {needed}"
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


async def merge(
    producers: Iterable[AsyncIterator[Batch]], buffer: int = 4
) -> AsyncGenerator[Batch, None]:
    """Run producers concurrently; yield their batches as they arrive (each producer's in order)."""
    queue: asyncio.Queue[Batch | None] = asyncio.Queue(maxsize=buffer)

    async def pump(producer: AsyncIterator[Batch]) -> None:
        try:
            async for batch in producer:
                await queue.put(batch)
        except asyncio.CancelledError:
            raise  # the consumer stopped: nobody waits for the end marker (the queue may be full)
        except BaseException:
            await queue.put(None)
            raise
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
