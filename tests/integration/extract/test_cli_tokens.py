"""Issue 15 items 2 and 5 through the command line: one token resolution for every command
(``auth add-token`` tokens used by ``extract``), and a typo at any depth refused before any
request."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ghlsync.cli.auth import app as auth_app
from ghlsync.emulator import EmulatorServer
from tests.integration.extract.conftest import admin, emulator_items
from tests.integration.extract.test_cli_extract import _invoke

WRONG = "pit-00000000-0000-0000-0000-000000000000"


def _extract(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-c", "from ghlsync.cli import main; main()", "extract", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    return done


def _requests(server: EmulatorServer) -> int:
    operations = admin(server, "GET", "/counts")["operations"]
    return sum(sum(by_status.values()) for by_status in operations.values())


def test_tokens_stored_with_auth_add_token_are_used_by_extract(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    ids = [loc["id"] for loc in emulator.state.locations]
    for location in emulator.state.locations:
        stored = CliRunner().invoke(
            auth_app, ["add-token", "--location", location["id"]], input=location["token"] + "\n"
        )
        assert stored.exit_code == 0, stored.output
        assert location["token"] not in stored.output
    args = [f"--location={i}" for i in ids]
    args += ["--base-url", emulator.base_url, "--no-rate-limit", "-s", "contacts", "--json"]
    db = f"duckdb:///{tmp_path / 'x.duckdb'}"
    # the store comes before GHL_TOKEN: a wrong token in the environment changes nothing
    done = _extract(*args, "--to", db, "--pipelines-dir", "p", env={"GHL_TOKEN": WRONG})
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["totals"]["contacts"] == sum(
        len(emulator_items(emulator, i, "contacts")) for i in ids
    )
    assert all(loc["token"] not in done.stdout + done.stderr for loc in emulator.state.locations)
    # --token comes first of all: a wrong flag fails every location (exit 1), never the store's
    flagged = _extract(*args, "--to", db, "--pipelines-dir", "p", "--token", WRONG)
    assert flagged.returncode == 1, flagged.stderr
    assert set(json.loads(flagged.stdout)["failed_locations"]) == set(ids)
    assert WRONG not in flagged.stdout + flagged.stderr


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            {"locations": [{"id": "LOC", "tokn": "pit-secret-x"}]},
            "unknown key 'tokn' in locations[0]",
        ),
        ({"locations": ["LOC"], "oauth": {"client_idd": "x"}}, "unknown key 'client_idd' in oauth"),
        ({"locations": ["LOC"], "rate_limt": False}, "unknown config keys ['rate_limt']"),
        ({"locations": [{"id": "LOC", "token": 5}]}, "locations[0].token"),
    ],
)
def test_a_typo_at_any_depth_is_refused_before_any_request(
    emulator: EmulatorServer, tmp_path: Path, config: dict[str, Any], expected: str
) -> None:
    location = emulator.state.locations[0]["id"]
    data = json.loads(json.dumps(config).replace("LOC", location))
    data["base_url"] = emulator.base_url
    path = tmp_path / "c.json"
    path.write_text(json.dumps(data))
    before = _requests(emulator)
    result = _invoke("--config", str(path), "--to", f"duckdb:///{tmp_path / 'x.duckdb'}")
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert expected in lines[0]
    assert "pit-secret-x" not in result.output
    assert _requests(emulator) == before  # refused before anything was sent


def test_a_run_enters_its_config_once(
    emulator: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The config is built once (by the caller); the run neither rebuilds nor mutates it."""
    from ghlsync.extract.config import ExtractConfig
    from ghlsync.extract.run import run_extract
    from tests.integration.extract.conftest import config_for

    config = config_for(emulator, streams=["contacts"])
    before = repr(config), config.connection
    built: list[ExtractConfig] = []
    original = ExtractConfig.__post_init__

    def counted(self: ExtractConfig) -> None:
        built.append(self)
        original(self)

    monkeypatch.setattr(ExtractConfig, "__post_init__", counted)
    result = run_extract(
        config, to=f"duckdb:///{tmp_path / 'x.duckdb'}", pipelines_dir=str(tmp_path / "p")
    )
    assert result.ok
    assert built == []
    assert (repr(config), config.connection) == before
