"""The official Python SDK's calls for objects, associations, custom values and workflows,
replayed as plain httpx (issue 16, "Done when").

Shaped after ``highlevel-api-python`` @2fe558c (``services/objects``, ``services/associations``,
``services/locations``, ``services/workflows``): each method sends ``Version: v3``, path
parameters in the URL, the spec's query names (``locationId``, ``skip``/``limit`` typed as
floats, ``associationIds``, ``fetchProperties``) and the request body as JSON.
"""

from __future__ import annotations

from typing import Any

from tests.unit.emulator.conftest import Emu

JSON = {"Content-Type": "application/json", "Version": "v3"}


def _h(emu: Emu) -> dict[str, str]:
    return {**JSON, "Authorization": f"Bearer {emu.state.locations[0]['token']}"}


async def _ok(emu: Emu, method: str, url: str, **kwargs: Any) -> Any:
    response = await emu.client.request(method, url, headers=_h(emu), **kwargs)
    assert 200 <= response.status_code < 300, f"{method} {url}: {response.text}"
    return response.json()


async def test_sdk_objects_calls(emu: Emu) -> None:
    loc = emu.loc()
    # Objects.get_object_by_location_id / get_object_schema_by_key
    objects = await _ok(emu, "GET", "/objects/", params={"locationId": loc})
    keys = [o["key"] for o in objects["objects"]]
    assert {"contact", "opportunity", "business", "custom_objects.pet"} <= set(keys)
    pet = await _ok(
        emu,
        "GET",
        "/objects/custom_objects.pet",
        params={"locationId": loc, "fetchProperties": "true"},
    )
    assert {f["fieldKey"] for f in pet["fields"]} >= {"custom_objects.pet.name"}
    # Objects.search_object_records
    found = await _ok(
        emu,
        "POST",
        "/objects/custom_objects.pet/records/search",
        json={"locationId": loc, "page": 1, "pageLimit": 2, "query": "", "searchAfter": []},
    )
    assert found["total"] >= 2 and len(found["records"]) == 2
    # the next page through the last row's searchAfter
    more = await _ok(
        emu,
        "POST",
        "/objects/custom_objects.pet/records/search",
        json={
            "locationId": loc,
            "page": 1,
            "pageLimit": 2,
            "query": "",
            "searchAfter": found["records"][-1]["searchAfter"],
        },
    )
    seen = {r["id"] for r in found["records"]}
    assert more["records"] and not seen & {r["id"] for r in more["records"]}
    # Objects.create_object_record / get_record_by_id / update_object_record / delete_object_record
    made = await _ok(
        emu,
        "POST",
        "/objects/custom_objects.pet/records",
        json={"locationId": loc, "properties": {"name": "Rex", "age": 4}},
    )
    record_id = made["record"]["id"]
    url = f"/objects/custom_objects.pet/records/{record_id}"
    assert (await _ok(emu, "GET", url))["record"]["properties"]["name"] == "Rex"
    updated = await _ok(
        emu, "PUT", url, params={"locationId": loc}, json={"properties": {"age": 5}}
    )
    assert updated["record"]["properties"] == {"name": "Rex", "age": 5}
    assert (await _ok(emu, "DELETE", url)) == {"id": record_id, "success": True}


async def test_sdk_associations_calls(emu: Emu) -> None:
    loc = emu.loc()
    # Associations.find_associations (skip/limit typed float in the SDK)
    listed = await _ok(
        emu, "GET", "/associations/", params={"locationId": loc, "skip": 0.0, "limit": 10.0}
    )
    association = next(a for a in listed["associations"] if a["key"] == "contact_pet")
    by_key = await _ok(emu, "GET", "/associations/key/contact_pet", params={"locationId": loc})
    assert by_key["id"] == association["id"]
    by_object = await _ok(
        emu, "GET", "/associations/objectKey/custom_objects.pet", params={"locationId": loc}
    )
    assert association["id"] in {a["id"] for a in by_object["associations"]}
    # Associations.create_relation / get_relations_by_record_id / delete_relation
    contact = await emu.create(email="owner@example.com")
    pets = await _ok(
        emu,
        "POST",
        "/objects/custom_objects.pet/records/search",
        json={"locationId": loc, "page": 1, "pageLimit": 1, "query": "", "searchAfter": []},
    )
    pet_id = pets["records"][0]["id"]
    relation = await _ok(
        emu,
        "POST",
        "/associations/relations",
        json={
            "locationId": loc,
            "associationId": association["id"],
            "firstRecordId": contact["id"],
            "secondRecordId": pet_id,
        },
    )
    relations = await _ok(
        emu,
        "GET",
        f"/associations/relations/{contact['id']}",
        params={
            "locationId": loc,
            "skip": 0.0,
            "limit": 10.0,
            "associationIds": [association["id"]],
        },
    )
    assert [r["id"] for r in relations["relations"]] == [relation["id"]]
    await _ok(
        emu, "DELETE", f"/associations/relations/{relation['id']}", params={"locationId": loc}
    )
    # Associations.create_association / update / get_association_by_id / delete_association
    made = await _ok(
        emu,
        "POST",
        "/associations/",
        json={
            "locationId": loc,
            "key": "pet_vet",
            "firstObjectLabel": "Pet",
            "firstObjectKey": "custom_objects.pet",
            "secondObjectLabel": "Vet",
            "secondObjectKey": "contact",
        },
    )
    url = f"/associations/{made['id']}"
    await _ok(emu, "PUT", url, json={"firstObjectLabel": "Patient", "secondObjectLabel": "Vet"})
    assert (await _ok(emu, "GET", url))["firstObjectLabel"] == "Patient"
    assert (await _ok(emu, "DELETE", url))["deleted"] is True


async def test_sdk_custom_values_and_workflows_calls(emu: Emu) -> None:
    loc = emu.loc()
    base = f"/locations/{loc}/customValues"
    # Locations.get_custom_values / create / get / update / delete
    assert (await _ok(emu, "GET", base))["customValues"]
    made = await _ok(emu, "POST", base, json={"name": "Promo Code", "value": "SPRING"})
    value = made["customValue"]
    assert value["fieldKey"] == "{{ custom_values.promo_code }}"
    url = f"{base}/{value['id']}"
    assert (await _ok(emu, "GET", url))["customValue"]["value"] == "SPRING"
    changed = await _ok(emu, "PUT", url, json={"name": "Promo Code", "value": "SUMMER"})
    assert changed["customValue"]["value"] == "SUMMER"
    assert (await _ok(emu, "DELETE", url)) == {"succeded": True}
    # Workflows.get_workflow
    workflows = await _ok(emu, "GET", "/workflows/", params={"locationId": loc})
    assert workflows["workflows"] and all(w["locationId"] == loc for w in workflows["workflows"])
