"""The ``--from`` dispatcher: which reader a URI or path gets (table in the package docstring)."""

from __future__ import annotations

import atexit
import re
import shutil
import sys
import tempfile
from pathlib import Path

from ghlsync.errors import ConfigError
from ghlsync.push.readers.base import Source
from ghlsync.push.readers.files import CsvSource, JsonlSource, ParquetSource
from ghlsync.push.readers.sql import DuckDBSource, PostgresSource, SQLiteSource

_SQL_SCHEMES = ("sqlite://", "postgresql://", "postgres://", "duckdb://")


def open_source(
    uri: str,
    *,
    query: str | None = None,
    table: str | None = None,
    fmt: str | None = None,
) -> Source:
    """The reader for ``--from uri`` (see the package docstring); ``ConfigError`` when it
    cannot be read (missing file, unknown format, a database without a query or table)."""
    if query and table:
        raise ConfigError("pass --query or --table, not both")
    lowered = uri.lower()
    if lowered.startswith(("postgresql://", "postgres://")):
        return PostgresSource(uri, _select(uri, query, table))
    if lowered.startswith("sqlite://"):
        return SQLiteSource(_path_of(uri, "sqlite://"), _select(uri, query, table))
    if lowered.startswith("duckdb://"):
        return DuckDBSource(_path_of(uri, "duckdb://"), _select(uri, query, table))
    if uri == "-":
        return _stdin(fmt)
    path = Path(uri)
    if not path.exists():
        raise ConfigError(f"source {uri} does not exist", hint="check the path given to --from")
    if path.is_dir():
        raise ConfigError(f"source {uri} is a directory", hint="give a file or a database URL")
    kind = (fmt or _kind_of(path)).lower()
    if kind in ("duckdb", "sqlite"):
        select = _select(uri, query, table)
        return DuckDBSource(path, select) if kind == "duckdb" else SQLiteSource(path, select)
    if query or table:
        raise ConfigError(
            f"--query/--table apply to databases, not to a {kind} file",
            hint="drop --query/--table, or point --from at a database",
        )
    if kind == "csv":
        return CsvSource(path)
    if kind == "jsonl":
        return JsonlSource(path)
    if kind == "parquet":
        return ParquetSource(path)
    raise ConfigError(
        f"cannot tell what kind of file {uri} is",
        hint="name it .csv/.jsonl/.parquet/.duckdb/.sqlite, or pass --format",
    )


def _kind_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv", ".txt"):
        return "csv"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if suffix in (".duckdb", ".ddb"):
        return "duckdb"
    if suffix in (".sqlite", ".sqlite3", ".db"):
        with path.open("rb") as handle:
            head = handle.read(16)
        return "sqlite" if head.startswith(b"SQLite format 3") else "duckdb"
    return "unknown"


def _path_of(uri: str, scheme: str) -> Path:
    """``sqlite:///app.db`` -> ``app.db``; ``sqlite:////abs/app.db`` -> ``/abs/app.db``."""
    rest = uri[len(scheme) :]
    path = Path(rest[1:] if rest.startswith("/") else rest)
    if not path.exists():
        raise ConfigError(f"database {path} does not exist", hint="check the path in --from")
    return path


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$")


def _select(uri: str, query: str | None, table: str | None) -> str:
    if query:
        return query
    if table:
        if not _IDENT.match(table):
            raise ConfigError(
                f"--table {table!r} is not a table name",
                hint="use schema.table, or --query for anything else",
            )
        return f"SELECT * FROM {table}"  # noqa: S608 - a checked identifier
    raise ConfigError(
        f"--from {_redact_url(uri)} is a database: say what to read",
        hint='add --table highlevel.contacts or --query "select ..."',
    )


def _redact_url(uri: str) -> str:
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", uri)


def _stdin(fmt: str | None) -> Source:
    """stdin spooled to a temporary file (so it can be sniffed and read once per location)."""
    spool = tempfile.NamedTemporaryFile(prefix="ghlsync-stdin-", delete=False)  # noqa: SIM115
    with spool:
        shutil.copyfileobj(sys.stdin.buffer, spool)
    path = Path(spool.name)
    atexit.register(path.unlink, missing_ok=True)
    kind = (fmt or "").lower()
    if not kind:
        with path.open("rb") as handle:
            head = handle.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
        kind = "jsonl" if head.startswith(b"{") else "csv"
    source: Source = JsonlSource(path) if kind == "jsonl" else CsvSource(path)
    source.name = "stdin"
    return source
