#!/usr/bin/env python3
"""``GHLClient`` (the blocking twin): records through ``contacts.iterate`` against pages
through ``contacts.pages``, per record, over ``httpx.MockTransport`` (no network).

    .venv/bin/python benchmarks/sync_iterate.py [--contacts 5000] [--page-size 100] [--rounds 5]

Both read the same ``POST /contacts/search`` pages (``--page-size`` records each, canned JSON
with ``searchAfter`` cursors); the figure is wall time per record, best of ``--rounds``, and the
ratio iterate / pages. The sync twin crosses its thread boundary once per page for both.
"""

from __future__ import annotations

import argparse
import json
import time

import httpx

from ghlsync.client import GHLClient


def transport(contacts: int, page_size: int) -> httpx.MockTransport:
    records = [
        {
            "id": f"c{i:06d}",
            "email": f"user{i}@example.com",
            "firstName": "Ann",
            "tags": ["vip", "newsletter"],
            "dateUpdated": f"2026-01-01T00:00:{i % 60:02d}.000Z",
            "customFields": [{"id": "f1", "value": str(i)}],
            "searchAfter": [i, f"c{i:06d}"],
        }
        for i in range(contacts)
    ]
    bodies = [
        json.dumps({"contacts": records[start : start + page_size], "total": contacts}).encode()
        for start in range(0, contacts, page_size)
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        page = int(json.loads(request.content).get("page") or 1)
        body = bodies[page - 1] if page <= len(bodies) else b'{"contacts": [], "total": 0}'
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    return httpx.MockTransport(handler)


def per_record_us(client: GHLClient, how: str, contacts: int, page_size: int) -> float:
    started = time.perf_counter()
    seen = 0
    if how == "pages":
        for page in client.contacts.pages("loc1", page_size=page_size):
            seen += len(page.records)
    else:
        for _record in client.contacts.iterate("loc1", page_size=page_size):
            seen += 1
    elapsed = time.perf_counter() - started
    assert seen == contacts, (how, seen)
    return elapsed / seen * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=5000)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    mock = transport(args.contacts, args.page_size)
    with GHLClient("pit-bench", transport=mock, limiter=None) as client:
        best: dict[str, float] = {}
        for _ in range(args.rounds):
            for how in ("pages", "iterate"):
                us = per_record_us(client, how, args.contacts, args.page_size)
                best[how] = min(best.get(how, us), us)
    print(f"contacts={args.contacts} page_size={args.page_size} rounds={args.rounds} (best)")
    print(f"pages    {best['pages']:7.2f} us/record")
    print(f"iterate  {best['iterate']:7.2f} us/record")
    print(f"ratio    {best['iterate'] / best['pages']:7.2f} (iterate / pages)")


if __name__ == "__main__":
    main()
