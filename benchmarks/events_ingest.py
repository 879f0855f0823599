#!/usr/bin/env python3
"""Durable ingest: events/s acknowledged by ``ghlsync serve`` and the time to acknowledge.

    .venv/bin/python benchmarks/events_ingest.py [--seconds 10] [--batch 20] [--concurrency 8]

``ghlsync serve --no-deliver`` runs in its own process (SQLite queue in WAL mode,
synchronous=FULL: every 200 is on disk); this process is the load, over loopback: ``--concurrency``
keep-alive connections each posting ``/v1/batch`` requests of ``--batch`` identify events (the
SDKs send batches) for ``--seconds``, after a warm-up. Reported: events/s acknowledged,
requests/s, p50/p99 time to acknowledge a request, and a run with single ``/v1/track`` calls.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from events_common import WRITE_KEY, percentile, start_emulator, start_serve, stop


async def load(url: str, seconds: float, batch: int, concurrency: int) -> tuple[int, list[float]]:
    latencies: list[float] = []
    sent = 0
    deadline = time.perf_counter() + seconds

    async def one(client: httpx.AsyncClient) -> None:
        nonlocal sent
        while time.perf_counter() < deadline:
            events = [
                {"type": "identify", "userId": f"u{uuid.uuid4().hex[:8]}", "messageId": uuid.uuid4().hex,
                 "traits": {"email": f"{uuid.uuid4().hex[:10]}@example.com", "first_name": "Bench"}}
                for _ in range(batch)
            ]  # fmt: skip
            if batch == 1:
                body, path = {k: v for k, v in events[0].items() if k != "type"}, "/v1/identify"
            else:
                body, path = {"batch": events}, "/v1/batch"
            started = time.perf_counter()
            answer = await client.post(path, json=body)
            latencies.append(time.perf_counter() - started)
            if answer.status_code != 200:
                raise RuntimeError(f"{answer.status_code}: {answer.text}")
            sent += batch

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=url, auth=(WRITE_KEY, ""), limits=limits, timeout=30
    ) as client:
        await asyncio.gather(*(one(client) for _ in range(concurrency)))
    return sent, latencies


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
                started = time.perf_counter()
                sent, latencies = asyncio.run(load(url, args.seconds, batch, concurrency))
                elapsed = time.perf_counter() - started
                print(
                    f"batch={batch:<3} concurrency={concurrency}: {sent / elapsed:,.0f} events/s, "
                    f"{len(latencies) / elapsed:,.0f} requests/s, ack p50 "
                    f"{percentile(latencies, 0.5) * 1000:.1f} ms, p99 {percentile(latencies, 0.99) * 1000:.1f} ms "
                    f"({sent} events in {elapsed:.1f} s)"
                )
        finally:
            stop(serve)
            stop(emulator)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
