"""``ghlsync auth login`` / ``auth installed`` against the emulator: the output (success and
failure) names rows and location ids, never a token, the client secret or the code."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from typer.testing import CliRunner

from ghlsync.cli.auth import app
from ghlsync.client import TokenStore

emulator = pytest.importorskip("ghlsync.emulator")

REDIRECT = "http://localhost:8765/callback"


def test_login_and_installed_print_no_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with emulator.EmulatorServer(emulator.SeedOptions(locations=3, contacts=5)) as server:
        state = server.state
        monkeypatch.setenv("GHL_BASE_URL", server.base_url)
        monkeypatch.setenv("GHL_CLIENT_ID", state.client_id)
        monkeypatch.setenv("GHL_CLIENT_SECRET", state.client_secret)
        monkeypatch.setenv("GHLSYNC_HOME", str(tmp_path / "home"))
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
        runner = CliRunner()
        login = runner.invoke(
            app, ["login", "--code", code, "--user-type", "Company", "--redirect-uri", REDIRECT]
        )
        assert login.exit_code == 0, login.output
        assert "stored OAuth tokens" in login.output and state.company_id in login.output
        installed = runner.invoke(app, ["installed", "--app-id", state.app_id])
        assert installed.exit_code == 0, installed.output
        assert set(installed.output.split()) == {loc["id"] for loc in state.locations}
        reused = runner.invoke(  # a code is single-use: refused, and the error says so plainly
            app, ["login", "--code", code, "--user-type", "Company", "--redirect-uri", REDIRECT]
        )
        assert reused.exit_code == 1 and "error:" in reused.output
        status = runner.invoke(app, ["status", "--json"])
    store = TokenStore(tmp_path / "home" / "tokens.sqlite3")
    record = store.find("oauth")
    store.close()
    assert record is not None and record.access_token and record.refresh_token
    secrets = {state.client_secret, code, record.access_token, record.refresh_token}
    assert len(secrets) >= 4
    output = login.output + installed.output + reused.output + status.output
    leaked = [s for s in secrets if s in output]
    assert not leaked, output
