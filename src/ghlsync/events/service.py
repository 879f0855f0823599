"""``ghlsync serve`` as a Python API: the collector, the worker, webhooks in, ops routes.

``EventService`` builds the parts from a frozen ``EventsConfig`` and ``Settings`` (queue,
HighLevel client, metrics) and exposes one ASGI app whose lifespan starts the delivery worker
and, on shutdown (uvicorn's SIGTERM handling), stops accepting, lets the worker finish what it
has in flight, then closes the queue: a graceful drain.

Example::

    config = EventsConfig.single("LOC1", "my-write-key")
    service = EventService(config, Settings.from_env())
    uvicorn.run(service.app, host="127.0.0.1", port=8080)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ghlsync.client.connection import Connection
from ghlsync.client.core import AsyncGHLClient
from ghlsync.client.limiter import Limiter
from ghlsync.client.retry import RetryPolicy
from ghlsync.client.session import RunSession, open_session
from ghlsync.config import Settings
from ghlsync.events.api import Collector, create_app
from ghlsync.events.config import EventsConfig
from ghlsync.events.metrics import Metrics
from ghlsync.events.openapi import openapi_document
from ghlsync.events.queue import EventQueue
from ghlsync.events.webhooks_in import WebhookReceiver, webhook_routes
from ghlsync.events.worker import Backoff, DeliveryWorker

log = logging.getLogger("ghlsync.events")


def open_queue(
    config: EventsConfig, settings: Settings, *, consumer: str | None = None
) -> EventQueue:
    """The queue ``config.queue`` names: SQLite under ``GHLSYNC_HOME`` by default, or Redis."""
    target = config.queue
    if target.startswith(("redis://", "rediss://")):
        from ghlsync.events.queue.redis import RedisQueue

        return RedisQueue(
            target,
            consumer=consumer,
            prefix=f"{config.redis_prefix}:events",
            lease_s=config.redis_lease_seconds,
        )
    from ghlsync.events.queue.sqlite import SQLiteQueue

    path = (
        settings.home / "events.sqlite3"
        if target == "sqlite"
        else Path(target.removeprefix("sqlite:"))
    )
    return SQLiteQueue(path)


def connection_for(config: EventsConfig) -> Connection:
    """The config's ``Connection`` with every source's location listed."""
    base = config.connection or Connection()
    listed = {entry.id for entry in base.locations}
    extra = [{"id": s.location_id} for s in config.sources if s.location_id not in listed]
    if not extra:
        return base
    entries = [entry.model_dump(mode="python") for entry in base.locations]
    data = base.model_dump(mode="python", exclude={"locations"})
    return Connection.model_validate({**data, "locations": [*entries, *extra]})


def limiter_for(config: EventsConfig) -> Limiter | None:
    """With a Redis queue, the rate limiter is on the same Redis: one budget per location for
    every worker process. Otherwise None: the session's own in-process limiter."""
    if not config.queue.startswith(("redis://", "rediss://")):
        return None
    from ghlsync.client.limiter_redis import RedisLimiter

    connection = config.connection or Connection()
    return RedisLimiter(
        config.queue,
        burst=connection.burst,
        interval=connection.interval,
        prefix=f"{config.redis_prefix}:ratelimit",
    )


class EventService:
    """The whole of ``ghlsync serve`` in one object (``app`` is its ASGI app)."""

    def __init__(
        self,
        config: EventsConfig,
        settings: Settings,
        *,
        queue: EventQueue | None = None,
        client: AsyncGHLClient | None = None,
        deliver: bool = True,
        backoff: Backoff | None = None,
        concurrency: int = 16,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.config = config
        self.settings = settings
        self.metrics = Metrics()
        self.queue = queue or open_queue(config, settings)
        self.session: RunSession | None = None
        self._own_client: AsyncGHLClient | None = None
        if client is None:
            self.session = open_session(
                settings, connection_for(config), limiter=limiter_for(config)
            )
            # ``retry``: the client's own retries inside one delivery attempt (the worker's
            # ``backoff`` spaces the attempts); tests pass short ones
            client = self.session.new_client(retry=retry) if retry else self.session.client
            self._own_client = client if retry else None
        self.client = client
        self.collector = Collector(config, self.queue, self.metrics)
        self.worker = (
            DeliveryWorker(
                self.queue,
                self.client,
                config,
                self.metrics,
                backoff=backoff,
                concurrency=concurrency,
            )
            if deliver
            else None
        )
        self.stop = asyncio.Event()
        self.ready = False
        #: set when the server is told to stop (SIGTERM), before it waits for open responses:
        #: the debugger's streams end then
        self.closing = False
        self._worker_task: asyncio.Task[None] | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self.webhook_receiver: WebhookReceiver | None = None
        self.app = self._build_app()

    def routes(self) -> list[BaseRoute]:
        from ghlsync.events.debug import debug_routes

        return [
            Route("/healthz", self.healthz, methods=["GET"]),
            Route("/readyz", self.readyz, methods=["GET"]),
            Route("/metrics", self.metrics_endpoint, methods=["GET"]),
            Route("/openapi.json", self.openapi, methods=["GET"]),
            *webhook_routes(self),
            *debug_routes(self),
        ]

    def _build_app(self) -> Starlette:
        return create_app(self.collector, self.routes(), lifespan=self._lifespan)

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        await self.start()
        try:
            yield
        finally:
            await self.drain()

    async def start(self) -> None:
        self.stop = asyncio.Event()
        if self.worker is not None:
            self.worker.wake = asyncio.Event()
            self._worker_task = asyncio.create_task(self.worker.run(self.stop))
        if self.webhook_receiver is not None and self.config.webhooks.apply_to:
            self._webhook_task = asyncio.create_task(self.webhook_receiver.retry_waiting(self.stop))
        self.ready = True
        log.info(
            "collector ready: %d source(s), queue %s",
            len(self.config.sources),
            self.config.queue.split("@")[-1],
        )

    async def drain(self) -> None:
        """Stop accepting, let in-flight deliveries finish, close the queue and the client."""
        self.ready = False
        self.collector.accepting = False
        self.stop.set()
        if self._worker_task is not None:
            await self._worker_task
        if self._webhook_task is not None:
            await self._webhook_task
        await self.queue.close()
        if self.webhook_receiver is not None:
            self.webhook_receiver.close()
        if self._own_client is not None:
            await self._own_client.aclose()
        if self.session is not None:
            await self.session.aclose()
        log.info("collector drained")

    # -- ops routes ------------------------------------------------------------------------------

    async def healthz(self, request: Request) -> Response:
        return JSONResponse({"ok": True})

    async def readyz(self, request: Request) -> Response:
        if not self.ready:
            return JSONResponse({"ready": False}, status_code=503)
        try:
            await asyncio.wait_for(self.queue.depth(), timeout=2.0)
        except Exception:
            return JSONResponse({"ready": False, "reason": "queue unreachable"}, status_code=503)
        return JSONResponse({"ready": True})

    async def metrics_endpoint(self, request: Request) -> Response:
        with contextlib.suppress(Exception):
            depth = await asyncio.wait_for(self.queue.depth(), timeout=2.0)
            self.metrics.set_depth(depth, {s.location_id for s in self.config.sources})
        return Response(self.metrics.render(), media_type="text/plain; version=0.0.4")

    async def openapi(self, request: Request) -> Response:
        return JSONResponse(openapi_document())

    def admin_ok(self, request: Request) -> bool:
        key = request.headers.get("x-admin-key") or request.query_params.get("key")
        return self.config.is_admin(key)


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening socket created with ``IPPROTO_TCP`` so asyncio sets TCP_NODELAY on each
    accepted connection: without it Nagle plus the client's delayed ACK add ~40 ms to every
    small answer (the same fix as the emulator's ``_bind``)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(service: EventService, host: str = "127.0.0.1", port: int = 8080, **options: Any) -> None:
    """Run ``service`` with uvicorn until SIGTERM/SIGINT (then drain)."""
    import uvicorn

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            service.closing = True  # the debugger's streams end, then uvicorn drains
            super().handle_exit(sig, frame)

    config = uvicorn.Config(service.app, log_level="warning", access_log=False, **options)
    Server(config).run(sockets=[bind_socket(host, port)])


async def run_worker(
    config: EventsConfig,
    settings: Settings,
    *,
    stop: asyncio.Event,
    consumer: str | None = None,
    concurrency: int = 16,
) -> None:
    """A delivery worker alone (no HTTP), for ``ghlsync events work``: runs until ``stop``."""
    queue = open_queue(config, settings, consumer=consumer)
    limiter = limiter_for(config)
    session = open_session(settings, connection_for(config), limiter=limiter)
    worker = DeliveryWorker(queue, session.client, config, Metrics(), concurrency=concurrency)
    log.info("worker %s started", consumer or "-")
    try:
        await worker.run(stop)
    finally:
        await queue.close()
        await session.aclose()
        if limiter is not None:
            await limiter.aclose()
        log.info("worker drained")
