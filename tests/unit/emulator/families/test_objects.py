"""Custom objects, custom fields v2, associations, custom values and memberships (issue 16
items 7-8): behaviour beyond the happy paths the SDK and contract tests drive."""

from __future__ import annotations

from typing import Any

from tests.unit.emulator.conftest import Emu


async def _call(emu: Emu, method: str, url: str, **kwargs: Any) -> Any:
    return await emu.client.request(method, url, headers=emu.headers(), **kwargs)


async def _pets(emu: Emu) -> list[dict[str, Any]]:
    response = await _call(
        emu,
        "POST",
        "/objects/custom_objects.pet/records/search",
        json={"locationId": emu.loc(), "page": 1, "pageLimit": 100},
    )
    records: list[dict[str, Any]] = response.json()["records"]
    return records


async def test_records_refuse_unknown_fields_and_wrong_types(emu: Emu) -> None:
    url = "/objects/custom_objects.pet/records"
    unknown = await _call(
        emu, "POST", url, json={"locationId": emu.loc(), "properties": {"colour": "red"}}
    )
    assert unknown.status_code == 422 and "colour" in str(unknown.json()["message"])
    wrong = await _call(
        emu, "POST", url, json={"locationId": emu.loc(), "properties": {"age": "three"}}
    )
    assert wrong.status_code == 422
    full_key = await _call(
        emu,
        "POST",
        url,
        json={"locationId": emu.loc(), "properties": {"custom_objects.pet.name": "Fido"}},
    )
    assert full_key.status_code == 201 and full_key.json()["record"]["properties"] == {
        "name": "Fido"
    }
    too_many = await _call(
        emu, "POST", url, json={"locationId": emu.loc(), "owner": ["a", "b"], "properties": {}}
    )
    assert too_many.status_code == 422


async def test_record_search_query_matches_a_property(emu: Emu) -> None:
    pets = await _pets(emu)
    name = pets[0]["properties"]["name"]
    response = await _call(
        emu,
        "POST",
        "/objects/custom_objects.pet/records/search",
        json={"locationId": emu.loc(), "page": 1, "pageLimit": 100, "query": f"name:{name}"},
    )
    found = response.json()["records"]
    assert found and all(r["properties"]["name"] == name for r in found)
    assert response.json()["total"] == len(found)


async def test_record_update_moves_updated_at_and_delete_removes_its_relations(emu: Emu) -> None:
    pet = (await _pets(emu))[0]
    url = f"/objects/custom_objects.pet/records/{pet['id']}"
    updated = await _call(
        emu, "PUT", url, params={"locationId": emu.loc()}, json={"properties": {"breed": "Pug"}}
    )
    assert updated.status_code == 200
    record = updated.json()["record"]
    assert record["updatedAt"] > pet["updatedAt"] and record["properties"]["breed"] == "Pug"
    relations = emu.store.collection(emu.loc(), "relations")
    assert any(pet["id"] == r["secondRecordId"] for r in relations)
    assert (await _call(emu, "DELETE", url)).status_code == 200
    assert not any(pet["id"] == r["secondRecordId"] for r in relations)
    assert (await _call(emu, "GET", url)).status_code == 400


async def test_object_create_prefixes_the_key_and_refuses_a_duplicate(emu: Emu) -> None:
    body = {
        "labels": {"singular": "Boat", "plural": "Boats"},
        "key": "boat",
        "locationId": emu.loc(),
        "primaryDisplayPropertyDetails": {"key": "hull", "name": "Hull", "dataType": "TEXT"},
    }
    made = await _call(emu, "POST", "/objects/", json=body)
    assert made.status_code == 201
    schema = made.json()["object"]
    assert schema["key"] == "custom_objects.boat"
    assert schema["primaryDisplayProperty"] == "custom_objects.boat.hull"
    again = await _call(emu, "POST", "/objects/", json=body)
    assert again.status_code == 400
    bad = await _call(
        emu,
        "POST",
        "/objects/",
        json={**body, "key": "ship", "primaryDisplayPropertyDetails": {"key": "x"}},
    )
    assert bad.status_code == 422


async def test_a_folder_with_fields_cannot_be_deleted(emu: Emu) -> None:
    listing = await _call(
        emu,
        "GET",
        "/custom-fields/object-key/custom_objects.pet",
        params={"locationId": emu.loc()},
    )
    folder = listing.json()["folders"][0]
    refused = await _call(
        emu, "DELETE", f"/custom-fields/folder/{folder['id']}", params={"locationId": emu.loc()}
    )
    assert refused.status_code == 400
    assert all(f["parentId"] == folder["id"] for f in listing.json()["fields"])


async def test_relations_need_records_of_the_associations_objects(emu: Emu) -> None:
    association = next(iter(emu.store.collection(emu.loc(), "associations")))
    contact = await emu.create(email="rel@example.com")
    wrong_way = await _call(
        emu,
        "POST",
        "/associations/relations",
        json={
            "locationId": emu.loc(),
            "associationId": association["id"],
            "firstRecordId": (await _pets(emu))[0]["id"],
            "secondRecordId": contact["id"],
        },
    )
    assert wrong_way.status_code == 400


async def test_custom_value_names_are_unique(emu: Emu) -> None:
    url = f"/locations/{emu.loc()}/customValues"
    first = await _call(emu, "POST", url, json={"name": "Hotline", "value": "1"})
    assert first.status_code == 201
    second = await _call(emu, "POST", url, json={"name": "hotline", "value": "2"})
    assert second.status_code == 400
    missing = await _call(emu, "POST", url, json={"name": "Only a name"})
    assert missing.status_code == 422


async def test_followers_are_a_contact_write_and_memberships_need_the_target(emu: Emu) -> None:
    contact = await emu.create(email="follow@example.com")
    url = f"/contacts/{contact['id']}/followers"
    added = await _call(emu, "POST", url, json={"followers": ["u1", "u2", "u1"]})
    assert added.status_code == 201
    assert added.json() == {"followers": ["u1", "u2"], "followersAdded": ["u1", "u2"]}
    got = await _call(emu, "GET", f"/contacts/{contact['id']}")
    assert got.json()["contact"]["followers"] == ["u1", "u2"]
    assert got.json()["contact"]["dateUpdated"] > contact["dateUpdated"]
    removed = await _call(emu, "DELETE", url, json={"followers": ["u2", "u9"]})
    assert removed.json() == {"followers": ["u1"], "followersRemoved": ["u2"]}
    nowhere = await _call(emu, "POST", f"/contacts/{contact['id']}/workflow/nope", json={})
    assert nowhere.status_code == 400
    workflow = next(iter(emu.store.collection(emu.loc(), "workflows")))
    joined = await _call(
        emu,
        "POST",
        f"/contacts/{contact['id']}/workflow/{workflow['id']}",
        json={"eventStartTime": "2026-06-23T03:30:00+01:00"},
    )
    assert joined.status_code == 200
    members = list(emu.store.collection(emu.loc(), "workflow_members"))
    assert [(m["contactId"], m["workflowId"]) for m in members] == [(contact["id"], workflow["id"])]
    assert members[0]["eventStartTime"] == "2026-06-23T02:30:00.000Z"


async def test_literal_segments_are_not_taken_for_ids(emu: Emu) -> None:
    for method, path in (
        ("GET", "/associations/relations"),
        ("PUT", "/associations/key"),
        ("GET", "/custom-fields/folder"),
        ("DELETE", "/custom-fields/object-key"),
    ):
        response = await _call(emu, method, path, json={})
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["message"] == f"Cannot {method} {path}"
