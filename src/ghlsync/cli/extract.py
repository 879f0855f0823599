"""``ghlsync extract``, ``ghlsync tap`` and ``ghlsync quickstart``: thin over ``ghlsync.extract``."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import typer

from ghlsync.errors import ConfigError, GHLSyncError

EXIT_OK = 0
EXIT_LOCATION_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_DESTINATION_FAILED = 3
EXIT_PIPELINE_LOCKED = 4
EXIT_INTERRUPTED = 130


def _config(
    config: Path | None,
    locations: list[str],
    base_url: str | None,
    streams: list[str],
    start_date: str | None,
    overlap_seconds: float | None,
    no_rate_limit: bool,
    installed: bool = False,
    outage_window: float | None = None,
) -> Any:
    from ghlsync.extract.config import ExtractConfig, read_json

    data: dict[str, Any] = {}
    if config is not None:
        loaded = read_json(config, "config")
        if not isinstance(loaded, dict):
            raise ConfigError(f"config file {config} must hold a JSON object")
        data = loaded
    if locations:
        data["locations"] = locations
    for key, value in (("base_url", base_url), ("start_date", start_date)):
        if value:
            data[key] = value
    if streams:
        data["streams"] = streams
    if overlap_seconds is not None:
        data["overlap_seconds"] = overlap_seconds
    if no_rate_limit:
        data["rate_limit"] = False
    if outage_window is not None:
        data["outage_window_seconds"] = outage_window
    if installed:
        data["installed"] = True
        data.setdefault("oauth", {})  # client id / secret may come from GHL_CLIENT_ID/SECRET
    cfg = ExtractConfig.from_mapping(data)  # the one time the command enters its config
    if cfg.streams:
        from ghlsync.extract.streams import select

        select(cfg.streams)  # unknown names: a ConfigError now, not after connecting
    return cfg


def _console(stderr: bool = False) -> Any:
    """A rich console; written to a file or a pipe (a log, CI) it is 160 columns wide rather
    than rich's 80, so the summary's rows stay on one line each (``COLUMNS`` still wins)."""
    import os

    from rich.console import Console

    console = Console(stderr=stderr)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = 160
    return console


def _summary(result: Any, session: Any = None) -> None:
    """The run's table on stdout (what a redirect keeps); warnings and one line per failing
    location and kind on stderr, with the base URL and the hint (not one row per stream)."""
    from rich.table import Table

    from ghlsync.extract.progress import budget_text, failure_groups, failure_kind, summary_rows

    console = _console()
    table = Table(title=f"ghlsync extract -> {result.destination} ({result.seconds:.1f} s)")
    columns = ("location", "stream", "status", "records", "deleted", "pages", "rec/s", "s", "note")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in summary_rows(result.report):
        if row["status"] == "failed":
            continue  # one row per location and kind below
        style = {"skipped": "yellow"}.get(row["status"], "")
        table.add_row(
            row["location_id"],
            row["stream"],
            f"[{style}]{row['status']}[/]" if style else row["status"],
            str(row["records"]),
            str(row["deleted"]),
            str(row["pages"]),
            row["rate"],
            f"{row['seconds']:.2f}",
            row["message"][:80],
            style=None,
        )
    groups = failure_groups(result.report)
    for group in groups:
        streams = group["streams"]
        name = streams[0] if len(streams) == 1 else f"{len(streams)} streams"
        table.add_row(group["location_id"], name, "[red]failed[/]", "", "", "", "", "", "")
    console.print(table)
    if session is not None:
        for location_id in sorted({r.location_id for r in result.report.results.values()}):
            snapshot = session.budget(location_id)
            if snapshot is not None:
                console.print(
                    f"budget left {location_id}: {budget_text(snapshot)}", highlight=False
                )
    for table_name, rows in sorted(getattr(result, "refreshed", {}).items()):
        console.print(f"full refresh: {rows} rows no longer upstream deleted from {table_name}")
    failed = {(g["location_id"], failure_kind(g["message"])) for g in groups}
    for warning in result.report.warnings:
        location, _, rest = warning.partition(": ")
        if any(location == loc and kind in failure_kind(rest) for loc, kind in failed):
            continue  # said once below, with the location's failure
        typer.echo(f"warning: {warning}", err=True)
    where = f" at {session.base_url}" if session is not None else ""
    for group in groups:
        streams = group["streams"]
        which = streams[0] if len(streams) == 1 else f"{len(streams)} streams"
        typer.echo(f"failed: {group['location_id']} ({which}){where}: {group['message']}", err=True)


class _Interrupt:
    """Ctrl-C during an extract: one line saying what was committed, exit 130.

    Outside dlt's normalize/load steps the run stops at once, as a kill would (what a killed
    run left is recovered by the next one); inside them dlt stops at its next safe point and
    ``run_extract`` raises ``KeyboardInterrupt``. The phase decides the line."""

    def __init__(self, native: bool = False) -> None:
        #: a DuckDB file ghlsync loads itself: a round is one transaction, rolled back if cut
        self.native = native
        self.phase = "connecting"
        #: packages of this run loaded (a run loads a package per 20,000 rows as it reads)
        self.loaded = 0

    def on_phase(self, text: str) -> None:
        if self._loading():
            self.loaded += 1  # the step after a load: that package is committed
        self.phase = text

    def _loading(self) -> bool:
        return self.phase.startswith("loading") and "pending" not in self.phase

    def line(self) -> str:
        unit = "round(s)" if self.native else "package(s)"
        before = (
            f"the {self.loaded} {unit} loaded before stay committed with their bookmarks; "
            if self.loaded
            else ""
        )
        if self._loading() and self.native:
            committed = (
                f"{before}the round being loaded was rolled back with its bookmarks, so the"
                " next run reads it again"
            )
        elif self._loading():
            committed = (
                f"{before}what this package committed stays, the rest of it loads first on the"
                " next run"
            )
        elif self.phase.startswith("deleting"):
            committed = "the load was committed; rerun with --full-refresh to finish the deletes"
        elif self.loaded:
            committed = f"{before}the rest was not loaded and its bookmarks did not advance"
        else:
            committed = "nothing of this run was loaded and bookmarks did not advance"
        return f"interrupted while {self.phase}: {committed}; a rerun resumes (exit 130)"

    def handler(self, signum: int, frame: Any) -> None:
        self.stop()

    def stop(self) -> None:
        message = self.line() + "\n"
        if sys.stderr.isatty():
            message = "\x1b[?25h\n" + message  # the progress display hid the cursor
        with contextlib.suppress(OSError):
            sys.stdout.flush()
        with contextlib.suppress(OSError):
            os.write(2, message.encode())
        os._exit(EXIT_INTERRUPTED)


def _both(first: Any, second: Any) -> Any:
    def phase(text: str) -> None:
        first(text)
        if second is not None:
            second(text)

    return phase


def _payload(result: Any, session: Any) -> dict[str, Any]:
    from ghlsync.extract.progress import budgets

    payload: dict[str, Any] = result.to_dict()
    payload["exit_code"] = EXIT_OK if result.ok else EXIT_LOCATION_FAILED
    read = sorted({r.location_id for r in result.report.results.values()})
    payload["budget"] = budgets(session, read)
    return payload


def extract_command(
    to: str = typer.Option(
        "duckdb:///ghlsync.duckdb",
        "--to",
        help="duckdb:///file, postgres://..., parquet:///dir, delta:///dir, bigquery://..., "
        "snowflake://..., dlt:<destination>",
    ),
    config: Path | None = typer.Option(  # noqa: B008
        None, "--config", "-c", help="JSON config (same as the tap's)."
    ),
    location: list[str] = typer.Option([], "--location", "-l", help="Location id (repeat)."),  # noqa: B008
    installed: bool = typer.Option(
        False, "--installed", help="Every location the OAuth app is installed in (agency)."
    ),
    token: str | None = typer.Option(
        None,
        "--token",
        help="Token for every location (first in the order: --token, config, `auth add-token`"
        " store, GHL_TOKEN, OAuth).",
    ),
    base_url: str | None = typer.Option(
        None, "--base-url", help="API base URL (else the config's, else GHL_BASE_URL)."
    ),
    stream: list[str] = typer.Option([], "--stream", "-s", help="Stream to extract (repeat)."),  # noqa: B008
    dataset: str = typer.Option("highlevel", "--dataset", help="Schema / dataset name."),
    full_refresh: bool = typer.Option(
        False,
        "--full-refresh",
        help="Re-read the selected streams of these locations from scratch; drop their rows "
        "no longer upstream.",
    ),
    start_date: str | None = typer.Option(None, "--start-date", help="ISO date: nothing older."),
    overlap_seconds: float | None = typer.Option(
        None, "--overlap-seconds", help="Re-read window (default 300)."
    ),
    pipelines_dir: str | None = typer.Option(None, "--pipelines-dir", help="dlt working dir."),
    no_rate_limit: bool = typer.Option(
        False, "--no-rate-limit", help="Only for unlimited servers."
    ),
    outage_window: float | None = typer.Option(
        None,
        "--outage-window",
        help="Seconds to keep retrying while HighLevel does not answer (default 300).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON on stdout."),
    keep_staging: bool = typer.Option(
        False,
        "--keep-staging",
        help="Keep the rows of the merge's <dataset>_staging tables (destinations dlt loads;"
        " a DuckDB file is merged without one).",
    ),
) -> None:
    """Extract HighLevel locations into a warehouse, incrementally (per-location bookmarks).

    Exit codes: 0 ok, 1 a location failed (the others completed), 2 bad input,
    3 the destination failed (nothing committed by the failed step), 4 another run holds this
    pipeline (nothing ran).
    """
    from ghlsync.extract.destinations import duckdb_file
    from ghlsync.extract.engine import Report
    from ghlsync.extract.failures import DestinationError, PipelineLocked

    report = Report()
    session: Any = None
    interrupt = _Interrupt(native=duckdb_file(to) is not None)
    try:
        cfg = _config(
            config,
            location,
            base_url,
            stream,
            start_date,
            overlap_seconds,
            no_rate_limit,
            installed,
            outage_window,
        )
        from ghlsync.client.session import open_session
        from ghlsync.config import Settings
        from ghlsync.extract.progress import LiveProgress
        from ghlsync.extract.run import run_extract  # after the input is checked

        session = open_session(Settings.from_env(), cfg.connection, token=token)
        kwargs: dict[str, Any] = {
            "to": to,
            "dataset": dataset,
            "full_refresh": full_refresh,
            "pipelines_dir": pipelines_dir,
            "report": report,
            "keep_staging": keep_staging,
            "session": session,
        }
        signal.signal(signal.SIGINT, interrupt.handler)
        if not as_json and sys.stderr.isatty():
            with LiveProgress(session) as live:
                report.on_change = live.changed
                result = run_extract(cfg, on_phase=_both(interrupt.on_phase, live.phase), **kwargs)
        else:
            shown = None if as_json else (lambda text: typer.echo(f"{text}...", err=True))
            result = run_extract(cfg, on_phase=_both(interrupt.on_phase, shown), **kwargs)
    except KeyboardInterrupt:  # dlt stopped its step at a safe point
        interrupt.stop()
    except ConfigError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except PipelineLocked as error:
        typer.echo(f"error: {error}", err=True)
        if as_json:
            payload = {"ok": False, "exit_code": EXIT_PIPELINE_LOCKED, "error": str(error)}
            typer.echo(json.dumps(payload, indent=2))
        raise typer.Exit(EXIT_PIPELINE_LOCKED) from None
    except DestinationError as error:
        typer.echo(f"error: {error}", err=True)
        if as_json:
            payload = {"ok": False, "exit_code": EXIT_DESTINATION_FAILED, "error": str(error)}
            typer.echo(json.dumps({**payload, **report.to_dict(), "ok": False}, indent=2))
        raise typer.Exit(EXIT_DESTINATION_FAILED) from None
    except GHLSyncError as error:  # listing installed locations or the whole read failed
        typer.echo(f"error: {error}", err=True)
        if as_json:
            payload = {"exit_code": EXIT_LOCATION_FAILED, "error": str(error)}
            typer.echo(json.dumps({**payload, **report.to_dict(), "ok": False}, indent=2))
        raise typer.Exit(EXIT_LOCATION_FAILED) from None
    finally:
        if session is not None:
            session.close()
    if as_json:
        typer.echo(json.dumps(_payload(result, session), indent=2))
    else:
        _summary(result, session)
    if not result.ok:
        raise typer.Exit(EXIT_LOCATION_FAILED)


def tap_command(
    config: Path = typer.Option(..., "--config", "-c", help="Tap config JSON."),  # noqa: B008
    discover: bool = typer.Option(False, "--discover", help="Print the catalog and exit."),
    catalog: Path | None = typer.Option(None, "--catalog", "--properties", help="Catalog JSON."),  # noqa: B008
    state: Path | None = typer.Option(None, "--state", help="State JSON (per-location bookmarks)."),  # noqa: B008
) -> None:
    """Singer tap: SCHEMA / RECORD / STATE messages on stdout (pipe into any Singer target)."""
    from ghlsync.client.session import open_session
    from ghlsync.config import Settings
    from ghlsync.extract import singer
    from ghlsync.extract.config import ExtractConfig, read_json

    if discover:
        typer.echo(json.dumps(singer.discover(), indent=2))
        return
    try:
        cfg = ExtractConfig.from_file(config)
        with open_session(Settings.from_env(), cfg.connection) as session:
            report = singer.tap(
                cfg,
                sys.stdout,
                catalog=read_json(catalog, "catalog") if catalog else None,
                state=_tap_state(state) if state else None,
                session=session,
            )
    except ConfigError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except GHLSyncError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(EXIT_LOCATION_FAILED) from None
    for warning in report.warnings:
        typer.echo(f"warning: {warning}", err=True)
    from ghlsync.extract.progress import failure_groups

    for group in failure_groups(report):  # once per location and kind, as extract says it
        streams = group["streams"]
        which = streams[0] if len(streams) == 1 else f"{len(streams)} streams"
        typer.echo(f"failed: {group['location_id']} ({which}): {group['message']}", err=True)
    if not report.ok:
        raise typer.Exit(EXIT_LOCATION_FAILED)


def _tap_state(path: Path) -> Any:
    """The tap's state (``{"bookmarks": ...}``); the emulator's state document refused."""
    from ghlsync.extract.config import read_json

    data = read_json(path, "state")
    if isinstance(data, dict) and "baseUrl" in data and "locations" in data:
        raise ConfigError(
            f"{path} is the emulator's state document (its --state-out), not a tap state",
            hint="pass the file the tap's last STATE message was saved to (e.g. tap-state.json)",
        )
    return data


def quickstart_command(
    database: Path = typer.Option(  # noqa: B008
        Path("ghlsync-quickstart.duckdb"), "--database", help="DuckDB file."
    ),
    contacts: int = typer.Option(1500, "--contacts", help="Demo contacts (all locations)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Start the emulator with demo data (3 locations), extract it into DuckDB, answer 3 queries."""
    from ghlsync.extract.quickstart import quickstart

    show_quickstart(quickstart(database, contacts=contacts), as_json)


def show_quickstart(result: Any, as_json: bool, extra: dict[str, Any] | None = None) -> None:
    """Render an extract quickstart's result (``extra``: more keys of the JSON payload)."""
    from rich.table import Table

    if as_json:
        payload = {**(extra or {}), **result.extract.to_dict()}
        payload["answers"] = [
            {"title": t, "columns": c, "rows": [list(map(str, r)) for r in rows]}
            for t, _, c, rows in result.answers
        ]
        typer.echo(json.dumps(payload, indent=2, default=str))
    else:
        _summary(result.extract)
        console = _console()
        console.print(f"\nLoaded into [bold]{result.database}[/] (schema `highlevel`). Try:\n")
        for title, sql, columns, rows in result.answers:
            console.print(f"[bold]{title}[/]")
            console.print(sql, markup=False, highlight=False)
            table = Table(*columns)
            for row in rows:
                table.add_row(*(str(v) for v in row))
            console.print(table)
        command = _own_command()
        console.print("Explore further (read-only SQL; tables resolve in schema highlevel):")
        example = '"SELECT source, count(*) FROM contacts GROUP BY 1"'
        console.print(
            f"  {command} sql --database {result.database} {example}",
            markup=False,
            highlight=False,
        )
    if not result.extract.ok:
        raise typer.Exit(1)


def _own_command() -> str:
    """How the user can run ``ghlsync`` again: by name when it is on PATH, else by its path
    (a fresh clone's ``.venv/bin/ghlsync``)."""
    import shutil

    here = Path(sys.argv[0]).resolve() if sys.argv and sys.argv[0] else None
    found = shutil.which("ghlsync")
    if here is None or not here.name.startswith("ghlsync"):
        return "ghlsync"
    if found is not None and Path(found).resolve() == here:
        return "ghlsync"
    return str(here)


def _no_telemetry() -> None:
    # dlt sends anonymous usage telemetry unless told not to; ghlsync's commands stay local
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")


def tap_app() -> typer.Typer:
    """An app whose only command is the tap: ``tap-ghlsync --config c.json [--discover]``."""
    _no_telemetry()
    app = typer.Typer(
        rich_markup_mode=None, add_completion=False, help="ghlsync's Singer tap for HighLevel."
    )
    app.command()(tap_command)
    return app


def register(app: typer.Typer) -> None:
    """Add the extract commands to the root app."""
    _no_telemetry()
    app.command("extract")(extract_command)
    app.command("tap")(tap_command)
    # `ghlsync quickstart` (push, then this extract) is registered by ghlsync.cli.quickstart
