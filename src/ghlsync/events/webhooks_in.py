"""``POST /webhooks/ghl``: HighLevel's signed webhooks in, stored durably (GHL-NOTES §8).

Order of checks, each refusal final (HighLevel retries only a 429):
1. signature over the RAW body: ``X-GHL-Signature`` (Ed25519) preferred, else ``X-WH-Signature``
   (RSA PKCS#1 v1.5 SHA-256), against the configured public keys (HighLevel's published Ed25519
   key by default) -> 401;
2. JSON object with ``timestamp`` no older than ``max_age_s`` (5 min) and not in the future by
   more -> 400; ``appId`` must match the configured app -> 403;
3. stored in ``webhooks.sqlite3`` keyed by ``webhookId``: a repeated id is refused (409), a store
   that cannot write now answers 429 so HighLevel retries later; 200 only once stored.

Stored events can be applied to the extract's warehouse tables (``warehouse.apply_event``), and
INSTALL/UNINSTALL drop the location's cached OAuth token from the token store. While another
process holds the DuckDB file (``ghlsync extract`` keeps it open for its run), events wait in the
store, marked ``waiting: warehouse busy``, and are applied in the order received once it is free
(at the next delivery, and every ``RETRY_WAITING_S`` seconds), so the mirror misses none.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import datetime as dt
import json
import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ghlsync.events.config import Webhooks

if TYPE_CHECKING:
    from ghlsync.events.service import EventService

log = logging.getLogger("ghlsync.events.webhooks")

ED25519_HEADER = "x-ghl-signature"
RSA_HEADER = "x-wh-signature"
MAX_WEBHOOK_BYTES = 1024 * 1024
#: an event whose warehouse was locked by another process when it arrived
WAITING = "waiting: warehouse busy"
#: how often events waiting for the warehouse are tried again
RETRY_WAITING_S = 2.0


def _warehouse_busy(exc: BaseException) -> bool:
    """DuckDB refuses a file another process holds open with an IO error naming the lock."""
    return type(exc).__name__ == "IOException" and "lock" in str(exc).lower()


def load_public_key(text: str) -> Any:
    """A public key from PEM, or from base64 SPKI DER (how HighLevel publishes its Ed25519 key)."""
    data = text.strip().encode()
    if data.startswith(b"-----BEGIN"):
        return serialization.load_pem_public_key(data)
    return serialization.load_der_public_key(base64.b64decode(data))


class Verifier:
    """Checks a delivery's signature against every configured key (keys rotate with notice)."""

    def __init__(self, config: Webhooks) -> None:
        self.ed25519 = [load_public_key(k) for k in config.ed25519_keys]
        self.rsa = [load_public_key(k) for k in config.rsa_keys]

    def verify(self, body: bytes, headers: dict[str, str]) -> str | None:
        """The algorithm that verified (``ed25519``/``rsa``), or None."""
        if ED25519_HEADER in headers:
            signature = _b64(headers[ED25519_HEADER])
            for key in self.ed25519:
                if isinstance(key, ed25519.Ed25519PublicKey) and signature is not None:
                    try:
                        key.verify(signature, body)
                        return "ed25519"
                    except InvalidSignature:
                        continue
            return None  # py-sdk: when both headers come, Ed25519 decides
        if RSA_HEADER in headers:
            signature = _b64(headers[RSA_HEADER])
            for key in self.rsa:
                if isinstance(key, rsa.RSAPublicKey) and signature is not None:
                    try:
                        key.verify(signature, body, padding.PKCS1v15(), hashes.SHA256())
                        return "rsa"
                    except InvalidSignature:
                        continue
        return None


def _b64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None


def parse_timestamp(value: object) -> float | None:
    """Epoch seconds of the body's ``timestamp`` (ISO-8601, or epoch ms), or None."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value) / 1000.0
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.UTC)
        return parsed.timestamp()
    return None


class WebhookStore:
    """Received webhooks, one row per ``webhookId`` (SQLite, WAL, synchronous=FULL)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=2000")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS webhooks (webhook_id TEXT PRIMARY KEY, type TEXT, "
            "location_id TEXT, received_at REAL NOT NULL, body TEXT NOT NULL, applied TEXT)"
        )

    def _insert(self, webhook_id: str, kind: str, location: str, body: bytes) -> bool:
        with self._lock:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO webhooks VALUES (?, ?, ?, ?, ?, NULL)",
                (webhook_id, kind, location, time.time(), body.decode("utf-8")),
            )
            return cursor.rowcount == 1

    async def store(self, webhook_id: str, kind: str, location: str, body: bytes) -> bool:
        """True if stored now, False if this ``webhookId`` was stored before."""
        return await asyncio.to_thread(self._insert, webhook_id, kind, location, body)

    def mark_applied(self, webhook_id: str, outcome: str) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE webhooks SET applied = ? WHERE webhook_id = ?", (outcome, webhook_id)
            )

    def waiting(self, limit: int = 500) -> list[tuple[str, str]]:
        """Events still to be applied to the warehouse, oldest first: ``(webhook_id, body)``."""
        with self._lock:
            rows = self._db.execute(
                "SELECT webhook_id, body FROM webhooks WHERE applied = ? "
                "ORDER BY received_at, rowid LIMIT ?",
                (WAITING, limit),
            ).fetchall()
        return [(str(row[0]), str(row[1])) for row in rows]

    def recent(self, limit: int = 50) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT webhook_id, type, location_id, received_at, applied FROM webhooks "
                "ORDER BY received_at DESC LIMIT ?",
                (limit,),
            ).fetchall()
        keys = ("webhookId", "type", "locationId", "receivedAt", "applied")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()


class WebhookReceiver:
    """The ``/webhooks/ghl`` handler of one service."""

    def __init__(self, service: EventService) -> None:
        self.service = service
        self.config = service.config.webhooks
        self.verifier = Verifier(self.config)
        self.store = WebhookStore(service.settings.home / "webhooks.sqlite3")
        self.now = time.time
        self._applying = asyncio.Lock()
        self._told_busy = False

    def _refuse(self, status: int, error: str, outcome: str) -> Response:
        self.service.metrics.webhooks.labels(outcome).inc()
        return JSONResponse({"error": error}, status_code=status)

    async def receive(self, request: Request) -> Response:
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_WEBHOOK_BYTES:
                return self._refuse(413, "body too large", "too_large")
        headers = {k.lower(): v for k, v in request.headers.items()}
        if ED25519_HEADER not in headers and RSA_HEADER not in headers:
            return self._refuse(401, "no signature header", "unsigned")
        if self.verifier.verify(body, headers) is None:
            return self._refuse(401, "signature does not verify", "bad_signature")
        try:
            event = json.loads(body)
        except ValueError:
            return self._refuse(400, "body is not JSON", "malformed")
        if not isinstance(event, dict):
            return self._refuse(400, "body is not a JSON object", "malformed")
        sent_at = parse_timestamp(event.get("timestamp"))
        if sent_at is None:
            return self._refuse(400, "no valid timestamp", "malformed")
        if abs(self.now() - sent_at) > self.config.max_age_s:
            return self._refuse(400, "stale delivery (timestamp outside 5 minutes)", "stale")
        if self.config.app_id and event.get("appId") != self.config.app_id:
            return self._refuse(403, "delivery for another app", "other_app")
        webhook_id = event.get("webhookId")
        if not isinstance(webhook_id, str) or not webhook_id:
            return self._refuse(400, "no webhookId", "malformed")
        kind = str(event.get("type", ""))
        location = str(event.get("locationId") or event.get("id") or "")
        try:
            is_new = await self.store.store(webhook_id, kind, location, body)
        except sqlite3.Error:
            log.exception("storing a webhook failed; answering 429 so HighLevel retries")
            return self._refuse(429, "cannot store now", "store_failed")
        if not is_new:
            return self._refuse(409, "webhookId already received", "replayed")
        self.service.metrics.webhooks.labels("stored").inc()
        await self._after_store(webhook_id, kind, location, event)
        return JSONResponse({"stored": True})

    async def _after_store(
        self, webhook_id: str, kind: str, location: str, event: dict[str, Any]
    ) -> None:
        """Token store on INSTALL/UNINSTALL; warehouse tables when configured. Never fails
        the delivery: the event is stored, and what could not be applied is marked so."""
        if kind in ("INSTALL", "UNINSTALL") and location:
            try:
                outcome = await asyncio.to_thread(self._forget_token, location)
            except Exception as exc:
                outcome = f"not applied: {type(exc).__name__}"
                log.warning("webhook %s stored, not applied: %s", kind, type(exc).__name__)
            await asyncio.to_thread(self.store.mark_applied, webhook_id, outcome)
        elif self.config.apply_to:
            # queued behind any event still waiting for the warehouse, so order is kept
            await asyncio.to_thread(self.store.mark_applied, webhook_id, WAITING)
            await self.apply_waiting()
        else:
            await asyncio.to_thread(self.store.mark_applied, webhook_id, "stored")

    async def apply_waiting(self) -> int:
        """Apply the events waiting for the warehouse, oldest first, until none is left or the
        file is still held by another process; return how many were applied."""
        if not self.config.apply_to:
            return 0
        async with self._applying:
            return await asyncio.to_thread(self._apply_waiting, Path(self.config.apply_to))

    def _apply_waiting(self, database: Path) -> int:
        from ghlsync.events.warehouse import apply_event

        applied = 0
        while batch := self.store.waiting():
            for webhook_id, body in batch:
                try:
                    outcome = apply_event(database, json.loads(body))
                except Exception as exc:
                    if _warehouse_busy(exc):
                        if not self._told_busy:
                            log.warning("warehouse busy (held by another process); webhooks wait")
                            self._told_busy = True
                        return applied
                    outcome = f"not applied: {type(exc).__name__}"
                    log.warning("webhook stored, not applied: %s", type(exc).__name__)
                self.store.mark_applied(webhook_id, outcome)
                applied += 1
                self._told_busy = False
        return applied

    async def retry_waiting(self, stop: asyncio.Event) -> None:
        """Until ``stop``: every ``RETRY_WAITING_S`` apply what waits for the warehouse."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), RETRY_WAITING_S)
            try:
                await self.apply_waiting()
            except Exception:  # a broken warehouse must not end the service; each event says
                log.exception("applying waiting webhooks failed")

    def _forget_token(self, location: str) -> str:
        """A (re)install or uninstall voids the location token minted before it."""
        from ghlsync.client.token_store import TokenStore

        if not self.service.settings.token_store_path.exists():
            return "no token store"
        store = TokenStore.from_settings(self.service.settings)
        removed = 0
        try:
            for info in store.list():
                if info.kind == "location" and info.location_id == location:
                    removed += store.delete(
                        "location", company_id=info.company_id, location_id=location
                    )
        finally:
            store.close()
        return "location token removed" if removed else "no location token"

    def close(self) -> None:
        self.store.close()


def webhook_routes(service: EventService) -> list[BaseRoute]:
    if not service.config.webhooks.enabled:
        return []
    receiver = WebhookReceiver(service)
    service.webhook_receiver = receiver
    return [Route("/webhooks/ghl", receiver.receive, methods=["POST"])]
