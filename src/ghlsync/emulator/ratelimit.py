"""HighLevel-like rate limits: a burst window and a daily cap per app per location.

The burst window is *sliding*: a request at time ``t`` is admitted when fewer than
``max_requests`` admitted requests of the same bucket fall in ``(t - window, t]`` (with 1 ms of
tolerance for clock rounding). A client
that paces itself exactly at the limit (``max_requests`` per window, evenly or in bursts one
window apart) is never refused; HighLevel's window behaves as a rolling one too. Refused
requests do not consume budget. The daily cap counts admitted requests per UTC day.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from ghlsync.emulator.settings import RateLimit

UNLIMITED = 1_000_000_000
TOLERANCE_S = 0.001


@dataclass
class Bucket:
    stamps: deque[float] = field(default_factory=deque)
    day: int = -1
    day_count: int = 0


@dataclass
class Decision:
    allowed: bool
    headers: dict[str, str]
    retry_after_s: float = 0.0
    reason: str = ""


class RateLimiter:
    """Pure bookkeeping: ``check(key, now, wall)`` decides and returns the five headers."""

    def __init__(self, burst: RateLimit | None, daily: int | None) -> None:
        self.burst = burst
        self.daily = daily
        self.buckets: dict[tuple[str, str], Bucket] = {}

    def configure(self, burst: RateLimit | None, daily: int | None) -> None:
        self.burst = burst
        self.daily = daily

    def reset(self) -> None:
        self.buckets.clear()

    def check(self, key: tuple[str, str], now: float, wall: float) -> Decision:
        """Admit or refuse one request of bucket ``key`` at monotonic ``now`` (seconds)."""
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = Bucket()
        day = int(wall // 86_400)
        if bucket.day != day:
            bucket.day, bucket.day_count = day, 0
        window_s = (self.burst.window_ms if self.burst else 10_000) / 1000
        # with limits off the headers still appear, with a notional limit no client reaches
        max_requests = self.burst.max_requests if self.burst else UNLIMITED
        daily = self.daily if self.daily is not None else UNLIMITED
        # a millisecond of tolerance absorbs clock rounding for a client pacing exactly
        while bucket.stamps and bucket.stamps[0] <= now - window_s + TOLERANCE_S:
            bucket.stamps.popleft()
        allowed, reason, retry_after = True, "", 0.0
        if self.daily is not None and bucket.day_count >= self.daily:
            allowed, reason = False, "daily"
            retry_after = (day + 1) * 86_400 - wall
        elif self.burst is not None and len(bucket.stamps) >= max_requests:
            allowed, reason = False, "burst"
            retry_after = bucket.stamps[0] + window_s - now
        if allowed:
            bucket.stamps.append(now)
            bucket.day_count += 1
        headers = {
            "X-RateLimit-Limit-Daily": str(daily),
            "X-RateLimit-Daily-Remaining": str(max(daily - bucket.day_count, 0)),
            "X-RateLimit-Interval-Milliseconds": str(
                self.burst.window_ms if self.burst else 10_000
            ),
            "X-RateLimit-Max": str(max_requests),
            "X-RateLimit-Remaining": str(max(max_requests - len(bucket.stamps), 0)),
        }
        return Decision(allowed, headers, max(retry_after, 0.0), reason)

    @staticmethod
    def retry_after_header(seconds: float) -> str:
        return str(max(1, math.ceil(seconds)))
