"""Read what an extract wrote: one SQL query against a DuckDB warehouse, read-only.

```python
from ghlsync.extract.warehouse import query

result = query("ghlsync.duckdb", "SELECT source, count(*) FROM contacts GROUP BY 1")
print(result.columns, result.rows)
```
Unqualified table names resolve in the extract's dataset (``highlevel`` by default), so
``contacts`` means ``highlevel.contacts``. The file is opened read-only: a query never changes
the warehouse and may run while nothing else writes to it.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ghlsync.errors import ConfigError


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]


def query(
    database: str | Path, sql: str, *, dataset: str = "highlevel", limit: int | None = None
) -> QueryResult:
    """Run ``sql`` on the DuckDB file ``database``; at most ``limit`` rows come back.

    Raises ``ConfigError`` (one line, with a hint) for a missing file, a file DuckDB cannot
    open, or a query DuckDB refuses.
    """
    import duckdb

    path = Path(database)
    if not path.is_file():
        raise ConfigError(
            f"no DuckDB file at {path}",
            hint="run `ghlsync extract` (or `ghlsync quickstart`) first, or pass --database",
        )
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as error:
        raise ConfigError(
            f"cannot open {path}: {_first_line(error)}",
            hint="is it a DuckDB file, and is no extract writing to it right now?",
        ) from None
    try:
        schemas = {
            row[0] for row in con.execute("SELECT schema_name FROM duckdb_schemas()").fetchall()
        }
        if dataset not in schemas:
            from ghlsync.extract.naming import snake_case

            with contextlib.suppress(ValueError):  # as the extract names it: "My Data" -> my_data
                dataset = snake_case(dataset)
        if dataset in schemas:
            con.execute(f"SET schema = '{dataset.replace(chr(39), chr(39) * 2)}'")
        cursor = con.execute(sql)
        if not cursor.description:  # a statement without a result (SET ...)
            return QueryResult([], [])
        columns = [str(item[0]) for item in cursor.description]
        rows = cursor.fetchmany(limit) if limit is not None else cursor.fetchall()
        return QueryResult(columns, rows)
    except duckdb.Error as error:
        raise ConfigError(
            f"the query failed: {_first_line(error)}",
            hint=f"tables are in schema {dataset!r}: try `SHOW TABLES`",
        ) from None
    finally:
        con.close()


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
