"""The default limiter against the emulator's sliding window: waiting, never a 429.

The emulator limits 20 calls per 2 s per location and stamps calls when they arrive; the client
stamps them when it sends. With the limiter's 2 % margin a burst of three windows' worth of
concurrent calls draws no 429 (the client does not retry here, so one would fail the test).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from ghlsync.client import AsyncGHLClient, InMemoryLimiter, PrivateTokenAuth, RetryPolicy

emulator = pytest.importorskip("ghlsync.emulator")


async def test_three_windows_of_calls_draw_no_429(tmp_path: Path) -> None:
    settings = emulator.EmulatorSettings(
        rate_limit=emulator.parse_rate_limit("20/2s"), daily_limit=None
    )
    with emulator.EmulatorServer(emulator.SeedOptions(locations=1, contacts=5), settings) as server:
        location = server.state.locations[0]
        limiter = InMemoryLimiter(burst=20, interval=2.0, daily_store=tmp_path / "rl.sqlite3")
        auth = PrivateTokenAuth(tokens={location["id"]: location["token"]})
        async with AsyncGHLClient(
            auth,
            base_url=server.base_url,
            limiter=limiter,
            retry=RetryPolicy(max_attempts=1),  # a 429 raises instead of being retried
        ) as client:
            started = time.monotonic()
            await asyncio.gather(
                *(
                    client.request(
                        "GET",
                        "/users/",
                        params={"locationId": location["id"]},
                        location_id=location["id"],
                    )
                    for _ in range(65)
                )
            )
            elapsed = time.monotonic() - started
            snap = limiter.snapshot(client.bucket_key(location["id"]))
            counts = (await client._http.get("/_emulator/counts")).json()
        await limiter.aclose()
    statuses = {status for by in counts["operations"].values() for status in by}
    assert "429" not in statuses, counts
    assert elapsed >= 3 * 2.0  # 65 calls at 20 per 2 s: the limiter waited three windows
    assert snap is not None and snap.burst == 20
