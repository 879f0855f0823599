"""A response is freed as soon as it is dropped, not when the cyclic collector runs: an
extract pauses the collector while reading, and each page of contacts is ~0.5 MB (issue 17)."""

from __future__ import annotations

import gc

import httpx

from ghlsync.client import AsyncGHLClient


async def test_responses_leave_no_cyclic_garbage() -> None:
    transport = httpx.MockTransport(
        lambda request: httpx.Response(200, json={"location": {"id": "L1", "name": "x" * 1000}})
    )
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        async with AsyncGHLClient(
            "pit-test", base_url="http://ghl.test", transport=transport, limiter=None
        ) as client:
            for _ in range(5):
                got = await client.locations.get("L1")
                assert got["location"]["id"] == "L1"
        gc.collect()
        left = [type(o).__name__ for o in gc.garbage if isinstance(o, httpx.Response)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert left == []
