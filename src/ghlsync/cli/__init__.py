"""The ``ghlsync`` command: a thin typer layer over the Python API.

Each command group lives in its own module and registers a ``typer.Typer`` named ``app``.
"""

from __future__ import annotations

import sys

import typer

from ghlsync import __version__
from ghlsync.errors import ConfigError, GHLSyncError

app = typer.Typer(
    rich_markup_mode=None,
    name="ghlsync",
    help="Move data in and out of HighLevel: API client, local emulator, warehouse extract.",
    no_args_is_help=True,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ghlsync {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """ghlsync command line."""


def _register() -> None:
    # Imported here so `ghlsync --help` stays fast and a broken group names itself.
    from ghlsync.cli import auth, emulator, events, extract, push, quickstart, sql

    app.add_typer(auth.app, name="auth")
    app.add_typer(emulator.app, name="emulator")
    extract.register(app)
    push.register(app)
    quickstart.register(app)
    sql.register(app)
    events.register(app)


def main() -> None:
    _register()
    try:
        code = app(standalone_mode=False, prog_name="ghlsync")
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except GHLSyncError as exc:  # anything a user can cause that a command did not word itself
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2 if isinstance(exc, ConfigError) else 1)
    except OSError as exc:  # a file or directory the user named: missing, unwritable
        where = f": {exc.filename}" if exc.filename else ""
        typer.echo(f"error: {exc.strerror or exc}{where} (hint: check the path)", err=True)
        sys.exit(1)
    except Exception as exc:
        sys.exit(_usage_error(exc))
    sys.exit(code if isinstance(code, int) else 0)


def _usage_error(exc: Exception) -> int:
    """Print a click/typer parsing error as one line with a hint; its exit code.

    Bad input is one line, never click's usage block or a traceback (typer vendors its own
    click, so errors are recognised by shape, not class). Anything else is re-raised.
    """
    exit_code = getattr(exc, "exit_code", None)
    format_message = getattr(exc, "format_message", None)
    if not isinstance(exit_code, int) or format_message is None:
        raise exc
    ctx = getattr(exc, "ctx", None)
    if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
        typer.echo(ctx.get_help())  # a bare group: its help, as before
        return exit_code
    command = ctx.command_path if ctx is not None else "ghlsync"
    message = str(format_message()).rstrip()
    end = "" if message.endswith((".", ")")) else "."
    typer.echo(f"error: {message}{end} Hint: see '{command} --help'.", err=True)
    return exit_code


def tap_main() -> None:
    """``tap-ghlsync``: the Singer tap alone, the executable Meltano runs (``docs/meltano.yml``)."""
    from ghlsync.cli.extract import tap_app

    tap_app()()
