"""Many sources and locations from one config: each write key's events reach its location."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ghlsync.config import Settings
from ghlsync.emulator import EmulatorServer, EmulatorSettings, SeedOptions
from ghlsync.events import EventService, hash_key
from ghlsync.events.config import parse_config

from .conftest import RunningService, wait_for


@pytest.fixture
def two_locations() -> Iterator[EmulatorServer]:
    settings = EmulatorSettings(seed=21, rate_limit=None)
    with EmulatorServer(
        SeedOptions(locations=2, contacts=0, opportunities=0, seed=21), settings
    ) as server:
        yield server


def _by_email(server: EmulatorServer, location: str, email: str) -> list[dict[str, Any]]:
    answer = httpx.get(
        f"{server.base_url}/_emulator/locations/{location}/contacts/by-email",
        params={"email": email},
    )
    return list(answer.json()["contacts"])


def test_each_source_writes_to_its_location_with_its_token(
    two_locations: EmulatorServer, tmp_path: Path
) -> None:
    first, second = two_locations.state.locations[:2]
    config = parse_config(
        {
            "sources": [
                {
                    "name": "web",
                    "location_id": first["id"],
                    "write_key_sha256": hash_key("key-web"),
                },
                {
                    "name": "app",
                    "location_id": second["id"],
                    "write_key_sha256": hash_key("key-app"),
                },
            ],
            "connection": {
                "locations": [
                    {"id": first["id"], "token": first["token"]},
                    {"id": second["id"], "token": second["token"]},
                ]
            },
        }
    )
    settings = Settings(base_url=two_locations.base_url, home=tmp_path / "home")
    running = RunningService(EventService(config, settings))
    try:
        for key, email in (("key-web", "web@example.com"), ("key-app", "app@example.com")):
            body = {"userId": email, "traits": {"email": email}}
            assert (
                httpx.post(f"{running.url}/v1/identify", auth=(key, ""), json=body).status_code
                == 200
            )
        wait_for(
            lambda: _by_email(two_locations, first["id"], "web@example.com"), what="web's contact"
        )
        wait_for(
            lambda: _by_email(two_locations, second["id"], "app@example.com"), what="app's contact"
        )
        assert not _by_email(two_locations, second["id"], "web@example.com")
        assert not _by_email(two_locations, first["id"], "app@example.com")
        metrics = httpx.get(f"{running.url}/metrics").text
        assert (
            'source="web",type="identify"' in metrics and 'source="app",type="identify"' in metrics
        )
    finally:
        running.stop()
