"""``ghlsync emulator ...``: run the local HighLevel."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="A faithful local HighLevel API for tests and rehearsals.", no_args_is_help=True
)
