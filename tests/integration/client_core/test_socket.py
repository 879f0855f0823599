"""The client over a real loopback socket: real read timeouts, refused connections, keep-alive.

A small threaded HTTP/1.1 server on 127.0.0.1 counts what arrives; ``/slow`` answers after a
delay longer than the client's read timeout.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from ghlsync.client import AsyncGHLClient, GHLClient, RetryPolicy
from ghlsync.errors import NetworkFailureError, OutcomeUnknownError

#: max_attempts alone (no outage window: these tests count attempts)
FAST_RETRY = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02, outage_window_s=0)


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.hits: Counter[str] = Counter()
        self.connections: set[int] = set()
        self.lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: Server

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        with self.server.lock:
            self.server.hits[f"{self.command} {self.path}"] += 1
            self.server.connections.add(self.client_address[1])
        if self.path.startswith("/slow"):
            time.sleep(0.6)
        body = json.dumps({"ok": True}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.send_header("X-RateLimit-Remaining", "99")
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def base(srv: Server) -> str:
    return f"http://127.0.0.1:{srv.server_address[1]}"


def client(srv: Server | None, url: str | None = None) -> AsyncGHLClient:
    return AsyncGHLClient(
        "t",
        base_url=url or base(srv),
        timeout=httpx.Timeout(0.3),
        retry=FAST_RETRY,  # type: ignore[arg-type]
    )


async def test_keep_alive_reuses_connections(server: Server) -> None:
    async with client(server) as c:
        for i in range(20):
            assert await c.request("GET", f"/contacts/c{i}") == {"ok": True}
    assert sum(server.hits.values()) == 20
    assert len(server.connections) == 1  # one pooled HTTP/1.1 connection


async def test_read_timeout_get_retried_post_sent_once(server: Server) -> None:
    async with client(server) as c:
        with pytest.raises(Exception, match="ReadTimeout"):
            await c.request("GET", "/slow/get")
        with pytest.raises(OutcomeUnknownError) as caught:
            await c.request("POST", "/slow/post", json={"email": "a@b.co"}, location_id="L1")
    assert server.hits["GET /slow/get"] == 3  # retried up to max_attempts
    assert server.hits["POST /slow/post"] == 1  # never resent
    assert caught.value.location_id == "L1"


def test_refused_connection_is_retried_even_for_post() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again below: nothing listens there
    with GHLClient("t", base_url=f"http://127.0.0.1:{port}", retry=FAST_RETRY) as c:
        started = time.perf_counter()
        with pytest.raises(NetworkFailureError):
            c.request("POST", "/contacts/", json={})
        assert time.perf_counter() - started < 5
