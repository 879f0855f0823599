"""Benchmark: the emulator's contact search at scale.

Seeds N contacts (default 1,000,000 in one location), then times 500-record
``POST /contacts/search`` pages: in-process through ``httpx.ASGITransport`` and over a real
loopback socket (uvicorn in a thread). The mix, one kind per request in turn:

- ``walk``: a ``searchAfter`` walk sorted by ``dateUpdated`` asc (the incremental read);
- ``range``: a ``dateUpdated`` range (the incremental read's first page);
- ``email``: ``eq`` on email;
- ``tags``: ``eq`` on a tag, newest first;
- ``firstName``: sorted by ``firstName`` (a walk with ``searchAfter``);
- ``custom``: ``eq`` on a custom field value;
- ``text``: ``query`` text (first and last names, email, phone, company);
- ``write``: a contact update (``PUT /contacts/{id}``), so the reads after it show whether
  a write sends them back to a scan.

Per kind it prints p50/p95/max. The first request of each kind is printed apart (``first``):
it builds what later ones reuse (the sort index of a field, a filter's total).

    .venv/bin/python benchmarks/emulator_search.py --contacts 1000000 --requests 400
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


KINDS = ("walk", "range", "email", "tags", "firstName", "custom", "text", "write")


def bodies(location_id: str, samples: dict[str, Any], requests: int) -> list[dict[str, Any]]:
    """A request mix; ``searchAfter`` bodies are filled in as the walks go."""
    base = {"locationId": location_id, "pageLimit": 500}
    updated_asc = [{"field": "dateUpdated", "direction": "asc"}]
    mix: list[dict[str, Any]] = []
    for i in range(requests):
        kind = KINDS[i % len(KINDS)]
        body: dict[str, Any] = {"_kind": kind, **base}
        if kind == "walk":
            body.update(sort=updated_asc, _walk="walk")
        elif kind == "range":
            since = {"gte": "2026-06-01T00:00:00.000Z"}
            body.update(
                sort=updated_asc,
                filters=[{"field": "dateUpdated", "operator": "range", "value": since}],
            )
        elif kind == "email":
            email = samples["emails"][i % len(samples["emails"])]
            body["filters"] = [{"field": "email", "operator": "eq", "value": email}]
        elif kind == "tags":
            body["filters"] = [{"field": "tags", "operator": "eq", "value": samples["tag"]}]
        elif kind == "firstName":
            body.update(sort=[{"field": "firstName", "direction": "asc"}], _walk="firstName")
        elif kind == "custom":
            field_id, value = samples["custom"]
            body["filters"] = [
                {"field": f"customFields.{field_id}", "operator": "eq", "value": value}
            ]
        elif kind == "text":
            body["query"] = samples["words"][i % len(samples["words"])]
        else:
            body = {"_kind": kind, "id": samples["ids"][i % len(samples["ids"])], "n": i}
        mix.append(body)
    return mix


def samples_of(contacts: Any) -> dict[str, Any]:
    """Values the mix asks for: emails, ids, the commonest tag and custom field value."""
    every = list(contacts.items.values())[:: max(1, len(contacts) // 100)]
    values = contacts.values
    tag = max(values.get("tags", {"none": set()}).items(), key=lambda item: len(item[1]))[0]
    custom = max(
        (
            (name.split(".", 1)[1], key, len(ids))
            for name, keys in values.items()
            if name.startswith("customFields.")
            for key, ids in keys.items()
        ),
        key=lambda item: item[2],
        default=("none", "none", 0),
    )
    return {
        "emails": [contact["email"] for contact in every if contact.get("email")],
        "ids": [contact["id"] for contact in every],
        "tag": tag,
        "custom": custom[:2],
        "words": ["smith", "ana", "gmail", "dental", "lee"],
    }


def report(label: str, latencies: list[tuple[str, float]]) -> None:
    print(label)
    for kind in KINDS:
        ms = [value * 1000 for name, value in latencies if name == kind]
        if not ms:
            continue
        first, rest = ms[0], ms[1:] or ms
        print(
            f"  {kind:<10} n={len(ms):<4} first={first:7.1f} ms  p50={percentile(rest, 0.5):6.1f} ms "
            f"p95={percentile(rest, 0.95):6.1f} ms  max={max(rest):7.1f} ms "
            f"mean={statistics.mean(rest):6.1f} ms"
        )


def _request(template: dict[str, Any], cursors: dict[str, Any]) -> tuple[str, str, Any]:
    """(method, path, JSON body) of one mix entry."""
    if template["_kind"] == "write":
        body = {"address1": f"{template['n']} Bench Street"}
        return "PUT", f"/contacts/{template['id']}", body
    body = {key: value for key, value in template.items() if not key.startswith("_")}
    walk = template.get("_walk")
    if walk and cursors.get(walk) is not None:
        body["searchAfter"] = cursors[walk]
    return "POST", "/contacts/search", body


def _after(template: dict[str, Any], status: int, payload: Any, cursors: dict[str, Any]) -> None:
    assert status in (200, 201), payload
    walk = template.get("_walk")
    if walk:
        rows = payload["contacts"]
        cursors[walk] = rows[-1]["searchAfter"] if rows else None  # the last row's cursor


async def in_process(
    app: Any, headers: dict[str, str], mix: list[dict[str, Any]]
) -> list[tuple[str, float]]:
    latencies: list[tuple[str, float]] = []
    cursors: dict[str, Any] = {}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
        for template in mix:
            method, path, body = _request(template, cursors)
            started = time.perf_counter()
            response = await client.request(method, path, json=body, headers=headers)
            payload = response.json()
            latencies.append((template["_kind"], time.perf_counter() - started))
            _after(template, response.status_code, payload, cursors)
    return latencies


def over_socket(
    base_url: str, headers: dict[str, str], mix: list[dict[str, Any]]
) -> list[tuple[str, float]]:
    latencies: list[tuple[str, float]] = []
    cursors: dict[str, Any] = {}
    with httpx.Client(base_url=base_url, timeout=60) as client:
        for template in mix:
            method, path, body = _request(template, cursors)
            started = time.perf_counter()
            response = client.request(method, path, json=body, headers=headers)
            payload = response.json()
            latencies.append((template["_kind"], time.perf_counter() - started))
            _after(template, response.status_code, payload, cursors)
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
    mix = bodies(location["id"], samples_of(contacts), args.requests)
    # the search index lag (on by default, as HighLevel's) off: figures stay comparable
    settings = EmulatorSettings(
        seed=args.seed, rate_limit=None, daily_limit=None, search_index_delay_ms=0
    )
    app = create_app(store, settings)
    report("in-process (ASGITransport)", asyncio.run(in_process(app, headers, mix)))
    with EmulatorServer(settings=settings, store=store) as server:
        report("real socket (uvicorn, keep-alive)", over_socket(server.base_url, headers, mix))


if __name__ == "__main__":
    main()
