"""PUT /locations/{locationId} (``UpdateLocationDto``): fields, settings, the duplicate rule."""

from __future__ import annotations

from tests.unit.emulator.conftest import Emu


async def test_update_changes_fields_and_settings_and_hides_credentials(emu: Emu) -> None:
    loc = emu.loc()
    body = {
        "companyId": emu.state.company_id,
        "name": "Renamed Dental",
        "city": "Austin",
        "settings": {"allowDuplicateOpportunity": True},
        "social": {"twitter": "https://twitter.com/renamed"},
        "twilio": {"sid": "AC123", "authToken": "twilio-secret-value"},
    }
    response = await emu.client.put(f"/locations/{loc}", json=body, headers=emu.agency)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["id"] == loc and answer["name"] == "Renamed Dental" and answer["city"] == "Austin"
    assert answer["settings"]["allowDuplicateOpportunity"] is True
    assert answer["settings"]["allowDuplicateContact"] is False  # merged, not replaced
    assert "twilio-secret-value" not in response.text
    shown = await emu.client.get(f"/locations/{loc}", headers=emu.headers())
    assert shown.json()["location"]["name"] == "Renamed Dental"
    assert "twilio-secret-value" not in shown.text
    assert emu.store.events[-1][0] == "LocationUpdate"


async def test_allow_duplicate_contact_changes_what_creates_do(emu: Emu) -> None:
    await emu.create(email="twin@example.com")
    again = await emu.client.post(
        "/contacts/",
        json={"locationId": emu.loc(), "email": "twin@example.com"},
        headers=emu.headers(),
    )
    assert again.status_code == 400  # the default rule: no duplicates
    allow = {"companyId": emu.state.company_id, "settings": {"allowDuplicateContact": True}}
    response = await emu.client.put(f"/locations/{emu.loc()}", json=allow, headers=emu.agency)
    assert response.status_code == 200, response.text
    twin = await emu.client.post(
        "/contacts/",
        json={"locationId": emu.loc(), "email": "twin@example.com"},
        headers=emu.headers(),
    )
    assert twin.status_code == 201, twin.text


async def test_update_refusals(emu: Emu) -> None:
    loc = emu.loc()
    url = f"/locations/{loc}"
    company = emu.state.company_id
    missing = await emu.client.put(url, json={"name": "x"}, headers=emu.agency)
    assert missing.status_code == 422
    assert missing.json()["message"] == ["companyId should not be empty"]
    bad = await emu.client.put(
        url,
        json={
            "companyId": company,
            "country": "XX",
            "settings": {"allowDuplicateContact": "yes", "other": 1},
            "twilio": {"sid": "AC1"},
        },
        headers=emu.agency,
    )
    assert bad.status_code == 422
    assert set(bad.json()["message"]) == {
        "country must be a valid ISO 3166-1 alpha-2 country code",
        "settings.allowDuplicateContact must be a boolean value",
        "property settings.other should not exist",
        "twilio.authToken should not be empty",
    }
    location_token = await emu.client.put(url, json={"companyId": company}, headers=emu.headers())
    assert location_token.status_code == 401  # Agency-Access only
    other = await emu.client.put(url, json={"companyId": "another"}, headers=emu.agency)
    assert other.status_code == 403
    unknown = await emu.client.put(
        "/locations/nope", json={"companyId": company}, headers=emu.agency
    )
    assert unknown.status_code == 400
