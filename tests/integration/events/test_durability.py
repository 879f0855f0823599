"""Durability: faults injected by the emulator, and kill -9 of ``ghlsync serve`` under load.

Each event carries a unique email, so "delivered" is "the emulator has that contact" and
"applied twice" would be two contacts (or a tag list with a duplicate) for one email.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ghlsync.emulator import EmulatorServer, EmulatorSettings, SeedOptions

from .conftest import WRITE_KEY, RunningService, wait_for

pytestmark = pytest.mark.slow


def _emails_in(emulator: EmulatorServer) -> dict[str, list[dict[str, Any]]]:
    location = emulator.state.locations[0]["id"]
    answer = httpx.get(
        f"{emulator.base_url}/_emulator/locations/{location}/contacts", params={"limit": 100000}
    )
    answer.raise_for_status()
    body = answer.json()
    items = body.get("contacts") or body.get("items") or body.get("entities") or []
    found: dict[str, list[dict[str, Any]]] = {}
    for contact in items:
        if contact.get("email"):
            found.setdefault(contact["email"], []).append(contact)
    return found


def _lead(email: str) -> dict[str, Any]:
    return {
        "batch": [
            {
                "type": "identify",
                "userId": email,
                "messageId": f"i-{email}",
                "traits": {"email": email},
            },
            {
                "type": "track",
                "userId": email,
                "messageId": f"t-{email}",
                "event": "Lead Generated",
                "properties": {"source": "test", "lead_tag": "fault-lead"},
            },
        ]
    }


def test_faults_lose_nothing_and_apply_nothing_twice(
    emulator: EmulatorServer, make_service: Any
) -> None:
    emulator.settings.timeout_fault_seconds = 0.3
    faults = httpx.put(
        f"{emulator.base_url}/_emulator/faults",
        json={"faults": "429:0.1,500:0.1,timeout:0.05,reset:0.05", "seed": 7},
    )
    assert faults.status_code == 200, faults.text
    running: RunningService = make_service()
    emails = [f"f{i}-{uuid.uuid4().hex[:6]}@example.com" for i in range(40)]
    with httpx.Client(base_url=running.url, auth=(WRITE_KEY, "")) as client:
        for email in emails:
            assert client.post("/v1/batch", json=_lead(email)).status_code == 200

    def all_delivered() -> dict[str, list[dict[str, Any]]]:
        found = _emails_in(emulator)
        done = all("fault-lead" in (found.get(e, [{}])[0].get("tags") or []) for e in emails)
        return found if done else {}

    found = wait_for(all_delivered, timeout_s=120, what="every event despite faults")
    injected = httpx.get(f"{emulator.base_url}/_emulator/faults").json()["injected"]
    assert sum(injected.values()) > 0 if isinstance(injected, dict) else injected, (
        "faults were injected"
    )
    for email in emails:
        assert len(found[email]) == 1, f"{email} applied twice"
        tags = found[email][0]["tags"]
        assert sorted(tags) == sorted(set(tags)) == ["fault-lead", "lead"]


# -- kill -9 -----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(home: Path, emulator: EmulatorServer, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "GHLSYNC_HOME": str(home),
        "GHL_BASE_URL": emulator.base_url,
        "GHL_TOKEN": emulator.state.locations[0]["token"],
    }
    command = [
        str(Path(sys.executable).with_name("ghlsync")),
        "serve",
        "--location",
        emulator.state.locations[0]["id"],
        "--write-key",
        WRITE_KEY,
        "--port",
        str(port),
    ]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def up() -> bool:
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        try:
            return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    wait_for(up, timeout_s=60, what="ghlsync serve to start")
    return process


@pytest.fixture
def slow_emulator() -> Iterator[EmulatorServer]:
    # slow answers keep a backlog in the queue when the kill comes
    settings = EmulatorSettings(seed=5, rate_limit=None)
    with EmulatorServer(
        SeedOptions(locations=1, contacts=0, opportunities=0, seed=5), settings
    ) as server:
        httpx.put(f"{server.base_url}/_emulator/faults", json={"faults": "slow:0.5@0.2s"})
        yield server


def test_kill_9_under_load_then_restart_delivers_every_acknowledged_event(
    slow_emulator: EmulatorServer, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    port = _free_port()
    process = _start(home, slow_emulator, port)
    acknowledged: list[str] = []
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", auth=(WRITE_KEY, ""), timeout=5
        ) as client:
            i = 0
            while not stop.is_set():
                email = f"k{i}-{uuid.uuid4().hex[:6]}@example.com"
                i += 1
                body = {"userId": email, "messageId": email, "traits": {"email": email}}
                try:
                    answer = client.post("/v1/identify", json=body)
                except httpx.TransportError:
                    return  # the service died: this one was never acknowledged
                if answer.status_code == 200:
                    acknowledged.append(email)

    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    wait_for(lambda: len(acknowledged) >= 150, timeout_s=60, what="load")
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    stop.set()
    for thread in threads:
        thread.join(timeout=10)
    delivered_before = set(_emails_in(slow_emulator))
    assert set(acknowledged) - delivered_before, "the kill came with a backlog"

    process = _start(home, slow_emulator, port)
    try:

        def all_delivered() -> dict[str, list[dict[str, Any]]]:
            found = _emails_in(slow_emulator)
            return found if all(e in found for e in acknowledged) else {}

        found = wait_for(all_delivered, timeout_s=180, what="every acknowledged event")
        assert all(len(found[e]) == 1 for e in acknowledged), "a contact was applied twice"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
    # uvicorn re-raises the SIGTERM it handled once the app has shut down
    assert process.returncode in (0, -signal.SIGTERM)
    logged = process.stderr.read().decode() if process.stderr else ""
    assert '"msg": "collector drained"' in logged, logged[-2000:]
    assert "Traceback" not in logged and WRITE_KEY not in logged
