"""``ghlsync sql``: one query against the warehouse an extract wrote (DuckDB)."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import typer

EXIT_BAD_INPUT = 2


def sql_command(
    statement: str = typer.Argument(..., help='SQL, e.g. "SELECT count(*) FROM contacts".'),
    database: Path = typer.Option(  # noqa: B008
        Path("ghlsync.duckdb"), "--database", "-d", help="The DuckDB file `ghlsync extract` wrote."
    ),
    dataset: str = typer.Option(
        "highlevel", "--dataset", help="Schema that unqualified table names resolve in."
    ),
    limit: int = typer.Option(100, "--limit", min=1, help="Rows printed at most."),
    output: str = typer.Option("table", "--format", help="table, json or csv."),
) -> None:
    """Query the warehouse, read-only; tables resolve in the extract's schema.

    Example: ghlsync sql -d ghlsync-quickstart.duckdb "SELECT source, count(*) FROM contacts
    GROUP BY 1 ORDER BY 2 DESC"

    Exit codes: 0 ok, 2 bad input (no such file, a query DuckDB refuses).
    """
    from ghlsync.errors import ConfigError
    from ghlsync.extract.warehouse import query

    if output not in ("table", "json", "csv"):
        typer.echo(f"error: unknown --format {output!r}. Hint: use table, json or csv", err=True)
        raise typer.Exit(EXIT_BAD_INPUT)
    try:
        result = query(database, statement, dataset=dataset, limit=limit)
    except ConfigError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    if output == "json":
        rows = [dict(zip(result.columns, row, strict=True)) for row in result.rows]
        typer.echo(json.dumps(rows, indent=2, default=str))
    elif output == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(result.columns)
        writer.writerows(result.rows)
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(*result.columns)
        for row in result.rows:
            table.add_row(*("" if v is None else str(v) for v in row))
        Console(width=None if sys.stdout.isatty() else 160).print(table)
    if len(result.rows) == limit:
        typer.echo(f"(the first {limit} rows; --limit for more)", err=True)


def register(app: typer.Typer) -> None:
    app.command("sql")(sql_command)
