"""``ghlsync auth``: status and add-token never show a token; login exchanges a code."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from ghlsync.cli.auth import app
from ghlsync.client import admin
from ghlsync.config import Settings
from tests.unit.client_core.fake_oauth import (
    AUTH_CODE,
    CLIENT_ID,
    CLIENT_SECRET,
    COMPANY,
    FakeOAuthServer,
)

TOKEN = "SECRET-pit-0123456789"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GHLSYNC_HOME", str(tmp_path / "home"))
    for name in ("GHL_CLIENT_ID", "GHL_CLIENT_SECRET", "GHLSYNC_SECRET_KEY", "GHL_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "home"


def test_add_token_from_stdin_then_status(home: Path) -> None:
    runner = CliRunner()
    empty = runner.invoke(app, ["status"])
    assert empty.exit_code == 0 and "no stored tokens" in empty.output
    added = runner.invoke(
        app,
        ["add-token", "--location", "loc42", "--scopes", "contacts.readonly"],
        input=TOKEN + "\n",
    )
    assert added.exit_code == 0, added.output
    assert "loc42" in added.output and TOKEN not in added.output
    shown = runner.invoke(app, ["status"])
    assert shown.exit_code == 0
    assert "private" in shown.output and "loc42" in shown.output
    assert "contacts.readonly" in shown.output and "no expiry" in shown.output
    assert TOKEN not in shown.output
    as_json = json.loads(runner.invoke(app, ["status", "--json"]).output)
    assert as_json[0]["location_id"] == "loc42" and TOKEN not in json.dumps(as_json)

    assert (home / "tokens.sqlite3").exists()


async def test_client_from_env_uses_the_stored_private_token(home: Path) -> None:
    admin.add_private_token("loc42", TOKEN)
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        return httpx.Response(200, json={})

    from ghlsync.client import AsyncGHLClient

    async with AsyncGHLClient.from_env(transport=httpx.MockTransport(handler)) as client:
        await client.request("GET", "/contacts/c1", location_id="loc42")
    assert seen == [f"Bearer {TOKEN}"]
    assert (home / "ratelimit.sqlite3").exists()  # the daily count persists under GHLSYNC_HOME


def test_add_token_refuses_empty_input(home: Path) -> None:
    result = CliRunner().invoke(app, ["add-token", "--location", "loc1"], input="\n")
    assert result.exit_code == 1


async def test_login_with_code(home: Path, tmp_path: Path) -> None:
    server = FakeOAuthServer(tmp_path / "server.sqlite3")
    settings = Settings(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, home=home)
    status = await admin.login_with_code(
        AUTH_CODE, user_type="Company", settings=settings, transport=httpx.MockTransport(server)
    )
    assert status.kind == "oauth" and status.company_id == COMPANY and status.refreshable
    rows = admin.token_status(settings)
    assert [(r.kind, r.company_id) for r in rows] == [("oauth", COMPANY)]
    assert rows[0].state.startswith("expires in 23h")


async def test_installed_locations_helper(home: Path, tmp_path: Path) -> None:
    server = FakeOAuthServer(tmp_path / "server.sqlite3", installed=5)
    settings = Settings(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, home=home)
    transport = httpx.MockTransport(server)
    await admin.login_with_code(
        AUTH_CODE, user_type="Company", settings=settings, transport=transport
    )
    ids = await admin.installed_locations(app_id="app123", settings=settings, transport=transport)
    assert ids == [f"loc{i:04d}" for i in range(5)]


async def test_from_settings_picks_oauth_and_closes_what_it_opened(
    home: Path, tmp_path: Path
) -> None:
    from ghlsync.client import AsyncGHLClient, InMemoryLimiter, OAuthAuth
    from ghlsync.client.resolution import TokenChain

    server = FakeOAuthServer(tmp_path / "server.sqlite3")
    settings = Settings(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, home=home, base_url="http://emulator.test"
    )
    await admin.login_with_code(
        AUTH_CODE, user_type="Company", settings=settings, transport=httpx.MockTransport(server)
    )
    client = AsyncGHLClient.from_settings(settings, transport=httpx.MockTransport(server))
    assert isinstance(client.auth, TokenChain) and isinstance(client.auth.oauth, OAuthAuth)
    assert isinstance(client.limiter, InMemoryLimiter)
    assert client.base_url == "http://emulator.test"
    assert await client.request("GET", "/locations/search", company_id=COMPANY)
    await client.aclose()
    assert client.limiter.store_path == home / "ratelimit.sqlite3"
    assert (home / "ratelimit.sqlite3").exists() and (home / "tokens.sqlite3").exists()
