"""``ghlsync auth ...``: inspect and manage stored tokens (never printing a token).

    ghlsync auth status [--json]
    echo "$TOKEN" | ghlsync auth add-token --location LOCATION_ID
    ghlsync auth login --code CODE [--user-type Company|Location] [--redirect-uri URL]
    ghlsync auth installed [--company ID] [--app-id ID]

Each command is a few lines over ``ghlsync.client.admin``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import TYPE_CHECKING, Any

import typer

from ghlsync.errors import GHLSyncError

if TYPE_CHECKING:
    from ghlsync.client import admin

app = typer.Typer(
    rich_markup_mode=None, help="Tokens: status, login, location tokens.", no_args_is_help=True
)


def _fail(exc: GHLSyncError) -> None:
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(1)


def _admin() -> Any:
    """``ghlsync.client.admin``, imported when a command runs (``--help`` stays fast)."""
    from ghlsync.client import admin

    return admin


#: scopes shown by name on a row; more are summarised (``--json`` lists them all)
SHOWN_SCOPES = 4


def _scopes(scopes: list[str] | tuple[str, ...]) -> str:
    """A few scopes by name, then how many more: HighLevel apps often hold ~60."""
    if not scopes:
        return "-"
    if len(scopes) <= SHOWN_SCOPES:
        return " ".join(scopes)
    shown = " ".join(scopes[:SHOWN_SCOPES])
    return f"{len(scopes)} scopes: {shown} ... (all with --json)"


def _line(status: admin.TokenStatus) -> str:
    where = status.location_id or "-"
    company = status.company_id or "-"
    scopes = _scopes(list(status.scopes))
    return f"{status.kind:<9} {company:<24} {where:<24} {status.state:<28} {scopes}"


@app.command()
def status(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Which tokens are stored: kind, company, location, expiry and scopes (never the token)."""
    try:
        rows = _admin().token_status()
    except GHLSyncError as exc:
        _fail(exc)
        return
    if as_json:
        typer.echo(json.dumps([r.as_dict() for r in rows], indent=2))
        return
    if not rows:
        typer.echo("no stored tokens (see `ghlsync auth add-token` and `ghlsync auth login`)")
        return
    typer.echo(f"{'kind':<9} {'company':<24} {'location':<24} {'state':<28} scopes")
    for row in rows:
        typer.echo(_line(row))


@app.command("add-token")
def add_token(
    location: str = typer.Option(..., "--location", help="The sub-account (location) id."),
    scopes: str = typer.Option("", "--scopes", help="The token's scopes, space-separated."),
) -> None:
    """Store a Private Integration token for a location, read from stdin or a hidden prompt."""
    if sys.stdin.isatty():
        token = typer.prompt("Private Integration token", hide_input=True)
    else:
        token = sys.stdin.readline()
    try:
        row = _admin().add_private_token(location, token, scopes=scopes)
    except GHLSyncError as exc:
        _fail(exc)
        return
    typer.echo(f"stored a Private Integration token for location {row.location_id}")


@app.command()
def login(
    code: str = typer.Option(..., "--code", help="The authorization code from the redirect."),
    user_type: str = typer.Option("Location", "--user-type", help="Company or Location."),
    redirect_uri: str | None = typer.Option(None, "--redirect-uri"),
) -> None:
    """Exchange an OAuth authorization code for tokens (needs GHL_CLIENT_ID/SECRET)."""
    try:
        row = asyncio.run(
            _admin().login_with_code(code, user_type=user_type, redirect_uri=redirect_uri)
        )
    except GHLSyncError as exc:
        _fail(exc)
        return
    typer.echo("stored OAuth tokens: " + _line(row))


@app.command()
def installed(
    company: str | None = typer.Option(None, "--company", help="The agency (company) id."),
    app_id: str | None = typer.Option(None, "--app-id", help="The Marketplace app id."),
) -> None:
    """List the location ids where the OAuth app is installed, one per line."""
    try:
        ids = asyncio.run(_admin().installed_locations(company, app_id))
    except GHLSyncError as exc:
        _fail(exc)
        return
    for location_id in ids:
        typer.echo(location_id)
