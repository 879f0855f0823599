#!/usr/bin/env python3
"""CPU cost per request of ``AsyncGHLClient``, and 50 locations kept busy by one event loop.

    .venv/bin/python benchmarks/client_overhead.py [--requests 20000] [--seconds 12]

Part 1: sequential requests against an in-process ``httpx.MockTransport`` answering a canned
JSON body with HighLevel's five rate-limit headers, limiter ON (``InMemoryLimiter`` with the
published budgets, the 2 % margin and a persisted daily count, written off the loop). The limiter's clock is advanced 0.11 s per
request, i.e. requests are spaced as HighLevel allows (just under 10/s), so the limiter does
all its bookkeeping but never has to wait. Reported: CPU (process time) per request for the
client, and for bare ``httpx.AsyncClient`` on the same transport, and the difference.

Part 2: one event loop, 50 locations, one worker per location, a transport answering after
``--latency-ms``, limiter ON with the real clock (100 calls / 10 s per location). Reported:
calls per location, per-location throughput, the spread of first-call times, and a per-second
progress sample showing that every location advanced concurrently. Then the same without the
limiter, to show the loop's own ceiling.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from ghlsync.client import AsyncGHLClient, InMemoryLimiter, RetryPolicy

BODY = json.dumps(
    {
        "contact": {"id": "c1", "email": "ann@example.com", "tags": ["vip"], "customFields": []},
        "traceId": "t-1",
    }
).encode()
HEADERS = {
    "content-type": "application/json",
    "X-RateLimit-Limit-Daily": "200000",
    "X-RateLimit-Daily-Remaining": "199000",
    "X-RateLimit-Interval-Milliseconds": "10000",
    "X-RateLimit-Max": "100",
    "X-RateLimit-Remaining": "99",
}


class PacedClock:
    """A monotonic clock the handler advances 0.11 s per request (HighLevel's pace)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def cpu_per_request(requests: int, home: Path) -> dict[str, float]:
    clock = PacedClock()

    def handler(request: httpx.Request) -> httpx.Response:
        clock.now += 0.11
        return httpx.Response(200, content=BODY, headers=HEADERS)

    transport = httpx.MockTransport(handler)
    limiter = InMemoryLimiter(clock=clock, daily_store=home / "ratelimit.sqlite3")
    async with AsyncGHLClient("bench-token", transport=transport, limiter=limiter) as client:
        for _ in range(500):  # warm up
            await client.request("GET", "/contacts/c1", location_id="loc1")
        limiter_daily_before = limiter.daily
        start_cpu, start_wall = time.process_time(), time.perf_counter()
        for _ in range(requests):
            await client.request("GET", "/contacts/c1", location_id="loc1")
        client_cpu = time.process_time() - start_cpu
        client_wall = time.perf_counter() - start_wall
        assert limiter.delay(("private", "location:loc1")) == 0.0
        del limiter_daily_before

    async with httpx.AsyncClient(base_url="https://x", transport=transport) as bare:
        for _ in range(500):
            (await bare.get("/contacts/c1", headers={"Version": "2021-07-28"})).json()
        start_cpu = time.process_time()
        for _ in range(requests):
            response = await bare.get(
                "/contacts/c1",
                headers={"Version": "2021-07-28", "Authorization": "Bearer bench-token"},
            )
            response.json()
        bare_cpu = time.process_time() - start_cpu
    return {
        "client_ms": client_cpu / requests * 1000,
        "client_wall_ms": client_wall / requests * 1000,
        "bare_httpx_ms": bare_cpu / requests * 1000,
        "overhead_ms": (client_cpu - bare_cpu) / requests * 1000,
    }


async def fifty_locations(
    seconds: float, latency: float, *, limited: bool, home: Path, locations: int = 50
) -> dict[str, object]:
    async def handler(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(latency)
        return httpx.Response(200, content=BODY, headers=HEADERS)

    counts = [0] * locations
    first: list[float] = [0.0] * locations
    samples: list[list[int]] = []
    # the default limiter: 2 % margin, daily counts persisted (here in a temporary home)
    limiter = InMemoryLimiter(daily_store=home / "ratelimit.sqlite3") if limited else None
    async with AsyncGHLClient(
        "bench-token",
        transport=httpx.MockTransport(handler),
        limiter=limiter,
        retry=RetryPolicy(max_attempts=1),
    ) as client:
        start = time.perf_counter()
        deadline = start + seconds

        async def worker(index: int) -> None:
            location = f"loc{index:02d}"
            while time.perf_counter() < deadline:
                await client.request("GET", "/contacts/c1", location_id=location)
                if counts[index] == 0:
                    first[index] = time.perf_counter() - start
                counts[index] += 1

        async def sampler() -> None:
            while time.perf_counter() < deadline:
                await asyncio.sleep(1.0)
                samples.append(list(counts))

        cpu0 = time.process_time()
        await asyncio.gather(sampler(), *(worker(i) for i in range(locations)))
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu0
    if limiter is not None:
        await limiter.aclose()
    # a location "progressed" in a second if its count grew during that second
    progressed = []
    previous = [0] * locations
    for sample in samples:
        progressed.append(sum(1 for a, b in zip(previous, sample, strict=True) if b > a))
        previous = sample
    return {
        "elapsed_s": elapsed,
        "total_calls": sum(counts),
        "calls_per_location_min": min(counts),
        "calls_per_location_max": max(counts),
        "per_location_rps_mean": statistics.mean(counts) / elapsed,
        "total_rps": sum(counts) / elapsed,
        "first_call_spread_ms": (max(first) - min(first)) * 1000,
        "locations_progressing_per_second": progressed,
        "cpu_s": cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cpu = asyncio.run(cpu_per_request(args.requests, Path(tmp)))
    print(f"part 1: {args.requests} sequential requests, limiter on (MockTransport, canned JSON)")
    print(f"  client CPU per request      {cpu['client_ms']:.3f} ms  (target <= 0.5 ms)")
    print(f"  client wall per request     {cpu['client_wall_ms']:.3f} ms")
    print(f"  bare httpx CPU per request  {cpu['bare_httpx_ms']:.3f} ms")
    print(f"  ghlsync overhead above httpx {cpu['overhead_ms']:.3f} ms")
    for limited in (True, False):
        with tempfile.TemporaryDirectory() as tmp:
            result = asyncio.run(
                fifty_locations(
                    args.seconds, args.latency_ms / 1000, limited=limited, home=Path(tmp)
                )
            )
        label = "limiter on (100 calls/10.2 s per location)" if limited else "limiter off"
        print(f"part 2: 50 locations, one loop, {args.latency_ms:g} ms latency, {label}")
        for key, value in result.items():
            shown = f"{value:.2f}" if isinstance(value, float) else str(value)
            print(f"  {key:<34} {shown}")


if __name__ == "__main__":
    main()
