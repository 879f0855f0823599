"""``ghlsync auth ...``: inspect and manage stored tokens (never printing a token)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Tokens: status, login, location tokens.", no_args_is_help=True)
