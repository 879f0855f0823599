"""Scale-out on Redis: 3 ``ghlsync events work`` processes share the queue and one budget.

One worker is killed (SIGKILL) mid-run: its leased partitions and pending entries pass to the
others (XAUTOCLAIM). Every accepted event is delivered, none applied twice, and the emulator
never answers 429 (the shared Redis limiter keeps the location under its limit).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from ghlsync.emulator import EmulatorServer, EmulatorSettings, SeedOptions
from ghlsync.emulator.settings import RateLimit
from ghlsync.events import EventsConfig, hash_key

from .conftest import WRITE_KEY, RunningService, wait_for

redis = pytest.importorskip("redis")
pytestmark = pytest.mark.slow
REDIS_URL = "redis://127.0.0.1:6379/0"
BURST, WINDOW_S = 40, 2.0


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis is not reachable on 127.0.0.1:6379")
    prefix = f"test-{uuid.uuid4().hex[:10]}"
    yield prefix
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)
    client.close()


@pytest.fixture
def limited_emulator() -> Iterator[EmulatorServer]:
    settings = EmulatorSettings(seed=11, rate_limit=RateLimit(BURST, int(WINDOW_S * 1000)))
    with EmulatorServer(
        SeedOptions(locations=1, contacts=0, opportunities=0, seed=11), settings
    ) as server:
        yield server


def _contacts(emulator: EmulatorServer) -> dict[str, int]:
    location = emulator.state.locations[0]["id"]
    body = httpx.get(f"{emulator.base_url}/_emulator/locations/{location}/contacts").json()
    counts: dict[str, int] = {}
    for contact in body.get("contacts") or body.get("items") or []:
        if contact.get("email"):
            counts[contact["email"]] = counts.get(contact["email"], 0) + 1
    return counts


def test_three_workers_one_killed(
    limited_emulator: EmulatorServer, redis_prefix: str, tmp_path: Path, make_service: Any
) -> None:
    emulator = limited_emulator
    location = emulator.state.locations[0]["id"]
    document = {
        "sources": [
            {"name": "web", "location_id": location, "write_key_sha256": hash_key(WRITE_KEY)}
        ],
        "queue": REDIS_URL,
        "redis_prefix": redis_prefix,
        "redis_lease_seconds": 2.0,  # the killed worker's partitions pass on after 2 s, not 5
        "connection": {"burst": BURST, "interval": WINDOW_S},
    }
    config_path = tmp_path / "serve.yaml"
    config_path.write_text(yaml.safe_dump(document))
    running: RunningService = make_service(EventsConfig.model_validate(document), deliver=False)

    emails = [f"r{i}-{uuid.uuid4().hex[:6]}@example.com" for i in range(120)]
    with httpx.Client(base_url=running.url, auth=(WRITE_KEY, "")) as client:
        for start in range(0, len(emails), 20):
            batch = [
                {"type": "identify", "userId": e, "messageId": e, "traits": {"email": e}}
                for e in emails[start : start + 20]
            ]
            assert client.post("/v1/batch", json={"batch": batch}).status_code == 200

    env = {
        **os.environ,
        "GHLSYNC_HOME": str(tmp_path / "worker-home"),
        "GHL_BASE_URL": emulator.base_url,
        "GHL_TOKEN": emulator.state.locations[0]["token"],
    }
    executable = str(Path(sys.executable).with_name("ghlsync"))
    workers = [
        subprocess.Popen(
            [
                executable,
                "events",
                "work",
                "--queue",
                REDIS_URL,
                "--config",
                str(config_path),
                "--consumer",
                f"w{n}",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for n in range(3)
    ]
    try:
        wait_for(lambda: len(_contacts(emulator)) >= 30, timeout_s=60, what="the first deliveries")
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait(timeout=10)
        assert len(_contacts(emulator)) < len(emails), "the kill came mid-run"
        found = wait_for(
            lambda: (c := _contacts(emulator)) and all(e in c for e in emails) and c,
            timeout_s=120,
            what="every accepted event",
        )
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
    assert all(found[e] == 1 for e in emails), "a contact was applied twice"
    counts = httpx.get(f"{emulator.base_url}/_emulator/counts").json()
    statuses = {s for by_status in counts["operations"].values() for s in by_status}
    assert "429" not in statuses, counts
    for worker in workers[1:]:
        logged = worker.stderr.read().decode() if worker.stderr else ""
        assert '"msg": "worker drained"' in logged, logged[-1500:]
