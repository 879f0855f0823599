"""Riding out an outage (issue 11, item 4): calls that get no answer are retried for the
policy's window, on a fake clock (no sleeping), and the wait is said once, not per attempt."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from ghlsync.client import AsyncGHLClient, RetryPolicy
from ghlsync.client.outage import OutageWatch
from ghlsync.errors import NetworkFailureError
from tests.unit.client_core.conftest import Script, fail, reply

POLICY = RetryPolicy(max_attempts=5, base_delay=0.5, outage_window_s=300.0)


class Clock:
    """A clock that only moves when the client sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)  # let the other calls run, as a real wait would


def _client(script: Script, clock: Clock, watch: OutageWatch) -> AsyncGHLClient:
    return AsyncGHLClient(
        "pit-x",
        transport=script.transport,
        limiter=None,
        retry=POLICY,
        sleep=clock.sleep,
        clock=clock,
        outage=watch,
    )


def _watch(lines: list[str], clock: Clock) -> OutageWatch:
    """A watch of a run in which HighLevel has answered already (the window applies)."""
    watch = OutageWatch(lines.append, clock=clock)
    watch.answered("https://earlier")  # no outage yet: says nothing
    return watch


async def test_a_long_outage_is_ridden_out_with_one_line() -> None:
    clock, lines = Clock(), []
    watch = _watch(lines, clock)
    script = Script([fail(httpx.ConnectError)] * 40 + [reply(200, {"users": []})])
    async with _client(script, clock, watch) as client:
        assert await client.request("GET", "/users/", location_id="L1") == {"users": []}
    assert len(script.requests) == 41  # far past max_attempts (5)
    assert 0 < sum(clock.waits) < POLICY.outage_window_s
    assert max(clock.waits) <= POLICY.outage_poll_s
    assert len(lines) == 2, lines
    assert (
        lines[0].startswith("waiting for HighLevel at https://")
        and "ConnectError on GET" in lines[0]
    )
    assert "retrying for up to 300 s" in lines[0]
    assert lines[1].startswith("HighLevel at https://") and "answers again after" in lines[1]


async def test_the_run_gives_up_when_the_window_is_over() -> None:
    clock, lines = Clock(), []
    watch = _watch(lines, clock)
    script = Script([fail(httpx.ConnectError)])
    async with _client(script, clock, watch) as client:
        with pytest.raises(NetworkFailureError):
            await client.request("GET", "/users/", location_id="L1")
    waited = clock.now - 1000.0
    assert POLICY.outage_window_s <= waited < POLICY.outage_window_s + POLICY.outage_poll_s
    assert len(lines) == 1 and watch.waiting_since is not None


async def test_clients_sharing_a_watch_say_it_once() -> None:
    clock, lines = Clock(), []
    watch = _watch(lines, clock)
    back_at = clock.now + 40.0  # the server is down for 40 s of the fake clock

    def answer(request: httpx.Request) -> httpx.Response:
        if clock.now < back_at:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, json={})

    scripts = [Script([answer]) for _ in range(4)]
    clients = [_client(script, clock, watch) for script in scripts]
    await asyncio.gather(*(c.request("GET", "/users/", location_id="L1") for c in clients))
    for client in clients:
        await client.aclose()
    assert all(len(script.requests) >= 3 for script in scripts), [len(s.requests) for s in scripts]
    assert [line.split(" ", 1)[0] for line in lines] == ["waiting", "HighLevel"], lines


async def test_a_lone_failure_is_retried_silently() -> None:
    clock, lines = Clock(), []
    watch = OutageWatch(lines.append, clock=clock)
    script = Script([fail(httpx.ReadTimeout), reply(200, {})])
    async with _client(script, clock, watch) as client:
        await client.request("GET", "/users/", location_id="L1")
    assert len(script.requests) == 2 and lines == []


async def test_a_base_url_that_never_answered_fails_after_the_normal_attempts() -> None:
    """No answer yet in this run (a typo'd base URL, nothing listening): no outage window,
    the client's attempts only, and the error names the URL (issue 15 item 4)."""
    clock, lines = Clock(), []
    watch = OutageWatch(lines.append, clock=clock)
    script = Script([fail(httpx.ConnectError)])
    async with _client(script, clock, watch) as client:
        with pytest.raises(NetworkFailureError) as raised:
            await client.request("GET", "/users/", location_id="L1")
    assert len(script.requests) == POLICY.max_attempts
    assert clock.now - 1000.0 < 60
    assert "could not connect to https://" in str(raised.value)
    assert len(lines) == 1 and f"retrying up to {POLICY.max_attempts} times" in lines[0]
