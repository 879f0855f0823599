"""``ghlsync extract`` on the command line: bad input, destination failures, --installed, progress."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import typer
from typer.testing import CliRunner

from ghlsync.cli.extract import register
from ghlsync.client import AsyncGHLClient, OAuthAuth, TokenStore
from ghlsync.emulator import EmulatorServer
from tests.integration.extract.conftest import config_for, emulator_items

REDIRECT = "http://localhost:8765/callback"


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def _invoke(*args: str) -> Any:
    result = CliRunner().invoke(_app(), ["extract", *args])
    assert "Traceback" not in result.output
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), repr(result.exception)
    return result


@dataclass
class Ran:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def _run(*args: str) -> Ran:
    """The real command in a subprocess (dlt's loggers outlive CliRunner's captured streams)."""
    done = subprocess.run(
        [sys.executable, "-c", "from ghlsync.cli import main; main()", "extract", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    return Ran(done.returncode, done.stdout, done.stderr)


def _config_file(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "c.json"
    path.write_text(json.dumps(data))
    return path


def _private(server: EmulatorServer, **extra: Any) -> dict[str, Any]:
    config = config_for(server)
    return {
        "base_url": config.base_url,
        "locations": [{"id": i, "token": config.tokens[i]} for i in config.locations],
        "rate_limit": False,
        **extra,
    }


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    good = _config_file(tmp_path, {"locations": ["loc1"], "token": "pit-secret-x"})
    cases = [
        (["--config", str(tmp_path / "missing.json")], "missing.json does not exist"),
        (["--config", str(good), "--start-date", "notadate"], "not an ISO date"),
        (["--config", str(good), "--to", "duckdb:///no/such/dir/x.duckdb"], "does not exist"),
        (["--config", str(good), "--to", "mysql://x"], "unsupported destination"),
        (["--config", str(good), "--stream", "nope"], "unknown stream"),
        (["--config", str(good), "--to", "dlt:no_such_destination"], "no destination"),
        (["--location", "x", "--installed"], "client id"),
        ([], "no locations configured"),
    ]
    (tmp_path / "broken.json").write_text('{"token": "pit-secret-x", ')
    cases.append((["--config", str(tmp_path / "broken.json")], "not valid JSON"))
    for args, expected in cases:
        result = _invoke(*args)
        assert result.exit_code == 2, (args, result.output)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), (args, result.stderr)
        assert expected in lines[0], (args, lines[0])
        assert "pit-secret-x" not in result.output


@pytest.mark.parametrize(
    ("to", "expected"),
    [
        ("bogus://x", "unsupported destination"),
        ("duckdb:///no/such/dir/x.duckdb", "does not exist"),
        ("postgres://host-only", "incomplete PostgreSQL URL"),
    ],
)
def test_a_bad_destination_is_refused_before_any_request(
    tmp_path: Path, to: str, expected: str
) -> None:
    """Reading starts early (while dlt is imported), but never for a --to that cannot work:
    HighLevel here is a port where nothing answers, and no attempt to reach it is made."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as dead:
        dead.bind(("127.0.0.1", 0))
        base_url = f"http://127.0.0.1:{dead.getsockname()[1]}"
        config = _config_file(
            tmp_path, {"base_url": base_url, "locations": ["l1"], "token": "pit-x"}
        )
        result = _run("--config", str(config), "--to", to, "--pipelines-dir", str(tmp_path / "p"))
    assert result.exit_code == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], lines


def test_unreachable_destination_exit_3_with_json(emulator: EmulatorServer, tmp_path: Path) -> None:
    config = _config_file(tmp_path, _private(emulator))
    to = "postgres://ghl:hunter2-secret@127.0.0.1:1/nowhere"  # nothing listens on port 1
    result = _run("--config", str(config), "--to", to, "--json", "--pipelines-dir", "p")
    assert result.exit_code == 3, result.output
    payload = json.loads(result.stdout)
    assert payload["ok"] is False and payload["exit_code"] == 3
    assert "postgres" in payload["error"] and "Connection refused" in payload["error"]
    assert "hunter2-secret" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: postgres at postgres://ghl:***@")


def test_phases_and_budget(emulator: EmulatorServer, tmp_path: Path) -> None:
    config = _config_file(tmp_path, _private(emulator, rate_limit=True))
    db = tmp_path / "x.duckdb"
    args = ["--config", str(config), "--to", f"duckdb:///{db}", "-s", "contacts", "-s", "users"]
    plain = _run(*args, "--pipelines-dir", "p")
    assert plain.exit_code == 0, plain.output
    assert "extracting..." in plain.stderr
    users = sum(
        len(emulator_items(emulator, loc["id"], "users")) for loc in emulator.state.locations
    )
    assert f"loading {240 + users} rows into duckdb..." in plain.stderr
    assert "rec/s" in plain.stdout and "budget left" in plain.stdout  # the summary: stdout
    as_json = _run(*args, "--pipelines-dir", "p", "--json")
    assert as_json.exit_code == 0
    assert "rows into duckdb..." not in as_json.stderr  # --json: no phase lines
    payload = json.loads(as_json.stdout)
    assert payload["exit_code"] == 0
    budget = payload["budget"]
    assert set(budget) == {loc["id"] for loc in emulator.state.locations}
    for numbers in budget.values():
        # the emulator announces its (unlimited) budget in X-RateLimit-* headers: spent, not full
        assert 0 <= numbers["remaining"] < numbers["burst"]
        assert 0 <= numbers["daily_remaining"] < numbers["daily_limit"]


def _agency_login(server: EmulatorServer, store_path: Path) -> None:
    """The agency authorises the app (what ``ghlsync auth login --user-type Company`` does)."""
    state = server.state
    answer = httpx.get(
        f"{server.base_url}/oauth/chooselocation",
        params={
            "client_id": state.client_id,
            "redirect_uri": REDIRECT,
            "response_type": "code",
            "user_type": "Company",
        },
    )
    code = parse_qs(urlparse(answer.headers["location"]).query)["code"][0]

    async def login() -> None:
        store = TokenStore(store_path)
        auth = OAuthAuth(client_id=state.client_id, client_secret=state.client_secret, store=store)
        async with AsyncGHLClient(auth, base_url=server.base_url, limiter=None):
            await auth.exchange_code(code, user_type="Company", redirect_uri=REDIRECT)
        store.close()

    asyncio.run(login())


def _agency_config(emulator: EmulatorServer, tmp_path: Path, **extra: Any) -> Path:
    """A config file for the emulator's agency app, logged in to a token store in tmp_path."""
    state = emulator.state
    store_path = tmp_path / "tokens.sqlite3"
    _agency_login(emulator, store_path)
    oauth = {
        "client_id": state.client_id,
        "client_secret": state.client_secret,
        "company_id": state.company_id,
        "app_id": state.app_id,
        "token_store": str(store_path),
    }
    return _config_file(
        tmp_path, {"base_url": emulator.base_url, "oauth": oauth, "rate_limit": False, **extra}
    )


def test_installed_locations_with_agency_oauth(emulator: EmulatorServer, tmp_path: Path) -> None:
    state = emulator.state
    config = _agency_config(emulator, tmp_path)
    store_path = tmp_path / "tokens.sqlite3"
    db = tmp_path / "x.duckdb"
    result = _run(
        "--config",
        str(config),
        "--installed",
        "--to",
        f"duckdb:///{db}",
        "-s",
        "contacts",
        "--json",
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    locations = {loc["id"] for loc in state.locations}
    assert {r["location_id"] for r in payload["results"]} == locations
    assert payload["totals"]["contacts"] == sum(
        len(emulator_items(emulator, loc, "contacts")) for loc in locations
    )
    # each location's token was minted from the agency token and kept in the store
    with contextlib.closing(TokenStore(store_path)) as store:
        for location_id in locations:
            row = store.get("location", company_id=state.company_id, location_id=location_id)
            assert row is not None and row.access_token
    assert state.client_secret not in result.output


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("bigquery://my-project?location=EU", "bigquery"),
        ("snowflake://loader:pw@acme-xy123/RAW?warehouse=WH&role=LOADER", "snowflake"),
        ("dlt:motherduck", "motherduck"),
        ("dlt:duckdb", "duckdb"),
    ],
)
def test_warehouse_urls_map_to_dlt_destinations(url: str, kind: str) -> None:
    from ghlsync.extract.run import destination_for

    destination = destination_for(url)
    assert destination.kind == kind
    assert "pw@" not in destination.url and "pw@" not in destination.identity
    assert destination.destination.destination_type.endswith(kind)


def test_tap_reads_installed_locations_too(emulator: EmulatorServer, tmp_path: Path) -> None:
    state = emulator.state
    config = _agency_config(emulator, tmp_path, installed=True, streams=["contacts"])
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from ghlsync.cli import tap_main; tap_main()",
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    messages = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    records = [m["record"] for m in messages if m["type"] == "RECORD" and m["stream"] == "contacts"]
    locations = {loc["id"] for loc in state.locations}
    assert {r["location_id"] for r in records} == locations
    assert len(records) == sum(len(emulator_items(emulator, loc, "contacts")) for loc in locations)
    assert state.client_secret not in done.stdout + done.stderr


def test_tap_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    good = _config_file(tmp_path, {"locations": ["loc1"], "token": "pit-secret-x"})
    (tmp_path / "typo.json").write_text(json.dumps({"location": ["loc1"], "token": "pit-secret-x"}))
    cases = [
        (["--config", str(tmp_path / "missing.json")], "missing.json does not exist"),
        (["--config", str(tmp_path / "typo.json")], "unknown config keys ['location']"),
        (["--config", str(good), "--catalog", str(tmp_path / "nocat.json")], "catalog file"),
        (["--config", str(good), "--state", str(tmp_path / "nostate.json")], "state file"),
    ]
    for args, expected in cases:
        result = CliRunner().invoke(_app(), ["tap", *args])
        assert result.exit_code == 2, (args, result.output)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and expected in lines[0], (args, result.stderr)
        assert "pit-secret-x" not in result.output and result.stdout == ""
