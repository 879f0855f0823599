"""Webhooks out over real sockets: the emulator POSTs signed events to a tiny local receiver."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from ghlsync.emulator import EmulatorServer, EmulatorSettings, SeedOptions
from ghlsync.emulator.webhooks import ED25519_HEADER, RSA_HEADER, verify_ed25519, verify_rsa


class Receiver:
    """Records each POST (raw body and headers); answers 500 to the first ``fail_first``."""

    def __init__(self) -> None:
        self.received: list[tuple[bytes, dict[str, str]]] = []
        self.fail_first = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                with receiver.lock:
                    receiver.received.append(
                        (body, {k.lower(): v for k, v in self.headers.items()})
                    )
                    failing = len(receiver.received) <= receiver.fail_first
                self.send_response(500 if failing else 200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    instance = Receiver()
    yield instance
    instance.close()


@pytest.fixture
def emulator(receiver: Receiver) -> Iterator[EmulatorServer]:
    settings = EmulatorSettings(seed=9, rate_limit=None, webhook_url=receiver.url)
    with EmulatorServer(
        SeedOptions(locations=1, contacts=10, opportunities=5, seed=9), settings
    ) as server:
        with httpx.Client(base_url=server.base_url) as admin:
            admin.put("/_emulator/webhooks", json={"baseDelayMs": 20, "maxDelayMs": 100})
        yield server


def _headers(server: EmulatorServer) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {server.state.locations[0]['token']}",
        "Version": "2021-07-28",
    }


def _flush(client: httpx.Client) -> dict[str, Any]:
    flushed = client.post("/_emulator/webhooks/flush", json={"timeoutMs": 10_000})
    assert flushed.json()["idle"] is True
    result: dict[str, Any] = client.get("/_emulator/webhooks/deliveries").json()
    return result


def test_deliveries_verify_with_both_served_public_keys(
    emulator: EmulatorServer, receiver: Receiver
) -> None:
    loc = emulator.state.locations[0]["id"]
    with httpx.Client(base_url=emulator.base_url) as client:
        keys = client.get("/_emulator/webhooks/keys").json()
        opp = client.get(
            "/opportunities/search", params={"location_id": loc}, headers=_headers(emulator)
        ).json()["opportunities"][0]
        status = client.put(
            f"/opportunities/{opp['id']}/status",
            json={"status": "lost"},
            headers=_headers(emulator),
        )
        assert status.status_code == 200
        log = _flush(client)
    assert [d["type"] for d in log["deliveries"]] == [
        "OpportunityUpdate",
        "OpportunityStatusUpdate",
    ]
    assert all(d["state"] == "delivered" for d in log["deliveries"])
    assert len(receiver.received) == 2
    webhook_ids = set()
    for body, headers in receiver.received:
        assert verify_rsa(keys["rsa"], body, headers[RSA_HEADER])
        assert verify_ed25519(keys["ed25519"], body, headers[ED25519_HEADER])
        document = json.loads(body)
        assert document["locationId"] == loc and document["id"] == opp["id"]
        assert {"type", "timestamp", "webhookId"} <= set(document)
        webhook_ids.add(document["webhookId"])
    assert len(webhook_ids) == 2
    status_event = json.loads(receiver.received[1][0])
    assert status_event["type"] == "OpportunityStatusUpdate" and status_event["status"] == "lost"


def test_a_failing_receiver_is_retried_with_backoff(
    emulator: EmulatorServer, receiver: Receiver
) -> None:
    receiver.fail_first = 2
    loc = emulator.state.locations[0]["id"]
    with httpx.Client(base_url=emulator.base_url) as client:
        created = client.post(
            "/contacts/",
            json={"locationId": loc, "email": "hook@example.com"},
            headers=_headers(emulator),
        )
        assert created.status_code == 201
        log = _flush(client)
    delivery = log["deliveries"][-1]
    assert delivery["type"] == "ContactCreate" and delivery["state"] == "delivered"
    assert [a["status"] for a in delivery["attempts"]] == [500, 500, 200]
    bodies = {body for body, _ in receiver.received}
    assert len(bodies) == 1  # the same signed bytes, re-sent


def test_gives_up_after_max_attempts(emulator: EmulatorServer, receiver: Receiver) -> None:
    receiver.fail_first = 100
    loc = emulator.state.locations[0]["id"]
    with httpx.Client(base_url=emulator.base_url) as client:
        client.put("/_emulator/webhooks", json={"maxAttempts": 3})
        started = time.monotonic()
        client.post(
            "/contacts/",
            json={"locationId": loc, "email": "x@example.com"},
            headers=_headers(emulator),
        )
        log = _flush(client)
    assert time.monotonic() - started < 5
    delivery = log["deliveries"][-1]
    assert delivery["state"] == "failed" and len(delivery["attempts"]) == 3
