"""``highlevel_source``: the extract as a dlt source, one resource per stream.

```python
import dlt
from ghlsync.source import highlevel_source

pipeline = dlt.pipeline("highlevel", destination="duckdb", dataset_name="highlevel")
pipeline.run(highlevel_source(["loc1", "loc2"], tokens={"loc1": "pit-...", "loc2": "pit-..."}))
```

Each resource yields one Arrow table per page (``ghlsync.extract.arrow``): typed columns, lists
and nested objects as JSON columns, loaded without dlt's per-record normaliser. With
``arrow=False`` it yields the records as dicts instead, and dlt's normaliser unpacks lists into
child tables (``contacts__tags``, ``pipelines__stages``) at several times the cost.

Each resource reads its stream for every location concurrently and keeps its bookmarks in
dlt's resource state (``bookmarks[location_id]``), which dlt commits with the load package: a
crash before the load leaves the previous bookmark, so nothing is skipped; the rerun re-reads,
and merging on ``(location_id, id)`` leaves no duplicates.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

import dlt

from ghlsync.client.session import RunSession, open_session
from ghlsync.config import Settings
from ghlsync.extract.arrow import Columns
from ghlsync.extract.config import DEFAULT_OVERLAP, ExtractConfig
from ghlsync.extract.engine import Batch, FieldKeys, ReadOptions, Report, guarded, merge
from ghlsync.extract.routing import Item, Router, items, shaper_for
from ghlsync.extract.streams import DELETED, Stream, select


def _resource(
    stream: Stream,
    session: RunSession,
    location_ids: Sequence[str],
    options: ReadOptions,
    report: Report,
    keys: FieldKeys,
    arrow: bool,
) -> Any:
    async def read() -> AsyncIterator[Any]:
        state = dlt.current.resource_state()
        bookmarks: dict[str, Any] = state.setdefault("bookmarks", {})
        stored = dlt.current.source_schema().tables
        router = None
        if stream.table_of is not None:
            router = Router(stream, state.setdefault("tables", []), stored, arrow)
        shaper = shaper_for(stream, stored) if arrow and router is None else None
        async with session.new_client() as client:  # on dlt's loop; the run's limiter
            producers = [
                guarded(
                    client,
                    stream,
                    location_id,
                    None if options.full_refresh else bookmarks.get(location_id),
                    options,
                    keys,
                    report,
                )
                for location_id in location_ids
            ]
            batch: Batch
            pending: list[dict[str, Any]] = []
            # The bookmarks of the records in ``pending``: they join the resource state only
            # once dlt has taken the item holding those records and asked for the next (the
            # code after a ``yield`` runs only then). dlt commits the state with the load
            # package, so a resource closed early (``add_limit``, an error) never leaves a
            # bookmark past the records it loaded.
            staged: dict[str, Any] = {}
            async for batch in merge(producers):
                if router is None and shaper is None:
                    if batch.records:
                        yield batch.records
                    if batch.bookmark is not None:
                        bookmarks[batch.location_id] = batch.bookmark
                    continue
                pending.extend(batch.records)
                if batch.bookmark is not None:
                    staged[batch.location_id] = batch.bookmark
                if len(pending) >= ARROW_ROWS:
                    for item in items(stream, router, shaper, pending):
                        yield hinted(stream, item)
                    pending = []
                    bookmarks.update(staged)
                    staged = {}
            for item in items(stream, router, shaper, pending):
                yield hinted(stream, item)
            bookmarks.update(staged)

    return dlt.resource(
        read,
        name=stream.name,
        primary_key=list(stream.primary_key),
        write_disposition=_DISPOSITION,
        columns=_columns(stream),
    )


_DISPOSITION: Any = {"disposition": "merge", "strategy": "delete-insert"}


def _columns(stream: Stream) -> dict[str, Any]:
    """Every table has the same bookkeeping columns; tombstones (full-table streams) delete."""
    return {
        "location_id": {"data_type": "text", "nullable": False},
        DELETED: {"data_type": "bool", "hard_delete": True},
    }


def hinted(stream: Stream, item: Item) -> Any:
    """``item`` as dlt takes it: a custom object's table as a table variant with the stream's
    hints; a stream's own table with the JSON columns dlt has not been told about. Arrow
    ``Columns`` become a pyarrow table (no copy)."""
    data = item.data.to_arrow() if isinstance(item.data, Columns) else item.data
    if item.routed:
        columns: list[Any] = [{"name": name, **hint} for name, hint in _columns(stream).items()]
        columns += [{"name": n, "data_type": "json"} for n in item.new_json]
        hints = dlt.mark.make_hints(
            table_name=item.table,
            primary_key=list(stream.primary_key),
            write_disposition=_DISPOSITION,
            columns=columns,
        )
        return dlt.mark.with_hints(data, hints, create_table_variant=True)
    if not item.new_json:
        return data
    hints = dlt.mark.make_hints(columns=[{"name": n, "data_type": "json"} for n in item.new_json])
    return dlt.mark.with_hints(data, hints)


class _QuietArrowHints(logging.Filter):
    """Drop dlt's warning that an Arrow text column carries a ``json`` hint: that is how this
    source declares JSON columns (Arrow has no JSON type), not a mismatch to act on."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "when merging arrow schema with dlt schema" not in record.getMessage()


logging.getLogger("dlt").addFilter(_QuietArrowHints())

#: rows per Arrow table handed to dlt: dlt's cost per item is high, so pages are gathered
ARROW_ROWS = 10_000


def highlevel_source(
    locations: Sequence[str] | ExtractConfig,
    *,
    tokens: dict[str, str] | None = None,
    token: str | None = None,
    base_url: str | None = None,
    streams: Sequence[str] | None = None,
    start_date: str | None = None,
    overlap: dt.timedelta | None = None,
    full_refresh: bool = False,
    rate_limit: bool = True,
    report: Report | None = None,
    max_table_nesting: int = 1,
    arrow: bool = True,
    session: RunSession | None = None,
) -> Any:
    """A dlt source reading HighLevel locations; see the module docstring.

    ``report`` (an ``engine.Report``) collects per location and stream results, skipped
    streams and failures: a failing location never stops the others and never raises.
    ``arrow`` picks Arrow tables (default, fast) or dicts with dlt's child tables.
    ``session``: the run session (``ghlsync.client.session.open_session``) built from the
    config's connection; by default one is built from ``Settings.from_env()``. With an agency
    config (``installed``), the locations are found here, once (not inside a running loop).
    """
    if isinstance(locations, ExtractConfig):
        config = locations
        changes = {"streams": streams, "start_date": start_date, "overlap": overlap}
        given = {key: value for key, value in changes.items() if value is not None}
        if given:
            config = config.replace(**given)
    else:
        config = ExtractConfig.of(
            list(locations),
            tokens=tokens,
            token=token,
            base_url=base_url,
            rate_limit=rate_limit,
            streams=streams,
            start_date=start_date,
            overlap=overlap or DEFAULT_OVERLAP,
        )
    if session is None:
        session = open_session(Settings.from_env(), config.connection)
    location_ids = config.locations
    if config.installed:
        import asyncio

        location_ids = asyncio.run(session.locations(location_ids))
    options = ReadOptions(
        overlap=config.overlap,
        start_date=config.start_date,
        full_refresh=full_refresh,
        page_size=config.page_size,
    )
    the_report = report if report is not None else Report()
    selected = select(config.streams)
    keys = FieldKeys(the_report)  # custom field definitions, read once per location for all streams
    run = session

    @dlt.source(name="highlevel", max_table_nesting=max_table_nesting)
    def highlevel() -> Any:
        return [_resource(s, run, location_ids, options, the_report, keys, arrow) for s in selected]

    return highlevel()
