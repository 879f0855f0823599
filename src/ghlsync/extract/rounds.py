"""Reading and loading overlapped: a run's rows reach dlt in packages while reading goes on.

``Feed`` reads every selected stream of every location in a thread of its own (one event loop,
the engine's producers merged as in the Singer tap) and shapes their pages into Arrow tables
(``source``'s shapers). ``run_extract`` takes a *round* from it whenever it has loaded the
previous one: ``PACKAGE_ROWS`` rows (what is left at the end; fewer when reading is slow, see
``EARLY_ROWS``), with each stream's bookmarks as far as those rows reach. The thread starts before
dlt is imported: its first request (the custom field definitions) goes out while the run opens
the pipeline, and it reads the streams once ``Feed.begin`` hands it the bookmarks. Each round is one dlt package (extract, normalize, load) whose resource
state carries those bookmarks, so:

- a crash never leaves a bookmark past loaded rows (a round's bookmarks are committed with its
  rows, never before; a killed round is recovered or read again by the next run);
- memory is bounded by a round and the chunks read ahead (``AHEAD_CHUNKS``), not by the size of
  a location: rows go to dlt as Arrow tables and are dropped once the round is loaded;
- the run ends one round's load after its last page, not a whole load later.

A round's resources are the streams' own (same names, hints and state), yielding what the feed
gathered, so the tables, columns and bookmarks are those ``highlevel_source`` makes.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ghlsync.client.session import RunSession
from ghlsync.extract.engine import Batch, FieldKeys, ReadOptions, Report, guarded, merge
from ghlsync.extract.failures import ExtractFailed
from ghlsync.extract.streams import Stream

if TYPE_CHECKING:
    from ghlsync.extract.arrow import TableShaper
    from ghlsync.extract.routing import Item, Router

__all__ = ["PACKAGE_ROWS", "Feed", "Part", "round_source"]

#: rows per dlt package: large enough that dlt's cost per package stays small, small enough
#: that a package's Arrow tables and dlt's load of them stay well under 100 MiB (the DuckDB
#: loader's rounds are smaller: ``duckdb_sink.ROUND_ROWS``)
PACKAGE_ROWS = 20_000
#: a round that has gathered ``EARLY_ROWS`` rows is loaded after ``ROUND_WAIT_S`` seconds
#: even if smaller than ``PACKAGE_ROWS``: when reading is slow (HighLevel's rate limit) the
#: rounds are smaller, their bookmarks committed sooner, and the last one loads quickly (at
#: 100 requests / 10 s a round holds about a second of pages: ~5,000 contacts)
EARLY_ROWS = 2_000
ROUND_WAIT_S = 1.0
#: rows per Arrow table: a few pages (dlt's cost per item is small next to its cost per
#: package, and smaller tables keep the records held as Python objects few)
CHUNK_ROWS = 2_000
#: shaped chunks read ahead while a round loads
AHEAD_CHUNKS = 4


@dataclass
class Part:
    """One stream's share of a round: its Arrow items and the bookmarks they make safe."""

    items: list[Item] = field(default_factory=list)
    bookmarks: dict[str, Any] = field(default_factory=dict)
    #: a ``table_of`` stream's tables so far (its resource state's ``tables``)
    tables: list[str] | None = None
    rows: int = 0


@dataclass
class _Chunk:
    stream: str
    items: list[Item]
    bookmarks: dict[str, Any]
    tables: list[str] | None
    rows: int


@dataclass
class _Stream:
    """What the reader keeps per stream: records not yet shaped and their bookmarks."""

    stream: Stream
    shaper: TableShaper | None
    router: Router | None
    pending: list[dict[str, Any]] = field(default_factory=list)
    staged: dict[str, Any] = field(default_factory=dict)


_DONE = object()
#: how long ``close`` waits for the reader to stop
CLOSE_WAIT_S = 10.0


class Feed:
    """Reads in a background thread; ``next_round`` hands the rows over a round at a time."""

    def __init__(
        self,
        streams: Sequence[Stream],
        location_ids: Sequence[str],
        options: ReadOptions,
        report: Report,
        session: RunSession,
    ) -> None:
        self.streams = list(streams)
        self.location_ids = list(location_ids)
        self.options = options
        self.report = report
        self.session = session
        self.state: Mapping[str, Any] = {}
        self.stored: Mapping[str, Any] = {}
        self._begun = threading.Event()
        #: set once the first answers (custom field definitions) are in, or reading ended
        self._primed = threading.Event()
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=AHEAD_CHUNKS)
        self._stop = threading.Event()
        self._done = False
        self._rounds = 0
        self._thread = threading.Thread(target=self._main, name="ghlsync-read", daemon=True)

    def start(self) -> Feed:
        """Start the thread: it reads what needs no bookmark (the locations' custom field
        definitions) while the run imports dlt and opens the pipeline, then waits for
        ``begin``."""
        self._thread.start()
        return self

    def wait_primed(self, timeout: float = 0.5) -> None:
        """Wait (up to ``timeout`` s) until the first requests are answered: the run imports
        and opens its destination after them, not while they are being sent (both need the
        interpreter: the first request went out ~0.2 s later)."""
        self._primed.wait(timeout)

    def begin(self, state: Mapping[str, Any], stored: Mapping[str, Any]) -> None:
        """Read the streams from here: ``state``, the source's resource states (``bookmarks``
        and ``tables`` per stream); ``stored``, the stored schema's tables (the columns' types
        of earlier runs)."""
        self.state, self.stored = state, stored
        self._begun.set()

    def close(self) -> None:
        """Stop reading (done, or after an error elsewhere) and wait for the thread."""
        self._stop.set()
        self._begun.set()
        self._primed.set()
        # the reader stops after its current request; one that HighLevel leaves unanswered
        # (an outage being waited out) is not waited for longer than this: the thread is a
        # daemon and its client is closed with the session
        deadline = time.monotonic() + CLOSE_WAIT_S
        while self._thread.is_alive() and time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                self._queue.get(timeout=0.05)

    @property
    def idle(self) -> bool:
        """Whether nothing read waits to be handed over: a round loaded now would wait for the
        reader anyway (it is paced by the rate limit or by HighLevel)."""
        return self._queue.empty()

    def next_round(self, rows: int | None = None) -> dict[str, Part] | None:
        """At least ``rows`` rows (``PACKAGE_ROWS``; fewer at the end) by stream; None once all
        were handed out.

        The first round is always given (possibly empty): every stream's resource runs once.
        A failure of the reading itself (a bug: locations' failures are in the report) is
        raised here."""
        rows = rows or PACKAGE_ROWS
        parts: dict[str, Part] = {}
        total = 0
        started = time.monotonic()
        while total < rows and not self._done:
            if total >= EARLY_ROWS and time.monotonic() - started > ROUND_WAIT_S:
                break  # reading is slow (a rate limit): load what there is
            try:
                item = self._queue.get(timeout=0.25)
            except queue.Empty:
                continue
            if item is _DONE:
                self._done = True
                break
            if isinstance(item, BaseException):
                self._done = True
                text = str(item).strip().splitlines()[0] if str(item).strip() else ""
                raise ExtractFailed(
                    f"extract failed: {type(item).__name__}: {text[:300]}",
                    hint="what was loaded stays, with its bookmarks; rerun, or report it",
                ) from item
            assert isinstance(item, _Chunk)
            part = parts.setdefault(item.stream, Part())
            part.items.extend(item.items)
            part.bookmarks.update(item.bookmarks)
            if item.tables is not None:
                part.tables = item.tables
            part.rows += item.rows
            total += item.rows
        if not parts and self._rounds > 0:
            return None
        self._rounds += 1
        return parts

    # the reading thread

    def _main(self) -> None:
        try:
            asyncio.run(self._read())
        except BaseException as error:  # handed to the run, raised by next_round
            self._primed.set()
            self._put(error)
            return
        self._primed.set()
        self._put(_DONE)

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    async def _read(self) -> None:
        keys = FieldKeys(self.report)  # custom field definitions, read once per location
        async with self.session.new_client() as client:  # the run's limiter
            if any(s.custom_fields or s.name == "custom_fields" for s in self.streams):
                await asyncio.gather(*(keys.prefetch(client, loc) for loc in self.location_ids))
            self._primed.set()
            # the shapers' imports (pyarrow) while the run opens its destination, not after
            import ghlsync.extract.routing  # noqa: F401

            await asyncio.to_thread(self._begun.wait)
            if not self._stop.is_set():
                await self._read_streams(client, keys)

    async def _read_streams(self, client: Any, keys: FieldKeys) -> None:
        from ghlsync.extract.routing import Router, shaper_for

        per: dict[str, _Stream] = {}
        for stream in self.streams:
            own = self.state.get(stream.name) or {}
            router = None
            shaper = None
            if stream.table_of is not None:
                router = Router(stream, list(own.get("tables") or []), self.stored)
            else:
                shaper = shaper_for(stream, self.stored)
            per[stream.name] = _Stream(stream, shaper, router)
        producers = [
            guarded(
                client,
                stream,
                location_id,
                (self.state.get(stream.name) or {}).get("bookmarks", {}).get(location_id),
                self.options,
                keys,
                self.report,
            )
            for stream in self.streams
            for location_id in self.location_ids
        ]
        batch: Batch
        async with contextlib.aclosing(merge(producers)) as batches:
            async for batch in batches:
                if self._stop.is_set():
                    return
                held = per[batch.stream]
                held.pending.extend(batch.records)
                if batch.bookmark is not None:
                    held.staged[batch.location_id] = batch.bookmark
                if len(held.pending) >= CHUNK_ROWS and not await self._flush(held):
                    return
        for held in per.values():
            if not await self._flush(held):
                return

    async def _flush(self, held: _Stream) -> bool:
        """Shape what ``held`` has pending into a chunk and hand it over (False: stopped)."""
        from ghlsync.extract.routing import items as items_of

        if not held.pending and not held.staged:
            return True
        items = items_of(held.stream, held.router, held.shaper, held.pending)
        tables = list(held.router.tables) if held.router is not None else None
        chunk = _Chunk(held.stream.name, items, held.staged, tables, len(held.pending))
        held.pending, held.staged = [], {}
        return await asyncio.to_thread(self._put, chunk)


def round_source(streams: Sequence[Stream], parts: Mapping[str, Part]) -> Any:
    """A round as a dlt source: the streams' resources (names, hints and state as
    ``highlevel_source``'s), each yielding its part and then advancing its bookmarks."""
    import dlt

    @dlt.source(name="highlevel", max_table_nesting=1)
    def highlevel() -> Any:
        return [_resource(stream, parts.get(stream.name)) for stream in streams]

    return highlevel()


def _resource(stream: Stream, part: Part | None) -> Any:
    import dlt

    from ghlsync.extract.source import _DISPOSITION, _columns, hinted

    def rows() -> Any:
        state = dlt.current.resource_state()
        bookmarks: dict[str, Any] = state.setdefault("bookmarks", {})
        if part is None:
            return
        if part.tables is not None:
            state["tables"] = list(part.tables)
        for item in part.items:
            yield hinted(stream, item)
        # after dlt took every item: the bookmarks join the state committed with them
        bookmarks.update(part.bookmarks)

    return dlt.resource(
        rows,
        name=stream.name,
        primary_key=list(stream.primary_key),
        write_disposition=_DISPOSITION,
        columns=_columns(stream),
    )
