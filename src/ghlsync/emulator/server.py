"""Run the emulator: ``serve`` (blocking, for the CLI) and ``EmulatorServer`` (a thread).

    with EmulatorServer(SeedOptions(locations=2, contacts=1000)) as server:
        httpx.get(f"{server.base_url}/locations/{server.state.locations[0]['id']}", ...)

Both bind loopback by default. ``EmulatorServer`` picks a free port (bound before uvicorn
starts, so there is no race) and exposes ``base_url``, ``state`` (ids, tokens, OAuth client),
``store`` and ``app``.

The admin API (``/_emulator``) hands out every token and the OAuth client secret: on any
interface but loopback both refuse to start without ``EmulatorSettings.admin_token``
(``ServeError``), and the state file is written readable by its owner only (0600).
"""

from __future__ import annotations

import errno
import ipaddress
import json
import logging
import os
import socket
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn
from starlette.applications import Starlette

from ghlsync.emulator.app import ConnectionDropped, create_app
from ghlsync.emulator.seeding import SeedOptions, SeedResult, build
from ghlsync.emulator.settings import EmulatorSettings
from ghlsync.emulator.state import Store


class _QuietResets(logging.Filter):
    """Drop uvicorn's traceback for an injected ``reset`` fault: it is the point, not a bug."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, ConnectionDropped)


logging.getLogger("uvicorn.error").addFilter(_QuietResets())


class ServeError(Exception):
    """The emulator cannot start as asked; ``str()`` is one line ending with a hint."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(f"{message}. Hint: {hint}")
        self.hint = hint


ADMIN_TOKEN_ENV = "GHLSYNC_EMULATOR_ADMIN_TOKEN"  # noqa: S105 - a variable name


def is_loopback(host: str) -> bool:
    """True for ``127.0.0.1``, ``::1``, ``localhost`` and the rest of 127/8."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def check_exposure(host: str, settings: EmulatorSettings) -> None:
    """Refuse to serve the admin API beyond loopback without an admin token."""
    if not is_loopback(host) and not settings.admin_token:
        raise ServeError(
            f"refusing to listen on {host} without an admin token: /_emulator would hand every "
            "token and the OAuth client secret to the network",
            f"pass --admin-token (or set {ADMIN_TOKEN_ENV}), or listen on 127.0.0.1",
        )


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable and writable by its owner only (0600), atomically:
    the whole document appears at once (written beside it, then renamed), so a script that
    waits for the file to exist never reads it empty or half written."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            os.fchmod(handle.fileno(), 0o600)  # a leftover file keeps its mode otherwise
            handle.write(text)
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise ServeError(
            f"cannot write the state file {path}: {exc.strerror}",
            "pass --state-out a path in a directory that exists and you can write to",
        ) from None


def state_document(base_url: str, result: SeedResult) -> dict[str, Any]:
    """What ``serve`` prints and writes to ``--state-out``."""
    return {"baseUrl": base_url, **result.to_dict()}


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto IPPROTO_TCP (not 0) so asyncio sets TCP_NODELAY on accepted connections; without it
    # Nagle plus the client's delayed ACK adds ~40 ms to every small response
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ServeError(
                f"cannot listen on {host}:{port}: the port is in use",
                "stop what holds it, or pass another --port (0 picks a free one)",
            ) from None
        raise ServeError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}",
            "pass --host 127.0.0.1 or an address of this machine",
        ) from None
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
        check_exposure(self.host, self.settings)
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
    check_exposure(host, settings)
    sock = _bind(host, port)
    try:
        store, result = build(options)
        app = create_app(store, settings)
        base_url = _url(host, sock.getsockname()[1])
        document = state_document(base_url, result)
        if state_out is not None:
            write_private(state_out, json.dumps(document, indent=2) + "\n")
    except BaseException:
        sock.close()
        raise
    if on_ready is not None:
        on_ready(document)
    config = uvicorn.Config(app, log_level=log_level, lifespan="off", log_config=_log_config())
    uvicorn.Server(config).run(sockets=[sock])


def _log_config() -> dict[str, Any]:
    """uvicorn's logging with the access log on stderr too: stdout carries only the state
    document, so ``ghlsync emulator serve > emulator-state.json`` keeps it clean."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config["handlers"]["access"]["stream"] = "ext://sys.stderr"
    return config
