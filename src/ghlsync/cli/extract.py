"""``ghlsync extract``, ``ghlsync tap`` and ``ghlsync quickstart``: thin over ``ghlsync.extract``."""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path
from typing import Any

import typer

from ghlsync.errors import GHLSyncError


def _config(
    config: Path | None,
    locations: list[str],
    token: str | None,
    base_url: str | None,
    streams: list[str],
    start_date: str | None,
    overlap_seconds: float | None,
    no_rate_limit: bool,
) -> Any:
    from ghlsync.extract.config import ExtractConfig

    data: dict[str, Any] = json.loads(config.read_text()) if config else {}
    if locations:
        data["locations"] = locations
    for key, value in (("token", token), ("base_url", base_url), ("start_date", start_date)):
        if value:
            data[key] = value
    if streams:
        data["streams"] = streams
    if overlap_seconds is not None:
        data["overlap_seconds"] = overlap_seconds
    if no_rate_limit:
        data["rate_limit"] = False
    return ExtractConfig.from_mapping(data)


def _summary(result: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True)
    table = Table(title=f"ghlsync extract -> {result.destination} ({result.seconds:.1f} s)")
    for column in ("location", "stream", "status", "records", "deleted", "pages", "s", "note"):
        table.add_column(column, overflow="fold")
    for row in result.report.to_dict()["results"]:
        style = {"failed": "red", "skipped": "yellow"}.get(row["status"], "")
        table.add_row(
            row["location_id"],
            row["stream"],
            f"[{style}]{row['status']}[/]" if style else row["status"],
            str(row["records"]),
            str(row["deleted"]),
            str(row["pages"]),
            f"{row['seconds']:.2f}",
            row["message"][:80],
            style=None,
        )
    console.print(table)
    for warning in result.report.warnings:
        console.print(f"[yellow]warning:[/] {warning}")
    if result.report.failed_locations:
        console.print(f"[red]failed locations:[/] {', '.join(result.report.failed_locations)}")


def _progress_report(enabled: bool) -> tuple[Any, Any]:
    """A Report whose changes drive a rich progress display (per location and stream)."""
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from ghlsync.extract.engine import Report, StreamResult

    report = Report()
    if not enabled:
        return report, None
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.fields[records]} records, {task.fields[pages]} pages"),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        transient=True,
        console=Console(stderr=True),
    )
    tasks: dict[tuple[str, str], Any] = {}
    lock = threading.Lock()

    def changed(result: StreamResult) -> None:
        with lock:
            key = (result.location_id, result.stream)
            if key not in tasks:
                tasks[key] = progress.add_task(
                    f"{result.location_id} {result.stream}",
                    total=None,
                    records=0,
                    pages=0,
                    status="",
                )
            progress.update(
                tasks[key], records=result.records, pages=result.pages, status=result.status
            )

    report.on_change = changed
    return report, progress


def extract_command(
    to: str = typer.Option(
        "duckdb:///ghlsync.duckdb", "--to", help="duckdb:///file, postgres://..., parquet:///dir"
    ),
    config: Path | None = typer.Option(  # noqa: B008
        None, "--config", "-c", help="JSON config (same as the tap's)."
    ),
    location: list[str] = typer.Option([], "--location", "-l", help="Location id (repeat)."),  # noqa: B008
    token: str | None = typer.Option(None, "--token", envvar="GHL_TOKEN", help="Default token."),
    base_url: str | None = typer.Option(None, "--base-url", envvar="GHL_BASE_URL"),
    stream: list[str] = typer.Option([], "--stream", "-s", help="Stream to extract (repeat)."),  # noqa: B008
    dataset: str = typer.Option("highlevel", "--dataset", help="Schema / dataset name."),
    full_refresh: bool = typer.Option(
        False, "--full-refresh", help="Drop tables and bookmarks, reload."
    ),
    start_date: str | None = typer.Option(None, "--start-date", help="ISO date: nothing older."),
    overlap_seconds: float | None = typer.Option(
        None, "--overlap-seconds", help="Re-read window (default 300)."
    ),
    pipelines_dir: str | None = typer.Option(None, "--pipelines-dir", help="dlt working dir."),
    no_rate_limit: bool = typer.Option(
        False, "--no-rate-limit", help="Only for unlimited servers."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON on stdout."),
) -> None:
    """Extract HighLevel locations into a warehouse, incrementally (per-location bookmarks)."""
    from ghlsync.extract.run import run_extract

    try:
        cfg = _config(
            config, location, token, base_url, stream, start_date, overlap_seconds, no_rate_limit
        )
        report, progress = _progress_report(not as_json and sys.stderr.isatty())
        if progress is not None:
            with progress:
                result = run_extract(
                    cfg,
                    to=to,
                    dataset=dataset,
                    full_refresh=full_refresh,
                    pipelines_dir=pipelines_dir,
                    report=report,
                )
        else:
            result = run_extract(
                cfg,
                to=to,
                dataset=dataset,
                full_refresh=full_refresh,
                pipelines_dir=pipelines_dir,
                report=report,
            )
    except GHLSyncError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
    else:
        _summary(result)
    if not result.ok:
        raise typer.Exit(1)


def tap_command(
    config: Path = typer.Option(..., "--config", "-c", help="Tap config JSON."),  # noqa: B008
    discover: bool = typer.Option(False, "--discover", help="Print the catalog and exit."),
    catalog: Path | None = typer.Option(None, "--catalog", "--properties", help="Catalog JSON."),  # noqa: B008
    state: Path | None = typer.Option(None, "--state", help="State JSON (per-location bookmarks)."),  # noqa: B008
) -> None:
    """Singer tap: SCHEMA / RECORD / STATE messages on stdout (pipe into any Singer target)."""
    from ghlsync.extract import singer
    from ghlsync.extract.config import ExtractConfig

    if discover:
        typer.echo(json.dumps(singer.discover(), indent=2))
        return
    try:
        cfg = ExtractConfig.from_file(config)
        report = singer.tap(
            cfg,
            sys.stdout,
            catalog=json.loads(catalog.read_text()) if catalog else None,
            state=json.loads(state.read_text()) if state else None,
        )
    except GHLSyncError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error
    for warning in report.warnings:
        typer.echo(f"warning: {warning}", err=True)
    for row in report.to_dict()["results"]:
        if row["status"] == "failed":
            typer.echo(f"failed: {row['location_id']} {row['stream']}: {row['message']}", err=True)
    if not report.ok:
        raise typer.Exit(1)


def quickstart_command(
    database: Path = typer.Option(  # noqa: B008
        Path("ghlsync-quickstart.duckdb"), "--database", help="DuckDB file."
    ),
    contacts: int = typer.Option(1500, "--contacts", help="Demo contacts (all locations)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Start the emulator with demo data (3 locations), extract it into DuckDB, answer 3 queries."""
    from rich.console import Console
    from rich.table import Table

    from ghlsync.extract.quickstart import quickstart

    result = quickstart(database, contacts=contacts)
    if as_json:
        payload = result.extract.to_dict()
        payload["answers"] = [
            {"title": t, "columns": c, "rows": [list(map(str, r)) for r in rows]}
            for t, _, c, rows in result.answers
        ]
        typer.echo(json.dumps(payload, indent=2, default=str))
    else:
        _summary(result.extract)
        console = Console()
        console.print(f"\nLoaded into [bold]{result.database}[/] (schema `highlevel`). Try:\n")
        for title, sql, columns, rows in result.answers:
            console.print(f"[bold]{title}[/]")
            console.print(sql, markup=False, highlight=False)
            table = Table(*columns)
            for row in rows:
                table.add_row(*(str(v) for v in row))
            console.print(table)
        console.print(f"Explore further: duckdb {result.database}")
    if not result.extract.ok:
        raise typer.Exit(1)


def _no_telemetry() -> None:
    # dlt sends anonymous usage telemetry unless told not to; ghlsync's commands stay local
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")


def register(app: typer.Typer) -> None:
    """Add the extract commands to the root app."""
    _no_telemetry()
    app.command("extract")(extract_command)
    app.command("tap")(tap_command)
    app.command("quickstart")(quickstart_command)
