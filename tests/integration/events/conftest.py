"""Fixtures for the collector: the emulator as HighLevel, and ``ghlsync serve`` on a real socket."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from ghlsync.config import Settings
from ghlsync.emulator import EmulatorServer, EmulatorSettings, SeedOptions
from ghlsync.events import EventsConfig, EventService
from ghlsync.events.worker import Backoff

WRITE_KEY = "wk-test-0123456789"
ADMIN_KEY = "admin-test-key-42"


class RunningService:
    """An ``EventService`` served by uvicorn in a thread, on 127.0.0.1 and a free port."""

    def __init__(self, service: EventService) -> None:
        self.service = service
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        config = uvicorn.Config(service.app, log_level="warning", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline, "collector did not start"
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def wait_for(check: Callable[[], Any], timeout_s: float = 30.0, what: str = "condition") -> Any:
    """Poll ``check`` until it returns something truthy; fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    settings = EmulatorSettings(seed=3, rate_limit=None)
    with EmulatorServer(
        SeedOptions(locations=1, contacts=0, opportunities=0, seed=3), settings
    ) as server:
        yield server


def settings_for(emulator: EmulatorServer, home: Path) -> Settings:
    return Settings(
        base_url=emulator.base_url, token=emulator.state.locations[0]["token"], home=home
    )


@pytest.fixture
def make_service(
    emulator: EmulatorServer, tmp_path: Path
) -> Iterator[Callable[..., RunningService]]:
    started: list[RunningService] = []

    def make(config: EventsConfig | None = None, **options: Any) -> RunningService:
        location = emulator.state.locations[0]["id"]
        config = config or EventsConfig.single(location, WRITE_KEY, admin_key=ADMIN_KEY)
        options.setdefault("backoff", Backoff(base_s=0.05, cap_s=0.5))
        service = EventService(config, settings_for(emulator, tmp_path / "home"), **options)
        running = RunningService(service)
        started.append(running)
        return running

    yield make
    for running in started:
        running.stop()


def contacts_of(emulator: EmulatorServer, email: str) -> list[dict[str, Any]]:
    location = emulator.state.locations[0]["id"]
    answer = httpx.get(
        f"{emulator.base_url}/_emulator/locations/{location}/contacts/by-email",
        params={"email": email},
    )
    answer.raise_for_status()
    return list(answer.json()["contacts"])


def run(coro: Any) -> Any:
    return asyncio.run(coro)
