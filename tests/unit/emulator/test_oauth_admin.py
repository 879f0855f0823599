"""The OAuth flow (rotation, location tokens, installed locations) and the admin API."""

from __future__ import annotations

from typing import Any

from tests.unit.emulator.conftest import Emu


async def _code(emu: Emu, **params: str) -> str:
    response = await emu.client.get(
        "/oauth/chooselocation",
        params={
            "response_type": "code",
            "client_id": emu.state.client_id,
            "redirect_uri": "http://127.0.0.1/callback",
            "state": "s1",
            **params,
        },
    )
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith("http://127.0.0.1/callback?code=") and "state=s1" in location
    return location.split("code=")[1].split("&")[0]


async def _token(emu: Emu, **form: str) -> Any:
    return await emu.client.post(
        "/oauth/token",
        data={"client_id": emu.state.client_id, "client_secret": emu.state.client_secret, **form},
    )


async def test_authorization_code_then_refresh_rotation(emu: Emu) -> None:
    code = await _code(emu, locationId=emu.loc(1))
    granted = await _token(emu, grant_type="authorization_code", code=code, user_type="Location")
    assert granted.status_code == 200
    body = granted.json()
    assert body["expires_in"] == 86399 and body["token_type"] == "Bearer"
    assert body["locationId"] == emu.loc(1) and body["userType"] == "Location"
    assert "contacts.readonly" in body["scope"].split()
    reused = await _token(emu, grant_type="authorization_code", code=code)
    assert reused.status_code == 401  # codes are single-use
    access = body["access_token"]
    ok = await emu.client.get(f"/locations/{emu.loc(1)}", headers=emu.token_headers(access))
    assert ok.status_code == 200
    rotated = await _token(emu, grant_type="refresh_token", refresh_token=body["refresh_token"])
    assert rotated.status_code == 200
    assert rotated.json()["refresh_token"] != body["refresh_token"]
    dead = await _token(emu, grant_type="refresh_token", refresh_token=body["refresh_token"])
    assert dead.status_code == 401 and dead.json()["error"] == "invalid_grant"
    again = await _token(
        emu, grant_type="refresh_token", refresh_token=rotated.json()["refresh_token"]
    )
    assert again.status_code == 200
    # forced expiry of OAuth access tokens
    await emu.client.post("/_emulator/tokens/expire", json={})
    expired = await emu.client.get(f"/locations/{emu.loc(1)}", headers=emu.token_headers(access))
    assert expired.status_code == 401 and "expired" in expired.json()["message"]


async def test_bad_client_credentials(emu: Emu) -> None:
    response = await emu.client.post(
        "/oauth/token",
        data={
            "client_id": emu.state.client_id,
            "client_secret": "wrong",
            "grant_type": "refresh_token",
        },
    )
    assert response.status_code == 401


async def test_location_token_and_installed_locations(emu: Emu) -> None:
    response = await emu.client.post(
        "/oauth/locationToken",
        data={"companyId": emu.state.company_id, "locationId": emu.loc(0)},
        headers=emu.agency,
    )
    assert response.status_code == 200 and response.json()["expires_in"] == 86399
    token = response.json()["access_token"]
    assert (
        await emu.client.get(f"/locations/{emu.loc(0)}", headers=emu.token_headers(token))
    ).status_code == 200
    assert (
        await emu.client.get(f"/locations/{emu.loc(1)}", headers=emu.token_headers(token))
    ).status_code == 403
    # a location token may not ask for location tokens
    refused = await emu.client.post(
        "/oauth/locationToken",
        data={"companyId": emu.state.company_id, "locationId": emu.loc(0)},
        headers=emu.headers(0),
    )
    assert refused.status_code == 401
    installed = await emu.client.get(
        "/oauth/installedLocations",
        params={"companyId": emu.state.company_id, "appId": emu.state.app_id, "limit": 1},
        headers=emu.agency,
    )
    assert installed.json()["count"] == 2 and len(installed.json()["locations"]) == 1
    missing = await emu.client.get(
        "/oauth/installedLocations", params={"companyId": emu.state.company_id}, headers=emu.agency
    )
    assert missing.status_code == 422


async def test_admin_counts_requests_and_entities(emu: Emu) -> None:
    await emu.create(email="counted@example.com")
    await emu.client.get(f"/locations/{emu.loc(1)}", headers=emu.headers(0))
    counts = (await emu.client.get("/_emulator/counts")).json()
    assert counts["operations"]["POST /contacts/"] == {"201": 1}
    assert counts["operations"]["GET /locations/{locationId}"] == {"403": 1}
    log = (await emu.client.get("/_emulator/requests", params={"limit": 2})).json()["requests"]
    assert log[0]["body"] == {"locationId": emu.loc(), "email": "counted@example.com"}
    assert log[0]["version"] == "2021-07-28" and log[0]["status"] == 201
    found = await emu.client.get(
        f"/_emulator/locations/{emu.loc()}/contacts/by-email",
        params={"email": "COUNTED@example.com"},
    )
    assert len(found.json()["contacts"]) == 1
    # arbitrary entities behind the API's back
    created = await emu.client.post(
        f"/_emulator/locations/{emu.loc()}/opportunities",
        json={"name": "Deal", "status": "open", "monetaryValue": 10},
    )
    opp = created.json()
    assert created.status_code == 201 and opp["updatedAt"]
    found = await emu.client.get(  # no contactId: still listed, with an empty contact summary
        "/opportunities/search",
        params={"location_id": emu.loc(), "id": opp["id"]},
        headers=emu.headers(),
    )
    assert found.status_code == 200
    assert [(o["id"], o["contact"]["id"]) for o in found.json()["opportunities"]] == [
        (opp["id"], "")
    ]
    patched = await emu.client.patch(
        f"/_emulator/locations/{emu.loc()}/opportunities/{opp['id']}", json={"status": "won"}
    )
    assert patched.json()["status"] == "won" and patched.json()["updatedAt"] > opp["updatedAt"]
    assert (
        await emu.client.delete(f"/_emulator/locations/{emu.loc()}/opportunities/{opp['id']}")
    ).status_code == 200
    state = (await emu.client.get("/_emulator/state")).json()
    assert state["locations"][0]["deleted"]["opportunities"] == 1
    # reset re-seeds deterministically
    before = state["locations"][0]["id"]
    reset = await emu.client.post("/_emulator/reset", json={})
    assert reset.json()["locations"][0]["id"] == before
    assert (await emu.client.get("/_emulator/counts")).json()["total"] == 0


async def test_runtime_settings(emu: Emu) -> None:
    changed = await emu.client.put(
        "/_emulator/settings", json={"rateLimit": "2/1s", "dailyLimit": 10}
    )
    assert changed.json()["rateLimit"] == {"max": 2, "intervalMs": 1000}
    statuses = [
        (await emu.client.get(f"/locations/{emu.loc()}", headers=emu.headers())).status_code
        for _ in range(3)
    ]
    assert statuses == [200, 200, 429]
    off = await emu.client.put("/_emulator/settings", json={"rateLimit": "off"})
    assert off.json()["rateLimit"] is None


async def test_refused_requests_are_counted_under_their_operation() -> None:
    from ghlsync.emulator import EmulatorSettings
    from ghlsync.emulator.settings import RateLimit
    from tests.unit.emulator.conftest import make_emu

    emu = await make_emu(settings=EmulatorSettings(rate_limit=RateLimit(1, 10_000)))
    async with emu.client:
        for _ in range(2):
            await emu.client.get(f"/locations/{emu.loc()}", headers=emu.headers())
        counts = (await emu.client.get("/_emulator/counts")).json()["operations"]
        assert counts["GET /locations/{locationId}"] == {"200": 1, "429": 1}


def test_seeding_is_deterministic() -> None:
    from ghlsync.emulator import SeedOptions, build

    anchor = 1_767_225_600_000  # 2026-01-01
    first_store, first = build(SeedOptions(locations=2, contacts=50, seed=11, anchor_ms=anchor))
    second_store, second = build(SeedOptions(locations=2, contacts=50, seed=11, anchor_ms=anchor))
    assert first.to_dict() == second.to_dict()
    location = first.locations[0]["id"]
    one = first_store.contacts(location).items
    two = second_store.contacts(location).items
    assert list(one) == list(two)
    assert list(one.values()) == list(two.values())
    _, other = build(SeedOptions(locations=2, contacts=50, seed=12))
    assert other.locations[0]["id"] != location
