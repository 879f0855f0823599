"""``RedisLimiter`` on the local Redis: the burst is shared by every limiter on one prefix."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from ghlsync.client.limiter import Limiter, location_key
from ghlsync.client.limiter_redis import RedisLimiter

redis = pytest.importorskip("redis")
URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def prefix() -> object:
    client = redis.Redis.from_url(URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis is not reachable on 127.0.0.1:6379")
    name = f"test-rl-{uuid.uuid4().hex[:8]}"
    yield name
    for key in client.scan_iter(f"{name}:*"):
        client.delete(key)
    client.close()


async def test_two_limiters_share_one_burst(prefix: str) -> None:
    first = RedisLimiter(URL, burst=5, interval=30.0, prefix=prefix)
    second = RedisLimiter(URL, burst=5, interval=30.0, prefix=prefix)
    assert isinstance(first, Limiter)
    key = location_key("private", "LOC")
    try:
        for limiter in (first, second, first, second, first):
            await limiter.acquire(key)
        with pytest.raises(TimeoutError):  # the sixth waits for the shared window (30 s)
            await asyncio.wait_for(second.acquire(key), timeout=0.3)
        other = location_key("private", "OTHER")
        await asyncio.wait_for(second.acquire(other), timeout=5)  # another location: its own budget
        snapshot = first.snapshot(key)
        assert snapshot is not None and snapshot.burst == 5
    finally:
        await first.aclose()
        await second.aclose()


async def test_zero_remaining_from_highlevel_holds_every_process(prefix: str) -> None:
    first = RedisLimiter(URL, burst=100, interval=30.0, prefix=prefix)
    second = RedisLimiter(URL, burst=100, interval=30.0, prefix=prefix)
    key = location_key("private", "LOC")
    try:
        await first.acquire(key)
        await first.observe(key, {"X-RateLimit-Remaining": "0", "X-RateLimit-Max": "100"})
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(second.acquire(key), timeout=0.3)
    finally:
        await first.aclose()
        await second.aclose()
