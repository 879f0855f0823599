"""The conformance scenario's part for custom objects, custom fields v2, associations, custom
values, workflows and contact memberships (issue 16 items 7-8): every operation, called as a
client would, so ``test_emulator_conformance.py`` validates each answer against its spec."""

from __future__ import annotations

from typing import Any


async def exercise_objects(s: Any, state: Any) -> None:
    loc = state.locations[0]["id"]
    h = {"Authorization": f"Bearer {state.locations[0]['token']}", "Version": "2021-07-28"}
    q = {"locationId": loc}

    # --- object schemas
    listed = await s.call("GET", "/objects/", params=q, headers=h)
    assert any(o["key"] == "custom_objects.pet" for o in listed["objects"])
    made = await s.call(
        "POST",
        "/objects/",
        json_body={
            "labels": {"singular": "Vehicle", "plural": "Vehicles"},
            "key": "vehicle",
            "description": "Cars of our clients",
            "locationId": loc,
            "primaryDisplayPropertyDetails": {
                "key": "plate",
                "name": "Plate",
                "dataType": "TEXT",
            },
        },
        headers=h,
    )
    key = made["object"]["key"]
    await s.call(
        "GET", "/objects/{key}", params={**q, "fetchProperties": "true"}, headers=h, key=key
    )
    await s.call(
        "PUT",
        "/objects/{key}",
        json_body={
            "locationId": loc,
            "description": "Cars and vans",
            "searchableProperties": [f"{key}.plate"],
        },
        headers=h,
        key=key,
    )

    # --- custom fields v2 and folders
    folder = await s.call(
        "POST",
        "/custom-fields/folder",
        json_body={"objectKey": key, "name": "Details", "locationId": loc},
        headers=h,
    )
    await s.call(
        "PUT",
        "/custom-fields/folder/{id}",
        json_body={"name": "Vehicle details", "locationId": loc},
        headers=h,
        id=folder["id"],
    )
    field = (
        await s.call(
            "POST",
            "/custom-fields/",
            json_body={
                "locationId": loc,
                "name": "Seats",
                "dataType": "NUMERICAL",
                "fieldKey": f"{key}.seats",
                "objectKey": key,
                "parentId": folder["id"],
                "showInForms": True,
            },
            headers=h,
        )
    )["field"]
    await s.call("GET", "/custom-fields/{id}", headers=h, id=field["id"])
    await s.call(
        "PUT",
        "/custom-fields/{id}",
        json_body={"locationId": loc, "showInForms": False, "name": "Seat count"},
        headers=h,
        id=field["id"],
    )
    await s.call("GET", "/custom-fields/object-key/{objectKey}", params=q, headers=h, objectKey=key)

    # --- records
    record = (
        await s.call(
            "POST",
            "/objects/{schemaKey}/records",
            json_body={"locationId": loc, "properties": {"plate": "AB-123", "seats": 5}},
            headers=h,
            schemaKey=key,
        )
    )["record"]
    r_path = "/objects/{schemaKey}/records/{id}"
    await s.call("GET", r_path, params=q, headers=h, schemaKey=key, id=record["id"])
    await s.call(
        "PUT",
        r_path,
        params=q,
        json_body={"properties": {"seats": 7}},
        headers=h,
        schemaKey=key,
        id=record["id"],
    )
    await s.call(
        "POST",
        "/objects/{schemaKey}/records/search",
        json_body={"locationId": loc, "page": 1, "pageLimit": 10, "query": "", "searchAfter": []},
        headers=h,
        schemaKey="custom_objects.pet",
    )

    # --- associations and relations
    associations = await s.call(
        "GET", "/associations/", params={**q, "skip": 0, "limit": 10}, headers=h
    )
    seeded = associations["associations"][0]
    await s.call("GET", "/associations/{associationId}", headers=h, associationId=seeded["id"])
    await s.call("GET", "/associations/key/{key_name}", params=q, headers=h, key_name=seeded["key"])
    await s.call(
        "GET", "/associations/objectKey/{objectKey}", params=q, headers=h, objectKey="contact"
    )
    association = await s.call(
        "POST",
        "/associations/",
        json_body={
            "locationId": loc,
            "key": "contact_vehicle",
            "firstObjectLabel": "Driver",
            "firstObjectKey": "contact",
            "secondObjectLabel": "Vehicle",
            "secondObjectKey": key,
        },
        headers=h,
    )
    await s.call(
        "PUT",
        "/associations/{associationId}",
        json_body={"firstObjectLabel": "Owner", "secondObjectLabel": "Car"},
        headers=h,
        associationId=association["id"],
    )
    contacts = await s.call("GET", "/contacts/", params={**q, "limit": 2}, headers=h)
    contact_id = contacts["contacts"][0]["id"]
    relation = await s.call(
        "POST",
        "/associations/relations",
        json_body={
            "locationId": loc,
            "associationId": association["id"],
            "firstRecordId": contact_id,
            "secondRecordId": record["id"],
        },
        headers=h,
    )
    await s.call(
        "GET",
        "/associations/relations/{recordId}",
        params={**q, "skip": 0, "limit": 10},
        headers=h,
        recordId=record["id"],
    )
    await s.call(
        "DELETE",
        "/associations/relations/{relationId}",
        params=q,
        headers=h,
        relationId=relation["id"],
    )
    await s.call(
        "DELETE", "/associations/{associationId}", headers=h, associationId=association["id"]
    )
    await s.call("DELETE", r_path, params=q, headers=h, schemaKey=key, id=record["id"])
    await s.call("DELETE", "/custom-fields/{id}", headers=h, id=field["id"])
    await s.call("DELETE", "/custom-fields/folder/{id}", params=q, headers=h, id=folder["id"])

    # --- custom values
    v_path = "/locations/{locationId}/customValues"
    await s.call("GET", v_path, headers=h, locationId=loc)
    value = (
        await s.call(
            "POST",
            v_path,
            json_body={"name": "Hotline", "value": "+1 555 0199"},
            headers=h,
            locationId=loc,
        )
    )["customValue"]
    one = v_path + "/{id}"
    await s.call("GET", one, headers=h, locationId=loc, id=value["id"])
    await s.call(
        "PUT",
        one,
        json_body={"name": "Hotline", "value": "+1 555 0100"},
        headers=h,
        locationId=loc,
        id=value["id"],
    )
    await s.call("DELETE", one, headers=h, locationId=loc, id=value["id"])

    # --- workflows, followers, campaign and workflow membership
    workflows = await s.call("GET", "/workflows/", params=q, headers=h)
    workflow_id = workflows["workflows"][0]["id"]
    campaigns = await s.call("GET", "/campaigns/", params=q, headers=h)
    campaign_id = campaigns["campaigns"][0]["id"]
    users = await s.call("GET", "/users/", params=q, headers=h)
    user_id = users["users"][0]["id"]
    c_path = "/contacts/{contactId}"
    followers = {"followers": [user_id]}
    await s.call(
        "POST", c_path + "/followers", json_body=followers, headers=h, contactId=contact_id
    )
    await s.call(
        "DELETE", c_path + "/followers", json_body=followers, headers=h, contactId=contact_id
    )
    camp = c_path + "/campaigns/{campaignId}"
    await s.call(
        "POST", camp, json_body={}, headers=h, contactId=contact_id, campaignId=campaign_id
    )
    await s.call("DELETE", camp, headers=h, contactId=contact_id, campaignId=campaign_id)
    await s.call("DELETE", c_path + "/campaigns/removeAll", headers=h, contactId=contact_id)
    flow = c_path + "/workflow/{workflowId}"
    start = {"eventStartTime": "2026-06-23T03:30:00+01:00"}
    await s.call(
        "POST", flow, json_body=start, headers=h, contactId=contact_id, workflowId=workflow_id
    )
    await s.call(
        "DELETE", flow, json_body=start, headers=h, contactId=contact_id, workflowId=workflow_id
    )


_STRING = {"type": "string"}
_ASSOCIATION = {"$ref": "#/components/schemas/GetPostSuccessfulResponseDto"}
_RELATION = {
    "type": "object",
    "required": [
        "id",
        "associationId",
        "firstObjectKey",
        "firstRecordId",
        "secondObjectKey",
        "secondRecordId",
        "locationId",
    ],
    "properties": {
        name: _STRING
        for name in (
            "id",
            "associationId",
            "firstObjectKey",
            "firstRecordId",
            "secondObjectKey",
            "secondRecordId",
            "locationId",
        )
    },
}


def _listing(name: str, item: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": [name, "total"],
        "properties": {
            name: {"type": "array", "items": item},
            "total": {"type": "number"},
            "traceId": _STRING,
        },
    }


def _answer(path: str, method: str, status: str) -> tuple[str | int, ...]:
    return ("paths", path, method, "responses", status, "content", "application/json", "schema")


#: spec errors of objects.json, custom-fields.json and associations.json (the shared
#: ``SPEC_QUIRKS`` list of test_emulator_conformance.py takes these)
OBJECT_QUIRKS: list[tuple[str, tuple[str | int, ...], Any, str]] = [
    *[
        (
            "objects",
            ("components", "schemas", schema, "properties", "properties"),
            {"type": "object"},
            f"{schema}.properties is typed string; its own example (and every record) is an "
            "object keyed by field",
        )
        for schema in ("IRecordSchema", "RecordResponseDTO")
    ],
    (
        "objects",
        ("components", "schemas", "RecordResponseDTO", "properties", "searchAfter", "items"),
        {"type": ["number", "string"]},
        "searchAfter holds a sort value and an id ([ms, id]), typed numbers with a string example",
    ),
    (
        "custom-fields",
        ("components", "schemas", "CustomFieldsResponseDTO", "properties", "folders", "items"),
        {"$ref": "#/components/schemas/ICustomFieldFolder"},
        "folders are ICustomFieldFolder (the spec's own folder schema), typed as fields",
    ),
    *[
        (
            "associations",
            ("components", "schemas", "GetPostSuccessfulResponseDto", "properties", name),
            _STRING,
            f"{name} is typed object; its example and the Association webhook docs say string",
        )
        for name in (
            "firstObjectLabel",
            "firstObjectKey",
            "secondObjectLabel",
            "secondObjectKey",
            "associationType",
        )
    ],
    (
        "associations",
        _answer("/associations/", "get", "200"),
        _listing("associations", _ASSOCIATION),
        "a list answers a list of associations, typed as one (list shape unconfirmed)",
    ),
    (
        "associations",
        _answer("/associations/objectKey/{objectKey}", "get", "200"),
        _listing("associations", _ASSOCIATION),
        "the associations of an object are a list, typed as one association",
    ),
    (
        "associations",
        _answer("/associations/relations/{recordId}", "get", "200"),
        _listing("relations", _RELATION),
        "a record's relations are a list of relations (RelationCreate webhook shape), typed as "
        "one association",
    ),
    *[
        (
            "associations",
            _answer(path, method, status),
            _RELATION,
            "a relation answers a relation (RelationCreate webhook shape), typed as an association",
        )
        for path, method, status in (
            ("/associations/relations", "post", "201"),
            ("/associations/relations/{relationId}", "delete", "200"),
        )
    ],
]
