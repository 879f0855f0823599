"""``ghlsync push`` and ``ghlsync contact update``: thin over ``ghlsync.push``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

from ghlsync.errors import ConfigError, GHLSyncError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130
EXIT_BAD_INPUT = 2

contact_app = typer.Typer(
    rich_markup_mode=None, help="Write back to single contacts.", no_args_is_help=True
)


def _bad_input(error: GHLSyncError) -> typer.Exit:
    typer.echo(f"error: {error}", err=True)
    return typer.Exit(EXIT_BAD_INPUT)


def _connection(config: Path | None) -> dict[str, Any] | None:
    if config is None:
        return None
    try:
        data = json.loads(config.read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file {config} does not exist") from None
    except ValueError:
        raise ConfigError(f"config file {config} is not valid JSON") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {config} must hold a JSON object")
    return data


def push_command(
    source: str = typer.Option(
        ...,
        "--from",
        help="CSV/JSONL/Parquet file, - (stdin), .duckdb/.sqlite file, or a URL "
        "(postgresql://..., sqlite:///app.db, duckdb:///x.duckdb).",
    ),
    mapping: Path | None = typer.Option(None, "--mapping", "-m", help="Mapping YAML."),  # noqa: B008
    location: list[str] = typer.Option([], "--location", "-l", help="Location id (repeat)."),  # noqa: B008
    location_column: str | None = typer.Option(
        None, "--location-column", help="Column holding each row's location id."
    ),
    query: str | None = typer.Option(None, "--query", "-q", help="SQL for a database source."),
    table: str | None = typer.Option(None, "--table", help="Table of a database source."),
    fmt: str | None = typer.Option(None, "--format", help="csv, jsonl, parquet (stdin: sniffed)."),
    mode: str = typer.Option(
        "full_refresh", "--mode", help="full_refresh, incremental_append, incremental_dedup."
    ),
    cursor: str | None = typer.Option(None, "--cursor", help="Cursor column (append, dedup)."),
    primary_key: list[str] = typer.Option([], "--primary-key", help="Key column (repeat)."),  # noqa: B008
    mirror: str | None = typer.Option(
        None, "--mirror", help="full_refresh: untag (or delete) contacts gone from the source."
    ),
    max_delete_pct: float = typer.Option(10.0, "--max-delete-pct", help="Mirror refused above."),
    reserve: float = typer.Option(0.10, "--reserve", help="Daily budget share left unused."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan; write nothing."),
    rejects: str | None = typer.Option(None, "--rejects", help="CSV of rows that could not go."),
    sync: str = typer.Option("default", "--sync", help="Sync name (its own ledger rows)."),
    managed_tag: str | None = typer.Option(None, "--managed-tag", help="Tag on every contact."),
    default_region: str | None = typer.Option(
        None, "--default-region", help="Region of phones without +, e.g. US, GB."
    ),
    duplicates: str = typer.Option(
        "auto", "--duplicates", help="auto (the location's setting), allowed, refused."
    ),
    force: bool = typer.Option(False, "--force", help="Resend every row (ignore the ledger)."),
    batch_size: int = typer.Option(2000, "--batch-size"),
    concurrency: int = typer.Option(8, "--concurrency", help="Writes in flight per location."),
    index_lag: float = typer.Option(
        5.0, "--index-lag", help="Seconds search may lag writes (reconciling lost creates)."
    ),
    config: Path | None = typer.Option(  # noqa: B008
        None, "--config", "-c", help="Connection JSON (locations, tokens, oauth, base_url)."
    ),
    token: str | None = typer.Option(None, "--token", help="Token (first in the order)."),
    base_url: str | None = typer.Option(None, "--base-url", envvar="GHL_BASE_URL"),
    no_rate_limit: bool = typer.Option(False, "--no-rate-limit", help="Unlimited servers only."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON on stdout."),
) -> None:
    """Push rows into HighLevel contacts: mapped, normalised, only what changed.

    Example: ghlsync push --from people.csv --mapping contacts.yaml -l LOC --rejects rejects.csv

    Exit codes: 0 every row went, 1 a row was rejected or failed (or a location failed),
    2 bad input (nothing was sent).
    """
    from ghlsync.config import Settings
    from ghlsync.mapping import ContactMappingSpec, load_mapping
    from ghlsync.push import PushConfig, run_push

    try:
        spec = load_mapping(mapping, check=False) if mapping is not None else ContactMappingSpec()
        cfg = PushConfig(
            source=source,
            mapping=spec,
            locations=tuple(location),
            location_column=location_column,
            mode=mode,  # type: ignore[arg-type]
            cursor=cursor,
            primary_key=tuple(primary_key),
            mirror=mirror,  # type: ignore[arg-type]
            max_delete_pct=max_delete_pct,
            reserve=reserve,
            dry_run=dry_run,
            rejects=rejects,
            sync=sync,
            managed_tag=managed_tag,
            default_region=default_region.upper() if default_region else None,
            force=force,
            duplicates=duplicates,  # type: ignore[arg-type]
            query=query,
            table=table,
            fmt=fmt,
            batch_size=batch_size,
            concurrency=concurrency,
            index_lag_s=index_lag,
            connection=_connection(config),
            token=token,
            base_url=base_url,
            rate_limit=not no_rate_limit,
        )
        settings = Settings.from_env()
        if not as_json and sys.stderr.isatty():
            from ghlsync.cli._push_view import LiveProgress

            with LiveProgress() as live:
                result = run_push(cfg, settings=settings, progress=live.update)
        else:
            result = run_push(cfg, settings=settings)
    except KeyboardInterrupt:  # Ctrl-C: asyncio.run cancelled the writes in flight
        typer.echo(
            "interrupted: the contacts written so far stay in HighLevel; a rerun resumes,"
            " matching those rather than duplicating them (exit 130)",
            err=True,
        )
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except ConfigError as error:
        raise _bad_input(error) from None
    except GHLSyncError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(EXIT_FAILED) from None
    from ghlsync.cli._push_view import show_result

    if as_json:
        payload = result.to_dict()
        payload["exit_code"] = EXIT_OK if result.ok else EXIT_FAILED
        typer.echo(json.dumps(payload, indent=2, default=str))
    else:
        show_result(result)
    if not result.ok:
        raise typer.Exit(EXIT_FAILED)


def _value(text: str) -> str:
    """``@file`` -> the file's text; anything else as it is."""
    if text.startswith("@"):
        path = Path(text[1:])
        try:
            return path.read_text(encoding="utf-8")
        except OSError:
            raise ConfigError(f"cannot read {path}", hint="check the path after @") from None
    return text


@contact_app.command("update")
def update_command(
    contact_id: str | None = typer.Argument(None, help="Contact id (or use --email)."),
    email: str | None = typer.Option(None, "--email", help="Find the contact by email."),
    location: str | None = typer.Option(None, "--location", "-l", help="Location id."),
    set_: list[str] = typer.Option([], "--set", help="field=value or field=@file (repeat)."),  # noqa: B008
    add_tag: list[str] = typer.Option([], "--add-tag", help="Tag to add (repeat)."),  # noqa: B008
    remove_tag: list[str] = typer.Option([], "--remove-tag", help="Tag to remove (repeat)."),  # noqa: B008
    note: str | None = typer.Option(None, "--note", help="Note text or @file."),
    from_file: str | None = typer.Option(
        None,
        "--from",
        help="JSONL of changes ({id|email, set, add_tags, remove_tags, note}); - for stdin.",
    ),
    config: Path | None = typer.Option(None, "--config", "-c", help="Connection JSON."),  # noqa: B008
    token: str | None = typer.Option(None, "--token", help="Token (first in the order)."),
    base_url: str | None = typer.Option(None, "--base-url", envvar="GHL_BASE_URL"),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
) -> None:
    """Set fields, swap tags, add a note on a contact (or on many, from JSONL).

    Example: ghlsync contact update --email ann@example.com -l LOC
      --set contact.call_notes=@summary.txt --add-tag done --remove-tag scheduled --note @a.md
    """
    import asyncio

    from ghlsync.config import Settings
    from ghlsync.push.session import connection_for, open_push_session
    from ghlsync.push.writeback import ContactChange, read_changes, update_contacts

    try:
        if from_file is not None:
            if contact_id or email or set_ or add_tag or remove_tag or note:
                raise ConfigError("--from takes every change from the file; drop the others")
            lines = (
                sys.stdin.read().splitlines() if from_file == "-" else _read_lines(Path(from_file))
            )
            changes = read_changes(lines, source=from_file)
        else:
            values: dict[str, str] = {}
            for item in set_:
                name, sep, text = item.partition("=")
                if not sep or not name.strip():
                    raise ConfigError(f"--set {item!r}: write field=value")
                values[name.strip()] = _value(text)
            changes = [
                ContactChange(
                    contact_id=contact_id,
                    email=email,
                    set=values,
                    add_tags=tuple(add_tag),
                    remove_tags=tuple(remove_tag),
                    note=_value(note) if note is not None else None,
                )
            ]
        connection = connection_for(
            _connection(config), locations=(location,) if location else (), base_url=base_url
        )
        location_id = location or next(iter(connection.location_ids), None)
        if not location_id and not all(c.location_id for c in changes):
            raise ConfigError("which location? pass --location (or location_id in each line)")

        async def run() -> list[Any]:
            async with open_push_session(Settings.from_env(), connection, token=token) as session:
                return await update_contacts(session.client, location_id or "", changes)

        results = asyncio.run(run())
    except ConfigError as error:
        raise _bad_input(error) from None
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in results], indent=2))
    else:
        for result in results:
            if result.ok:
                typer.echo(
                    f"updated {result.contact_id}: fields {result.fields or '-'}, "
                    f"+tags {result.tags_added or '-'}, -tags {result.tags_removed or '-'}, "
                    f"note {result.note_id or '-'}"
                )
            else:
                typer.echo(f"failed {result.contact_id or '?'}: {result.error}", err=True)
    if not all(r.ok for r in results):
        raise typer.Exit(EXIT_FAILED)


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except OSError:
        raise ConfigError(f"cannot read {path}", hint="check the path given to --from") from None


def register(app: typer.Typer) -> None:
    app.command("push")(push_command)
    app.add_typer(contact_app, name="contact")


__all__ = ["register"]
