"""Rate budgets as pure arithmetic: buckets, burst windows, daily budgets, the answer headers.

Everything here is a function of its inputs (``now`` is an argument): tested without sleeping.
``ghlsync.client.limiter`` wires it to a clock; ``ghlsync.client.daily_store`` persists the daily
counts.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx

#: (rate-limit owner such as the app id, resource such as ``location:abc``)
BucketKey = tuple[str, str]

DEFAULT_BURST = 100
DEFAULT_INTERVAL = 10.0
DEFAULT_DAILY = 200_000

H_LIMIT_DAILY = "x-ratelimit-limit-daily"
H_DAILY_REMAINING = "x-ratelimit-daily-remaining"
H_INTERVAL_MS = "x-ratelimit-interval-milliseconds"
H_MAX = "x-ratelimit-max"
H_REMAINING = "x-ratelimit-remaining"


def location_key(owner: str, location_id: str) -> BucketKey:
    """The bucket of ``location_id`` for the rate-limit owner ``owner`` (the client's
    ``auth.identity``, e.g. ``"private"`` or the OAuth app id): ``(owner, "location:<id>")``.

    ``AsyncGHLClient.bucket_key(location_id)`` builds the same key with the client's owner.
    """
    return (owner, f"location:{location_id}")


@dataclass(frozen=True)
class BudgetSnapshot:
    """What a limiter last knew of one bucket's budget, for progress displays.

    ``remaining`` calls are left in the current burst window of ``burst`` calls;
    ``daily_remaining`` of ``daily_limit`` today. Values come from the last ``X-RateLimit-*``
    headers when they are fresher than the limiter's own count, else from that count.
    """

    remaining: int
    burst: int
    daily_remaining: int
    daily_limit: int


class DailyBudgetExhausted(Exception):
    """Raised by ``Limiter.acquire`` when a bucket's daily budget is spent.

    The client turns it into ``RateLimitError`` naming the location and the reset time.
    """

    def __init__(self, key: BucketKey, reset_at: dt.datetime, limit: int) -> None:
        self.key = key
        self.reset_at = reset_at
        self.limit = limit
        super().__init__(f"daily budget of {limit} calls spent for {key[1]}")


# -- pure budget arithmetic ---------------------------------------------------------------------


@dataclass
class BurstWindow:
    """A sliding window: at most ``limit`` calls in any ``interval`` seconds."""

    limit: int = DEFAULT_BURST
    interval: float = DEFAULT_INTERVAL
    sent: deque[float] = field(default_factory=deque)
    #: send stamps of calls not answered yet (oldest first)
    in_flight: deque[float] = field(default_factory=deque)

    def _expire(self, now: float) -> None:
        horizon = now - self.interval
        while self.sent and self.sent[0] <= horizon:
            self.sent.popleft()
        while self.in_flight and self.in_flight[0] <= horizon:
            self.in_flight.popleft()  # unanswered for a whole window (failed): nothing to restamp

    def delay(self, now: float) -> float:
        """Seconds until one more call fits (0 when it fits now)."""
        self._expire(now)
        if len(self.sent) < self.limit:
            return 0.0
        # The call that frees a slot is the ``len - limit + 1``-th oldest.
        index = len(self.sent) - self.limit
        return max(0.0, self.sent[index] + self.interval - now)

    def record(self, now: float) -> None:
        """A call is sent at ``now``: it holds a slot, stamped ``now`` until it is answered."""
        self.sent.append(now)
        self.in_flight.append(now)

    def answered(self, now: float) -> None:
        """One call in flight got its answer at ``now``. HighLevel stamped it on arrival,
        somewhere between our send stamp and ``now``; restamping it ``now`` means a slot is
        reused only a full window after the server can have counted it (a first call over a
        fresh connection can arrive 100 ms after it was stamped)."""
        self._expire(now)
        if not self.in_flight:
            return
        stamp = self.in_flight.popleft()
        try:
            self.sent.remove(stamp)
        except ValueError:
            return
        self.sent.append(now)

    def correct(
        self, now: float, *, limit: int | None, interval: float | None, remaining: int | None
    ) -> None:
        """Adopt the server's limit/interval; if it counts more calls than we sent (another
        process shares the bucket), add the difference as calls made now."""
        if limit is not None and limit > 0:
            self.limit = limit
        if interval is not None and interval > 0:
            self.interval = interval
        self._expire(now)
        if remaining is not None:
            used_by_server = self.limit - max(0, remaining)
            missing = used_by_server - len(self.sent)
            for _ in range(max(0, missing)):
                self.sent.append(now)


def next_utc_midnight(now: float) -> float:
    """Default daily reset: 00:00 UTC after ``now`` (HighLevel does not document it)."""
    day = dt.datetime.fromtimestamp(now, dt.UTC).date() + dt.timedelta(days=1)
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp()


def day_of(now: float) -> str:
    return dt.datetime.fromtimestamp(now, dt.UTC).date().isoformat()


@dataclass
class DailyBudget:
    """Calls spent today against ``limit``; the day rolls over at ``reset_at`` (wall clock)."""

    limit: int = DEFAULT_DAILY
    used: int = 0
    day: str = ""
    reset_at: float = 0.0

    def roll(self, now: float) -> None:
        if not self.day or now >= self.reset_at:
            self.day = day_of(now)
            self.reset_at = next_utc_midnight(now)
            self.used = 0

    def exhausted(self, now: float) -> bool:
        self.roll(now)
        return self.used >= self.limit

    def record(self, now: float) -> None:
        self.roll(now)
        self.used += 1

    def correct(self, now: float, *, limit: int | None, remaining: int | None) -> None:
        self.roll(now)
        if limit is not None and limit > 0:
            self.limit = limit
        if remaining is not None:
            self.used = max(self.used, self.limit - max(0, remaining))


def parse_rate_headers(headers: Mapping[str, str]) -> dict[str, int | None]:
    """HighLevel's five headers as integers (``None`` when absent or unreadable)."""
    if not isinstance(headers, httpx.Headers):
        headers = {name.lower(): value for name, value in headers.items()}

    def number(name: str) -> int | None:
        value = headers.get(name)
        if value is None:
            return None
        try:
            return int(float(value))
        except ValueError:
            return None

    return {
        "limit_daily": number(H_LIMIT_DAILY),
        "daily_remaining": number(H_DAILY_REMAINING),
        "interval_ms": number(H_INTERVAL_MS),
        "max": number(H_MAX),
        "remaining": number(H_REMAINING),
    }


# -- persistence of the daily count ------------------------------------------------------------
