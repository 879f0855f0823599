"""A small HTTP/1.1 load generator for the events benchmarks: paced (open loop) or closed loop.

httpx costs a few hundred microseconds of CPU per request, which on a 2-core machine shared with
the server under test shows up in the very latency being measured; this client sends prebuilt
request bytes over keep-alive connections and reads the answer by its ``Content-Length``, so the
generator's own cost stays in the tens of microseconds.

Open loop: request ``i`` is due at ``start + i / rate`` whatever happened to the earlier ones
(a slow answer does not delay the next request, as with real independent senders), and its time
to acknowledge is counted from when it was due, not from when the generator got round to
sending it, so a stall anywhere (server, generator, machine) is in the figure (no coordinated
omission).
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field


def request_bytes(path: str, body: bytes, write_key: str) -> bytes:
    """One complete ``POST`` request with Basic auth, ready to write on a connection."""
    auth = base64.b64encode(f"{write_key}:".encode()).decode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic {auth}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def send(self, request: bytes) -> int:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.lower() == "content-length":
                length = int(value)
        if length:
            await self.reader.readexactly(length)
        return status


@dataclass
class Result:
    offered_per_s: float
    latencies_s: list[float] = field(default_factory=list)
    lags_s: list[float] = field(default_factory=list)  # due -> actually written (generator lag)
    errors: int = 0
    #: what the errors were: a status code, or the exception's name
    error_kinds: Counter[str] = field(default_factory=Counter)
    elapsed_s: float = 0.0
    connections: int = 0

    @property
    def requests(self) -> int:
        return len(self.latencies_s)


class Pool:
    """Keep-alive connections to one host; a new one is opened when none is idle."""

    def __init__(self, host: str, port: int, limit: int = 256) -> None:
        self.host, self.port, self.limit = host, port, limit
        self.idle: deque[Connection] = deque()
        self.opened = 0
        self._free = asyncio.Condition()

    async def get(self) -> Connection:
        if self.idle:
            return self.idle.popleft()
        if self.opened < self.limit:
            self.opened += 1
            reader, writer = await asyncio.open_connection(self.host, self.port)
            return Connection(reader, writer)
        async with self._free:
            await self._free.wait_for(lambda: bool(self.idle))
            return self.idle.popleft()

    async def put(self, connection: Connection) -> None:
        self.idle.append(connection)
        async with self._free:
            self._free.notify()

    async def close(self) -> None:
        while self.idle:
            connection = self.idle.pop()
            connection.writer.close()


async def paced(
    host: str, port: int, requests: Sequence[bytes], per_s: float, seconds: float
) -> Result:
    """Open loop: ``per_s`` requests a second for ``seconds``, each timed from when it was due."""
    pool = Pool(host, port)
    result = Result(offered_per_s=per_s)
    total = int(per_s * seconds)
    tasks: set[asyncio.Task[None]] = set()
    for connection in await asyncio.gather(*(pool.get() for _ in range(8))):
        await pool.put(connection)  # a few open before the clock starts, as an SDK's pool
    start = time.perf_counter() + 0.05

    async def one(index: int, due: float) -> None:
        connection = await pool.get()
        result.lags_s.append(time.perf_counter() - due)
        try:
            status = await connection.send(requests[index % len(requests)])
        except (OSError, asyncio.IncompleteReadError) as exc:
            result.errors += 1
            result.error_kinds[type(exc).__name__] += 1
            pool.opened -= 1
            return
        result.latencies_s.append(time.perf_counter() - due)
        if status != 200:
            result.errors += 1
            result.error_kinds[str(status)] += 1
        await pool.put(connection)

    index = 0
    while index < total:
        now = time.perf_counter()
        while index < total and start + index / per_s <= now:
            task = asyncio.create_task(one(index, start + index / per_s))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            index += 1
        if index < total:
            await asyncio.sleep(max(0.0, start + index / per_s - time.perf_counter()))
    if tasks:
        await asyncio.wait(tasks)
    result.elapsed_s = time.perf_counter() - start
    result.connections = pool.opened
    await pool.close()
    return result


async def closed(
    host: str, port: int, requests: Sequence[bytes], concurrency: int, seconds: float
) -> Result:
    """Closed loop: ``concurrency`` connections, each sending its next request on an answer."""
    result = Result(offered_per_s=0.0)
    begun = time.perf_counter()
    deadline = begun + seconds
    counter = iter(range(10**12))

    async def sender() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        connection = Connection(reader, writer)
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            status = await connection.send(requests[next(counter) % len(requests)])
            result.latencies_s.append(time.perf_counter() - started)
            if status != 200:
                result.errors += 1
                result.error_kinds[str(status)] += 1
        writer.close()

    await asyncio.gather(*(sender() for _ in range(concurrency)))
    result.elapsed_s = time.perf_counter() - begun
    result.connections = concurrency
    return result
