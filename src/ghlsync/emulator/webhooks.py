"""Webhooks out: the emulator signs and delivers every ``store.emit`` event to ``--webhook-url``.

HighLevel signs the raw body twice (``docs/oauth/WebhookAuthentication.md``; GHL-NOTES
"Webhooks"): ``x-wh-signature`` is RSA-SHA256 PKCS#1 v1.5, ``x-ghl-signature`` is Ed25519,
both base64. The emulator holds its own key pairs (generated when first needed; the Ed25519 one
derives from the seed) and publishes the public halves at ``GET /_emulator/webhooks/keys``, so a
receiver under test verifies deliveries exactly as it would verify HighLevel's.

Deliveries run on one background thread: each event is POSTed with HighLevel's envelope
(``timestamp``, ``webhookId``, ``appId``, ``versionId``). As HighLevel does (GHL-NOTES §8,
help:155000007071), only a **429** answer is retried: up to 6 more attempts, about 10 minutes
apart plus jitter. A 5xx, a timeout or a connection error is final, and the event is lost.
``timeScale`` multiplies the waits so tests need not wait 10 minutes (0.001: 0.6 s). Every
delivery and attempt is kept in a bounded log (``GET /_emulator/webhooks/deliveries``).

| method and path | what |
| --- | --- |
| `GET /_emulator/webhooks/keys` | `{rsa: PEM, ed25519: PEM}` public keys |
| `GET /_emulator/webhooks/deliveries?limit=N` | the delivery log, newest last |
| `GET/PUT /_emulator/webhooks` | `{url, maxAttempts, retryIntervalMs, jitterMs, timeScale, timeoutMs, appId, versionId}` |
| `POST /_emulator/webhooks/flush` | wait (up to `timeoutMs`, default 10 s) until nothing is pending |

The signing and verifying functions are pure and importable by tests.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import heapq
import itertools
import json
import random
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ghlsync.emulator.common import ApiError, int_param, json_body
from ghlsync.emulator.settings import EmulatorSettings
from ghlsync.emulator.state import Store
from ghlsync.emulator.wire import number_field, string_field

RSA_HEADER = "x-wh-signature"
ED25519_HEADER = "x-ghl-signature"


# --------------------------------------------------------------------------- keys and signatures
@dataclass
class WebhookKeys:
    """The emulator's signing keys: RSA 2048 and Ed25519."""

    rsa_key: rsa.RSAPrivateKey
    ed25519_key: ed25519.Ed25519PrivateKey

    @classmethod
    def generate(cls, seed: int | None = None) -> WebhookKeys:
        """Fresh keys. With ``seed`` the Ed25519 key is derived from it (cheap); RSA key
        generation cannot be seeded through ``cryptography``, so it is always fresh."""
        if seed is None:
            ed_key = ed25519.Ed25519PrivateKey.generate()
        else:
            material = hashlib.sha256(f"ghlsync-emulator-webhooks:{seed}".encode()).digest()
            ed_key = ed25519.Ed25519PrivateKey.from_private_bytes(material)
        rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return cls(rsa_key=rsa_key, ed25519_key=ed_key)

    def public_pems(self) -> dict[str, str]:
        return {
            "rsa": public_pem(self.rsa_key.public_key()),
            "ed25519": public_pem(self.ed25519_key.public_key()),
        }


def public_pem(key: rsa.RSAPublicKey | ed25519.Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def sign_rsa(key: rsa.RSAPrivateKey, body: bytes) -> str:
    """``x-wh-signature``: RSA-SHA256 PKCS#1 v1.5 over the raw body, base64."""
    return base64.b64encode(key.sign(body, padding.PKCS1v15(), hashes.SHA256())).decode("ascii")


def sign_ed25519(key: ed25519.Ed25519PrivateKey, body: bytes) -> str:
    """``x-ghl-signature``: Ed25519 over the raw body, base64 (64 bytes)."""
    return base64.b64encode(key.sign(body)).decode("ascii")


def signature_headers(keys: WebhookKeys, body: bytes) -> dict[str, str]:
    return {
        RSA_HEADER: sign_rsa(keys.rsa_key, body),
        ED25519_HEADER: sign_ed25519(keys.ed25519_key, body),
    }


def verify_rsa(public_key_pem: str | bytes, body: bytes, signature_b64: str) -> bool:
    """True when ``signature_b64`` is a valid ``x-wh-signature`` of ``body``."""
    key = serialization.load_pem_public_key(_as_bytes(public_key_pem))
    if not isinstance(key, rsa.RSAPublicKey):
        raise TypeError("not an RSA public key")
    try:
        key.verify(base64.b64decode(signature_b64), body, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def verify_ed25519(public_key_pem: str | bytes, body: bytes, signature_b64: str) -> bool:
    """True when ``signature_b64`` is a valid ``x-ghl-signature`` of ``body``."""
    key = serialization.load_pem_public_key(_as_bytes(public_key_pem))
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise TypeError("not an Ed25519 public key")
    try:
        key.verify(base64.b64decode(signature_b64), body)
    except (InvalidSignature, ValueError):
        return False
    return True


def _as_bytes(value: str | bytes) -> bytes:
    return value.encode("ascii") if isinstance(value, str) else value


# --------------------------------------------------------------------------- bodies and policy
def delivery_body(
    payload: dict[str, Any],
    *,
    webhook_id: str,
    timestamp: str,
    app_id: str | None = None,
    version_id: str | None = None,
) -> bytes:
    """The bytes sent: the event (``type``, ``locationId``, its fields) plus ``timestamp``,
    ``webhookId`` and, when known, ``appId`` and ``versionId`` (real deliveries carry both:
    GHL-NOTES §8, hl-docs#264), compact JSON. Signatures cover exactly these bytes."""
    document = {**payload, "timestamp": timestamp, "webhookId": webhook_id}
    if app_id is not None:
        document["appId"] = app_id
        document["versionId"] = version_id if version_id is not None else app_id
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def should_retry(status: int | None) -> bool:
    """HighLevel retries only a 429 (GHL-NOTES §8): a 5xx, a timeout or a connection error
    (``None``) is final, like every other answer."""
    return status == 429


#: HighLevel's schedule (GHL-NOTES §8): 1 attempt + up to 6 retries, ~10 minutes apart + jitter
MAX_ATTEMPTS = 7
RETRY_INTERVAL_S = 600.0
#: the jitter's size is unconfirmed (HighLevel says "plus jitter"): up to a minute by default
JITTER_S = 60.0


def retry_delay(interval_s: float, jitter_s: float, time_scale: float, rng: random.Random) -> float:
    """Seconds until the next attempt after a 429: ``(interval + U(0, jitter)) * time_scale``."""
    return max(0.0, (interval_s + rng.uniform(0.0, max(0.0, jitter_s))) * time_scale)


# --------------------------------------------------------------------------- dispatcher
@dataclass
class DeliveryConfig:
    url: str | None = None
    max_attempts: int = MAX_ATTEMPTS
    retry_interval_s: float = RETRY_INTERVAL_S
    jitter_s: float = JITTER_S
    #: multiplies every wait between attempts (1 = HighLevel's real ten minutes)
    time_scale: float = 1.0
    timeout_s: float = 5.0
    #: ``appId``/``versionId`` in every delivery (None: the seeded Marketplace app's id)
    app_id: str | None = None
    version_id: str | None = None


@dataclass
class Delivery:
    webhook_id: str
    event_type: str
    location_id: str | None
    url: str
    body: bytes
    state: str = "pending"  # pending | delivered | failed
    attempts: list[dict[str, Any]] = field(default_factory=list)

    def to_wire(self) -> dict[str, Any]:
        return {
            "webhookId": self.webhook_id,
            "type": self.event_type,
            "locationId": self.location_id,
            "url": self.url,
            "state": self.state,
            "attempts": list(self.attempts),
            "body": json.loads(self.body),
        }


class WebhookDispatcher:
    """Signs events and delivers them from one background thread, with retries."""

    def __init__(
        self,
        store: Store,
        config: DeliveryConfig,
        *,
        settings: EmulatorSettings | None = None,
        log_size: int = 1000,
    ) -> None:
        self.store = store
        self.config = config
        #: ``settings.webhook_url`` is used when ``config.url`` is unset (the CLI's --webhook-url)
        self.settings = settings
        self._keys: WebhookKeys | None = None
        self._keys_lock = threading.Lock()
        self.log: deque[Delivery] = deque(maxlen=log_size)
        self._queue: list[tuple[float, int, Delivery]] = []
        self._sequence = itertools.count()
        self._condition = threading.Condition()
        self._in_flight = 0
        self._thread: threading.Thread | None = None
        self._closed = False
        self._jitter = random.Random(f"webhook-jitter:{store.seed}")

    def app_ids(self) -> tuple[str | None, str | None]:
        """``appId``/``versionId`` for deliveries: configured, else the seeded app's id (the
        emulator's location-token answer uses the app id as ``versionId`` too)."""
        app_id = self.config.app_id
        if app_id is None and self.store.oauth_apps:
            app_id = next(iter(self.store.oauth_apps.values())).app_id
        return app_id, self.config.version_id or app_id

    @property
    def keys(self) -> WebhookKeys:
        with self._keys_lock:
            if self._keys is None:
                self._keys = WebhookKeys.generate(self.store.seed)
            return self._keys

    # called from request handlers through store.emit
    def __call__(self, event_type: str, location_id: str | None, payload: dict[str, Any]) -> None:
        url = self.config.url or (self.settings.webhook_url if self.settings else None)
        if not url:
            return
        webhook_id = str(uuid.uuid4())
        app_id, version_id = self.app_ids()
        body = delivery_body(
            payload,
            webhook_id=webhook_id,
            timestamp=self.store.now_readonly(),
            app_id=app_id,
            version_id=version_id,
        )
        delivery = Delivery(
            webhook_id=webhook_id,
            event_type=event_type,
            location_id=location_id,
            url=url,
            body=body,
        )
        with self._condition:
            self.log.append(delivery)
            heapq.heappush(self._queue, (time.monotonic(), next(self._sequence), delivery))
            self._ensure_thread()
            self._condition.notify_all()

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(
                target=self._run, name="ghlsync-emulator-webhooks", daemon=True
            )
            self._thread.start()

    def pending(self) -> int:
        with self._condition:
            return len(self._queue) + self._in_flight

    def wait_idle(self, timeout_s: float = 10.0) -> bool:
        """Block until every queued delivery is done (delivered or given up)."""
        deadline = time.monotonic() + timeout_s
        with self._condition:
            while self._queue or self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._condition.wait(min(remaining, 0.05))
        return True

    def close(self) -> None:
        with self._condition:
            self._closed = True
            self._condition.notify_all()

    def _run(self) -> None:
        with httpx.Client(timeout=self.config.timeout_s) as client:
            while True:
                with self._condition:
                    while not self._closed:
                        if self._queue and self._queue[0][0] <= time.monotonic():
                            break
                        wait = self._queue[0][0] - time.monotonic() if self._queue else 1.0
                        self._condition.wait(max(0.001, min(wait, 1.0)))
                    if self._closed:
                        return
                    _, _, delivery = heapq.heappop(self._queue)
                    self._in_flight += 1
                try:
                    retry_at = self._attempt(client, delivery)
                finally:
                    with self._condition:
                        self._in_flight -= 1
                        if retry_at is not None:
                            heapq.heappush(self._queue, (retry_at, next(self._sequence), delivery))
                        self._condition.notify_all()

    def _attempt(self, client: httpx.Client, delivery: Delivery) -> float | None:
        """One POST; the monotonic time of the next attempt, or None when done."""
        headers = {
            "content-type": "application/json",
            **signature_headers(self.keys, delivery.body),
        }
        status: int | None = None
        error: str | None = None
        try:
            response = client.post(delivery.url, content=delivery.body, headers=headers)
            status = response.status_code
        except httpx.HTTPError as exc:
            error = type(exc).__name__
        delivery.attempts.append(
            {"at": self.store.now_readonly(), "status": status, "error": error}
        )
        attempt = len(delivery.attempts)
        if status is not None and 200 <= status < 300:
            delivery.state = "delivered"
            return None
        if not should_retry(status) or attempt >= self.config.max_attempts:
            delivery.state = "failed"
            self.store.counters["webhooks_failed"] = (
                self.store.counters.get("webhooks_failed", 0) + 1
            )
            return None
        config = self.config
        delay = retry_delay(
            config.retry_interval_s, config.jitter_s, config.time_scale, self._jitter
        )
        return time.monotonic() + delay


# --------------------------------------------------------------------------- admin endpoints
def dispatcher_of(request: Request) -> WebhookDispatcher:
    dispatcher: WebhookDispatcher = request.app.state.webhooks
    return dispatcher


async def keys_endpoint(request: Request) -> Response:
    return JSONResponse(dispatcher_of(request).keys.public_pems())


async def deliveries_endpoint(request: Request) -> Response:
    dispatcher = dispatcher_of(request)
    limit = int_param(request, "limit", 100, minimum=1)
    with dispatcher._condition:
        items = [delivery.to_wire() for delivery in list(dispatcher.log)[-limit:]]
    return JSONResponse({"deliveries": items, "pending": dispatcher.pending()})


def _config_view(dispatcher: WebhookDispatcher) -> dict[str, Any]:
    config, settings = dispatcher.config, dispatcher.settings
    app_id, version_id = dispatcher.app_ids()
    return {
        "url": config.url or (settings.webhook_url if settings else None),
        "maxAttempts": config.max_attempts,
        "retryIntervalMs": int(config.retry_interval_s * 1000),
        "jitterMs": int(config.jitter_s * 1000),
        "timeScale": config.time_scale,
        "timeoutMs": int(config.timeout_s * 1000),
        "appId": app_id,
        "versionId": version_id,
    }


_CONFIG_FIELDS = {
    "url",
    "maxAttempts",
    "retryIntervalMs",
    "jitterMs",
    "timeScale",
    "timeoutMs",
    "appId",
    "versionId",
}


async def config_endpoint(request: Request) -> Response:
    dispatcher = dispatcher_of(request)
    config = dispatcher.config
    if request.method == "PUT":
        body = await json_body(request, allowed=_CONFIG_FIELDS)
        try:
            _configure(request, config, body)
        except (TypeError, ValueError):
            raise ApiError(
                422, ["webhook settings must be numbers (url, appId: strings)"]
            ) from None
    return JSONResponse(_config_view(dispatcher))


def _configure(request: Request, config: DeliveryConfig, body: dict[str, Any]) -> None:
    if "url" in body:
        # a url that is not a string was stored and broke the delivery thread (issue 11)
        config.url = string_field(body, "url") or None
        request.app.state.settings.webhook_url = config.url
    if "maxAttempts" in body:
        config.max_attempts = max(1, int(body["maxAttempts"]))
    if "retryIntervalMs" in body:
        config.retry_interval_s = max(0.0, float(body["retryIntervalMs"]) / 1000)
    if "jitterMs" in body:
        config.jitter_s = max(0.0, float(body["jitterMs"]) / 1000)
    if "timeScale" in body:
        config.time_scale = max(0.0, float(body["timeScale"]))
    if "timeoutMs" in body:
        config.timeout_s = max(0.001, float(body["timeoutMs"]) / 1000)
    if "appId" in body:
        config.app_id = string_field(body, "appId") or None
    if "versionId" in body:
        config.version_id = string_field(body, "versionId") or None


async def flush_endpoint(request: Request) -> Response:
    body = await json_body(request, allowed={"timeoutMs"})
    timeout_s = number_field(body, "timeoutMs", minimum=0, maximum=600_000, default=10_000) / 1000
    dispatcher = dispatcher_of(request)
    # wait off the event loop: the delivery thread may be posting back to this very server
    idle = await asyncio.to_thread(dispatcher.wait_idle, timeout_s)
    return JSONResponse({"idle": idle, "pending": dispatcher.pending()})


ADMIN_ROUTES = [
    Route("/_emulator/webhooks/keys", keys_endpoint, methods=["GET"]),
    Route("/_emulator/webhooks/deliveries", deliveries_endpoint, methods=["GET"]),
    Route("/_emulator/webhooks/flush", flush_endpoint, methods=["POST"]),
    Route("/_emulator/webhooks", config_endpoint, methods=["GET", "PUT"]),
]


def attach(app: Starlette) -> None:
    """Called by ``create_app``: subscribe a dispatcher to the store and add admin routes."""
    store: Store = app.state.store
    settings: EmulatorSettings = app.state.settings
    config = DeliveryConfig(time_scale=settings.webhook_time_scale)
    dispatcher = WebhookDispatcher(store, config, settings=settings)
    store.subscribe(dispatcher)
    app.state.webhooks = dispatcher
    # ahead of the ``/_emulator`` mount, which would otherwise answer them with 404
    for route in reversed(ADMIN_ROUTES):
        app.router.routes.insert(0, route)
