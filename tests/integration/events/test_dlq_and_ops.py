"""Retries, the dead-letter queue and its CLI, coalescing, tail, health and metrics."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from ghlsync.cli import app as root_app
from ghlsync.cli import events as events_cli
from ghlsync.client.retry import RetryPolicy
from ghlsync.emulator import EmulatorServer
from ghlsync.events import EventsConfig

from .conftest import ADMIN_KEY, WRITE_KEY, RunningService, contacts_of, wait_for

pytestmark = pytest.mark.slow


def _cli(*args: str) -> Any:
    if not any(c.name == "events" for c in root_app.registered_groups):
        events_cli.register(root_app)
    return CliRunner().invoke(root_app, list(args))


def _dead(running: RunningService) -> list[dict[str, Any]]:
    answer = httpx.get(
        f"{running.url}/debug/events",
        params={"state": "dead"},
        headers={"X-Admin-Key": ADMIN_KEY},
    )
    return list(answer.json()["events"])


def test_failures_retry_then_dead_letter_then_replay_delivers(
    emulator: EmulatorServer, make_service: Any, tmp_path: Path
) -> None:
    httpx.put(f"{emulator.base_url}/_emulator/faults", json={"faults": "500:1.0"})
    location = emulator.state.locations[0]["id"]
    config = EventsConfig.single(location, WRITE_KEY, admin_key=ADMIN_KEY, max_attempts=3)
    # the client retries each attempt once, briefly (its default waits 0.5 s, 1 s, 2 s, 4 s
    # within each of the worker's 3 attempts: 20 s of a test that proves the same thing)
    quick = RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.02)
    running: RunningService = make_service(config, retry=quick)
    body = {"userId": "dlq-1", "traits": {"email": "dlq@example.com"}}
    assert (
        httpx.post(f"{running.url}/v1/identify", auth=(WRITE_KEY, ""), json=body).status_code == 200
    )
    dead = wait_for(lambda: _dead(running), timeout_s=120, what="the event in the DLQ")
    assert dead[0]["attempts"] == 3
    assert dead[0]["lastStatus"] == 500
    metrics = httpx.get(f"{running.url}/metrics").text
    assert (
        "ghlsync_events_retried_total" in metrics
        and "ghlsync_events_dead_lettered_total" in metrics
    )

    home = tmp_path / "home"
    listed = _cli("events", "dlq", "list", "--queue", f"sqlite:{home / 'events.sqlite3'}", "--json")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)["dead"]
    assert [r["messageId"] for r in rows] == [dead[0]["messageId"]]
    assert "500" in rows[0]["lastError"]

    nothing = _cli("events", "dlq", "replay", "--queue", f"sqlite:{home / 'events.sqlite3'}")
    assert nothing.exit_code == 2 and "--all" in nothing.output

    httpx.put(f"{emulator.base_url}/_emulator/faults", json={"faults": ""})
    replayed = _cli(
        "events", "dlq", "replay", "--all", "--queue", f"sqlite:{home / 'events.sqlite3'}"
    )
    assert replayed.exit_code == 0 and "replayed 1 event" in replayed.output
    wait_for(lambda: contacts_of(emulator, "dlq@example.com"), what="the replayed event delivered")
    assert not _dead(running)

    tail = _cli("events", "tail", "--queue", f"sqlite:{home / 'events.sqlite3'}", "--limit", "5")
    assert tail.exit_code == 0
    last = json.loads(tail.output.strip().splitlines()[-1])
    assert last["messageId"] == dead[0]["messageId"]


def test_a_burst_for_one_identity_is_one_upsert(
    emulator: EmulatorServer, make_service: Any
) -> None:
    running: RunningService = make_service(deliver=False)
    batch = [
        {
            "type": "identify",
            "userId": "b-1",
            "messageId": f"b{i}",
            "traits": {"email": "burst@example.com", "first_name": f"N{i}"},
        }
        for i in range(25)
    ]
    assert (
        httpx.post(
            f"{running.url}/v1/batch", auth=(WRITE_KEY, ""), json={"batch": batch}
        ).status_code
        == 200
    )
    running.stop()
    again: RunningService = make_service()  # same GHLSYNC_HOME: the queued burst is delivered
    found = wait_for(lambda: contacts_of(emulator, "burst@example.com"), what="the burst delivered")
    assert found[0]["firstName"] == "N24", "the last event wins"
    counts = httpx.get(f"{emulator.base_url}/_emulator/counts").json()["operations"]
    assert counts["POST /contacts/upsert"] == {"200": 1}
    metrics = httpx.get(f"{again.url}/metrics").text
    assert "ghlsync_events_delivered_total{location=" in metrics
    line = next(x for x in metrics.splitlines() if x.startswith("ghlsync_events_delivered_total"))
    assert line.endswith(" 25.0")


def test_health_ready_metrics_and_no_secret_in_logs(
    make_service: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="ghlsync")
    running: RunningService = make_service()
    assert httpx.get(f"{running.url}/healthz").json() == {"ok": True}
    assert httpx.get(f"{running.url}/readyz").json() == {"ready": True}
    httpx.post(f"{running.url}/v1/page", auth=(WRITE_KEY, ""), json={"userId": "x", "name": "Home"})
    httpx.post(f"{running.url}/v1/identify", auth=("bad-key", ""), json={"userId": "x"})
    metrics = httpx.get(f"{running.url}/metrics").text
    for name in (
        "ghlsync_events_accepted_total",
        "ghlsync_events_dropped_total",
        "ghlsync_events_queue_depth",
        "ghlsync_events_delivery_lag_seconds",
        "ghlsync_events_ack_seconds_bucket",
    ):
        assert name in metrics, name
    assert 'reason="page calls are counted, not delivered"' in metrics
    served = httpx.get(f"{running.url}/openapi.json").json()
    assert "/v1/batch" in served["paths"]
    token = running.service.settings.token or ""
    assert token and token not in caplog.text and WRITE_KEY not in caplog.text
    assert WRITE_KEY not in repr(running.service.config) and token not in metrics
