"""The client core against the emulator over a real socket: OAuth end to end.

Code from ``/oauth/chooselocation`` -> ``exchange_code`` -> installed locations -> location
tokens minted with the agency token -> contacts calls -> every access token expired by the
emulator's admin API -> 401 "Invalid JWT" -> one refresh with rotation (the emulator kills used
refresh tokens) -> the calls go on.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from ghlsync.client import AsyncGHLClient, GHLClient, OAuthAuth, TokenStore
from ghlsync.errors import AuthError

emulator = pytest.importorskip("ghlsync.emulator.server")
seed = pytest.importorskip("ghlsync.emulator.seeding")

REDIRECT = "http://localhost:8765/callback"


@pytest.fixture(scope="module")
def server():  # type: ignore[no-untyped-def]
    with emulator.EmulatorServer(seed.SeedOptions(locations=3, contacts=30)) as running:
        yield running


def authorization_code(base_url: str, client_id: str, user_type: str) -> str:
    answer = httpx.get(
        f"{base_url}/oauth/chooselocation",
        params={
            "client_id": client_id,
            "redirect_uri": REDIRECT,
            "response_type": "code",
            "user_type": user_type,
        },
    )
    assert answer.status_code == 302, answer.text
    return parse_qs(urlparse(answer.headers["location"]).query)["code"][0]


async def test_oauth_end_to_end_against_the_emulator(server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    state = server.state
    store = TokenStore(tmp_path / "tokens.sqlite3")
    auth = OAuthAuth(
        client_id=state.client_id,
        client_secret=state.client_secret,
        store=store,
        app_id=state.app_id,
    )
    async with AsyncGHLClient(auth, base_url=server.base_url) as client:
        code = authorization_code(server.base_url, state.client_id, "Company")
        agency = await auth.exchange_code(code, user_type="Company", redirect_uri=REDIRECT)
        assert agency.company_id == state.company_id and agency.refresh_token

        installed = [i async for i in auth.installed_locations(page_size=2)]
        assert installed and set(installed) <= {loc["id"] for loc in state.locations}

        for location_id in installed:
            found = await client.request(
                "POST",
                "/contacts/search",
                json={"locationId": location_id, "pageLimit": 5},
                location_id=location_id,
                idempotent=True,
            )
            assert isinstance(found.get("contacts"), list)
            row = store.get("location", company_id=state.company_id, location_id=location_id)
            assert row is not None and row.expires_at is not None

        first_refresh = agency.refresh_token
        seen_refresh = [first_refresh]
        for _ in range(2):  # two rounds of expiry: two rotations, each refresh token used once
            await client.request(
                "POST", "/_emulator/tokens/expire", json={}, authenticated=False, idempotent=True
            )
            ids = [i async for i in auth.installed_locations()]
            assert ids == installed
            current = store.find("oauth", company_id=state.company_id, location_id="")
            assert current is not None
            seen_refresh.append(current.refresh_token)
        assert len(set(seen_refresh)) == 3  # rotated twice, persisted each time

    # the first refresh token is dead at the emulator: using it again is refused
    form = {
        "client_id": state.client_id,
        "client_secret": state.client_secret,
        "grant_type": "refresh_token",
        "refresh_token": first_refresh,
        "user_type": "Company",
    }
    async with AsyncGHLClient(auth, base_url=server.base_url) as client:
        with pytest.raises(AuthError):
            await auth._token_call(form)
        assert client is not None
    store.close()


def test_sync_twin_against_the_emulator(server) -> None:  # type: ignore[no-untyped-def]
    location_id = server.state.locations[0]["id"]
    with GHLClient(server.state.agency_token, base_url=server.base_url) as client:
        page = client.request(
            "GET",
            "/locations/search",
            params={"companyId": server.state.company_id},
            company_id=server.state.company_id,
        )
        assert location_id in {loc["id"] for loc in page["locations"]}
