"""Tokens, scopes, locations and the Version header."""

from __future__ import annotations

from tests.unit.emulator.conftest import Emu


async def test_other_locations_data_is_forbidden(emu: Emu) -> None:
    contact = await emu.create(1, email="someone@example.com")
    response = await emu.client.get(f"/contacts/{contact['id']}", headers=emu.headers(0))
    assert response.status_code == 403
    body = response.json()
    assert body["statusCode"] == 403 and body["error"] == "Forbidden" and body["traceId"]
    search = await emu.client.post(
        "/contacts/search", json={"locationId": emu.loc(1), "pageLimit": 1}, headers=emu.headers(0)
    )
    assert search.status_code == 403


async def test_missing_scope_is_401_with_the_documented_message(emu: Emu) -> None:
    minted = await emu.client.post(
        "/_emulator/tokens", json={"locationId": emu.loc(), "scopes": ["contacts.readonly"]}
    )
    token = minted.json()["token"]
    read = await emu.client.post(
        "/contacts/search",
        json={"locationId": emu.loc(), "pageLimit": 1},
        headers=emu.token_headers(token),
    )
    assert read.status_code == 200
    write = await emu.client.post(
        "/contacts/", json={"locationId": emu.loc()}, headers=emu.token_headers(token)
    )
    assert write.status_code == 401
    assert write.json()["message"] == "The token is not authorized for this scope."


async def test_version_header_is_required_and_checked(emu: Emu) -> None:
    path = f"/locations/{emu.loc()}"
    auth = {"Authorization": emu.headers()["Authorization"]}
    missing = await emu.client.get(path, headers=auth)
    assert missing.status_code == 400 and "Version" in missing.json()["message"]
    unknown = await emu.client.get(path, headers={**auth, "Version": "2020-01-01"})
    assert unknown.status_code == 400
    for version in ("2021-07-28", "v3"):
        assert (await emu.client.get(path, headers={**auth, "Version": version})).status_code == 200


async def test_missing_unknown_and_expired_tokens_are_401(emu: Emu) -> None:
    path = f"/locations/{emu.loc()}"
    assert (await emu.client.get(path, headers={"Version": "2021-07-28"})).status_code == 401
    unknown = await emu.client.get(path, headers=emu.token_headers("nope"))
    assert unknown.status_code == 401 and "Invalid JWT" in unknown.json()["message"]
    minted = await emu.client.post(
        "/_emulator/tokens", json={"locationId": emu.loc(), "ttlSeconds": 3600}
    )
    token = minted.json()["token"]
    assert (await emu.client.get(path, headers=emu.token_headers(token))).status_code == 200
    expired = await emu.client.post("/_emulator/tokens/expire", json={"tokens": [token]})
    assert expired.json()["expired"] == 1
    response = await emu.client.get(path, headers=emu.token_headers(token))
    assert response.status_code == 401
    assert "Invalid JWT" in response.json()["message"]
    assert "expired" in response.json()["message"]


async def test_tokens_expire_when_the_clock_passes_their_lifetime(emu: Emu) -> None:
    minted = await emu.client.post(
        "/_emulator/tokens", json={"locationId": emu.loc(), "ttlSeconds": 60}
    )
    token = minted.json()["token"]
    path = f"/locations/{emu.loc()}"
    assert (await emu.client.get(path, headers=emu.token_headers(token))).status_code == 200
    await emu.client.post("/_emulator/clock/advance", json={"seconds": 61})
    assert (await emu.client.get(path, headers=emu.token_headers(token))).status_code == 401


async def test_agency_token_searches_locations_and_location_token_sees_only_its_own(
    emu: Emu,
) -> None:
    response = await emu.client.get(
        "/locations/search", params={"companyId": emu.state.company_id}, headers=emu.agency
    )
    assert response.status_code == 200
    assert {loc["id"] for loc in response.json()["locations"]} == {emu.loc(0), emu.loc(1)}
    own = await emu.client.get(f"/locations/{emu.loc(0)}", headers=emu.headers(0))
    assert own.json()["location"]["companyId"] == emu.state.company_id
    other = await emu.client.get(f"/locations/{emu.loc(1)}", headers=emu.headers(0))
    assert other.status_code == 403


async def test_unknown_route_answers_like_nest(emu: Emu) -> None:
    response = await emu.client.get("/nowhere", headers=emu.headers())
    assert response.status_code == 404
    assert response.json()["message"] == "Cannot GET /nowhere"


async def test_agency_token_cannot_use_sub_account_routes(emu: Emu) -> None:
    response = await emu.client.post(
        "/contacts/search", json={"locationId": emu.loc(), "pageLimit": 1}, headers=emu.agency
    )
    assert response.status_code == 401
    assert "IAM" in response.json()["message"]


async def test_auth_is_checked_before_the_body(emu: Emu) -> None:
    response = await emu.client.post(
        "/contacts/", json={"locationId": emu.loc(), "bogus": 1}, headers={"Version": "2021-07-28"}
    )
    assert response.status_code == 401
