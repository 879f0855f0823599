"""Sources for ``ghlsync push``, each streamed in batches of plain dicts (memory stays flat).

``open_source(uri, query=..., table=..., fmt=...)`` picks the reader:

| ``--from``                                   | reader                                   |
| -------------------------------------------- | ---------------------------------------- |
| ``people.csv`` (``.tsv``, ``.txt``)          | CSV: encoding and delimiter sniffed, BOM |
| ``people.jsonl`` (``.ndjson``, ``.json``)    | one JSON object a line                   |
| ``people.parquet``                           | Parquet, read by row group batches       |
| ``-``                                        | stdin, CSV or JSONL (sniffed, or --format)|
| ``warehouse.duckdb`` + ``--table``/``--query`` | DuckDB (e.g. a file ``ghlsync extract`` wrote) |
| ``sqlite:///app.db`` (or ``app.db``/``.sqlite``) + ``--table``/``--query`` | SQLite |
| ``postgresql://...`` + ``--query``/``--table`` | PostgreSQL, server-side cursor          |

A source is re-openable (``batches()`` starts over), except stdin, which is spooled to a
temporary file first when it must be read more than once.
"""

from __future__ import annotations

from ghlsync.push.readers.base import Row, Source, SourceRow
from ghlsync.push.readers.opening import open_source

__all__ = ["Row", "Source", "SourceRow", "open_source"]
