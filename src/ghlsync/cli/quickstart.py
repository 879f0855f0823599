"""``ghlsync quickstart``: both directions on the emulator, in one command.

First a bundled sample CSV (with a few bad rows) is pushed into the emulator's first location
and its rejects are shown; then everything is extracted into DuckDB and three queries are
answered. Push and extract never import each other: this command, at the top, joins them.
"""

from __future__ import annotations

import csv
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

import typer


def sample_path(name: str) -> Path:
    """A file of the bundled sample data (``ghlsync/push/data``)."""
    return Path(str(resources.files("ghlsync.push") / "data" / name))


def push_sample(server: Any, workdir: Path, rejects: Path | None = None) -> tuple[Any, Path]:
    """Push the sample CSV into the server's first location; the result and the rejects file
    (``rejects``, else ``workdir/rejects.csv``)."""
    from ghlsync.config import Settings
    from ghlsync.mapping import load_mapping
    from ghlsync.push import PushConfig, run_push

    location = server.state.locations[0]
    rejects = rejects or workdir / "rejects.csv"
    config = PushConfig(
        source=str(sample_path("sample_contacts.csv")),
        mapping=load_mapping(sample_path("sample_mapping.yaml")),
        locations=(location["id"],),
        tokens={location["id"]: location["token"]},
        base_url=server.base_url,
        rate_limit=False,
        rejects=str(rejects),
        sync="quickstart",
    )
    settings = Settings(base_url=server.base_url, home=workdir / "home")
    return run_push(config, settings=settings), rejects


def quickstart_command(
    database: Path = typer.Option(  # noqa: B008
        Path("ghlsync-quickstart.duckdb"), "--database", help="DuckDB file."
    ),
    contacts: int = typer.Option(1500, "--contacts", help="Demo contacts (all locations)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Push a sample CSV into the emulator (showing its rejects), then extract it all to DuckDB."""
    from ghlsync.cli._push_view import console, show_result
    from ghlsync.cli.extract import show_quickstart
    from ghlsync.extract.quickstart import quickstart

    parent = database.resolve().parent
    if not parent.is_dir():  # checked before the emulator starts and the sample is pushed
        typer.echo(
            f"error: directory {parent} does not exist (for --database {database})"
            " (hint: create it, or pass a --database in an existing directory)",
            err=True,
        )
        raise typer.Exit(2)
    pushed: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="ghlsync-quickstart-push-") as tmp:
        workdir = Path(tmp)

        def before_extract(server: Any) -> None:
            # kept beside the database: the printed path still exists after the command
            kept = database.with_name(f"{database.stem}-rejects.csv")
            result, rejects = push_sample(server, workdir, kept)
            with rejects.open(newline="", encoding="utf-8") as handle:
                rows = list(csv.DictReader(handle))
            pushed["result"], pushed["rejects"] = result, rows
            if as_json:
                return
            out = console(stderr=False)
            out.print("[bold]1. Push[/]: sample_contacts.csv -> the emulator's first location")
            show_result(result)
            out.print(f"\n[bold]{len(rows)} rows were rejected[/] ({rejects}):", highlight=False)
            for row in rows:
                out.print(
                    f"  {row.get('email') or '(no email)'}: {row['reason']} in {row['field']}"
                    f" - {row['detail']}",
                    markup=False,
                    highlight=False,
                )
            out.print("\n[bold]2. Extract[/]: every location -> DuckDB\n")

        result = quickstart(database, contacts=contacts, before_extract=before_extract)
    extra = {}
    if "result" in pushed:
        extra = {"push": pushed["result"].to_dict(), "push_rejects": pushed["rejects"]}
    show_quickstart(result, as_json, extra)
    if not result.extract.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("quickstart")(quickstart_command)
