"""The emulator behaves as HighLevel does where the specs say otherwise (issue 16 items 2-5).

Each test names the GHL-NOTES section it follows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ghlsync.emulator import EmulatorSettings, SeedOptions
from ghlsync.emulator.contacts.model import SEARCH_ROW_FIELDS
from tests.unit.emulator.conftest import Emu, make_emu


async def _search(emu: Emu, **body: Any) -> Any:
    response = await emu.client.post(
        "/contacts/search",
        json={"locationId": emu.loc(), "pageLimit": 100, **body},
        headers=emu.headers(),
    )
    return response


# --------------------------------------------------------------------------- §4 search rows
async def test_search_rows_have_highlevels_search_shape_not_the_get_shape(emu: Emu) -> None:
    """GHL-NOTES §4 (hl-docs#314): ~35 fields, ``address`` not ``address1``, epoch-ms
    ``dateOfBirth``, ``phoneLabel``, ``businessName``, ``validEmail``, ``additionalEmails``,
    ``searchAfter``; ``{contacts, total, traceId}``."""
    made = await emu.create(
        email="shape@example.com",
        firstName="Shape",
        lastName="Row",
        address1="1 Test St",
        dateOfBirth="1990-05-17",
    )
    response = await _search(
        emu, filters=[{"field": "email", "operator": "eq", "value": "shape@example.com"}]
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"contacts", "total", "traceId"} and body["total"] == 1
    row = body["contacts"][0]
    assert set(row) == {*SEARCH_ROW_FIELDS, "searchAfter"}
    assert 33 <= len(row) <= 42
    assert row["address"] == "1 Test St" and "address1" not in row
    birth = dt.datetime(1990, 5, 17, tzinfo=dt.UTC)
    assert row["dateOfBirth"] == int(birth.timestamp() * 1000)  # epoch ms, not a string
    assert row["validEmail"] is True and row["additionalEmails"] == []
    for key in ("phoneLabel", "businessName"):
        assert key in row
    assert row["searchAfter"][1] == made["id"]
    # the GET shape is a different one
    got = await emu.client.get(f"/contacts/{made['id']}", headers=emu.headers())
    assert got.json()["contact"]["address1"] == "1 Test St" and got.json()["traceId"]


async def test_search_row_names_the_contacts_business(emu: Emu) -> None:
    """GHL-NOTES §4: search rows carry ``businessName``."""
    business = next(iter(emu.store.collection(emu.loc(), "businesses")), None)
    if business is None:
        business = {"id": "biz1", "name": "Acme Ltd", "locationId": emu.loc()}
        emu.store.put(emu.loc(), "businesses", business)
    made = await emu.create(email="biz@example.com")
    contacts = emu.store.contacts(emu.loc())
    contacts.put({**contacts.items[made["id"]], "businessId": business["id"]})
    response = await _search(
        emu, filters=[{"field": "email", "operator": "eq", "value": "biz@example.com"}]
    )
    assert response.json()["contacts"][0]["businessName"] == business["name"]


async def test_contact_list_answers_count(emu: Emu) -> None:
    """GHL-NOTES §4: ``GET /contacts/`` answers ``{contacts, count}`` as its spec says."""
    response = await emu.client.get(
        "/contacts/", params={"locationId": emu.loc(), "limit": 5}, headers=emu.headers()
    )
    body = response.json()
    assert body["count"] == len(emu.store.contacts(emu.loc())) and len(body["contacts"]) == 5
    assert body["traceId"]


# --------------------------------------------------------------------------- §4 index lag
async def test_search_lags_writes_by_default() -> None:
    """GHL-NOTES §4: a write shows up in search "a few seconds" later; GET sees it at once."""
    assert EmulatorSettings().search_index_delay_ms >= 1000
    emu = await make_emu(
        SeedOptions(locations=1, contacts=5, seed=2), EmulatorSettings(rate_limit=None)
    )
    async with emu.client:
        made = await emu.create(email="lag@example.com", firstName="Before")
        wanted = [{"field": "email", "operator": "eq", "value": "lag@example.com"}]
        first = (await _search(emu, filters=wanted)).json()
        assert first["contacts"] == [] and first["total"] == 0
        got = await emu.client.get(f"/contacts/{made['id']}", headers=emu.headers())
        assert got.json()["contact"]["email"] == "lag@example.com"
        emu.store.clock.advance(emu.store.search_index_delay_s + 0.01)
        second = (await _search(emu, filters=wanted)).json()
        assert [c["id"] for c in second["contacts"]] == [made["id"]] and second["total"] == 1
        # an update shows the previous version until indexed
        await emu.client.put(
            f"/contacts/{made['id']}", json={"firstName": "After"}, headers=emu.headers()
        )
        stale = (await _search(emu, filters=wanted)).json()["contacts"][0]
        assert stale["firstName"] == "Before"
        emu.store.clock.advance(emu.store.search_index_delay_s + 0.01)
        fresh = (await _search(emu, filters=wanted)).json()["contacts"][0]
        assert fresh["firstName"] == "After"


async def test_search_lag_can_be_turned_off_at_runtime() -> None:
    """GHL-NOTES §4: the lag is a setting (``searchIndexDelayMs``; CLI ``--search-delay-ms``)."""
    emu = await make_emu(
        SeedOptions(locations=1, contacts=5, seed=2), EmulatorSettings(rate_limit=None)
    )
    async with emu.client:
        answer = await emu.client.put("/_emulator/settings", json={"searchIndexDelayMs": 0})
        assert answer.status_code == 200
        made = await emu.create(email="now@example.com")
        wanted = [{"field": "email", "operator": "eq", "value": "now@example.com"}]
        found = (await _search(emu, filters=wanted)).json()["contacts"]
        assert [c["id"] for c in found] == [made["id"]]


# --------------------------------------------------------------------------- §4 / §5 refusals
async def test_filter_based_opportunity_search_answers_the_iam_401(emu: Emu) -> None:
    """GHL-NOTES §5 (hl-docs#74): the filter search is not open to public tokens."""
    response = await emu.client.post(
        "/opportunities/search",
        json={"locationId": emu.loc(), "filters": [], "limit": 5},
        headers=emu.headers(),
    )
    assert response.status_code == 401
    assert response.json()["message"] == (
        "This route is not yet supported by the IAM Service. Please update your IAM config."
    )


async def test_opportunity_filter_search_setting_serves_it() -> None:
    """The unconfirmed-elsewhere switch: ``opportunity_filter_search=True`` serves the spec."""
    emu = await make_emu(
        SeedOptions(locations=1, contacts=10, opportunities=4, seed=2),
        EmulatorSettings(rate_limit=None, opportunity_filter_search=True),
    )
    async with emu.client:
        response = await emu.client.post(
            "/opportunities/search", json={"locationId": emu.loc()}, headers=emu.headers()
        )
        assert response.status_code == 200 and response.json()["total"] == 4


async def test_get_opportunity_has_no_notes(emu: Emu) -> None:
    """GHL-NOTES §5 (hl-docs#305): ``GET /opportunities/{id}`` returns no ``notes``."""
    listed = await emu.client.get(
        "/opportunities/search", params={"location_id": emu.loc()}, headers=emu.headers()
    )
    opp = listed.json()["opportunities"][0]
    assert "notes" in opp  # the search keeps them
    got = await emu.client.get(f"/opportunities/{opp['id']}", headers=emu.headers())
    assert got.status_code == 200 and "notes" not in got.json()["opportunity"]


async def test_upsert_drops_gender_on_an_existing_contact(emu: Emu) -> None:
    """GHL-NOTES §4 (hl-docs#313): gender is silently discarded on an existing contact."""
    body = {"locationId": emu.loc(), "email": "gender@example.com", "gender": "female"}
    first = await emu.client.post("/contacts/upsert", json=body, headers=emu.headers())
    assert first.json()["new"] is True and first.json()["contact"]["gender"] == "female"
    again = await emu.client.post(
        "/contacts/upsert", json={**body, "gender": "male"}, headers=emu.headers()
    )
    assert again.status_code == 200 and again.json()["new"] is False
    assert again.json()["contact"]["gender"] == "female"


# --------------------------------------------------------------------------- §4 validation
async def test_filter_values_over_75_characters_are_refused(emu: Emu) -> None:
    """GHL-NOTES §4: filter values are at most 75 characters."""
    ok = await _search(emu, filters=[{"field": "firstName", "operator": "eq", "value": "a" * 75}])
    assert ok.status_code == 200
    long = await _search(emu, filters=[{"field": "firstName", "operator": "eq", "value": "a" * 76}])
    assert long.status_code == 422 and "75" in str(long.json()["message"])


async def test_special_characters_in_contains_are_refused(emu: Emu) -> None:
    """GHL-NOTES §4: ``contains`` / ``not_contains`` take no special characters."""
    for operator in ("contains", "not_contains"):
        bad = await _search(emu, filters=[{"field": "email", "operator": operator, "value": "a%*"}])
        assert bad.status_code == 422, operator
    fine = await _search(
        emu, filters=[{"field": "email", "operator": "contains", "value": "ann.lee@example.com"}]
    )
    assert fine.status_code == 200
    # eq is not limited that way
    eq = await _search(emu, filters=[{"field": "firstName", "operator": "eq", "value": "O'Neil"}])
    assert eq.status_code == 200


async def test_exists_with_a_value_is_refused(emu: Emu) -> None:
    """GHL-NOTES §4: ``exists`` / ``not_exists`` take no value."""
    bad = await _search(emu, filters=[{"field": "email", "operator": "exists", "value": "x"}])
    assert bad.status_code == 422
    good = await _search(emu, filters=[{"field": "email", "operator": "exists"}])
    assert good.status_code == 200


async def test_search_accepts_lower_case_name_fields(emu: Emu) -> None:
    """GHL-NOTES §4: ``firstNameLowerCase`` / ``lastNameLowerCase`` are search fields."""
    made = await emu.create(email="lc@example.com", firstName="Zebulon", lastName="Quarry")
    for field, value in (("firstNameLowerCase", "zebulon"), ("lastNameLowerCase", "quarry")):
        response = await _search(emu, filters=[{"field": field, "operator": "eq", "value": value}])
        assert response.status_code == 200, response.text
        assert [c["id"] for c in response.json()["contacts"]] == [made["id"]]


async def test_put_accepts_company_name_keyword_ssn_and_type(emu: Emu) -> None:
    """GHL-NOTES §4 (hl-docs#314): PUT accepts these beyond the spec; still refuses gender."""
    made = await emu.create(email="put@example.com")
    body = {"companyName": "Acme", "keyword": "kw", "ssn": "123-45-6789", "type": "customer"}
    response = await emu.client.put(f"/contacts/{made['id']}", json=body, headers=emu.headers())
    assert response.status_code == 200, response.text
    contact = response.json()["contact"]
    assert {key: contact[key] for key in body} == body
    refused = await emu.client.put(
        f"/contacts/{made['id']}", json={"gender": "male"}, headers=emu.headers()
    )
    assert refused.status_code == 422
    assert refused.json()["message"] == ["property gender should not exist"]


async def test_dnd_accepts_rcs_and_writes_the_message_itself(emu: Emu) -> None:
    """GHL-NOTES §4: real payloads carry an RCS channel; HighLevel writes ``message``."""
    made = await emu.create(email="dnd@example.com")
    settings = {
        "RCS": {"status": "active", "message": "mine"},
        "SMS": {"status": "inactive"},
    }
    response = await emu.client.put(
        f"/contacts/{made['id']}", json={"dndSettings": settings}, headers=emu.headers()
    )
    assert response.status_code == 200, response.text
    stored = response.json()["contact"]["dndSettings"]
    assert stored["RCS"]["status"] == "active" and stored["SMS"]["status"] == "inactive"
    for channel in ("RCS", "SMS"):
        assert stored[channel]["message"].startswith("Updated by "), stored[channel]
    unknown = await emu.client.put(
        f"/contacts/{made['id']}",
        json={"dndSettings": {"Fax": {"status": "active"}}},
        headers=emu.headers(),
    )
    assert unknown.status_code == 422
