"""``ghlsync emulator ...``: run the local HighLevel (a thin layer over ``ghlsync.emulator``)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any, NoReturn

import typer

app = typer.Typer(
    rich_markup_mode=None,
    help="A faithful local HighLevel API for tests and rehearsals.",
    no_args_is_help=True,
)


EXIT_BAD_INPUT = 2

_STATE_OUT = typer.Option(
    None, help="Write the state document (JSON, with every token) here, mode 0600."
)
_ADMIN_TOKEN = typer.Option(
    None,
    "--admin-token",
    envvar="GHLSYNC_EMULATOR_ADMIN_TOKEN",
    show_envvar=True,
    help="Require this token as X-Emulator-Admin on /_emulator/* (required off loopback).",
)


def _daily_limit(text: str) -> int | None:
    if text.strip().lower() in ("off", "none", ""):
        return None
    if not text.strip().isdigit() or int(text) <= 0:
        raise ValueError(f"--daily-limit takes a positive whole number or off, not {text!r}")
    return int(text)


def _is_tap_state(path: Path) -> bool:
    """Whether ``path`` holds a Singer state (``{"bookmarks": ...}``), e.g. ``ghlsync tap``'s."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and "bookmarks" in data and "baseUrl" not in data


def _bad_input(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(EXIT_BAD_INPUT)


_COUNTS = typer.Option(
    None, "--count", help="Seeded size of another kind, e.g. --count products=20 (repeatable)."
)


@app.command("serve")
def serve_command(
    host: str = typer.Option(
        "127.0.0.1", help="Interface to bind; any but loopback needs --admin-token."
    ),
    port: int = typer.Option(8765, min=0, max=65535, help="Port; 0 picks a free one."),
    locations: int = typer.Option(2, min=0, help="Seeded locations (sub-accounts)."),
    contacts: int = typer.Option(200, min=0, help="Seeded contacts, split across locations."),
    opportunities: int | None = typer.Option(
        None,
        min=0,
        help="Seeded opportunities, split across locations (default: a quarter of --contacts).",
    ),
    seed: int = typer.Option(0, help="Seed for data, ids, tokens and fault draws."),
    anchor: str | None = typer.Option(
        None,
        help="'Now' for seeded timestamps, an ISO date (2026-06-30) or date-time: with --seed, "
        "the same data byte for byte on every run (default: the wall clock).",
    ),
    rate_limit: str = typer.Option("100/10s", help="Burst limit per app per location, or off."),
    daily_limit: str = typer.Option("200000", help="Daily requests per app per location, or off."),
    faults: str = typer.Option("", help='Faults, e.g. "429:0.05,500:0.02,slow:0.05@2s".'),
    search_delay_ms: int = typer.Option(
        2000,
        "--search-delay-ms",
        "--search-delay",
        help="Writes reach POST /contacts/search this many ms later (HighLevel: a few "
        "seconds); 0 turns the lag off.",
    ),
    webhook_url: str | None = typer.Option(None, help="Deliver webhook events to this URL."),
    webhook_time_scale: float = typer.Option(
        1.0,
        help="Multiply the waits between webhook retries after a 429 (HighLevel: ~10 min); "
        "0.001 for tests.",
    ),
    state_out: Path | None = _STATE_OUT,
    count: list[str] | None = _COUNTS,
    admin_token: str | None = _ADMIN_TOKEN,
) -> None:
    """Seed and serve the emulator; print base URL, ids and tokens as JSON."""
    from ghlsync.emulator import EmulatorSettings, SeedOptions, ServeError, serve
    from ghlsync.emulator.admin_checks import anchor_ms
    from ghlsync.emulator.settings import parse_faults, parse_rate_limit

    if search_delay_ms < 0 or webhook_time_scale < 0:
        raise typer.BadParameter("--search-delay-ms and --webhook-time-scale must be >= 0")
    try:
        settings = EmulatorSettings(
            seed=seed,
            rate_limit=parse_rate_limit(rate_limit),
            daily_limit=_daily_limit(daily_limit),
            faults=parse_faults(faults),
            webhook_url=webhook_url,
            webhook_time_scale=webhook_time_scale,
            search_index_delay_ms=search_delay_ms,
            admin_token=admin_token or None,
        )
        anchor_value = anchor_ms(anchor)
    except ValueError as exc:
        _bad_input(f"{exc}. Hint: see 'ghlsync emulator serve --help'")
    counts: dict[str, int] = {}
    for item in count or []:
        kind, _, number = item.partition("=")
        if not kind or not number.isdigit():
            _bad_input(f"--count takes kind=N, not {item!r}. Hint: e.g. --count products=20")
        counts[kind.strip()] = int(number)
    options = SeedOptions(
        locations=locations,
        contacts=contacts,
        opportunities=contacts // 4 if opportunities is None else opportunities,
        seed=seed,
        counts=counts,
        anchor_ms=anchor_value,
    )

    if state_out is not None and _is_tap_state(state_out):
        _bad_input(
            f"{state_out} holds a Singer tap state (bookmarks), not the emulator's state document;"
            " refusing to overwrite it. Hint: name it apart, e.g. --state-out emulator-state.json"
        )
    if webhook_url and importlib.util.find_spec("ghlsync.emulator.webhooks") is None:
        typer.echo("warning: webhook delivery is not available in this build", err=True)

    def ready(document: dict[str, Any]) -> None:
        typer.echo(json.dumps(document, indent=2), err=False)

    try:
        serve(options, settings, host=host, port=port, state_out=state_out, on_ready=ready)
    except ServeError as exc:
        _bad_input(str(exc))
