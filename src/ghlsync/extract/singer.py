"""The Singer tap: SCHEMA, RECORD and STATE messages as JSON lines, written here directly.

``discover()`` returns the catalog (every stream, ``selected`` = enabled by default).
``run_tap`` reads the selected streams of every location concurrently (one event loop) and
writes a STATE message after each batch, once the batch's records are written, so a target that
commits on STATE never holds a bookmark past its data. State::

    {"bookmarks": {"contacts": {"<location id>": {"cursor": "2026-..."}},
                   "opportunities": {"<location id>": {"ids": [...]}}},
     "tables": {"custom_object_records": ["object_pet", ...]}}

``custom_object_records`` writes one Singer stream per custom object (``object_pet``), each
announced by its SCHEMA message before its first RECORD; its bookmark stays the stream's.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import IO, Any

from ghlsync.client.session import RunSession, open_session
from ghlsync.config import Settings
from ghlsync.extract.config import ExtractConfig
from ghlsync.extract.engine import FieldKeys, ReadOptions, Report, guarded, merge
from ghlsync.extract.streams import STREAMS, Stream, select


def catalog_entry(stream: Stream) -> dict[str, Any]:
    return {
        "tap_stream_id": stream.name,
        "stream": stream.name,
        "schema": stream.json_schema,
        "key_properties": list(stream.primary_key),
        "metadata": [
            {
                "breadcrumb": [],
                "metadata": {
                    "selected": stream.default_enabled,
                    "table-key-properties": list(stream.primary_key),
                    "forced-replication-method": "INCREMENTAL"
                    if stream.mode == "incremental"
                    else "FULL_TABLE",
                    "valid-replication-keys": [stream.cursor_field] if stream.cursor_field else [],
                    "ghlsync-required-scope": stream.scope,
                },
            }
        ],
    }


def discover() -> dict[str, Any]:
    return {"streams": [catalog_entry(s) for s in STREAMS.values()]}


def selected_streams(
    catalog: Mapping[str, Any] | None, configured: Sequence[str] | None = None
) -> list[Stream]:
    """Streams the catalog selects (root breadcrumb ``selected``); no catalog: the config's
    ``streams``, else the defaults."""
    if catalog is None:
        return select(tuple(configured) if configured is not None else None)
    names = []
    for entry in catalog.get("streams", []):
        for item in entry.get("metadata", []):
            if item.get("breadcrumb") == [] and item.get("metadata", {}).get("selected"):
                names.append(entry.get("tap_stream_id") or entry.get("stream"))
    return select([n for n in names if n in STREAMS]) if names else []


def _line(out: IO[str], message: Mapping[str, Any]) -> None:
    out.write(json.dumps(message, separators=(",", ":"), default=str) + "\n")


def _schema(out: IO[str], stream: Stream, table: str) -> None:
    _line(
        out,
        {
            "type": "SCHEMA",
            "stream": table,
            "schema": stream.json_schema,
            "key_properties": list(stream.primary_key),
            "bookmark_properties": [stream.cursor_field] if stream.cursor_field else [],
        },
    )


def _targets(
    out: IO[str], stream: Stream, record: Mapping[str, Any], tables: dict[str, list[str]]
) -> list[str]:
    """The Singer streams a record goes to: its stream, or, for a ``table_of`` stream, its
    table (announced with a SCHEMA message the first time); a tombstone goes to every table
    of the stream (deleting an absent id is a no-op)."""
    if stream.table_of is None:
        return [stream.name]
    known = tables.setdefault(stream.name, [])
    table = stream.table_of(record)
    if table is None:
        return list(known)
    if table not in known:
        known.append(table)
        _schema(out, stream, table)
    return [table]


async def run_tap(
    config: ExtractConfig,
    out: IO[str],
    *,
    catalog: Mapping[str, Any] | None = None,
    state: Mapping[str, Any] | None = None,
    report: Report | None = None,
    session: RunSession | None = None,
) -> Report:
    """Write the Singer messages for the selected streams to ``out``; return the report.

    ``session``: the run session of ``config.connection``; by default one from
    ``Settings.from_env()``, closed at the end."""
    if session is None:
        async with open_session(Settings.from_env(), config.connection) as own:
            return await run_tap(
                config, out, catalog=catalog, state=state, report=report, session=own
            )
    streams = selected_streams(catalog, config.streams)
    the_report = report if report is not None else Report()
    bookmarks: dict[str, dict[str, Any]] = {
        name: dict(value) for name, value in dict((state or {}).get("bookmarks", {})).items()
    }
    #: tables of the ``table_of`` streams (one per custom object), announced as they appear
    tables: dict[str, list[str]] = {
        name: list(value) for name, value in dict((state or {}).get("tables", {})).items()
    }
    by_name = {stream.name: stream for stream in streams}
    for stream in streams:
        if stream.table_of is None:
            _schema(out, stream, stream.name)
        else:
            for table in tables.get(stream.name, []):
                _schema(out, stream, table)
    options = ReadOptions(
        overlap=config.overlap, start_date=config.start_date, page_size=config.page_size
    )
    keys = FieldKeys(the_report)
    location_ids = await session.locations(config.locations)  # agency: where it is installed
    async with session.new_client() as client:
        producers = [
            guarded(
                client,
                stream,
                location_id,
                bookmarks.get(stream.name, {}).get(location_id),
                options,
                keys,
                the_report,
            )
            for location_id in location_ids
            for stream in streams
        ]
        async for batch in merge(producers):
            extracted = dt.datetime.now(dt.UTC).isoformat()
            stream = by_name[batch.stream]
            for record in batch.records:
                for target in _targets(out, stream, record, tables):
                    _line(
                        out,
                        {
                            "type": "RECORD",
                            "stream": target,
                            "record": record,
                            "time_extracted": extracted,
                        },
                    )
            if batch.bookmark is not None:
                bookmarks.setdefault(batch.stream, {})[batch.location_id] = batch.bookmark
                value: dict[str, Any] = {"bookmarks": bookmarks}
                if tables:
                    value["tables"] = tables
                _line(out, {"type": "STATE", "value": value})
    out.flush()
    return the_report


def tap(
    config: ExtractConfig,
    out: IO[str],
    *,
    catalog: Mapping[str, Any] | None = None,
    state: Mapping[str, Any] | None = None,
    session: RunSession | None = None,
) -> Report:
    """Blocking ``run_tap``."""
    return asyncio.run(run_tap(config, out, catalog=catalog, state=state, session=session))
