"""``RedisLimiter``: the client's ``Limiter`` on Redis, so N processes share one budget.

Each bucket (rate-limit owner, resource) is a sorted set of call times in Redis; one Lua script
drops the entries older than the window and either records the call (there is room) or answers
how long to wait, atomically, with Redis' own clock (``TIME``), so processes on machines whose
clocks differ still agree. The window is ``interval + margin_s``: a call is counted when its
budget is taken, HighLevel counts it when it arrives, a little later: when the answer comes the
call's stamp moves to the answer time, and the margin covers calls still in flight, so the two
windows do not overlap into a 429. The daily count is a per-UTC-day counter that expires. When an answer says
``X-RateLimit-Remaining: 0`` (HighLevel's window, by its clock, is full), a shared hold makes
every process wait one interval.

Example::

    limiter = RedisLimiter("redis://127.0.0.1:6379/0")
    async with AsyncGHLClient(token, limiter=limiter) as client: ...
    await limiter.aclose()
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections import deque
from collections.abc import Mapping
from typing import Any

from ghlsync.client.limiter import (
    DEFAULT_BURST,
    DEFAULT_DAILY,
    DEFAULT_INTERVAL,
    H_DAILY_REMAINING,
    H_LIMIT_DAILY,
    H_MAX,
    H_REMAINING,
    BucketKey,
    BudgetSnapshot,
    DailyBudgetExhausted,
)

log = logging.getLogger("ghlsync.client.limiter_redis")

# KEYS[1] window zset, KEYS[2] daily counter, KEYS[3] hold; ARGV burst, window_ms, daily, member
_ACQUIRE = """
local held = redis.call('PTTL', KEYS[3])
if held > 0 then
  return {1, held, 0}
end
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local burst = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local daily = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms - window)
local used = redis.call('ZCARD', KEYS[1])
if used >= burst then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {1, tonumber(oldest[2]) + window - now_ms + 1, used}
end
local spent = tonumber(redis.call('GET', KEYS[2]) or '0')
if spent >= daily then
  return {2, 0, spent}
end
redis.call('ZADD', KEYS[1], now_ms, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window * 2)
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], 172800)
return {0, 0, used + 1}
"""


# KEYS[1] window zset; ARGV member: move the call's stamp to now (its answer time)
_ANSWERED = """
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  local now = redis.call('TIME')
  local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
  redis.call('ZADD', KEYS[1], 'XX', now_ms, ARGV[1])
end
return 0
"""


class RedisLimiter:
    """A ``Limiter`` (``ghlsync.client.limiter``) shared through Redis; see the module docstring."""

    def __init__(
        self,
        url: str,
        *,
        burst: int = DEFAULT_BURST,
        interval: float = DEFAULT_INTERVAL,
        daily: int = DEFAULT_DAILY,
        margin_s: float = 0.5,
        prefix: str = "ghlsync:ratelimit",
        client: Any = None,
    ) -> None:
        import redis.asyncio as redis_asyncio

        self._redis = client or redis_asyncio.Redis(
            connection_pool=redis_asyncio.BlockingConnectionPool.from_url(
                url, max_connections=32, timeout=30
            )
        )
        self._owns = client is None
        self.burst = burst
        self.interval = interval
        self.daily = daily
        self.margin_s = margin_s
        self.prefix = prefix
        self._script = self._redis.register_script(_ACQUIRE)
        self._answered = self._redis.register_script(_ANSWERED)
        self._outstanding: dict[BucketKey, deque[str]] = {}
        self._member = uuid.uuid4().hex[:12]
        self._counter = 0
        self._snapshots: dict[BucketKey, BudgetSnapshot] = {}
        self._restamps: set[asyncio.Future[Any]] = set()

    def _restamped(self, task: asyncio.Future[Any]) -> None:
        self._restamps.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("moving a call's stamp in Redis failed: %s", task.exception())

    def _keys(self, key: BucketKey) -> list[str]:
        owner, resource = key
        day = dt.datetime.now(dt.UTC).strftime("%Y%m%d")
        return [
            f"{self.prefix}:{owner}:{resource}",
            f"{self.prefix}:daily:{owner}:{resource}:{day}",
            f"{self.prefix}:hold:{owner}:{resource}",
        ]

    async def acquire(self, key: BucketKey) -> None:
        window_ms = int((self.interval + self.margin_s) * 1000)
        while True:
            self._counter += 1
            member = f"{self._member}:{self._counter}"
            verdict, wait_ms, used = await self._script(
                keys=self._keys(key), args=[self.burst, window_ms, self.daily, member]
            )
            if int(verdict) == 0:
                self._outstanding.setdefault(key, deque()).append(member)
                known = self._snapshots.get(key)
                self._snapshots[key] = BudgetSnapshot(
                    remaining=max(0, self.burst - int(used)),
                    burst=self.burst,
                    daily_remaining=known.daily_remaining - 1 if known else self.daily,
                    daily_limit=self.daily,
                )
                return
            if int(verdict) == 2:
                tomorrow = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
                reset = dt.datetime.combine(tomorrow, dt.time(), tzinfo=dt.UTC)
                raise DailyBudgetExhausted(key, reset, self.daily)
            await asyncio.sleep(max(0.001, int(wait_ms) / 1000.0))

    async def observe(self, key: BucketKey, headers: Mapping[str, str]) -> None:
        """Move the oldest outstanding call's stamp to its answer time (HighLevel counted it on
        arrival, between the two: the shared window stays on the safe side), keep what the
        headers say for ``snapshot``, and hold every process when they say 0 remaining."""
        waiting = self._outstanding.get(key)
        if waiting:
            # off the caller's path: the answer is back, the next call need not wait for a
            # round trip to Redis that only moves a stamp later (the margin covers the gap)
            task = asyncio.ensure_future(
                self._answered(keys=self._keys(key)[:1], args=[waiting.popleft()])
            )
            self._restamps.add(task)
            task.add_done_callback(self._restamped)
        lowered = {k.lower(): v for k, v in headers.items()}

        def number(name: str, default: int) -> int:
            try:
                return int(lowered.get(name, default))
            except (TypeError, ValueError):
                return default

        if H_REMAINING not in lowered and H_DAILY_REMAINING not in lowered:
            return
        if lowered.get(H_REMAINING) == "0":
            # HighLevel's own window is full (its clock, its count): every process waits
            hold_ms = int(self.interval * 1000)
            await self._redis.set(self._keys(key)[2], "1", px=hold_ms)
        self._snapshots[key] = BudgetSnapshot(
            remaining=number(H_REMAINING, self.burst),
            burst=number(H_MAX, self.burst),
            daily_remaining=number(H_DAILY_REMAINING, self.daily),
            daily_limit=number(H_LIMIT_DAILY, self.daily),
        )

    def snapshot(self, key: BucketKey) -> BudgetSnapshot | None:
        return self._snapshots.get(key)

    async def flush(self) -> None:
        if self._restamps:  # every count is in Redis already; the stamps being moved soon
            await asyncio.gather(*self._restamps, return_exceptions=True)

    async def aclose(self) -> None:
        await self.flush()
        if self._owns:
            await self._redis.aclose()

    def __repr__(self) -> str:
        return f"RedisLimiter(burst={self.burst}, interval={self.interval}, prefix={self.prefix!r})"
