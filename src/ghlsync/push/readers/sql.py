"""Database readers: a query (or a table) against DuckDB, SQLite or PostgreSQL, in batches."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ghlsync.errors import ConfigError
from ghlsync.push.readers.base import DEFAULT_BATCH, SourceRow


def _rows(columns: list[str], fetch: Any, size: int) -> Iterator[list[SourceRow]]:
    number = 0
    while True:
        chunk = fetch(size)
        if not chunk:
            return
        batch = []
        for values in chunk:
            number += 1
            batch.append(SourceRow(number, dict(zip(columns, values, strict=True))))
        yield batch


class DuckDBSource:
    """A DuckDB database file (``ghlsync extract --to duckdb:///x.duckdb`` writes one)."""

    def __init__(self, path: Path, query: str) -> None:
        self.path = path
        self.query = query
        self.name = f"{path}"
        self._columns = self._describe()

    def _connect(self) -> Any:
        import duckdb

        try:
            return duckdb.connect(str(self.path), read_only=True)
        except duckdb.Error as exc:
            raise ConfigError(f"cannot open DuckDB file {self.path}: {_first_line(exc)}") from None

    def _describe(self) -> list[str]:
        import duckdb

        with self._connect() as con:
            try:
                relation = con.sql(self.query)
            except duckdb.Error as exc:
                raise ConfigError(
                    f"the query failed in DuckDB: {_first_line(exc)}", hint="check --query/--table"
                ) from None
            if relation is None:
                raise ConfigError("the query returns no rows", hint="use a SELECT")
            return list(relation.columns)

    @property
    def columns(self) -> list[str]:
        return list(self._columns)

    def batches(self, size: int = DEFAULT_BATCH) -> Iterator[list[SourceRow]]:
        with self._connect() as con:
            cursor = con.execute(self.query)
            yield from _rows(self._columns, cursor.fetchmany, size)


class SQLiteSource:
    def __init__(self, path: Path, query: str) -> None:
        self.path = path
        self.query = query
        self.name = f"{path}"
        try:
            with self._connect() as con:
                cursor = con.execute(self.query)
                self._columns = [d[0] for d in cursor.description or ()]
        except sqlite3.Error as exc:
            raise ConfigError(
                f"the query failed in SQLite: {_first_line(exc)}", hint="check --query/--table"
            ) from None

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)

    @property
    def columns(self) -> list[str]:
        return list(self._columns)

    def batches(self, size: int = DEFAULT_BATCH) -> Iterator[list[SourceRow]]:
        con = self._connect()
        try:
            cursor = con.execute(self.query)
            yield from _rows(self._columns, cursor.fetchmany, size)
        finally:
            con.close()


class PostgresSource:
    """PostgreSQL through a server-side (named) cursor, so rows stream rather than load."""

    def __init__(self, url: str, query: str) -> None:
        self.url = url
        self.query = query
        self.name = "postgresql"
        try:
            import psycopg
        except ImportError:
            raise ConfigError(
                "reading PostgreSQL needs psycopg", hint="pip install 'ghlsync[postgres]'"
            ) from None
        self._psycopg = psycopg
        try:
            with self._connect() as con, con.cursor() as cursor:
                cursor.execute(f"SELECT * FROM ({self.query}) AS q LIMIT 0")  # noqa: S608
                self._columns = [d.name for d in cursor.description or ()]
        except psycopg.Error as exc:
            raise ConfigError(
                f"the query failed in PostgreSQL: {_first_line(exc)}",
                hint="check --from and --query",
            ) from None

    def _connect(self) -> Any:
        try:
            return self._psycopg.connect(self.url)
        except self._psycopg.Error as exc:
            # the message may quote the URL: keep only its class and first line without it
            raise ConfigError(
                f"cannot connect to PostgreSQL ({type(exc).__name__})",
                hint="check the host, database and credentials in --from",
            ) from None

    @property
    def columns(self) -> list[str]:
        return list(self._columns)

    def batches(self, size: int = DEFAULT_BATCH) -> Iterator[list[SourceRow]]:
        with self._connect() as con, con.cursor(name="ghlsync_push") as cursor:
            cursor.itersize = size
            cursor.execute(self.query)
            yield from _rows(self._columns, cursor.fetchmany, size)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
