"""The emulator over a real loopback socket: EmulatorServer, the CLI, faults a socket can show."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ghlsync.emulator import EmulatorServer, EmulatorSettings, SeedOptions, Store, seed_store
from ghlsync.emulator.clock import Clock
from ghlsync.emulator.settings import RateLimit


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    settings = EmulatorSettings(seed=5, rate_limit=RateLimit(20, 10_000), timeout_fault_seconds=1.0)
    with EmulatorServer(SeedOptions(locations=2, contacts=2_000, seed=5), settings) as running:
        yield running


def _headers(server: EmulatorServer, index: int = 0) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {server.state.locations[index]['token']}",
        "Version": "2021-07-28",
    }


def test_search_and_forbidden_over_a_socket(server: EmulatorServer) -> None:
    assert server.base_url.startswith("http://127.0.0.1:")
    location = server.state.locations[0]["id"]
    with httpx.Client(base_url=server.base_url) as client:
        page = client.post(
            "/contacts/search",
            json={
                "locationId": location,
                "pageLimit": 500,
                "sort": [{"field": "dateUpdated", "direction": "asc"}],
            },
            headers=_headers(server),
        )
        assert page.status_code == 200
        assert page.json()["total"] == 1_000 and len(page.json()["contacts"]) == 500
        assert page.headers["x-ratelimit-max"] == "20"
        other = client.get(
            f"/locations/{server.state.locations[1]['id']}", headers=_headers(server)
        )
        assert other.status_code == 403


def test_rate_limit_429_over_a_socket(server: EmulatorServer) -> None:
    location = server.state.locations[1]["id"]
    with httpx.Client(base_url=server.base_url) as client:
        statuses = [
            client.get(f"/locations/{location}", headers=_headers(server, 1)).status_code
            for _ in range(21)
        ]
        assert statuses.count(429) == 1 and statuses[-1] == 429
        last = client.get(f"/locations/{location}", headers=_headers(server, 1))
        assert last.status_code == 429 and "retry-after" in last.headers
        assert last.headers["x-ratelimit-remaining"] == "0"
        httpx.put(f"{server.base_url}/_emulator/settings", json={"rateLimit": "20/10s"})


def test_reset_and_timeout_faults_reach_the_client(server: EmulatorServer) -> None:
    location = server.state.locations[0]["id"]
    admin = httpx.Client(base_url=server.base_url)
    try:
        admin.put("/_emulator/faults", json={"faults": "reset:1", "seed": 1})
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{server.base_url}/locations/{location}", headers=_headers(server))
        admin.put("/_emulator/faults", json={"faults": "timeout:1"})
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(
                f"{server.base_url}/locations/{location}", headers=_headers(server), timeout=0.2
            )
    finally:
        admin.put("/_emulator/faults", json={"faults": ""})
        admin.close()
    ok = httpx.get(f"{server.base_url}/locations/{location}", headers=_headers(server))
    assert ok.status_code == 200


def test_oauth_login_flow_over_a_socket(server: EmulatorServer) -> None:
    state = server.state
    with httpx.Client(base_url=server.base_url) as client:
        consent = client.get(
            "/oauth/chooselocation",
            params={
                "response_type": "code",
                "client_id": state.client_id,
                "redirect_uri": "http://localhost/callback",
            },
        )
        code = consent.headers["location"].split("code=")[1]
        token = client.post(
            "/oauth/token",
            data={
                "client_id": state.client_id,
                "client_secret": state.client_secret,
                "grant_type": "authorization_code",
                "code": code,
            },
        )
        assert token.status_code == 200
        access = token.json()["access_token"]
        response = client.get(
            f"/locations/{token.json()['locationId']}",
            headers={"Authorization": f"Bearer {access}", "Version": "v3"},
        )
        assert response.status_code == 200


def test_cli_serve_prints_and_writes_the_state(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    ghlsync = Path(sys.executable).with_name("ghlsync")
    process = subprocess.Popen(
        [
            str(ghlsync),
            "emulator",
            "serve",
            "--port",
            "0",
            "--contacts",
            "50",
            "--seed",
            "9",
            "--state-out",
            str(state_file),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + 20
        while not state_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        document = json.loads(state_file.read_text())
        assert set(document) >= {"baseUrl", "companyId", "agencyToken", "oauth", "locations"}
        assert document["oauth"]["clientId"] and document["oauth"]["clientSecret"]
        location = document["locations"][0]
        for _ in range(100):
            try:
                response = httpx.get(
                    f"{document['baseUrl']}/locations/{location['id']}",
                    headers={
                        "Authorization": f"Bearer {location['token']}",
                        "Version": "2021-07-28",
                    },
                )
                break
            except httpx.ConnectError:
                time.sleep(0.05)
        assert response.status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)


class StoppedClock(Clock):
    """The emulator's clock, moving only when the test advances it: a window passes exactly
    when the test says so, however slow the machine."""

    def __init__(self) -> None:
        super().__init__()
        self._wall, self._monotonic = time.time(), time.monotonic()

    def time(self) -> float:
        return self._wall + self.offset_seconds

    def monotonic(self) -> float:
        return self._monotonic + self.offset_seconds


def test_a_client_pacing_at_the_limit_never_sees_429() -> None:
    settings = EmulatorSettings(rate_limit=RateLimit(5, 500))
    options = SeedOptions(locations=1, contacts=5)
    store = Store(seed=options.seed, clock=StoppedClock())
    seed_store(store, options)
    with (
        EmulatorServer(options, settings, store=store) as paced,
        httpx.Client(base_url=paced.base_url) as client,
    ):
        path = f"/locations/{paced.state.locations[0]['id']}"
        statuses = []
        for _ in range(3):
            statuses += [client.get(path, headers=_headers(paced)).status_code for _ in range(5)]
            store.clock.advance(0.5)  # one window: the budget is whole again
        assert statuses == [200] * 15
        burst = [client.get(path, headers=_headers(paced)).status_code for _ in range(6)]
        assert burst == [200] * 5 + [429]
