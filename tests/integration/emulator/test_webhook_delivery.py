"""Webhooks out over real sockets: the emulator POSTs signed events to a tiny local receiver."""

from __future__ import annotations

import json
import socket
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
    """Records each POST (raw body and headers); answers ``fail_status`` (500 unless set) to
    the first ``fail_first``."""

    def __init__(self) -> None:
        self.received: list[tuple[bytes, dict[str, str]]] = []
        self.fail_first = 0
        self.fail_status = 500
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
                self.send_response(receiver.fail_status if failing else 200)
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
            # HighLevel's ten minutes between 429 retries, scaled to 30 ms
            admin.put("/_emulator/webhooks", json={"timeScale": 0.00005})
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


def test_a_429_is_retried_with_the_same_signed_bytes(
    emulator: EmulatorServer, receiver: Receiver
) -> None:
    """GHL-NOTES §8: HighLevel retries a delivery only when the receiver answers 429."""
    receiver.fail_first, receiver.fail_status = 2, 429
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
    assert [a["status"] for a in delivery["attempts"]] == [429, 429, 200]
    bodies = {body for body, _ in receiver.received}
    assert len(bodies) == 1  # the same signed bytes, re-sent
    document = json.loads(receiver.received[0][0])
    assert document["appId"] == emulator.state.app_id
    assert document["versionId"] == emulator.state.app_id


@pytest.mark.parametrize("status", [500, 503])
def test_a_5xx_is_final_and_the_event_lost(
    emulator: EmulatorServer, receiver: Receiver, status: int
) -> None:
    """GHL-NOTES §8: any answer but 429 is final, 5xx included."""
    receiver.fail_first, receiver.fail_status = 100, status
    loc = emulator.state.locations[0]["id"]
    with httpx.Client(base_url=emulator.base_url) as client:
        client.post(
            "/contacts/",
            json={"locationId": loc, "email": "lost@example.com"},
            headers=_headers(emulator),
        )
        log = _flush(client)
    delivery = log["deliveries"][-1]
    assert delivery["state"] == "failed"
    assert [a["status"] for a in delivery["attempts"]] == [status]
    assert len(receiver.received) == 1


def test_a_dead_receiver_is_not_retried(receiver: Receiver) -> None:
    """GHL-NOTES §8: a connection error or timeout is final too."""
    # a socket bound but never listening: connections to it are refused, and no other process
    # (a parallel test's server) can take its port while the test runs
    dead = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    dead.bind(("127.0.0.1", 0))
    dead_url = f"http://127.0.0.1:{dead.getsockname()[1]}/hooks"
    receiver.close()
    settings = EmulatorSettings(seed=3, rate_limit=None, webhook_url=dead_url)
    with dead, EmulatorServer(SeedOptions(locations=1, contacts=2, seed=3), settings) as server:
        loc = server.state.locations[0]["id"]
        with httpx.Client(base_url=server.base_url) as client:
            client.post(
                "/contacts/",
                json={"locationId": loc, "email": "dead@example.com"},
                headers=_headers(server),
            )
            log = _flush(client)
    delivery = log["deliveries"][-1]
    assert delivery["state"] == "failed" and len(delivery["attempts"]) == 1
    assert delivery["attempts"][0]["status"] is None and delivery["attempts"][0]["error"]


def test_opportunity_create_fires_create_and_update(
    emulator: EmulatorServer, receiver: Receiver
) -> None:
    """GHL-NOTES §8: one create sends OpportunityCreate and OpportunityUpdate (hl-docs#27)."""
    loc = emulator.state.locations[0]["id"]
    with httpx.Client(base_url=emulator.base_url) as client:
        pipeline = client.get(
            "/opportunities/pipelines", params={"locationId": loc}, headers=_headers(emulator)
        ).json()["pipelines"][0]
        contact = client.post(
            "/contacts/",
            json={"locationId": loc, "email": "deal@example.com"},
            headers=_headers(emulator),
        ).json()["contact"]
        made = client.post(
            "/opportunities/",
            json={
                "locationId": loc,
                "pipelineId": pipeline["id"],
                "name": "Webhook deal",
                "status": "open",
                "contactId": contact["id"],
            },
            headers=_headers(emulator),
        )
        assert made.status_code in (200, 201), made.text
        log = _flush(client)
    deals = [d for d in log["deliveries"] if d["type"].startswith("Opportunity")]
    assert [d["type"] for d in deals] == ["OpportunityCreate", "OpportunityUpdate"]
    assert {d["body"]["id"] for d in deals} == {made.json()["opportunity"]["id"]}


def test_gives_up_after_max_attempts(emulator: EmulatorServer, receiver: Receiver) -> None:
    receiver.fail_first, receiver.fail_status = 100, 429
    loc = emulator.state.locations[0]["id"]
    with httpx.Client(base_url=emulator.base_url) as client:
        config = client.get("/_emulator/webhooks").json()
        assert config["maxAttempts"] == 7  # 1 + HighLevel's 6 retries
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
