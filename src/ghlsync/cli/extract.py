"""``ghlsync extract``, ``ghlsync tap`` and ``ghlsync quickstart``."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the extract commands to the root app."""
