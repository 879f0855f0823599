#!/usr/bin/env python3
"""Durable ingest: events/s acknowledged by ``ghlsync serve`` and the time to acknowledge.

    .venv/bin/python benchmarks/events_ingest.py [--seconds 10] [--batch 20] [--concurrency 8]

``ghlsync serve --no-deliver`` runs in its own process (SQLite queue in WAL mode,
synchronous=FULL: every 200 is on disk); this process is the load, over loopback: ``--concurrency``
keep-alive connections each posting ``/v1/batch`` requests of ``--batch`` identify events (the
SDKs send batches) for ``--seconds``, after a warm-up. Reported: events/s acknowledged,
requests/s, p50/p99 time to acknowledge a request, the server process's CPU per event (from
``/proc``: what the figure would be on an idle core), and a run with single ``/v1/identify`` calls.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from events_common import WRITE_KEY, percentile, start_emulator, start_serve, stop


def bodies(count: int, batch: int) -> list[bytes]:
    """``count`` request bodies, built before the clock starts (unique messageIds: no dedupe)."""
    out = []
    for _ in range(count):
        events = [
            {"type": "identify", "userId": f"u{uuid.uuid4().hex[:8]}", "messageId": uuid.uuid4().hex,
             "traits": {"email": f"{uuid.uuid4().hex[:10]}@example.com", "first_name": "Bench"}}
            for _ in range(batch)
        ]  # fmt: skip
        if batch == 1:
            out.append(json.dumps({k: v for k, v in events[0].items() if k != "type"}).encode())
        else:
            out.append(json.dumps({"batch": events}).encode())
    return out


async def load(
    url: str, seconds: float, batch: int, concurrency: int
) -> tuple[int, list[float], float]:
    latencies: list[float] = []
    sent = 0
    pending = bodies(max(200, int(seconds * 12_000 / batch)), batch)
    path = "/v1/identify" if batch == 1 else "/v1/batch"
    headers = {"content-type": "application/json"}
    begun = time.perf_counter()
    deadline = begun + seconds

    async def one(client: httpx.AsyncClient) -> None:
        nonlocal sent
        while time.perf_counter() < deadline and pending:
            body = pending.pop()
            started = time.perf_counter()
            answer = await client.post(path, content=body, headers=headers)
            latencies.append(time.perf_counter() - started)
            if answer.status_code != 200:
                raise RuntimeError(f"{answer.status_code}: {answer.text}")
            sent += batch

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=url, auth=(WRITE_KEY, ""), limits=limits, timeout=30
    ) as client:
        await asyncio.gather(*(one(client) for _ in range(concurrency)))
    return sent, latencies, time.perf_counter() - begun


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        emulator, state = start_emulator(home)
        serve, url = start_serve(home / "serve", state, "--no-deliver")
        try:
            asyncio.run(load(url, 2.0, args.batch, args.concurrency))  # warm-up
            for batch, concurrency in ((args.batch, args.concurrency), (1, args.concurrency)):
                cpu_before = cpu_seconds(serve.pid)
                sent, latencies, elapsed = asyncio.run(load(url, args.seconds, batch, concurrency))
                cpu = cpu_seconds(serve.pid) - cpu_before
                print(
                    f"batch={batch:<3} concurrency={concurrency}: {sent / elapsed:,.0f} events/s, "
                    f"{len(latencies) / elapsed:,.0f} requests/s, ack p50 "
                    f"{percentile(latencies, 0.5) * 1000:.1f} ms, p99 {percentile(latencies, 0.99) * 1000:.1f} ms "
                    f"({sent} events in {elapsed:.1f} s); server CPU {cpu / sent * 1e6:.0f} us/event "
                    f"= {sent / cpu:,.0f} events per CPU-second"
                )
        finally:
            stop(serve)
            stop(emulator)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
