"""``highlevel_source``: the extract as a dlt source, one resource per stream.

```python
import dlt
from ghlsync.source import highlevel_source

pipeline = dlt.pipeline("highlevel", destination="duckdb", dataset_name="highlevel")
pipeline.run(highlevel_source(["loc1", "loc2"], tokens={"loc1": "pit-...", "loc2": "pit-..."}))
```

Each resource reads its stream for every location concurrently and keeps its bookmarks in
dlt's resource state (``bookmarks[location_id]``), which dlt commits with the load package: a
crash before the load leaves the previous bookmark, so nothing is skipped; the rerun re-reads,
and merging on ``(location_id, id)`` leaves no duplicates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from typing import Any

import dlt

from ghlsync.client import Limiter
from ghlsync.extract.config import ExtractConfig
from ghlsync.extract.engine import Batch, FieldKeys, ReadOptions, Report, guarded, merge
from ghlsync.extract.streams import DELETED, Stream, select


def _resource(
    stream: Stream,
    config: ExtractConfig,
    options: ReadOptions,
    report: Report,
    limiter: Limiter | None,
    keys: FieldKeys,
) -> Any:
    async def read() -> AsyncIterator[list[dict[str, Any]]]:
        state = dlt.current.resource_state()
        bookmarks: dict[str, Any] = state.setdefault("bookmarks", {})
        async with config.client(limiter) as client:
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
                for location_id in config.locations
            ]
            batch: Batch
            async for batch in merge(producers):
                if batch.records:
                    yield batch.records
                if batch.bookmark is not None:
                    bookmarks[batch.location_id] = batch.bookmark

    columns: dict[str, Any] = {"location_id": {"data_type": "text", "nullable": False}}
    if stream.full_table:
        columns[DELETED] = {"data_type": "bool", "hard_delete": True}
    return dlt.resource(
        read,
        name=stream.name,
        primary_key=list(stream.primary_key),
        write_disposition={"disposition": "merge", "strategy": "delete-insert"},
        columns=columns,
    )


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
) -> Any:
    """A dlt source reading HighLevel locations; see the module docstring.

    ``report`` (an ``engine.Report``) collects per location and stream results, skipped
    streams and failures: a failing location never stops the others and never raises.
    """
    if isinstance(locations, ExtractConfig):
        config = locations
    else:
        config = ExtractConfig(
            locations=list(locations),
            tokens=dict(tokens or {}),
            token=token,
            base_url=base_url,
            rate_limit=rate_limit,
        )
    if streams is not None:
        config.streams = list(streams)
    if start_date is not None:
        config.start_date = start_date
    if overlap is not None:
        config.overlap = overlap
    options = ReadOptions(
        overlap=config.overlap,
        start_date=config.start_date,
        full_refresh=full_refresh,
        page_size=config.page_size,
    )
    the_report = report if report is not None else Report()
    limiter = config.limiter()
    selected = select(config.streams)
    keys = FieldKeys(the_report)  # custom field definitions, read once per location for all streams

    @dlt.source(name="highlevel", max_table_nesting=max_table_nesting)
    def highlevel() -> Any:
        return [_resource(s, config, options, the_report, limiter, keys) for s in selected]

    return highlevel()
