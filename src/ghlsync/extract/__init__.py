"""ghlsync.extract: HighLevel into a warehouse (dlt source, Singer tap, CLI); see docs/extract.md.

    streams.py    the stream registry (STREAMS): key, endpoint, paginator, mode, scope, schema
    state.py      bookmark arithmetic (pure)
    shape.py      records: location_id, custom fields readable by key (pure)
    engine.py     async reading per stream and location, the Report, concurrent merge
    limits.py     a safety margin on the server's rate window
    config.py     ExtractConfig (locations, tokens, base URL, options)
    arrow.py      records -> Arrow tables of stable column types (naming.py: dlt's names)
    routing.py    records -> loadable items: a table per stream or custom object
    source.py     highlevel_source: the dlt source
    rounds.py     reading in a thread, handed to the run a round at a time
    duckdb_sink.py a round into a DuckDB file: rows, bookmarks, load record in one transaction
    run.py        run_extract: --to URL -> ghlsync's DuckDB load, or a dlt pipeline
    singer.py     the Singer tap
    quickstart.py the demo: emulator -> DuckDB -> three queries

``highlevel_source`` imports dlt, as does ``run_extract`` for any destination but a DuckDB
file; they load on first use.
"""

from __future__ import annotations

from typing import Any

from ghlsync.extract.config import ExtractConfig
from ghlsync.extract.engine import Report
from ghlsync.extract.streams import STREAMS, Stream

__all__ = ["STREAMS", "ExtractConfig", "Report", "Stream", "highlevel_source", "run_extract"]


def __getattr__(name: str) -> Any:
    if name == "highlevel_source":
        from ghlsync.extract.source import highlevel_source

        return highlevel_source
    if name == "run_extract":
        from ghlsync.extract.run import run_extract

        return run_extract
    raise AttributeError(name)
