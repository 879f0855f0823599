"""Benchmark: the emulator's contact search at scale.

Seeds N contacts (default 1,000,000 in one location), then times 500-record
``POST /contacts/search`` pages: in-process through ``httpx.ASGITransport`` and over a real
loopback socket (uvicorn in a thread). Queries: a ``searchAfter`` walk sorted by
``dateUpdated`` asc, a ``dateUpdated`` range (incremental read), and ``eq`` on email.

    .venv/bin/python benchmarks/emulator_search.py --contacts 1000000 --requests 200
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import time
from typing import Any

import httpx

from ghlsync.emulator import EmulatorServer, EmulatorSettings, SeedOptions, build, create_app


def rss_mib() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def bodies(location_id: str, emails: list[str], requests: int) -> list[dict[str, Any]]:
    """A request mix; ``searchAfter`` bodies are filled in as the walk goes."""
    sort = [{"field": "dateUpdated", "direction": "asc"}]
    mix: list[dict[str, Any]] = []
    for i in range(requests):
        kind = i % 4
        if kind in (0, 1):
            mix.append({"locationId": location_id, "pageLimit": 500, "sort": sort, "_walk": True})
        elif kind == 2:
            mix.append(
                {
                    "locationId": location_id,
                    "pageLimit": 500,
                    "sort": sort,
                    "filters": [
                        {
                            "field": "dateUpdated",
                            "operator": "range",
                            "value": {"gte": "2026-06-01T00:00:00.000Z"},
                        }
                    ],
                }
            )
        else:
            email = emails[i % len(emails)]
            mix.append(
                {
                    "locationId": location_id,
                    "pageLimit": 500,
                    "filters": [{"field": "email", "operator": "eq", "value": email}],
                }
            )
    return mix


def report(label: str, latencies: list[float]) -> None:
    ms = [value * 1000 for value in latencies]
    print(
        f"{label}: n={len(ms)} p50={percentile(ms, 0.5):.1f} ms "
        f"p95={percentile(ms, 0.95):.1f} ms max={max(ms):.1f} ms mean={statistics.mean(ms):.1f} ms"
    )


async def in_process(app: Any, headers: dict[str, str], mix: list[dict[str, Any]]) -> list[float]:
    latencies: list[float] = []
    cursor = None
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
        for template in mix:
            body = {key: value for key, value in template.items() if key != "_walk"}
            if template.get("_walk") and cursor is not None:
                body["searchAfter"] = cursor
            started = time.perf_counter()
            response = await client.post("/contacts/search", json=body, headers=headers)
            payload = response.json()
            latencies.append(time.perf_counter() - started)
            assert response.status_code == 200, response.text
            if template.get("_walk"):
                cursor = payload["searchAfter"]
    return latencies


def over_socket(base_url: str, headers: dict[str, str], mix: list[dict[str, Any]]) -> list[float]:
    latencies: list[float] = []
    cursor = None
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for template in mix:
            body = {key: value for key, value in template.items() if key != "_walk"}
            if template.get("_walk") and cursor is not None:
                body["searchAfter"] = cursor
            started = time.perf_counter()
            response = client.post("/contacts/search", json=body, headers=headers)
            payload = response.json()
            latencies.append(time.perf_counter() - started)
            assert response.status_code == 200, response.text
            if template.get("_walk"):
                cursor = payload["searchAfter"]
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--locations", type=int, default=1)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    print(
        f"machine: {platform.machine()} {os.cpu_count()} cpus, Python {platform.python_version()}"
    )
    before = rss_mib()
    started = time.perf_counter()
    store, result = build(
        SeedOptions(locations=args.locations, contacts=args.contacts, seed=args.seed)
    )
    seed_s = time.perf_counter() - started
    print(
        f"seed: {args.contacts:,} contacts in {args.locations} location(s) in {seed_s:.1f} s; "
        f"RSS +{rss_mib() - before:,.0f} MiB (total {rss_mib():,.0f} MiB)"
    )
    location = result.locations[0]
    headers = {"Authorization": f"Bearer {location['token']}", "Version": "2021-07-28"}
    contacts = store.contacts(location["id"])
    emails = [
        contact["email"]
        for contact in list(contacts.items.values())[:: max(1, len(contacts) // 100)]
    ]
    mix = bodies(location["id"], emails, args.requests)
    settings = EmulatorSettings(seed=args.seed, rate_limit=None, daily_limit=None)
    app = create_app(store, settings)
    report("in-process (ASGITransport)", asyncio.run(in_process(app, headers, mix)))
    with EmulatorServer(settings=settings, store=store) as server:
        report("real socket (uvicorn, keep-alive)", over_socket(server.base_url, headers, mix))


if __name__ == "__main__":
    main()
