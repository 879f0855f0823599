"""A safety margin on the server's rate window, for long runs at the limit.

The client's limiter stamps a call when it is sent; HighLevel (and the emulator) stamp it when
it arrives. When an early call of a window travelled slower than the call a full window later
(a fresh connection, a busy server), the server sees ``burst + 1`` calls in one window and
answers 429 (measured: one 429 per 200 requests at 100/10 s, `docs/benchmarks.md`). The extract
therefore reads the server's window as ``margin`` longer (2 %: 10.2 s instead of 10 s), which
costs at most 2 % of the permitted rate and leaves the client's limiter itself unchanged.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

import httpx

from ghlsync.client import BucketKey, BudgetSnapshot, InMemoryLimiter

INTERVAL_HEADER = "x-ratelimit-interval-milliseconds"


class MarginLimiter:
    """``InMemoryLimiter`` whose window (configured and observed) is ``1 + margin`` longer."""

    def __init__(self, burst: int, interval: float, margin: float = 0.02) -> None:
        self.margin = margin
        self.inner = InMemoryLimiter(burst=burst, interval=interval * (1 + margin))

    async def acquire(self, key: BucketKey) -> None:
        await self.inner.acquire(key)

    def observe(self, key: BucketKey, headers: Mapping[str, str]) -> None:
        adjusted = httpx.Headers(headers)
        value = adjusted.get(INTERVAL_HEADER)
        if value is not None:
            with contextlib.suppress(ValueError):  # unreadable: the client ignores it too
                adjusted[INTERVAL_HEADER] = str(round(float(value) * (1 + self.margin)))
        self.inner.observe(key, adjusted)

    def snapshot(self, key: BucketKey) -> BudgetSnapshot | None:
        return self.inner.snapshot(key)

    def close(self) -> None:
        self.inner.close()

    def __repr__(self) -> str:
        return f"MarginLimiter({self.inner!r}, margin={self.margin})"
