"""Webhooks in: the emulator (HighLevel) signs and delivers; ``ghlsync serve`` verifies and stores."""

from __future__ import annotations

import base64
import datetime as dt
import json
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import duckdb
import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from ghlsync.emulator import EmulatorServer
from ghlsync.events import EventsConfig, hash_key
from ghlsync.events.config import Source, Webhooks

from .conftest import ADMIN_KEY, WRITE_KEY, RunningService, wait_for

OWN_KEY = ed25519.Ed25519PrivateKey.generate()
OWN_PUBLIC = (
    OWN_KEY.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)


def _config(emulator: EmulatorServer, **webhooks: Any) -> EventsConfig:
    keys = httpx.get(f"{emulator.base_url}/_emulator/webhooks/keys").json()
    source = Source(
        name="web",
        location_id=emulator.state.locations[0]["id"],
        write_key_sha256=hash_key(WRITE_KEY),
    )
    return EventsConfig(
        sources=(source,),
        admin_key_sha256=hash_key(ADMIN_KEY),
        webhooks=Webhooks(
            ed25519_keys=(keys["ed25519"], OWN_PUBLIC), rsa_keys=(keys["rsa"],), **webhooks
        ),
    )


def _now_iso(offset_s: float = 0) -> str:
    moment = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=offset_s)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _signed(event: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(event).encode()
    signature = base64.b64encode(OWN_KEY.sign(body)).decode()
    return body, {"x-ghl-signature": signature, "content-type": "application/json"}


def _event(**extra: Any) -> dict[str, Any]:
    return {
        "type": "ContactCreate",
        "locationId": "LOC",
        "id": "c-1",
        "email": "w@example.com",
        "timestamp": _now_iso(),
        "webhookId": str(uuid.uuid4()),
        **extra,
    }


def _stored(home: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(home / "webhooks.sqlite3") as db:
        return [(r[0], r[1]) for r in db.execute("SELECT webhook_id, type FROM webhooks")]


def test_emulator_deliveries_are_verified_and_stored(
    emulator: EmulatorServer, make_service: Any, tmp_path: Path
) -> None:
    running: RunningService = make_service(_config(emulator))
    with httpx.Client(base_url=emulator.base_url) as admin:
        admin.put("/_emulator/webhooks", json={"url": f"{running.url}/webhooks/ghl"})
    token = emulator.state.locations[0]["token"]
    made = httpx.post(
        f"{emulator.base_url}/contacts/",
        headers={"Authorization": f"Bearer {token}", "Version": "2021-07-28"},
        json={"locationId": emulator.state.locations[0]["id"], "email": "hook@example.com"},
    )
    assert made.status_code == 201
    flushed = httpx.post(
        f"{emulator.base_url}/_emulator/webhooks/flush", json={"timeoutMs": 10_000}
    )
    assert flushed.status_code == 200
    deliveries = httpx.get(f"{emulator.base_url}/_emulator/webhooks/deliveries").json()
    states = {d["type"]: d["state"] for d in deliveries["deliveries"]}
    assert states.get("ContactCreate") == "delivered", deliveries
    stored = _stored(tmp_path / "home")
    assert "ContactCreate" in {kind for _, kind in stored}


def test_refusals(emulator: EmulatorServer, make_service: Any, tmp_path: Path) -> None:
    running: RunningService = make_service(_config(emulator, app_id="app-1"))
    url = f"{running.url}/webhooks/ghl"

    good = _event(appId="app-1")
    body, headers = _signed(good)
    assert httpx.post(url, content=body, headers=headers).status_code == 200
    replay = httpx.post(url, content=body, headers=headers)
    assert replay.status_code == 409, "a replayed webhookId is refused"

    tampered = body.replace(b"w@example.com", b"x@example.com")
    assert httpx.post(url, content=tampered, headers=headers).status_code == 401
    assert httpx.post(url, content=body).status_code == 401, "unsigned"

    stale_body, stale_headers = _signed(_event(appId="app-1", timestamp=_now_iso(-301)))
    assert httpx.post(url, content=stale_body, headers=stale_headers).status_code == 400

    other_body, other_headers = _signed(_event(appId="someone-else"))
    assert httpx.post(url, content=other_body, headers=other_headers).status_code == 403

    assert [w for w, _ in _stored(tmp_path / "home")] == [good["webhookId"]]
    metrics = httpx.get(f"{running.url}/metrics").text
    for outcome in ("stored", "replayed", "bad_signature", "unsigned", "stale", "other_app"):
        assert f'outcome="{outcome}"' in metrics


def test_store_failure_answers_429(emulator: EmulatorServer, make_service: Any) -> None:
    running: RunningService = make_service(_config(emulator))
    receiver = running.service.webhook_receiver
    assert receiver is not None
    receiver.store.close()  # the store cannot write: HighLevel must retry later
    body, headers = _signed(_event())
    assert (
        httpx.post(f"{running.url}/webhooks/ghl", content=body, headers=headers).status_code == 429
    )


def test_events_apply_to_the_warehouse_tables(
    emulator: EmulatorServer, make_service: Any, tmp_path: Path
) -> None:
    database = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(database)) as db:  # the layout docs/extract.md documents
        db.execute("CREATE SCHEMA highlevel")
        db.execute(
            "CREATE TABLE highlevel.contacts (location_id TEXT, id TEXT, email TEXT, "
            "first_name TEXT, tags TEXT, dnd_settings__sms__status TEXT, "
            "_dlt_load_id TEXT NOT NULL, _dlt_id TEXT NOT NULL)"
        )
    running: RunningService = make_service(_config(emulator, apply_to=str(database)))
    url = f"{running.url}/webhooks/ghl"
    created = _event(firstName="Wen", tags=["a"])
    for event in (created, _event(type="ContactUpdate", firstName="Wendy", webhookId="u-1")):
        body, headers = _signed(event)
        assert httpx.post(url, content=body, headers=headers).status_code == 200

    def row() -> Any:
        with duckdb.connect(str(database), read_only=True) as db:
            found = db.execute("SELECT email, first_name, tags FROM highlevel.contacts").fetchall()
        return found if found and found[0][1] == "Wendy" else None

    assert wait_for(row, what="the contact row") == [("w@example.com", "Wendy", '["a"]')]
    body, headers = _signed(_event(type="ContactDelete", webhookId="d-1"))
    assert httpx.post(url, content=body, headers=headers).status_code == 200
    with duckdb.connect(str(database), read_only=True) as db:
        assert db.execute("SELECT count(*) FROM highlevel.contacts").fetchone() == (0,)


def test_events_wait_while_another_process_holds_the_warehouse_then_apply_in_order(
    emulator: EmulatorServer, make_service: Any, tmp_path: Path
) -> None:
    """``ghlsync extract`` keeps its DuckDB file open for the run: webhooks arriving meanwhile are
    stored (200), wait, and are applied in the order received once the file is free."""
    database = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(database)) as db:
        db.execute("CREATE SCHEMA highlevel")
        db.execute(
            "CREATE TABLE highlevel.contacts (location_id TEXT, id TEXT, email TEXT, "
            "first_name TEXT, _dlt_load_id TEXT NOT NULL, _dlt_id TEXT NOT NULL)"
        )
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_DUCKDB, str(database)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        running: RunningService = make_service(_config(emulator, apply_to=str(database)))
        url = f"{running.url}/webhooks/ghl"
        names = ["Wen", "Wendy", "Wenda"]
        for number, name in enumerate(names):
            kind = "ContactCreate" if number == 0 else "ContactUpdate"
            body, headers = _signed(_event(type=kind, firstName=name, webhookId=f"w-{number}"))
            assert httpx.post(url, content=body, headers=headers).status_code == 200
        home = tmp_path / "home"
        assert [state for _, state in _stored_states(home)] == ["waiting: warehouse busy"] * 3
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)

    def row() -> Any:
        states = [state for _, state in _stored_states(home)]
        if any(state == "waiting: warehouse busy" for state in states):
            return None
        with duckdb.connect(str(database), read_only=True) as db:
            return db.execute("SELECT email, first_name FROM highlevel.contacts").fetchall()

    assert wait_for(row, what="the waiting events applied") == [("w@example.com", "Wenda")]
    assert [state for _, state in _stored_states(home)] == [
        "inserted into contacts",
        "updated contacts",
        "updated contacts",
    ]


HOLD_DUCKDB = """
import sys, duckdb
db = duckdb.connect(sys.argv[1])
print("held", flush=True)
sys.stdin.read()
db.close()
"""


def _stored_states(home: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(home / "webhooks.sqlite3") as db:
        rows = db.execute("SELECT webhook_id, applied FROM webhooks ORDER BY rowid").fetchall()
    return [(str(a), str(b)) for a, b in rows]


def test_rsa_signature_alone_verifies(emulator: EmulatorServer, make_service: Any) -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    config = _config(emulator)
    config = config.model_copy(
        update={"webhooks": config.webhooks.model_copy(update={"rsa_keys": (public,)})}
    )
    running: RunningService = make_service(config)
    body = json.dumps(_event()).encode()
    signature = base64.b64encode(key.sign(body, padding.PKCS1v15(), hashes.SHA256())).decode()
    url = f"{running.url}/webhooks/ghl"
    assert httpx.post(url, content=body, headers={"x-wh-signature": signature}).status_code == 200
    other = json.dumps(_event()).encode()
    assert httpx.post(url, content=other, headers={"x-wh-signature": signature}).status_code == 401


def test_uninstall_removes_the_location_token(
    emulator: EmulatorServer, make_service: Any, tmp_path: Path
) -> None:
    from ghlsync.client.token_store import TokenRecord, TokenStore

    running: RunningService = make_service(_config(emulator))
    settings = running.service.settings
    store = TokenStore.from_settings(settings)
    store.put(
        TokenRecord(kind="location", company_id="C1", location_id="LOC-X", access_token="tok-x")
    )
    store.close()
    body, headers = _signed(_event(type="UNINSTALL", locationId="LOC-X", companyId="C1"))
    assert (
        httpx.post(f"{running.url}/webhooks/ghl", content=body, headers=headers).status_code == 200
    )

    def gone() -> bool:
        reopened = TokenStore.from_settings(settings)
        try:
            return reopened.get("location", company_id="C1", location_id="LOC-X") is None
        finally:
            reopened.close()

    wait_for(gone, what="the location token removed")
