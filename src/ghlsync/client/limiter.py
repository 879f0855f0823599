"""Client-side rate limiting: wait for budget instead of drawing a 429.

HighLevel limits each app per resource (each location, or the company): a burst of 100 calls
per 10 s and 200,000 calls a day, and reports the state on every answer in five headers. A
``Limiter`` keeps one bucket per ``BucketKey`` = (rate-limit owner, resource), so a bucket
waiting for location A never holds up location B.

The module is split by job: the budget arithmetic (``BurstWindow``, ``DailyBudget``) in
``budget.py`` is pure (it takes ``now`` as an argument and is tested without sleeping); the
SQLite counts file is ``daily_store.py``; this module is the limiter. ``InMemoryLimiter`` wires
the arithmetic to a clock and a sleep function (both injectable) and persists the daily count
with ``DailyCountStore`` (by default ``$GHLSYNC_HOME/ratelimit.sqlite3``, written in a worker
thread) so that a restart does not forget what today already spent. A shared (e.g. Redis)
limiter for several processes implements the same ``Limiter`` protocol, which is async
throughout for that reason.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from ghlsync.client.budget import (
    DEFAULT_BURST,
    DEFAULT_DAILY,
    DEFAULT_INTERVAL,
    H_DAILY_REMAINING,
    H_INTERVAL_MS,
    H_LIMIT_DAILY,
    H_MAX,
    H_REMAINING,
    BucketKey,
    BudgetSnapshot,
    BurstWindow,
    DailyBudget,
    DailyBudgetExhausted,
    day_of,
    location_key,
    next_utc_midnight,
    parse_rate_headers,
)
from ghlsync.client.daily_store import DailyCountStore
from ghlsync.config import Settings

#: the budget arithmetic and the counts file, importable from here as before the split
__all__ = [
    "DEFAULT_BURST",
    "DEFAULT_DAILY",
    "DEFAULT_INTERVAL",
    "DEFAULT_MARGIN",
    "DEFAULT_STORE",
    "H_DAILY_REMAINING",
    "H_INTERVAL_MS",
    "H_LIMIT_DAILY",
    "H_MAX",
    "H_REMAINING",
    "BucketKey",
    "BudgetSnapshot",
    "BurstWindow",
    "DailyBudget",
    "DailyBudgetExhausted",
    "DailyCountStore",
    "InMemoryLimiter",
    "Limiter",
    "NoLimiter",
    "day_of",
    "location_key",
    "next_utc_midnight",
    "parse_rate_headers",
]


@runtime_checkable
class Limiter(Protocol):
    """What the client needs from a rate limiter. Every method that may do I/O is async, so
    a shared limiter (Redis, a database) never blocks the event loop; ``snapshot`` answers
    from what the limiter already holds."""

    async def acquire(self, key: BucketKey) -> None:
        """Wait until one call for ``key`` fits the budget; raise ``DailyBudgetExhausted``."""
        ...

    async def observe(self, key: BucketKey, headers: Mapping[str, str]) -> None:
        """Correct the bucket from HighLevel's ``X-RateLimit-*`` answer headers."""
        ...

    def snapshot(self, key: BucketKey) -> BudgetSnapshot | None:
        """The budget last known for ``key`` without any I/O (``None``: nothing known yet)."""
        ...

    async def flush(self) -> None:
        """Write counts buffered in this process (a client calls it when it closes)."""
        ...

    async def aclose(self) -> None:
        """Flush, then release connections/files; called by whoever created the limiter."""
        ...


class NoLimiter:
    """Limiting turned off (the server's 429s are still retried)."""

    async def acquire(self, key: BucketKey) -> None:
        return None

    async def observe(self, key: BucketKey, headers: Mapping[str, str]) -> None:
        return None

    def snapshot(self, key: BucketKey) -> BudgetSnapshot | None:
        return None

    async def flush(self) -> None:
        return None

    async def aclose(self) -> None:
        return None

    def __repr__(self) -> str:
        return "NoLimiter()"


@dataclass
class _Bucket:
    burst: BurstWindow
    daily: DailyBudget
    unflushed: int = 0
    loaded: bool = False
    #: (clock time, X-RateLimit-Remaining) of the last answer that carried it
    seen_remaining: tuple[float, int] | None = None


class _DefaultStore:
    def __repr__(self) -> str:
        return "DEFAULT_STORE"


#: ``InMemoryLimiter(daily_store=DEFAULT_STORE)``: ``$GHLSYNC_HOME/ratelimit.sqlite3``
DEFAULT_STORE = _DefaultStore()

#: The default safety margin on the server's window (see ``InMemoryLimiter``).
DEFAULT_MARGIN = 0.02

StoreArg = DailyCountStore | str | os.PathLike[str] | _DefaultStore | None


class InMemoryLimiter:
    """One sliding burst window and one daily budget per bucket, in this process.

    ``clock`` (monotonic seconds) drives the burst window, ``wall`` (epoch seconds) the daily
    budget; ``sleep`` waits. All three are injectable for tests.

    ``margin`` (default 2 %) reads the server's window as that much longer (10.2 s for 10 s),
    configured and observed: this limiter stamps a call when it is sent, HighLevel when it
    arrives, so when an early call of a window travelled slower than one a full window later
    the server counts ``burst + 1`` in its window and answers 429 (measured: one 429 per ~200
    calls at 100/10 s without it). It costs at most ``margin`` of the permitted rate.

    ``daily_store`` persists the daily counts so that the next run (or another process) sees
    what today already spent: by default ``$GHLSYNC_HOME/ratelimit.sqlite3`` (from
    ``ghlsync.config.Settings``), a path or ``DailyCountStore``, or ``None`` for no
    persistence. It is opened on first use and written in a worker thread (never on the event
    loop), every bucket at once in one transaction: at most every ``flush_every`` seconds (a
    crash loses at most that many seconds of counts, and the server's daily headers correct
    them on the next answer), when a budget runs out, on ``flush()`` and on ``aclose()``.
    """

    def __init__(
        self,
        *,
        burst: int = DEFAULT_BURST,
        interval: float = DEFAULT_INTERVAL,
        daily: int = DEFAULT_DAILY,
        margin: float = DEFAULT_MARGIN,
        daily_store: StoreArg = DEFAULT_STORE,
        flush_every: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if margin < 0:
            raise ValueError("margin must be >= 0")
        self.burst = burst
        self.interval = interval
        self.daily = daily
        self.margin = margin
        if isinstance(daily_store, _DefaultStore):
            daily_store = Settings.from_env().rate_state_path
        self._store_path: Path | None = None
        self.daily_store: DailyCountStore | None = None
        if isinstance(daily_store, DailyCountStore):
            self.daily_store = daily_store
        elif daily_store is not None:
            self._store_path = Path(daily_store)
        self.flush_every = flush_every
        self._clock = clock
        self._wall = wall
        self._sleep = sleep
        self._buckets: dict[BucketKey, _Bucket] = {}
        self._io: asyncio.Lock | None = None
        self._closed = False
        self._last_flush = clock()

    @property
    def persistent(self) -> bool:
        """Whether daily counts are kept in a file (until ``aclose``)."""
        return not self._closed and (self.daily_store is not None or self._store_path is not None)

    @property
    def store_path(self) -> Path | None:
        """The counts file (``None``: not persisted)."""
        if self.daily_store is not None:
            return self.daily_store.path
        return self._store_path

    def _lock(self) -> asyncio.Lock:
        if self._io is None:
            self._io = asyncio.Lock()
        return self._io

    async def _open_store(self) -> DailyCountStore | None:
        """The store, opened in a worker thread on first use (caller holds the lock)."""
        if self.daily_store is None and self._store_path is not None and not self._closed:
            self.daily_store = await asyncio.to_thread(DailyCountStore, self._store_path)
        return self.daily_store

    def _bucket(self, key: BucketKey) -> _Bucket:
        """The bucket of ``key``, created empty if new (no I/O; ``_loaded`` reads the store)."""
        bucket = self._buckets.get(key)
        if bucket is None:
            window = BurstWindow(self.burst, self.interval * (1 + self.margin))
            bucket = _Bucket(window, DailyBudget(self.daily))
            self._buckets[key] = bucket
        return bucket

    async def _loaded(self, key: BucketKey) -> _Bucket:
        bucket = self._bucket(key)
        if bucket.loaded:
            return bucket
        if not self.persistent:
            bucket.loaded = True
            return bucket
        async with self._lock():
            if not bucket.loaded:
                store = await self._open_store()
                if store is not None:
                    bucket.daily.roll(self._wall())
                    used, limit = await asyncio.to_thread(store.load, key, bucket.daily.day)
                    bucket.daily.used = max(bucket.daily.used, used)
                    if limit:
                        bucket.daily.limit = limit
                bucket.loaded = True
        return bucket

    def delay(self, key: BucketKey) -> float:
        """Seconds the next call for ``key`` would wait now (0 = go); no side effects."""
        return self._bucket(key).burst.delay(self._clock())

    async def acquire(self, key: BucketKey) -> None:
        bucket = await self._loaded(key)
        while True:
            wall = self._wall()
            if bucket.daily.exhausted(wall):
                await self._flush(also=key)
                if bucket.daily.exhausted(self._wall()):
                    raise DailyBudgetExhausted(
                        key,
                        dt.datetime.fromtimestamp(bucket.daily.reset_at, dt.UTC),
                        bucket.daily.limit,
                    )
                continue
            now = self._clock()
            wait = bucket.burst.delay(now)
            if wait <= 0:
                bucket.burst.record(now)
                bucket.daily.record(wall)
                bucket.unflushed += 1
                if now - self._last_flush >= self.flush_every and not self._lock().locked():
                    await self._flush()
                return
            await self._sleep(wait)

    async def observe(self, key: BucketKey, headers: Mapping[str, str]) -> None:
        bucket = self._bucket(key)
        bucket.burst.answered(self._clock())
        values = parse_rate_headers(headers)
        if not any(v is not None for v in values.values()):
            return
        interval_ms = values["interval_ms"]
        bucket.burst.correct(
            self._clock(),
            limit=values["max"],
            interval=interval_ms / 1000.0 * (1 + self.margin) if interval_ms else None,
            remaining=values["remaining"],
        )
        bucket.daily.correct(
            self._wall(), limit=values["limit_daily"], remaining=values["daily_remaining"]
        )
        if values["remaining"] is not None:
            bucket.seen_remaining = (self._clock(), max(0, values["remaining"]))

    def snapshot(self, key: BucketKey) -> BudgetSnapshot | None:
        """The budget of ``key``: the server's last ``X-RateLimit-Remaining`` while it is
        younger than one window (and no lower than what this process spent since), else this
        limiter's own count. ``None`` before the first call for ``key``."""
        bucket = self._buckets.get(key)
        if bucket is None:
            return None
        now = self._clock()
        burst = bucket.burst
        burst._expire(now)
        remaining = max(0, burst.limit - len(burst.sent))
        if bucket.seen_remaining is not None:
            seen_at, seen = bucket.seen_remaining
            if now - seen_at < burst.interval:
                sent_since = sum(1 for stamp in burst.sent if stamp > seen_at)
                remaining = min(remaining, max(0, seen - sent_since))
        daily = bucket.daily
        daily.roll(self._wall())
        return BudgetSnapshot(
            remaining=remaining,
            burst=burst.limit,
            daily_remaining=max(0, daily.limit - daily.used),
            daily_limit=daily.limit,
        )

    async def _flush(self, *, also: BucketKey | None = None) -> None:
        """Write every bucket's pending count (and ``also``'s total, pending or not) in one
        transaction, in a worker thread."""
        if not self.persistent:
            for bucket in self._buckets.values():
                bucket.unflushed = 0
            return
        async with self._lock():
            self._last_flush = self._clock()
            store = await self._open_store()
            keys = [k for k, b in self._buckets.items() if b.unflushed or k == also]
            if store is None or not keys:
                return
            buckets = [self._buckets[k] for k in keys]
            deltas = [b.unflushed for b in buckets]
            for bucket in buckets:
                bucket.unflushed = 0
            items = [
                (k, b.daily.day, d, b.daily.used, b.daily.limit)
                for k, b, d in zip(keys, buckets, deltas, strict=True)
            ]
            try:
                totals = await asyncio.to_thread(store.add_many, items)
            except Exception:
                for bucket, delta in zip(buckets, deltas, strict=True):
                    bucket.unflushed += delta  # not written: kept for the next flush
                raise
            for bucket, total in zip(buckets, totals, strict=True):
                # calls made while the thread ran are in ``unflushed`` and already in ``used``
                bucket.daily.used = max(bucket.daily.used, total + bucket.unflushed)

    async def flush(self) -> None:
        """Write every bucket's pending daily count now."""
        if any(bucket.unflushed for bucket in self._buckets.values()):
            await self._flush()

    async def aclose(self) -> None:
        """Flush, then close the counts file (this limiter stops persisting after it)."""
        await self.flush()
        self._closed = True
        if self.daily_store is not None:
            store, self.daily_store = self.daily_store, None
            self._store_path = store.path
            await asyncio.to_thread(store.close)

    def __repr__(self) -> str:
        return (
            f"InMemoryLimiter(burst={self.burst}/{self.interval:g}s, daily={self.daily}, "
            f"margin={self.margin:g}, store={'file' if self.persistent else 'none'}, "
            f"buckets={len(self._buckets)})"
        )
