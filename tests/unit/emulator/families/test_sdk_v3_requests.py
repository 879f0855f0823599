"""The official Python SDK's (``gohighlevel-api-client`` 3.0.0) requests, replayed as plain httpx.

Each request below was captured from the SDK driving the emulator (method, path, query, body
encoding and the ``Version: v3`` header it always sends); the SDK itself is not a dependency.
A third-party client must work against the emulator unchanged but for its base URL.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from tests.unit.emulator.conftest import Emu

FORM = {"Content-Type": "application/x-www-form-urlencoded", "Version": "v3"}
JSON = {"Content-Type": "application/json", "Version": "v3"}


def _bearer(token: str, headers: dict[str, str] = JSON) -> dict[str, str]:
    return {**headers, "Authorization": f"Bearer {token}"}


async def _code(emu: Emu) -> str:
    response = await emu.client.get(
        "/_emulator/oauth/authorize",
        params={"client_id": emu.state.client_id, "locationId": emu.loc()},
    )
    code: str = response.json()["code"]
    return code


async def test_token_exchange_and_refresh_with_camelcase_form_fields(emu: Emu) -> None:
    creds = {"clientId": emu.state.client_id, "clientSecret": emu.state.client_secret}
    body = urlencode(
        {
            **creds,
            "grantType": "authorization_code",
            "code": await _code(emu),
            "userType": "Location",
        }
    )
    granted = await emu.client.post("/oauth/token", content=body, headers=FORM)
    assert granted.status_code == 200, granted.text
    token = granted.json()
    assert token["tokenType"] == "Bearer" and token["expiresIn"] == 86399
    assert token["locationId"] == emu.loc() and "access_token" not in token
    used = await emu.client.get(f"/locations/{emu.loc()}", headers=_bearer(token["accessToken"]))
    assert used.status_code == 200, used.text

    # the SDK's refresh_token(): refreshToken first, userType always sent
    refresh = urlencode(
        {
            "refreshToken": token["refreshToken"],
            **creds,
            "grantType": "refresh_token",
            "userType": "Location",
        }
    )
    again = await emu.client.post("/oauth/token", content=refresh, headers=FORM)
    assert again.status_code == 200, again.text
    assert again.json()["refreshToken"] != token["refreshToken"]
    reused = await emu.client.post("/oauth/token", content=refresh, headers=FORM)
    assert reused.status_code == 400
    assert reused.json()["message"].startswith("Invalid grant")


async def test_v3_token_errors_name_the_v3_field(emu: Emu) -> None:
    body = urlencode({"clientSecret": emu.state.client_secret, "grantType": "refresh_token"})
    response = await emu.client.post("/oauth/token", content=body, headers=FORM)
    assert response.status_code == 400
    assert response.json()["message"] == "Missing parameter: clientId"
    # v2 names are not v3 names: under Version v3 they are not read
    snake = urlencode(
        {
            "client_id": emu.state.client_id,
            "client_secret": emu.state.client_secret,
            "grant_type": "refresh_token",
        }
    )
    refused = await emu.client.post("/oauth/token", content=snake, headers=FORM)
    assert refused.status_code == 400


async def test_v2_token_exchange_still_snake_case(emu: Emu) -> None:
    response = await emu.client.post(
        "/oauth/token",
        data={
            "client_id": emu.state.client_id,
            "client_secret": emu.state.client_secret,
            "grant_type": "authorization_code",
            "code": await _code(emu),
        },
    )
    assert response.status_code == 200, response.text
    assert {"access_token", "refresh_token", "expires_in"} <= set(response.json())


async def test_location_token_and_installed_locations_on_v3_paths(emu: Emu) -> None:
    agency = emu.state.agency_token
    body = urlencode({"companyId": emu.state.company_id, "locationId": emu.loc()})
    response = await emu.client.post(
        "/oauth/location-token", content=body, headers=_bearer(agency, FORM)
    )
    assert response.status_code == 200, response.text
    assert response.json()["locationId"] == emu.loc() and response.json()["accessToken"]

    query = {"pageSize": 1, "companyId": emu.state.company_id, "appId": emu.state.app_id}
    first = await emu.client.get(
        "/oauth/installed-locations", params=query, headers=_bearer(agency)
    )
    assert first.status_code == 200, first.text
    page = first.json()
    assert len(page["items"]) == 1 and page["pagination"]["hasNextPage"] is True
    second = await emu.client.get(
        "/oauth/installed-locations",
        params={**query, "pageToken": page["pagination"]["nextPageToken"]},
        headers=_bearer(agency),
    )
    assert second.json()["items"][0]["_id"] != page["items"][0]["_id"]
    assert second.json()["pagination"]["hasPrevPage"] is True
    bad = await emu.client.get(
        "/oauth/installed-locations", params={**query, "pageToken": "%%"}, headers=_bearer(agency)
    )
    assert bad.status_code == 422
    # the v2 paths want the v2 Version
    legacy = await emu.client.post(
        "/oauth/locationToken", content=body, headers=_bearer(agency, FORM)
    )
    assert legacy.status_code == 400


async def test_opportunity_search_with_camelcase_query(emu: Emu) -> None:
    token = emu.state.locations[0]["token"]
    pipelines = await emu.client.get(
        "/opportunities/pipelines", params={"locationId": emu.loc()}, headers=_bearer(token)
    )
    pipeline_id = pipelines.json()["pipelines"][0]["id"]
    response = await emu.client.get(
        "/opportunities/search",
        params={"limit": 2, "locationId": emu.loc(), "pipelineId": pipeline_id},
        headers=_bearer(token),
    )
    assert response.status_code == 200, response.text
    found = response.json()["opportunities"]
    assert found and all(opp["pipelineId"] == pipeline_id for opp in found)
    # the v2 spelling under Version v3 is not the location parameter
    v2 = await emu.client.get(
        "/opportunities/search", params={"location_id": emu.loc()}, headers=_bearer(token)
    )
    assert v2.status_code == 422 and v2.json()["message"] == ["locationId should not be empty"]


async def test_opportunity_forecast_fields_are_v3_only(emu: Emu) -> None:
    token = emu.state.locations[0]["token"]
    contact = await emu.create(email="sdk@example.com", firstName="Sdk")
    pipelines = await emu.client.get(
        "/opportunities/pipelines", params={"locationId": emu.loc()}, headers=_bearer(token)
    )
    body: dict[str, Any] = {
        "locationId": emu.loc(),
        "pipelineId": pipelines.json()["pipelines"][0]["id"],
        "name": "SDK deal",
        "status": "open",
        "contactId": contact["id"],
        "forecastProbability": 40,
        "forecastExpectedCloseDate": "05/20/2027",
    }
    made = await emu.client.post("/opportunities/", json=body, headers=_bearer(token))
    assert made.status_code == 201, made.text
    opp = made.json()["opportunity"]
    assert opp["forecastProbability"] == 40 and opp["forecastExpectedCloseDate"] == "2027-05-20"
    updated = await emu.client.put(
        f"/opportunities/{opp['id']}", json={"forecastProbability": 60}, headers=_bearer(token)
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["opportunity"]["forecastProbability"] == 60
    wrong = await emu.client.put(
        f"/opportunities/{opp['id']}", json={"forecastProbability": 160}, headers=_bearer(token)
    )
    assert wrong.status_code == 422
    v2 = await emu.client.put(
        f"/opportunities/{opp['id']}",
        json={"forecastProbability": 60},
        headers={**_bearer(token), "Version": "2021-07-28"},
    )
    assert v2.status_code == 422
    assert v2.json()["message"] == ["property forecastProbability should not exist"]


async def test_the_sdk_contact_calls(emu: Emu) -> None:
    token = emu.state.locations[0]["token"]
    searched = await emu.client.post(
        "/contacts/search",
        content=b'{"locationId":"' + emu.loc().encode() + b'","pageLimit":2}',
        headers=_bearer(token),
    )
    assert searched.status_code == 200 and len(searched.json()["contacts"]) == 2
    made = await emu.client.post(
        "/contacts/",
        json={"locationId": emu.loc(), "firstName": "Sdk", "email": "sdk2@example.com"},
        headers=_bearer(token),
    )
    assert made.status_code == 201, made.text
    contact_id = made.json()["contact"]["id"]
    for method, path, body in (
        ("GET", f"/contacts/{contact_id}", None),
        ("PUT", f"/contacts/{contact_id}", {"lastName": "Kit"}),
        ("POST", "/contacts/upsert", {"locationId": emu.loc(), "email": "sdk2@example.com"}),
        ("GET", f"/locations/{emu.loc()}/customFields", None),
        ("GET", "/calendars/", None),
        ("GET", "/conversations/search", None),
    ):
        params = {"locationId": emu.loc()} if method == "GET" and "/contacts/" not in path else {}
        response = await emu.client.request(
            method, path, params=params, json=body, headers=_bearer(token)
        )
        assert response.status_code in (200, 201), f"{method} {path}: {response.text}"
