"""Run the emulator: ``serve`` (blocking, for the CLI) and ``EmulatorServer`` (a thread).

    with EmulatorServer(SeedOptions(locations=2, contacts=1000)) as server:
        httpx.get(f"{server.base_url}/locations/{server.state.locations[0]['id']}", ...)

Both bind loopback by default. ``EmulatorServer`` picks a free port (bound before uvicorn
starts, so there is no race) and exposes ``base_url``, ``state`` (ids, tokens, OAuth client),
``store`` and ``app``.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn
from starlette.applications import Starlette

from ghlsync.emulator.app import ConnectionDropped, create_app
from ghlsync.emulator.seed import SeedOptions, SeedResult, build
from ghlsync.emulator.settings import EmulatorSettings
from ghlsync.emulator.state import Store


class _QuietResets(logging.Filter):
    """Drop uvicorn's traceback for an injected ``reset`` fault: it is the point, not a bug."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, ConnectionDropped)


logging.getLogger("uvicorn.error").addFilter(_QuietResets())


def state_document(base_url: str, result: SeedResult) -> dict[str, Any]:
    """What ``serve`` prints and writes to ``--state-out``."""
    return {"baseUrl": base_url, **result.to_dict()}


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto IPPROTO_TCP (not 0) so asyncio sets TCP_NODELAY on accepted connections; without it
    # Nagle plus the client's delayed ACK adds ~40 ms to every small response
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def _url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


class EmulatorServer:
    """The emulator on a real socket in a background thread (a context manager)."""

    def __init__(
        self,
        options: SeedOptions | None = None,
        settings: EmulatorSettings | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        store: Store | None = None,
        log_level: str = "warning",
    ) -> None:
        self.options = options or SeedOptions()
        self.settings = settings or EmulatorSettings(seed=self.options.seed)
        self.host = host
        self.port = port
        self.log_level = log_level
        if store is None:
            store, result = build(self.options)
        else:
            result = store.extras["seed_result"]
        self.store: Store = store
        self._result: SeedResult = result
        self.app: Starlette = create_app(self.store, self.settings)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    @property
    def state(self) -> SeedResult:
        """Ids and credentials of the current seed (follows ``/_emulator/reset``)."""
        result: SeedResult = self.store.extras.get("seed_result", self._result)
        return result

    def state_document(self) -> dict[str, Any]:
        return state_document(self.base_url, self.state)

    def start(self) -> EmulatorServer:
        sock = _bind(self.host, self.port)
        self.port = sock.getsockname()[1]
        self.base_url = _url(self.host, self.port)
        # a hanging ``timeout`` fault must not hold up stop() for its full 30 s
        config = uvicorn.Config(
            self.app,
            log_level=self.log_level,
            lifespan="off",
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="ghlsync-emulator", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the emulator did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def run_in_thread(
    options: SeedOptions | None = None,
    settings: EmulatorSettings | None = None,
    **kwargs: Any,
) -> EmulatorServer:
    """A started ``EmulatorServer``; call ``.stop()`` when done."""
    return EmulatorServer(options, settings, **kwargs).start()


def serve(
    options: SeedOptions | None = None,
    settings: EmulatorSettings | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    state_out: Path | None = None,
    on_ready: Any = None,
    log_level: str = "info",
) -> None:
    """Seed, print the state document (via ``on_ready``) and serve until interrupted."""
    options = options or SeedOptions()
    settings = settings or EmulatorSettings(seed=options.seed)
    store, result = build(options)
    app = create_app(store, settings)
    sock = _bind(host, port)
    base_url = _url(host, sock.getsockname()[1])
    document = state_document(base_url, result)
    if state_out is not None:
        state_out.write_text(json.dumps(document, indent=2) + "\n")
    if on_ready is not None:
        on_ready(document)
    config = uvicorn.Config(app, log_level=log_level, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])
