"""Rate limits (pure and through the app) and seeded faults."""

from __future__ import annotations

import httpx
import pytest

from ghlsync.emulator import EmulatorSettings, SeedOptions
from ghlsync.emulator.faults import FaultInjector
from ghlsync.emulator.ratelimit import RateLimiter
from ghlsync.emulator.settings import Fault, RateLimit, parse_faults, parse_rate_limit
from tests.unit.emulator.conftest import make_emu

HEADERS = (
    "x-ratelimit-limit-daily",
    "x-ratelimit-daily-remaining",
    "x-ratelimit-interval-milliseconds",
    "x-ratelimit-max",
    "x-ratelimit-remaining",
)


def test_parsers() -> None:
    assert parse_rate_limit("100/10s") == RateLimit(100, 10_000)
    assert parse_rate_limit("5/500ms") == RateLimit(5, 500)
    assert parse_rate_limit("off") is None
    assert parse_faults("429:0.05,500:0.02,timeout:0.01,reset:0.01,slow:0.05@2s") == [
        Fault("429", 0.05),
        Fault("500", 0.02),
        Fault("timeout", 0.01),
        Fault("reset", 0.01),
        Fault("slow", 0.05, 2.0),
    ]
    with pytest.raises(ValueError):
        parse_faults("boom:0.1")
    with pytest.raises(ValueError):
        parse_faults("500:0.8,429:0.5")


def test_a_client_pacing_exactly_at_the_limit_is_never_refused() -> None:
    limiter = RateLimiter(RateLimit(100, 10_000), None)
    key = ("app", "loc")
    # evenly: one request every 100 ms for a minute
    for i in range(600):
        assert limiter.check(key, i * 0.1, 0).allowed
    # bursts of 100 exactly one window apart
    limiter.reset()
    for burst in range(5):
        for _ in range(100):
            assert limiter.check(key, burst * 10.0, 0).allowed
    assert not limiter.check(key, 40.0, 0).allowed


def test_sliding_window_and_daily_cap() -> None:
    limiter = RateLimiter(RateLimit(3, 1_000), 5)
    key = ("app", "loc")
    assert [limiter.check(key, 0.0, 0).allowed for _ in range(4)] == [True, True, True, False]
    refused = limiter.check(key, 0.5, 0)
    assert not refused.allowed and refused.retry_after_s == pytest.approx(0.5)
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert limiter.check(key, 1.0, 0).allowed  # the first three left the window
    assert limiter.check(key, 1.0, 0).allowed
    daily = limiter.check(key, 1.0, 0)
    assert not daily.allowed and daily.reason == "daily"
    assert daily.headers["X-RateLimit-Daily-Remaining"] == "0"
    assert limiter.check(key, 5.0, 86_400).allowed  # a new UTC day
    assert limiter.check(("app", "other-location"), 1.0, 0).allowed  # buckets do not pool


async def test_every_response_carries_the_headers_and_429_beyond() -> None:
    emu = await make_emu(
        settings=EmulatorSettings(rate_limit=RateLimit(5, 10_000), daily_limit=1000)
    )
    async with emu.client:
        statuses = []
        for _ in range(6):
            response = await emu.client.get(f"/locations/{emu.loc()}", headers=emu.headers())
            statuses.append(response.status_code)
            assert all(name in response.headers for name in HEADERS)
        assert statuses == [200] * 5 + [429]
        assert response.headers["x-ratelimit-max"] == "5"
        assert response.headers["x-ratelimit-interval-milliseconds"] == "10000"
        assert response.headers["x-ratelimit-limit-daily"] == "1000"
        assert int(response.headers["retry-after"]) >= 1
        assert response.json()["statusCode"] == 429
        # another location's bucket is untouched; errors carry the headers too
        other = await emu.client.get(f"/locations/{emu.loc(1)}", headers=emu.headers(1))
        assert other.status_code == 200 and other.headers["x-ratelimit-remaining"] == "4"
        missing = await emu.client.get("/nowhere", headers=emu.headers(1))
        assert missing.status_code == 404 and "x-ratelimit-remaining" in missing.headers
        # the window slides: after 10 s the bucket is free again
        await emu.client.post("/_emulator/clock/advance", json={"seconds": 10})
        again = await emu.client.get(f"/locations/{emu.loc()}", headers=emu.headers())
        assert again.status_code == 200


async def _statuses(seed: int, count: int) -> list[int]:
    emu = await make_emu(
        SeedOptions(locations=1, contacts=5, seed=seed),
        EmulatorSettings(seed=seed, rate_limit=None, faults=parse_faults("429:0.2,500:0.2")),
    )
    async with emu.client:
        return [
            (await emu.client.get(f"/locations/{emu.loc()}", headers=emu.headers())).status_code
            for _ in range(count)
        ]


async def test_faults_replay_with_the_same_seed() -> None:
    first = await _statuses(7, 60)
    assert first == await _statuses(7, 60)
    assert {200, 429, 500} <= set(first)
    assert first != await _statuses(8, 60)


async def test_faults_at_runtime_reset_and_slow() -> None:
    emu = await make_emu()
    async with emu.client:
        path = f"/locations/{emu.loc()}"
        set_ = await emu.client.put("/_emulator/faults", json={"faults": "500:1", "seed": 1})
        assert set_.json()["faults"] == "500:1"
        assert (await emu.client.get(path, headers=emu.headers())).status_code == 500
        await emu.client.put("/_emulator/faults", json={"faults": "reset:1"})
        with pytest.raises(httpx.RemoteProtocolError, match="connection reset"):
            await emu.client.get(path, headers=emu.headers())
        await emu.client.put("/_emulator/faults", json={"faults": "slow:1@0.05s"})
        assert (await emu.client.get(path, headers=emu.headers())).status_code == 200
        await emu.client.put("/_emulator/faults", json={"faults": ""})
        counts = (await emu.client.get("/_emulator/counts")).json()
        assert counts["faults"] == {"500": 1, "reset": 1, "slow": 1}
        # admin calls are never faulted or counted
        assert all(not op.startswith("PUT /_emulator") for op in counts["operations"])


def test_fault_injector_distribution() -> None:
    injector = FaultInjector([Fault("500", 0.1), Fault("slow", 0.1, 1.0)], seed=3)
    drawn = [injector.draw() for _ in range(10_000)]
    hits = sum(1 for fault in drawn if fault is not None)
    assert 1_700 < hits < 2_300


async def test_timeout_fault_hangs_then_answers_504() -> None:
    emu = await make_emu(settings=EmulatorSettings(rate_limit=None, timeout_fault_seconds=0.05))
    async with emu.client:
        await emu.client.put("/_emulator/faults", json={"faults": "timeout:1"})
        response = await emu.client.get(f"/locations/{emu.loc()}", headers=emu.headers())
        assert response.status_code == 504


def test_httpx_is_the_test_client() -> None:
    assert httpx.__version__


async def test_tokens_of_one_app_share_a_bucket_per_location() -> None:
    emu = await make_emu(settings=EmulatorSettings(rate_limit=RateLimit(50, 10_000)))
    async with emu.client:
        tokens = []
        for _ in range(2):
            response = await emu.client.post(
                "/oauth/locationToken",
                data={"companyId": emu.state.company_id, "locationId": emu.loc()},
                headers=emu.agency,
            )
            tokens.append(response.json()["access_token"])
        path = f"/locations/{emu.loc()}"
        first = await emu.client.get(path, headers=emu.token_headers(tokens[0]))
        second = await emu.client.get(path, headers=emu.token_headers(tokens[1]))
        assert int(second.headers["x-ratelimit-remaining"]) == (
            int(first.headers["x-ratelimit-remaining"]) - 1
        )
        # the Private Integration token is another app: its own bucket
        own = await emu.client.get(path, headers=emu.headers())
        assert own.headers["x-ratelimit-remaining"] == "49"
