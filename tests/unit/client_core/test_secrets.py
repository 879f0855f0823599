"""No token or secret in any log line, repr or error message, across the OAuth flows."""

from __future__ import annotations

import logging
import sqlite3
import time
import traceback
from pathlib import Path

import httpx
import pytest

from ghlsync.client import AsyncGHLClient, GHLClient, PrivateTokenAuth
from ghlsync.client.oauth import OAuthAuth
from ghlsync.client.token_store import TokenRecord, TokenStore
from ghlsync.errors import GHLSyncError
from tests.unit.client_core.fake_oauth import (
    AUTH_CODE,
    CLIENT_ID,
    CLIENT_SECRET,
    COMPANY,
    FakeOAuthServer,
)

PRIVATE = "SECRET-pit-private-token"
STORE_KEY = "SECRET-store-key"


def all_issued_tokens(server: FakeOAuthServer) -> set[str]:
    db = sqlite3.connect(server.path)
    tokens = {r[0] for r in db.execute("SELECT token FROM access UNION SELECT token FROM refresh")}
    db.close()
    return tokens


def describe(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)) + repr(exc) + str(exc)


async def test_no_secret_leaks(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: ghlsync, httpx, httpcore
    server = FakeOAuthServer(tmp_path / "server.sqlite3", installed=3)
    store = TokenStore(tmp_path / "home" / "tokens.sqlite3", secret_key=STORE_KEY)
    seen: list[str] = []
    timeouts = {"on": False}

    def handler(request: httpx.Request) -> httpx.Response:
        if timeouts["on"] and request.url.path == "/oauth/token":
            raise httpx.ReadTimeout("simulated", request=request)
        return server(request)

    auth = OAuthAuth(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        store=store,
        company_id=COMPANY,
        app_id="app123",
    )
    client = AsyncGHLClient(auth, transport=httpx.MockTransport(handler))
    async with client:
        await auth.exchange_code(AUTH_CODE, user_type="Company")
        await client.request("GET", "/locations/search", company_id=COMPANY)
        server.expire_access_tokens()
        await client.request("GET", "/locations/search", company_id=COMPANY)  # 401 -> refresh
        await client.request("GET", "/contacts/c1", location_id="L5")  # mints a location token
        [i async for i in auth.installed_locations()]
        seen += [
            repr(client),
            repr(auth),
            repr(store),
            repr(store.list()),
            repr(store.find("oauth")),
            str(store.find("location")),
        ]
        # failures: a dead refresh token, an unknown outcome on the token call, bad code
        server.expire_access_tokens()
        timeouts["on"] = True
        try:
            await client.request("GET", "/locations/search", company_id=COMPANY)
        except GHLSyncError as exc:
            seen.append(describe(exc))
        timeouts["on"] = False
        try:
            await auth.exchange_code("SECRET-wrong-code", user_type="Company")
        except GHLSyncError as exc:
            seen.append(describe(exc))
    store.put(
        TokenRecord(
            kind="oauth",
            company_id=COMPANY,
            access_token="SECRET-at-dead",
            refresh_token="SECRET-rt-dead",
            expires_at=time.time() - 5,
            user_type="Company",
            updated_at=time.time(),
        )
    )
    client = AsyncGHLClient(auth, transport=httpx.MockTransport(handler))
    async with client:
        try:
            await client.request("GET", "/locations/search", company_id=COMPANY)
        except GHLSyncError as exc:
            seen.append(describe(exc))
    try:
        TokenStore(store.path, secret_key="SECRET-wrong-key")
    except GHLSyncError as exc:
        seen.append(describe(exc))
    store.close()

    # a Private Integration token, sync twin included
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"message": "Invalid JWT"})

    with GHLClient(
        PrivateTokenAuth(PRIVATE, tokens={"L1": PRIVATE}), transport=httpx.MockTransport(refuse)
    ) as sync_client:
        seen.append(repr(sync_client))
        try:
            sync_client.contacts.get("c1", location_id="L1")
        except GHLSyncError as exc:
            seen.append(describe(exc))

    secrets = all_issued_tokens(server) | {
        CLIENT_SECRET,
        AUTH_CODE,
        PRIVATE,
        STORE_KEY,
        "SECRET-at-dead",
        "SECRET-rt-dead",
        "SECRET-wrong-code",
        "SECRET-wrong-key",
    }
    assert len(secrets) > 10
    logs = [r.getMessage() for r in caplog.records] + [caplog.text]
    assert any("refreshed the OAuth token" in line for line in logs)
    assert len(seen) >= 10
    haystack = "\n".join(logs + seen)
    leaked = sorted(s for s in secrets if s in haystack)
    assert not leaked, f"secrets leaked: {leaked}"
    assert "SECRET-" not in haystack


JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJsb2MxIiwiaWF0IjoxNzAwMDAwMDAwfQ"
    ".c2lnbmF0dXJlLW5vdC1yZWFs"
)
PIT = "pit-3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"


@pytest.mark.parametrize(
    "text",
    [
        f"token {JWT} was refused",
        f"jwt={JWT}",
        f"the token {PIT} is invalid",
        f"Authorization: Bearer {PIT}",
        f"Authorization: Basic {PIT}",
        f"access_token={PIT}&x=1",
        f'{{"refresh_token": "{JWT}"}}',
        f"accessToken: {PIT}",
        "client_secret=S3cr3tValue123",
        '{"clientSecret":"S3cr3tValue123"}',
        "code=S3cr3tValue123&user_type=Company",
        '{"code": "S3cr3tValue123"}',
    ],
)
def test_redact_removes_credentials(text: str) -> None:
    from ghlsync.errors import redact

    cleaned = redact(text)
    for secret in (JWT, PIT, "S3cr3tValue123", JWT.split(".")[1], PIT[4:]):
        assert secret not in cleaned, cleaned
    assert "***" in cleaned


@pytest.mark.parametrize(
    "text",
    [
        "statusCode: 422",
        '{"statusCode": 422, "message": "bad"}',
        "zip code: 94107",
        "postalCode=94107",
        "the code field is required",
        "pit-stop",  # too short to be a token
        "location loc123 has 3 contacts",
        "email must be an email",
    ],
)
def test_redact_leaves_ordinary_text_alone(text: str) -> None:
    from ghlsync.errors import redact

    assert redact(text) == text


def test_api_error_body_is_scrubbed() -> None:
    from ghlsync.errors import error_for_status

    body = {
        "message": f"token {JWT} expired",
        "access_token": "raw-secret-value-1",
        "meta": {"clientSecret": "raw-secret-value-2", "hint": f"use {PIT}"},
        "statusCode": 401,
        "items": [f"Bearer {PIT}"],
    }
    error = error_for_status(status=401, method="GET", path="/x", body=body)
    shown = describe(error) + repr(error.body) + str(error.body) + repr(error.messages)
    for secret in (JWT, PIT, "raw-secret-value-1", "raw-secret-value-2"):
        assert secret not in shown
    assert error.body["statusCode"] == 401 and error.reason == "expired"
