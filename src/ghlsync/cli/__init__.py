"""The ``ghlsync`` command: a thin typer layer over the Python API.

Each command group lives in its own module and registers a ``typer.Typer`` named ``app``.
"""

from __future__ import annotations

import typer

from ghlsync import __version__

app = typer.Typer(
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
    from ghlsync.cli import auth, emulator, events, extract

    app.add_typer(auth.app, name="auth")
    app.add_typer(emulator.app, name="emulator")
    extract.register(app)
    events.register(app)


def main() -> None:
    _register()
    app()


def tap_main() -> None:
    """``tap-ghlsync``: the Singer tap alone, the executable Meltano runs (``docs/meltano.yml``)."""
    from ghlsync.cli.extract import tap_app

    tap_app()()
