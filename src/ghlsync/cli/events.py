"""``ghlsync serve`` and ``ghlsync events ...``: a thin layer over ``ghlsync.events``.

Exit codes: 0 ok, 2 bad input (one line with a hint, never a traceback).
"""

from __future__ import annotations

import asyncio
import errno
import json
from pathlib import Path
from typing import Any

import typer

from ghlsync.errors import GHLSyncError

EXIT_BAD_INPUT = 2

app = typer.Typer(
    rich_markup_mode=None,
    help="The event collector's queue: dead letters, live tail.",
    no_args_is_help=True,
)
dlq_app = typer.Typer(rich_markup_mode=None, help="The dead-letter queue.", no_args_is_help=True)
app.add_typer(dlq_app, name="dlq")

_CONFIG = typer.Option(None, "--config", help="Sources, mapping, queue: YAML or JSON.")
_SEQS = typer.Argument(None, help="Event numbers (from dlq list); none: all.")
_QUEUE = typer.Option(
    "sqlite", "--queue", help="sqlite (under GHLSYNC_HOME), sqlite:/path, or redis://host:port/db."
)


def _fail(error: GHLSyncError) -> None:
    hint = f" (hint: {error.hint})" if error.hint else ""
    typer.echo(f"error: {error.message.splitlines()[0]}{hint}", err=True)
    raise typer.Exit(EXIT_BAD_INPUT)


def serve_command(
    location: str | None = typer.Option(None, "--location", help="The location (sub-account) id."),
    write_key: str | None = typer.Option(
        None,
        "--write-key",
        envvar="GHLSYNC_WRITE_KEY",
        help="The source's write key.",
        show_default=False,
    ),
    config: Path | None = _CONFIG,
    host: str = typer.Option("127.0.0.1", help="Interface to bind."),
    port: int = typer.Option(8080, min=0, max=65535, help="Port to listen on."),
    queue: str | None = typer.Option(
        None, "--queue", help="sqlite (default), sqlite:/path or redis://..."
    ),
    admin_key: str | None = typer.Option(
        None,
        "--admin-key",
        envvar="GHLSYNC_ADMIN_KEY",
        help="Key for GET /debug.",
        show_default=False,
    ),
    deliver: bool = typer.Option(True, "--deliver/--no-deliver", help="Run the delivery worker."),
) -> None:
    """Collect Segment-style events and upsert contacts into HighLevel; take webhooks in.

    Example: ghlsync serve --location ve9EPM428h8vShlRW1KT --write-key "$WRITE_KEY"
    """
    from ghlsync.config import Settings
    from ghlsync.events import EventsConfig, EventService, load_config, serve

    try:
        if config is not None:
            events_config = load_config(config).with_options(queue=queue, admin_key=admin_key)
        elif location and write_key:
            events_config = EventsConfig.single(
                location, write_key, admin_key=admin_key, **({"queue": queue} if queue else {})
            )
        else:
            from ghlsync.errors import ConfigError

            raise ConfigError(
                "nothing to serve: give --location and --write-key, or --config",
                hint="ghlsync serve --location LOCATION_ID --write-key KEY",
            )
        service = EventService(events_config, Settings.from_env(), deliver=deliver)
    except GHLSyncError as error:
        _fail(error)
        return
    from ghlsync.events.logs import configure_logging

    configure_logging()
    typer.echo(
        f"collecting on http://{host}:{port} (queue: {events_config.queue.split('@')[-1]})",
        err=True,
    )
    try:
        serve(service, host=host, port=port)
    except OSError as error:
        if error.errno not in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            raise
        typer.echo(
            f"error: cannot listen on {host}:{port}: {error.strerror}"
            " (hint: stop what holds the port, or pass another --port)",
            err=True,
        )
        raise typer.Exit(EXIT_BAD_INPUT) from None


def _open(queue: str) -> Any:
    from ghlsync.config import Settings
    from ghlsync.events.config import EventsConfig
    from ghlsync.events.service import open_queue

    config = EventsConfig.single("-", "-", queue=queue)
    return open_queue(config, Settings.from_env())


async def _recent(queue: str, **filters: Any) -> list[dict[str, Any]]:
    opened = _open(queue)
    try:
        return [e.summary() for e in await opened.recent(**filters)]
    finally:
        await opened.close()


@dlq_app.command("list")
def dlq_list(
    queue: str = _QUEUE,
    limit: int = typer.Option(100, help="At most this many, newest first."),
    as_json: bool = typer.Option(False, "--json", help="One JSON document."),
) -> None:
    """List dead-lettered events: why each failed and after how many attempts."""
    try:
        rows = asyncio.run(_recent(queue, limit=limit, state="dead"))
    except GHLSyncError as error:
        _fail(error)
        return
    if as_json:
        typer.echo(json.dumps({"dead": rows}, default=str))
        return
    if not rows:
        typer.echo("the dead-letter queue is empty")
    for row in rows:
        typer.echo(
            f"{row['seq']:>8}  {row['locationId']}  {row['type']:<8} {row['event'] or '-':<20} "
            f"attempts={row['attempts']}  {row['lastError'] or ''}"
        )


@dlq_app.command("replay")
def dlq_replay(
    seqs: list[int] | None = _SEQS,
    queue: str = _QUEUE,
    replay_all: bool = typer.Option(False, "--all", help="Replay every dead event."),
) -> None:
    """Put dead events back in the queue (attempts reset); a running worker delivers them."""
    if not seqs and not replay_all:
        typer.echo(
            "error: name event numbers or pass --all. Hint: ghlsync events dlq list", err=True
        )
        raise typer.Exit(EXIT_BAD_INPUT)

    async def run() -> int:
        opened = _open(queue)
        try:
            return int(await opened.replay(None if replay_all else list(seqs or [])))
        finally:
            await opened.close()

    try:
        count = asyncio.run(run())
    except GHLSyncError as error:
        _fail(error)
        return
    typer.echo(f"replayed {count} event(s)")


@app.command("tail")
def tail_command(
    queue: str = _QUEUE,
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing new events."),
    location: str | None = typer.Option(None, help="Only this location."),
    state: str | None = typer.Option(None, help="pending, delivered, dropped or dead."),
    limit: int = typer.Option(20, help="Events shown first."),
    interval_s: float = typer.Option(
        1.0, "--interval", help="Seconds between polls with --follow."
    ),
) -> None:
    """Print the last events (one JSON line each: call, mapping, status, retries, state)."""

    async def run() -> None:
        opened = _open(queue)
        try:
            rows = await opened.recent(limit, location_id=location, state=state)
            last = max((r.seq for r in rows), default=0)
            for row in reversed(rows):
                typer.echo(json.dumps(row.summary(), default=str))
            while follow:
                await asyncio.sleep(interval_s)
                rows = await opened.recent(500, after_seq=last, location_id=location, state=state)
                for row in reversed(rows):
                    typer.echo(json.dumps(row.summary(), default=str))
                last = max([last, *(r.seq for r in rows)])
        finally:
            await opened.close()

    try:
        asyncio.run(run())
    except GHLSyncError as error:
        _fail(error)
    except KeyboardInterrupt:
        return


@app.command("work")
def work_command(
    queue: str = typer.Option(..., "--queue", help="redis://host:port/db (shared by the workers)."),
    location: str | None = typer.Option(None, "--location", help="The location id."),
    config: Path | None = _CONFIG,
    consumer: str | None = typer.Option(None, help="This worker's name (default: random)."),
    concurrency: int = typer.Option(16, min=1, max=256, help="Deliveries in flight at once."),
) -> None:
    """Run a delivery worker alone (no HTTP): N of them share a Redis queue and one budget.

    Example: ghlsync events work --queue redis://127.0.0.1:6379/0 --config serve.yaml
    """
    import signal

    from ghlsync.config import Settings
    from ghlsync.errors import ConfigError
    from ghlsync.events import EventsConfig, load_config
    from ghlsync.events.logs import configure_logging
    from ghlsync.events.service import run_worker

    try:
        if config is not None:
            loaded = load_config(config)
            events_config = loaded.with_options(queue=queue)
        elif location:
            events_config = EventsConfig.single(location, "-", queue=queue)
        else:
            raise ConfigError("give --location or --config", hint="ghlsync events work --help")
    except GHLSyncError as error:
        _fail(error)
        return
    configure_logging()

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await run_worker(
            events_config,
            Settings.from_env(),
            stop=stop,
            consumer=consumer,
            concurrency=concurrency,
        )

    asyncio.run(run())


@app.command("hash-key")
def hash_key_command(key: str = typer.Argument(..., help="A write key or admin key.")) -> None:
    """Print the SHA-256 a config file stores instead of the key."""
    from ghlsync.events.config import hash_key

    typer.echo(hash_key(key))


def register(root: typer.Typer) -> None:
    root.command("serve")(serve_command)
    root.add_typer(app, name="events")
