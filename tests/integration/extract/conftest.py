"""Fixtures: an emulator on a real socket, configs for its locations, dlt's working dir in tmp."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from ghlsync.client import AsyncGHLClient
from ghlsync.client.session import open_session
from ghlsync.config import Settings
from ghlsync.emulator import EmulatorServer, EmulatorSettings, SeedOptions
from ghlsync.extract.config import ExtractConfig


@pytest.fixture(autouse=True)
def _dlt_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # nothing of dlt's (pipelines, config, telemetry) leaks into the repo or $HOME
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "dlt-data"))
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    options = SeedOptions(locations=2, contacts=240, opportunities=40, seed=11)
    with EmulatorServer(options, EmulatorSettings(rate_limit=None)) as server:
        yield server


def config_for(server: EmulatorServer, **overrides: Any) -> ExtractConfig:
    locations = server.state.locations
    config = ExtractConfig.of(
        [loc["id"] for loc in locations],
        tokens={loc["id"]: loc["token"] for loc in locations},
        base_url=server.base_url,
        rate_limit=False,
    )
    return config.replace(**overrides) if overrides else config


@asynccontextmanager
async def client_for(config: ExtractConfig) -> AsyncIterator[AsyncGHLClient]:
    """The client of a run session of ``config`` (what an extract reads with)."""
    async with open_session(Settings.from_env(), config.connection) as session:
        yield session.client


def admin(server: EmulatorServer, method: str, path: str, **kwargs: Any) -> Any:
    response = httpx.request(method, f"{server.base_url}/_emulator{path}", timeout=10, **kwargs)
    response.raise_for_status()
    return response.json()


def count(server: EmulatorServer, operation: str) -> int:
    ops = admin(server, "GET", "/counts")["operations"]
    return sum(ops.get(operation, {}).values())


def emulator_items(server: EmulatorServer, location_id: str, kind: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = admin(
        server, "GET", f"/locations/{location_id}/{kind}", params={"limit": 100000}
    )["items"]
    return items
