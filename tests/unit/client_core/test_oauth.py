"""OAuth: code exchange, rotation persisted before use, reactive/proactive refresh, location
tokens, installed locations; against the fake single-use-refresh server."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest

from ghlsync.client import AsyncGHLClient
from ghlsync.client.oauth import OAuthAuth
from ghlsync.client.token_store import TokenRecord, TokenStore
from ghlsync.errors import AuthError, ConfigError
from tests.unit.client_core.fake_oauth import (
    AUTH_CODE,
    CLIENT_ID,
    CLIENT_SECRET,
    COMPANY,
    FakeOAuthServer,
)


class Recorder:
    """Wraps the fake server and keeps every request it saw, in order."""

    def __init__(self, server: FakeOAuthServer, store_path: Path) -> None:
        self.server = server
        self.store_path = store_path
        self.requests: list[httpx.Request] = []
        self.stored_refresh_at_use: list[str | None] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        if not request.url.path.startswith("/oauth/"):
            # what the store holds at the moment a new access token is used
            with_store = TokenStore(self.store_path)
            row = with_store.find("oauth")
            with_store.close()
            self.stored_refresh_at_use.append(row.refresh_token if row else None)
        return self.server(request)

    def refresh_tokens_sent(self) -> list[str]:
        sent = []
        for request in self.requests:
            if request.url.path == "/oauth/token":
                form = parse_qs(request.content.decode())
                if form.get("grant_type") == ["refresh_token"]:
                    sent.append(form["refresh_token"][0])
        return sent


@pytest.fixture
def server(tmp_path: Path) -> FakeOAuthServer:
    return FakeOAuthServer(tmp_path / "server.sqlite3", installed=250)


@pytest.fixture
def store(tmp_path: Path) -> TokenStore:
    store = TokenStore(tmp_path / "home" / "tokens.sqlite3")
    yield store  # type: ignore[misc]
    store.close()


def make_client(
    recorder: Recorder, store: TokenStore, **options: object
) -> tuple[AsyncGHLClient, OAuthAuth]:
    auth = OAuthAuth(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        store=store,
        **options,  # type: ignore[arg-type]
    )
    client = AsyncGHLClient(auth, transport=httpx.MockTransport(recorder), limiter=None)
    return client, auth


def seed_store(
    store: TokenStore,
    access: str,
    refresh: str,
    *,
    expires_in: float = 80_000,
    user_type: str = "Location",
    location: str | None = "L1",
) -> None:
    store.put(
        TokenRecord(
            kind="oauth",
            company_id=COMPANY,
            location_id=location,
            access_token=access,
            refresh_token=refresh,
            expires_at=time.time() + expires_in,
            scopes="contacts.readonly",
            user_type=user_type,
            updated_at=time.time(),
        )
    )


async def test_expired_401_refreshes_once_rotation_persisted_before_use(
    server: FakeOAuthServer, store: TokenStore
) -> None:
    access, refresh = server.seed()
    seed_store(store, access, refresh)
    recorder = Recorder(server, store.path)
    client, _ = make_client(recorder, store)
    async with client:
        server.expire_access_tokens()
        assert await client.request("GET", "/contacts/c1", location_id="L1") == {
            "ok": True,
            "location": "L1",
        }
        server.expire_access_tokens()
        await client.request("GET", "/contacts/c2", location_id="L1")
    calls = [(r.method, r.url.path) for r in recorder.requests]
    assert calls == [
        ("GET", "/contacts/c1"),
        ("POST", "/oauth/token"),
        ("GET", "/contacts/c1"),
        ("GET", "/contacts/c2"),
        ("POST", "/oauth/token"),
        ("GET", "/contacts/c2"),
    ]
    sent = recorder.refresh_tokens_sent()
    assert sent[0] == refresh and len(set(sent)) == 2  # the old refresh token never reused
    assert server.dead_uses == 0
    row = store.find("oauth", location_id="L1")
    assert row is not None and row.refresh_token in server.live_refresh_tokens()
    # each retried GET ran with the rotated refresh token already in the store
    stored = recorder.stored_refresh_at_use
    assert stored[1] != refresh and stored[1] not in (None, stored[0])
    assert stored[3] == row.refresh_token
    assert (
        recorder.requests[2].headers["authorization"]
        != recorder.requests[0].headers["authorization"]
    )


async def test_only_one_reactive_refresh_per_call(
    server: FakeOAuthServer, store: TokenStore
) -> None:
    access, refresh = server.seed()
    seed_store(store, access, refresh)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return server(request)
        return httpx.Response(401, json={"message": "Invalid JWT"})  # even the new token

    recorder = Recorder(server, store.path)
    recorder.server = handler  # type: ignore[assignment]
    client, _ = make_client(recorder, store)
    async with client:
        with pytest.raises(AuthError) as caught:
            await client.request("GET", "/contacts/c1", location_id="L1")
    assert caught.value.reason == "expired"
    assert [r.url.path for r in recorder.requests] == [
        "/contacts/c1",
        "/oauth/token",
        "/contacts/c1",
    ]


async def test_proactive_refresh_ahead_of_expiry(
    server: FakeOAuthServer, store: TokenStore
) -> None:
    access, refresh = server.seed()
    seed_store(store, access, refresh, expires_in=60)  # inside the 300 s skew
    recorder = Recorder(server, store.path)
    client, _ = make_client(recorder, store)
    async with client:
        await client.request("GET", "/contacts/c1", location_id="L1")
        await client.request("GET", "/contacts/c2", location_id="L1")
    assert [r.url.path for r in recorder.requests] == [
        "/oauth/token",
        "/contacts/c1",
        "/contacts/c2",
    ]


async def test_scope_401_is_not_refreshed(server: FakeOAuthServer, store: TokenStore) -> None:
    access, refresh = server.seed()
    seed_store(store, access, refresh)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return server(request)
        return httpx.Response(401, json={"message": "The token is not authorized for this scope."})

    recorder = Recorder(server, store.path)
    recorder.server = handler  # type: ignore[assignment]
    client, _ = make_client(recorder, store)
    async with client:
        with pytest.raises(AuthError) as caught:
            await client.request("GET", "/contacts/c1", location_id="L1")
    assert caught.value.reason == "scope"
    assert [r.url.path for r in recorder.requests] == ["/contacts/c1"]


async def test_dead_refresh_token_is_an_auth_error(
    server: FakeOAuthServer, store: TokenStore
) -> None:
    seed_store(store, "SECRET-at-unknown", "SECRET-rt-unknown", expires_in=10)
    client, _ = make_client(Recorder(server, store.path), store)
    async with client:
        with pytest.raises(AuthError, match="Invalid refresh token") as caught:
            await client.request("GET", "/contacts/c1", location_id="L1")
    assert "re-authorise" in caught.value.hint


async def test_exchange_code_stores_the_tokens(server: FakeOAuthServer, store: TokenStore) -> None:
    recorder = Recorder(server, store.path)
    client, auth = make_client(recorder, store)
    async with client:
        record = await auth.exchange_code(
            AUTH_CODE, user_type="Company", redirect_uri="http://localhost/cb"
        )
        assert record.company_id == COMPANY and record.location_id is None
        assert await client.request("GET", "/locations/search", company_id=COMPANY)
    form = parse_qs(recorder.requests[0].content.decode())
    assert form["grant_type"] == ["authorization_code"] and form["user_type"] == ["Company"]
    assert form["redirect_uri"] == ["http://localhost/cb"]
    stored = store.find("oauth", company_id=COMPANY, location_id="")
    assert stored is not None and stored.refresh_token == record.refresh_token


async def test_agency_token_mints_location_tokens_cached_per_location(
    server: FakeOAuthServer, store: TokenStore
) -> None:
    access, refresh = server.seed(user_type="Company", location="")
    seed_store(store, access, refresh, user_type="Company", location=None)
    recorder = Recorder(server, store.path)
    client, _ = make_client(recorder, store, company_id=COMPANY)
    async with client:
        await client.request("GET", "/contacts/a", location_id="L7")
        await client.request("GET", "/contacts/b", location_id="L7")
        await client.request("GET", "/contacts/c", location_id="L8")
    paths = [r.url.path for r in recorder.requests]
    assert paths == [
        "/oauth/locationToken",
        "/contacts/a",
        "/contacts/b",
        "/oauth/locationToken",
        "/contacts/c",
    ]
    mint = recorder.requests[0]
    assert mint.headers["authorization"] == f"Bearer {access}"
    assert parse_qs(mint.content.decode()) == {"companyId": [COMPANY], "locationId": ["L7"]}
    assert mint.headers["version"] == "2021-07-28"
    location_row = store.get("location", company_id=COMPANY, location_id="L7")
    assert location_row is not None and location_row.expires_at is not None
    # a new client (a new run) reuses the stored location token without minting again
    recorder2 = Recorder(server, store.path)
    client2, _ = make_client(recorder2, store, company_id=COMPANY)
    async with client2:
        await client2.request("GET", "/contacts/d", location_id="L7")
    assert [r.url.path for r in recorder2.requests] == ["/contacts/d"]


async def test_expired_location_token_is_minted_again(
    server: FakeOAuthServer, store: TokenStore
) -> None:
    access, refresh = server.seed(user_type="Company", location="")
    seed_store(store, access, refresh, user_type="Company", location=None)
    recorder = Recorder(server, store.path)
    client, _ = make_client(recorder, store)  # the company is found in the store
    async with client:
        await client.request("GET", "/contacts/a", location_id="L7")
        # the server forgets the location token (as if expired) but the agency token still works
        location_row = store.get("location", company_id=COMPANY, location_id="L7")
        assert location_row is not None
        db = server._db()
        db.execute("UPDATE access SET expires = 0 WHERE kind = 'location'")
        db.close()
        await client.request("GET", "/contacts/b", location_id="L7")
    paths = [r.url.path for r in recorder.requests]
    assert paths == [
        "/oauth/locationToken",
        "/contacts/a",
        "/contacts/b",
        "/oauth/locationToken",
        "/contacts/b",
    ]


async def test_installed_locations_pages_by_skip_and_limit(
    server: FakeOAuthServer, store: TokenStore
) -> None:
    access, refresh = server.seed(user_type="Company", location="")
    seed_store(store, access, refresh, user_type="Company", location=None)
    recorder = Recorder(server, store.path)
    client, auth = make_client(recorder, store, company_id=COMPANY, app_id="app123")
    async with client:
        ids = [i async for i in auth.installed_locations()]
    assert len(ids) == 250 and ids[0] == "loc0000" and len(set(ids)) == 250
    params = [dict(r.url.params) for r in recorder.requests]
    assert [p["skip"] for p in params] == ["0", "100", "200"]
    assert all(p["companyId"] == COMPANY and p["appId"] == "app123" for p in params)


async def test_no_token_for_a_location_is_a_config_error(store: TokenStore) -> None:
    client, _ = make_client(Recorder(FakeOAuthServer.__new__(FakeOAuthServer), store.path), store)
    async with client:
        with pytest.raises(ConfigError):
            await client.request("GET", "/contacts/a", location_id="L1")


async def test_installed_locations_use_the_resource_paginator_and_its_loop_check() -> None:
    from ghlsync.client import installed_location_ids
    from ghlsync.client.pagination import PaginationLoopError
    from ghlsync.client.resources.locations import LocationsResource
    from tests.unit.resources.fakes import Call, RecordingRequester

    ids = [f"loc{i}" for i in range(5)]

    def paged(call: Call) -> object:
        params = call.params or {}
        skip, limit = int(params["skip"]), int(params["limit"])
        return {"locations": [{"_id": i} for i in ids[skip : skip + limit]], "count": len(ids)}

    shared = RecordingRequester(paged)
    found = [i async for i in installed_location_ids(shared, "co1", "app1", page_size=2)]
    assert found == ids
    direct = RecordingRequester(paged)
    stream = LocationsResource(direct).iterate_installed("co1", "app1", page_size=2)
    assert [r["_id"] async for r in stream] == ids
    assert shared.calls == direct.calls  # the same requests: one paginator

    def ignores_skip(call: Call) -> object:
        return {"locations": [{"_id": i} for i in ids[:2]]}  # full pages, no count

    with pytest.raises(PaginationLoopError):
        async for _ in installed_location_ids(
            RecordingRequester(ignores_skip), "co1", "app1", page_size=2
        ):
            pass


async def test_refresh_inside_the_store_lock_is_bounded(
    server: FakeOAuthServer, store: TokenStore
) -> None:
    """A refresh answered 429 with a long Retry-After is tried twice with a short wait, not
    five times with long ones: the store's write lock is held only briefly and then freed."""
    from ghlsync.errors import RateLimitError

    access, refresh = server.seed()
    seed_store(store, access, refresh, expires_in=10)  # inside the skew: refresh first
    token_calls: list[float | None] = []

    def busy_token_endpoint(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            token_calls.append(request.extensions["timeout"]["read"])
            return httpx.Response(
                429, json={"message": "slow down"}, headers={"Retry-After": "100"}
            )
        return server(request)

    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    auth = OAuthAuth(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, store=store)
    client = AsyncGHLClient(
        auth, transport=httpx.MockTransport(busy_token_endpoint), limiter=None, sleep=sleep
    )
    async with client:
        with pytest.raises(RateLimitError):
            await client.request("GET", "/contacts/c1", location_id="L1")
    assert len(token_calls) == 2 and waits == [1.0]  # Retry-After 100 cut to 1 s
    assert token_calls == [10.0, 10.0]  # the refresh's own timeout, not the client's 30 s
    other = TokenStore(store.path, busy_timeout=0.5)  # the lock was released
    transaction = other.begin()
    transaction.commit()
    other.close()
    row = store.find("oauth", location_id="L1")
    assert row is not None and row.refresh_token == refresh  # nothing half-written


async def test_a_call_without_a_location_is_refused_when_several_tokens_are_stored(
    server: FakeOAuthServer, store: TokenStore
) -> None:
    access, refresh = server.seed()
    seed_store(store, access, refresh, location="L1")
    recorder = Recorder(server, store.path)
    client, _ = make_client(recorder, store)
    async with client:
        # one location token stored: an unscoped call is that location's, bucket included
        await client.request("GET", "/users/")
        assert recorder.requests[-1].headers["authorization"] == f"Bearer {access}"
        access2, refresh2 = server.seed()
        seed_store(store, access2, refresh2, location="L2")
        sent = len(recorder.requests)
        with pytest.raises(ConfigError) as caught:
            await client.request("GET", "/users/")
        assert "location L1" in str(caught.value) and "location L2" in str(caught.value)
        assert "location_id=" in caught.value.hint
        assert len(recorder.requests) == sent  # nothing was sent
        await client.request("GET", "/users/", location_id="L2")  # named: fine


async def test_an_unscoped_call_uses_the_bucket_of_the_scope_it_resolves_to() -> None:
    from ghlsync.client import InMemoryLimiter, PrivateTokenAuth

    limiter = InMemoryLimiter(daily_store=None)
    auth = PrivateTokenAuth(tokens={"L9": "pit-only-one-token"})
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={}))
    async with AsyncGHLClient(auth, transport=transport, limiter=limiter) as client:
        await client.request("GET", "/users/")
        assert limiter.snapshot(client.bucket_key("L9")) is not None
        assert limiter.snapshot((auth.identity, "-")) is None
    two = PrivateTokenAuth(tokens={"L1": "pit-aaaaaaaaaa", "L2": "pit-bbbbbbbbbb"})
    async with AsyncGHLClient(two, transport=transport, limiter=None) as client:
        with pytest.raises(ConfigError, match="several location tokens"):
            await client.request("GET", "/users/")
