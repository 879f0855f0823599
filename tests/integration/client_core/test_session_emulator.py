"""The run session against the emulator, in-process (``httpx.ASGITransport``, no socket)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from ghlsync.client import AsyncGHLClient, OAuthAuth, TokenStore, admin
from ghlsync.client.session import Connection, open_session
from ghlsync.config import Settings
from ghlsync.emulator import EmulatorSettings, SeedOptions, build, create_app
from ghlsync.errors import AuthError

BASE = "http://emulator.test"
REDIRECT = "http://localhost:8765/callback"


@pytest.fixture
def emulated() -> tuple[Any, Any]:
    store, seeded = build(SeedOptions(locations=3, contacts=30, seed=5))
    app = create_app(store, EmulatorSettings(seed=5, rate_limit=None))
    return app, seeded


def _transport(app: Any) -> httpx.ASGITransport:
    return httpx.ASGITransport(app=app)


async def _count_contacts(client: AsyncGHLClient, location_id: str) -> int:
    answer = await client.request(
        "POST",
        "/contacts/search",
        json={"locationId": location_id, "pageLimit": 1},
        location_id=location_id,
    )
    assert isinstance(answer, dict)
    return int(answer["total"])


async def test_tokens_from_the_store_serve_every_location(
    emulated: tuple[Any, Any], tmp_path: Path
) -> None:
    app, seeded = emulated
    settings = Settings(home=tmp_path, base_url=BASE)
    for location in seeded.locations:  # what `ghlsync auth add-token` does
        admin.add_private_token(location["id"], location["token"], settings=settings)
    ids = [loc["id"] for loc in seeded.locations]
    connection = Connection.from_mapping({"locations": ids, "rate_limit": True})
    async with open_session(settings, connection, transport=_transport(app)) as session:
        assert [session.token_source(i) for i in ids] == ["store"] * 3
        totals = [await _count_contacts(session.client, i) for i in await session.locations()]
        assert sum(totals) == 30
        assert all(session.budget(i) is not None for i in ids)


async def test_the_flag_beats_a_wrong_config_token(
    emulated: tuple[Any, Any], tmp_path: Path
) -> None:
    app, seeded = emulated
    location = seeded.locations[0]
    settings = Settings(home=tmp_path, base_url=BASE)
    connection = Connection.from_mapping(
        {"locations": [{"id": location["id"], "token": "pit-wrong-0000-0000"}]}
    )
    async with open_session(settings, connection, transport=_transport(app)) as session:
        with pytest.raises(AuthError):
            await _count_contacts(session.client, location["id"])
    flagged = open_session(settings, connection, token=location["token"], transport=_transport(app))
    async with flagged as session:
        assert await _count_contacts(session.client, location["id"]) > 0


async def _agency_login(app: Any, seeded: Any, store_path: Path) -> None:
    async with httpx.AsyncClient(transport=_transport(app), base_url=BASE) as http:
        answer = await http.get(
            "/oauth/chooselocation",
            params={
                "client_id": seeded.client_id,
                "redirect_uri": REDIRECT,
                "response_type": "code",
                "user_type": "Company",
            },
        )
    code = parse_qs(urlparse(answer.headers["location"]).query)["code"][0]
    store = TokenStore(store_path)
    auth = OAuthAuth(client_id=seeded.client_id, client_secret=seeded.client_secret, store=store)
    async with AsyncGHLClient(auth, base_url=BASE, transport=_transport(app), limiter=None):
        await auth.exchange_code(code, user_type="Company", redirect_uri=REDIRECT)
    store.close()


async def test_agency_discovery_and_minted_location_tokens(
    emulated: tuple[Any, Any], tmp_path: Path
) -> None:
    app, seeded = emulated
    store_path = tmp_path / "agency.sqlite3"
    await _agency_login(app, seeded, store_path)
    # the app's credentials from the environment (Settings), the rest from the config
    settings = Settings(
        home=tmp_path, base_url=BASE, client_id=seeded.client_id, client_secret=seeded.client_secret
    )
    connection = Connection.from_mapping(
        {
            "oauth": {
                "company_id": seeded.company_id,
                "app_id": seeded.app_id,
                "token_store": str(store_path),
            },
            "installed": True,
            "rate_limit": False,
        }
    )
    async with open_session(settings, connection, transport=_transport(app)) as session:
        found = await session.locations()
        assert sorted(found) == sorted(loc["id"] for loc in seeded.locations)
        assert session.token_source(found[0]) == "oauth"
        assert sum([await _count_contacts(session.client, i) for i in found]) == 30
        assert session.budget(found[0]) is None  # rate limiting off
    store = TokenStore(store_path)
    minted = [store.get("location", company_id=seeded.company_id, location_id=i) for i in found]
    store.close()
    assert all(row is not None and row.access_token for row in minted)
