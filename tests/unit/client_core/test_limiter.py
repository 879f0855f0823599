"""Rate budgets: pure window arithmetic, a fake clock instead of sleeping, persisted daily counts."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from pathlib import Path

import httpx
import pytest

from ghlsync.client import AsyncGHLClient, InMemoryLimiter, PrivateTokenAuth
from ghlsync.client.limiter import (
    BurstWindow,
    DailyBudget,
    DailyBudgetExhausted,
    DailyCountStore,
    day_of,
    next_utc_midnight,
    parse_rate_headers,
)
from ghlsync.errors import ConfigError, RateLimitError, RateLimitStateError

KEY_A = ("app:x", "location:A")
KEY_B = ("app:x", "location:B")


class FakeClock:
    """Monotonic and wall clocks plus a sleep that advances them (no real waiting)."""

    def __init__(self, wall: float = 1_760_000_000.0) -> None:
        self.now = 0.0
        self.wall0 = wall
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def wall(self) -> float:
        return self.wall0 + self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def limiter(clock: FakeClock, **kwargs: object) -> InMemoryLimiter:
    """A limiter on the fake clock, with no margin and no counts file unless asked."""
    kwargs.setdefault("daily_store", None)
    kwargs.setdefault("margin", 0.0)
    return InMemoryLimiter(clock=clock.clock, wall=clock.wall, sleep=clock.sleep, **kwargs)  # type: ignore[arg-type]


def test_burst_window_pure() -> None:
    window = BurstWindow(limit=3, interval=10.0)
    for t in (0.0, 1.0, 2.0):
        assert window.delay(t) == 0.0
        window.record(t)
    assert window.delay(2.0) == 8.0  # the call at t=0 leaves the window at t=10
    assert window.delay(10.0) == 0.0
    window.record(10.0)
    assert window.delay(10.5) == 0.5


def test_burst_window_follows_server_headers() -> None:
    window = BurstWindow(limit=100, interval=10.0)
    window.record(0.0)
    # another consumer of the same app used 49 more: the server says 50 remain
    window.correct(1.0, limit=100, interval=10.0, remaining=50)
    assert len(window.sent) == 50
    window.correct(1.0, limit=20, interval=2.0, remaining=None)
    assert window.limit == 20 and window.interval == 2.0
    assert window.delay(1.0) == pytest.approx(2.0)  # 30 of the 50 must leave first


def test_daily_budget_rolls_at_utc_midnight() -> None:
    start = dt.datetime(2026, 3, 1, 23, 59, tzinfo=dt.UTC).timestamp()
    budget = DailyBudget(limit=2)
    budget.record(start)
    budget.record(start)
    assert budget.exhausted(start)
    assert budget.reset_at == dt.datetime(2026, 3, 2, tzinfo=dt.UTC).timestamp()
    assert not budget.exhausted(start + 120)
    budget.correct(start + 120, limit=10, remaining=3)
    assert budget.used == 7 and budget.limit == 10


def test_parse_rate_headers() -> None:
    headers = httpx.Headers(
        {
            "X-RateLimit-Limit-Daily": "200000",
            "X-RateLimit-Daily-Remaining": "199990",
            "X-RateLimit-Interval-Milliseconds": "10000",
            "X-RateLimit-Max": "100",
            "X-RateLimit-Remaining": "bogus",
        }
    )
    assert parse_rate_headers(headers) == {
        "limit_daily": 200000,
        "daily_remaining": 199990,
        "interval_ms": 10000,
        "max": 100,
        "remaining": None,
    }


async def test_limiter_waits_instead_of_exceeding() -> None:
    clock = FakeClock()
    lim = limiter(clock, burst=100, interval=10.0)
    sent_at: list[float] = []
    for _ in range(250):
        await lim.acquire(KEY_A)
        sent_at.append(clock.now)
    # never more than 100 in any 10 s window
    for i in range(len(sent_at) - 100):
        assert sent_at[i + 100] - sent_at[i] >= 10.0
    assert sent_at[99] == 0.0 and sent_at[100] == 10.0 and sent_at[200] == 20.0
    assert clock.now == 20.0


async def test_a_waiting_bucket_does_not_block_another_location() -> None:
    clock = FakeClock()
    gate = asyncio.Event()
    waits: list[float] = []

    async def gated_sleep(seconds: float) -> None:
        waits.append(seconds)
        await gate.wait()  # time stands still until the test lets it pass
        clock.now += seconds

    lim = InMemoryLimiter(
        burst=2,
        interval=10.0,
        margin=0.0,
        daily_store=None,
        clock=clock.clock,
        wall=clock.wall,
        sleep=gated_sleep,
    )
    for _ in range(2):
        await lim.acquire(KEY_A)
    assert lim.delay(KEY_A) == 10.0
    waiting = asyncio.create_task(lim.acquire(KEY_A))
    await asyncio.sleep(0)
    assert waits == [10.0] and not waiting.done()
    await lim.acquire(KEY_B)  # B goes at once although A waits
    await lim.acquire(KEY_B)
    assert clock.now == 0.0 and not waiting.done()
    gate.set()
    await waiting
    assert clock.now == 10.0


async def test_headers_correct_the_bucket() -> None:
    clock = FakeClock()
    lim = limiter(clock, burst=100, interval=10.0)
    await lim.acquire(KEY_A)
    await lim.observe(
        KEY_A,
        {
            "X-RateLimit-Max": "100",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Interval-Milliseconds": "10000",
        },
    )
    await lim.acquire(KEY_A)
    assert clock.now == 10.0  # waited for the window instead of drawing a 429


async def test_daily_count_persists_across_runs_and_exhaustion_names_location(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ratelimit.sqlite3"
    clock = FakeClock()
    first = limiter(clock, daily=5, daily_store=path)
    for _ in range(3):
        await first.acquire(KEY_A)
    await first.aclose()

    second = limiter(clock, daily=5, daily_store=path)  # a new run, same day
    await second.acquire(KEY_A)
    await second.acquire(KEY_A)
    with pytest.raises(DailyBudgetExhausted) as caught:
        await second.acquire(KEY_A)
    assert caught.value.reset_at == dt.datetime.fromtimestamp(
        next_utc_midnight(clock.wall()), dt.UTC
    )
    await second.acquire(KEY_B)  # another location has its own budget
    await second.aclose()

    # through the client: a RateLimitError naming the location and the reset time, nothing sent
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={})

    third = limiter(clock, daily=5, daily_store=path)
    auth = PrivateTokenAuth("t", identity="app:x")
    async with AsyncGHLClient(auth, transport=httpx.MockTransport(handler), limiter=third) as c:
        with pytest.raises(RateLimitError) as error:
            await c.request("GET", "/contacts/c1", location_id="A")
    assert error.value.location == "A"
    assert error.value.reset_at is not None
    assert "location A" in str(error.value) and "resets at" in str(error.value)
    assert sent == []


def test_daily_store_sums_processes(tmp_path: Path) -> None:
    path = tmp_path / "rl.sqlite3"
    one, two = DailyCountStore(path), DailyCountStore(path)
    assert one.add(KEY_A, "2026-01-01", 3, floor=0, limit=10) == 3
    assert two.add(KEY_A, "2026-01-01", 4, floor=0, limit=10) == 7
    assert one.load(KEY_A, "2026-01-01") == (7, 10)
    assert one.load(KEY_A, "2026-01-02") == (0, 10)
    assert (path.stat().st_mode & 0o777) == 0o600
    one.close()
    two.close()


async def test_server_daily_headers_drive_exhaustion() -> None:
    clock = FakeClock()
    lim = limiter(clock, daily=200_000)
    await lim.acquire(KEY_A)
    await lim.observe(
        KEY_A, {"X-RateLimit-Limit-Daily": "200000", "X-RateLimit-Daily-Remaining": "0"}
    )
    with pytest.raises(DailyBudgetExhausted):
        await lim.acquire(KEY_A)


async def test_snapshot_reports_own_count_then_fresher_headers() -> None:
    from ghlsync.client import BudgetSnapshot, NoLimiter, location_key

    clock = FakeClock()
    lim = limiter(clock, burst=10, interval=10.0, daily=1_000)
    key = location_key("app:x", "A")
    assert key == KEY_A
    assert lim.snapshot(key) is None  # nothing known before the first call
    for _ in range(3):
        await lim.acquire(key)
    assert lim.snapshot(key) == BudgetSnapshot(
        remaining=7, burst=10, daily_remaining=997, daily_limit=1_000
    )
    # Another process spent more: the server says 2 left of 10/10 s and 50 left today.
    await lim.observe(
        key,
        {
            "X-RateLimit-Max": "10",
            "X-RateLimit-Remaining": "2",
            "X-RateLimit-Limit-Daily": "1000",
            "X-RateLimit-Daily-Remaining": "50",
        },
    )
    assert lim.snapshot(key) == BudgetSnapshot(2, 10, 50, 1_000)
    await lim.acquire(key)  # one more call of ours counts against the header's figure
    assert lim.snapshot(key) == BudgetSnapshot(1, 10, 49, 1_000)
    clock.now += 10.5  # the window has passed: the header is stale, the own count is empty
    snap = lim.snapshot(key)
    assert snap is not None and snap.remaining == 10 and snap.daily_remaining == 49
    assert NoLimiter().snapshot(key) is None


async def test_client_bucket_key_matches_the_limiter_key() -> None:
    from ghlsync.client import location_key

    seen: list[tuple[str, str]] = []

    class Recording(InMemoryLimiter):
        async def acquire(self, key: tuple[str, str]) -> None:
            seen.append(key)
            await super().acquire(key)

    lim = Recording(daily_store=None)
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={}))
    async with AsyncGHLClient("t", transport=transport, limiter=lim) as client:
        await client.request("GET", "/users/", location_id="L1")
        assert client.bucket_key("L1") == location_key("private", "L1") == seen[0]
        snap = lim.snapshot(client.bucket_key("L1"))
        assert snap is not None and snap.remaining == 99


async def test_counts_file_is_written_off_the_event_loop(tmp_path: Path) -> None:
    import threading

    threads: list[int] = []

    class Watched(DailyCountStore):
        def load(self, key: tuple[str, str], day: str) -> tuple[int, int | None]:
            threads.append(threading.get_ident())
            return super().load(key, day)

        def add_many(self, items: list[tuple[tuple[str, str], str, int, int, int]]) -> list[int]:
            threads.append(threading.get_ident())
            batches.append(len(items))
            return super().add_many(items)

    batches: list[int] = []
    clock = FakeClock()
    lim = limiter(clock, daily=100, daily_store=Watched(tmp_path / "rl.sqlite3"), flush_every=5)
    for _ in range(5):
        await lim.acquire(KEY_A)
        await lim.acquire(KEY_B)
    assert batches == []  # nothing due yet (the clock stands still)
    clock.now = 6.0
    await lim.acquire(KEY_A)  # due: both buckets in one transaction
    assert batches == [2]
    await lim.aclose()
    assert threads and threading.get_ident() not in threads  # never on the loop's thread
    # nothing lost: every call is in the file after close
    store = DailyCountStore(tmp_path / "rl.sqlite3")
    assert store.load(KEY_A, day_of(clock.wall())) == (6, 100)
    assert store.load(KEY_B, day_of(clock.wall())) == (5, 100)
    store.close()


async def test_concurrent_calls_during_a_flush_are_all_counted(tmp_path: Path) -> None:
    lim = InMemoryLimiter(daily_store=tmp_path / "rl.sqlite3", flush_every=0.0, margin=0.0)
    await asyncio.gather(*(lim.acquire(KEY_A) for _ in range(60)))
    await lim.aclose()
    used, _ = DailyCountStore(tmp_path / "rl.sqlite3").load(KEY_A, day_of(time.time()))
    assert used == 60


async def test_margin_lengthens_configured_and_observed_windows() -> None:
    clock = FakeClock()
    lim = limiter(clock, burst=2, interval=10.0, margin=0.02)
    for _ in range(3):
        await lim.acquire(KEY_A)
    assert clock.now == pytest.approx(10.2)  # the third call waited 10 s + 2 %
    await lim.observe(KEY_A, {"X-RateLimit-Interval-Milliseconds": "2000", "X-RateLimit-Max": "2"})
    assert lim._bucket(KEY_A).burst.interval == pytest.approx(2.04)
    assert InMemoryLimiter(daily_store=None).margin == 0.02  # on by default


def test_default_counts_file_is_under_ghlsync_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GHLSYNC_HOME", str(tmp_path / "home"))
    assert InMemoryLimiter().store_path == tmp_path / "home" / "ratelimit.sqlite3"
    client = AsyncGHLClient("t", transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    assert isinstance(client.limiter, InMemoryLimiter)
    assert client.limiter.store_path == tmp_path / "home" / "ratelimit.sqlite3"
    assert InMemoryLimiter(daily_store=None).store_path is None


def test_unwritable_counts_file_is_a_rate_limit_state_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(RateLimitStateError) as caught:
        DailyCountStore(blocker / "ratelimit.sqlite3")
    assert "GHLSYNC_HOME" in caught.value.hint and "token" not in caught.value.hint
    assert isinstance(caught.value, ConfigError)


SECOND_PROCESS = """
import asyncio, httpx, sys
from ghlsync.client import AsyncGHLClient
from ghlsync.errors import RateLimitError

sent = []
def answer(request):
    sent.append(request)
    return httpx.Response(200, json={})

async def main():
    async with AsyncGHLClient("t", transport=httpx.MockTransport(answer)) as client:
        try:
            await client.request("GET", "/users/", location_id="locA")
        except RateLimitError as error:
            print("refused", len(sent), error.location, error.reset_at.isoformat(), str(error))
            return
        print("sent", len(sent))

asyncio.run(main())
"""


async def test_a_second_process_sees_the_first_ones_daily_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess
    import sys

    monkeypatch.setenv("GHLSYNC_HOME", str(tmp_path / "home"))
    left = iter(range(2, -1, -1))

    def answer(request: httpx.Request) -> httpx.Response:
        headers = {"X-RateLimit-Limit-Daily": "3", "X-RateLimit-Daily-Remaining": str(next(left))}
        return httpx.Response(200, json={}, headers=headers)

    # first run: the server says the day's 3 calls are spent; the default limiter keeps it
    async with AsyncGHLClient("t", transport=httpx.MockTransport(answer)) as client:
        for _ in range(3):
            await client.request("GET", "/users/", location_id="locA")
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", SECOND_PROCESS],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    words = done.stdout.split()
    assert words[:3] == ["refused", "0", "locA"], done.stdout  # nothing was sent
    reset = dt.datetime.fromisoformat(words[3])
    assert reset == dt.datetime.fromtimestamp(next_utc_midnight(time.time()), dt.UTC)
    assert "location locA" in done.stdout and "resets at" in done.stdout


def test_an_answered_call_holds_its_slot_from_the_answer() -> None:
    window = BurstWindow(limit=2, interval=10.0)
    window.record(0.0)
    window.record(0.0)
    window.answered(0.4)  # the server may have stamped it as late as 0.4
    assert window.delay(1.0) == pytest.approx(9.0)  # the unanswered one frees first, at 10
    window.answered(0.6)
    assert window.delay(1.0) == pytest.approx(9.4)
    window.answered(0.7)  # nothing in flight: no change
    assert list(window.sent) == [0.4, 0.6]
