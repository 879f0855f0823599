"""Contact writes: validation, duplicates, upsert priority, tags, custom fields, timestamps."""

from __future__ import annotations

from typing import Any

from tests.unit.emulator.conftest import Emu


async def test_unknown_property_is_422_per_property(emu: Emu) -> None:
    response = await emu.client.post(
        "/contacts/",
        json={"locationId": emu.loc(), "firstName": "A", "favouriteColour": "red", "x": 1},
        headers=emu.headers(),
    )
    assert response.status_code == 422
    assert response.json() == {
        "statusCode": 422,
        "message": ["property favouriteColour should not exist", "property x should not exist"],
        "error": "Unprocessable Entity",
        "traceId": response.json()["traceId"],
    }


async def test_invalid_email_and_phone_are_422(emu: Emu) -> None:
    for fields in ({"email": "not-an-email"}, {"phone": "12"}, {"phone": "call me"}):
        response = await emu.client.post(
            "/contacts/", json={"locationId": emu.loc(), **fields}, headers=emu.headers()
        )
        assert response.status_code == 422, fields
        assert response.json()["error"] == "Unprocessable Entity"


async def test_email_lowercased_and_phone_stored_e164(emu: Emu) -> None:
    contact = await emu.create(email="Ann.Lee@Example.COM", phone="(512) 555-0142", country="US")
    assert contact["email"] == "ann.lee@example.com"
    assert contact["phone"] == "+15125550142"
    gb = await emu.create(phone="07700 900123", country="GB")
    assert gb["phone"] == "+447700900123"


async def test_create_duplicate_is_400_naming_the_existing_contact(emu: Emu) -> None:
    first = await emu.create(firstName="Ann", email="ann@example.com")
    response = await emu.client.post(
        "/contacts/",
        json={"locationId": emu.loc(), "email": "ANN@example.com"},
        headers=emu.headers(),
    )
    assert response.status_code == 400
    meta = response.json()["meta"]
    assert meta["contactId"] == first["id"] and meta["matchingField"] == "email"
    await emu.client.put(
        f"/_emulator/locations/{emu.loc()}/settings", json={"allowDuplicateContact": True}
    )
    again = await emu.client.post(
        "/contacts/",
        json={"locationId": emu.loc(), "email": "ann@example.com"},
        headers=emu.headers(),
    )
    assert again.status_code == 201


async def _upsert(emu: Emu, **fields: Any) -> dict[str, Any]:
    response = await emu.client.post(
        "/contacts/upsert", json={"locationId": emu.loc(), **fields}, headers=emu.headers()
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_upsert_updates_first_priority_match_and_drops_the_conflicting_field(
    emu: Emu,
) -> None:
    by_email = await emu.create(email="e@example.com", phone="+15125550001")
    by_phone = await emu.create(email="p@example.com", phone="+15125550002")
    result = await _upsert(emu, email="e@example.com", phone="+15125550002", firstName="Eve")
    assert result["new"] is False
    assert result["contact"]["id"] == by_email["id"]
    assert result["contact"]["phone"] == "+15125550001"  # the other contact's phone was dropped
    assert result["contact"]["firstName"] == "Eve"
    # phone first: now the phone owner wins and the email is dropped
    await emu.client.put(
        f"/_emulator/locations/{emu.loc()}/settings", json={"priority": ["phone", "email"]}
    )
    result = await _upsert(emu, email="e@example.com", phone="+15125550002", lastName="Phone")
    assert result["contact"]["id"] == by_phone["id"]
    assert result["contact"]["email"] == "p@example.com"
    fresh = await _upsert(emu, email="new@example.com")
    assert fresh["new"] is True and fresh["traceId"]


async def test_tags_replace_on_update_and_upsert_but_add_remove_on_tag_endpoints(emu: Emu) -> None:
    contact = await emu.create(email="t@example.com", tags=["a", "b"])
    cid = contact["id"]
    added = await emu.client.post(
        f"/contacts/{cid}/tags", json={"tags": ["c"]}, headers=emu.headers()
    )
    assert added.status_code == 201 and added.json()["tags"] == ["a", "b", "c"]
    removed = await emu.client.request(
        "DELETE", f"/contacts/{cid}/tags", json={"tags": ["a"]}, headers=emu.headers()
    )
    assert removed.json()["tags"] == ["b", "c"]
    updated = await emu.client.put(f"/contacts/{cid}", json={"tags": ["z"]}, headers=emu.headers())
    assert updated.json()["contact"]["tags"] == ["z"]
    upserted = await _upsert(emu, email="t@example.com", tags=["y"])
    assert upserted["contact"]["tags"] == ["y"]
    bulk = await emu.client.post(
        "/contacts/bulk/tags/update/add",
        json={"locationId": emu.loc(), "contacts": [cid, "missing"], "tags": ["q"]},
        headers=emu.headers(),
    )
    assert bulk.status_code == 201
    assert bulk.json()["errorCount"] == 1
    got = await emu.client.get(f"/contacts/{cid}", headers=emu.headers())
    assert got.json()["contact"]["tags"] == ["y", "q"]
    tags = await emu.client.get(f"/locations/{emu.loc()}/tags", headers=emu.headers())
    assert {"y", "q", "z"} <= {tag["name"] for tag in tags.json()["tags"]}


async def _field_ids(emu: Emu) -> dict[str, dict[str, Any]]:
    response = await emu.client.get(
        f"/locations/{emu.loc()}/customFields", params={"model": "contact"}, headers=emu.headers()
    )
    return {field["fieldKey"]: field for field in response.json()["customFields"]}


async def test_custom_fields_by_id_and_key_read_back_as_id_value(emu: Emu) -> None:
    fields = await _field_ids(emu)
    status = fields["contact.membership_status"]
    size = fields["contact.company_size"]
    assert status["dataType"] == "SINGLE_OPTIONS" and status["picklistOptions"]
    contact = await emu.create(
        email="cf@example.com",
        customFields=[
            {"id": status["id"], "field_value": "paused"},
            {"key": "contact.company_size", "field_value": "42"},
            {"key": "referral_code", "value": "R1"},
        ],
    )
    values = {item["id"]: item["value"] for item in contact["customFields"]}
    assert values[status["id"]] == "paused"
    assert values[size["id"]] == 42
    assert values[fields["contact.referral_code"]["id"]] == "R1"
    assert all(set(item) == {"id", "value"} for item in contact["customFields"])
    bad = await emu.client.post(
        "/contacts/",
        json={
            "locationId": emu.loc(),
            "customFields": [
                {"id": status["id"], "field_value": "unknown-option"},
                {"id": size["id"], "field_value": "many"},
                {"key": "no_such_field", "field_value": "x"},
            ],
        },
        headers=emu.headers(),
    )
    assert bad.status_code == 422
    assert len(bad.json()["message"]) == 3


async def test_custom_field_definitions_crud(emu: Emu) -> None:
    created = await emu.client.post(
        f"/locations/{emu.loc()}/customFields",
        json={"name": "Favourite Studio", "dataType": "RADIO", "options": ["north", "south"]},
        headers=emu.headers(),
    )
    assert created.status_code == 201
    field = created.json()["customField"]
    assert field["fieldKey"] == "contact.favourite_studio" and field["model"] == "contact"
    path = f"/locations/{emu.loc()}/customFields/{field['id']}"
    renamed = await emu.client.put(path, json={"name": "Studio"}, headers=emu.headers())
    assert renamed.json()["customField"]["name"] == "Studio"
    assert renamed.json()["customField"]["fieldKey"] == "contact.favourite_studio"
    assert (await emu.client.delete(path, headers=emu.headers())).json() == {"succeded": True}
    assert (await emu.client.get(path, headers=emu.headers())).status_code == 404


async def test_date_updated_advances_on_every_write(emu: Emu) -> None:
    contact = await emu.create(email="d@example.com")
    stamps = [contact["dateUpdated"]]
    cid = contact["id"]
    await emu.client.put(f"/contacts/{cid}", json={"firstName": "D"}, headers=emu.headers())
    stamps.append(
        (await emu.client.get(f"/contacts/{cid}", headers=emu.headers())).json()["contact"][
            "dateUpdated"
        ]
    )
    await emu.client.post(f"/contacts/{cid}/tags", json={"tags": ["x"]}, headers=emu.headers())
    stamps.append(
        (await emu.client.get(f"/contacts/{cid}", headers=emu.headers())).json()["contact"][
            "dateUpdated"
        ]
    )
    assert stamps == sorted(stamps) and len(set(stamps)) == 3
    assert contact["dateAdded"] == stamps[0]
    assert stamps[0].endswith("Z") and len(stamps[0]) == 24  # 2026-01-01T00:00:00.000Z


async def test_delete_is_tracked_and_emits_events(emu: Emu) -> None:
    contact = await emu.create(email="gone@example.com", tags=["a"])
    cid = contact["id"]
    await emu.client.put(
        f"/contacts/{cid}",
        json={"dnd": True, "dndSettings": {"SMS": {"status": "active"}}},
        headers=emu.headers(),
    )
    assert (await emu.client.delete(f"/contacts/{cid}", headers=emu.headers())).json() == {
        "succeded": True
    }
    assert (await emu.client.get(f"/contacts/{cid}", headers=emu.headers())).status_code == 400
    state = (await emu.client.get("/_emulator/state")).json()
    assert state["locations"][0]["deleted"]["contacts"] == 1
    events = (await emu.client.get("/_emulator/events")).json()["events"]
    types = [event["type"] for event in events if event.get("id") == cid]
    assert types == ["ContactCreate", "ContactUpdate", "ContactDndUpdate", "ContactDelete"]
    create = next(event for event in events if event["type"] == "ContactCreate")
    assert create["locationId"] == emu.loc() and create["email"] == "gone@example.com"


async def test_notes_and_tasks_crud(emu: Emu) -> None:
    cid = (await emu.create(email="n@example.com"))["id"]
    note = (
        await emu.client.post(
            f"/contacts/{cid}/notes", json={"body": "hello"}, headers=emu.headers()
        )
    ).json()["note"]
    path = f"/contacts/{cid}/notes/{note['id']}"
    await emu.client.put(path, json={"body": "edited"}, headers=emu.headers())
    listed = (await emu.client.get(f"/contacts/{cid}/notes", headers=emu.headers())).json()["notes"]
    assert [n["body"] for n in listed] == ["edited"]
    assert (await emu.client.delete(path, headers=emu.headers())).json() == {"succeded": True}
    task = await emu.client.post(
        f"/contacts/{cid}/tasks",
        json={"title": "Call", "dueDate": "2027-01-01T10:00:00Z", "completed": False},
        headers=emu.headers(),
    )
    assert task.status_code == 201
    tid = task.json()["task"]["id"]
    done = await emu.client.put(
        f"/contacts/{cid}/tasks/{tid}/completed", json={"completed": True}, headers=emu.headers()
    )
    assert done.json()["task"]["completed"] is True
    assert (
        await emu.client.delete(f"/contacts/{cid}/tasks/{tid}", headers=emu.headers())
    ).status_code == 200
    types = [e["type"] for e in (await emu.client.get("/_emulator/events")).json()["events"]]
    for expected in (
        "NoteCreate",
        "NoteUpdate",
        "NoteDelete",
        "TaskCreate",
        "TaskComplete",
        "TaskDelete",
    ):
        assert expected in types


async def test_duplicate_lookup(emu: Emu) -> None:
    contact = await emu.create(email="dup@example.com", phone="+15125550777")
    by_email = await emu.client.get(
        "/contacts/search/duplicate",
        params={"locationId": emu.loc(), "email": "DUP@example.com"},
        headers=emu.headers(),
    )
    assert by_email.json()["contact"]["id"] == contact["id"]
    by_phone = await emu.client.get(
        "/contacts/search/duplicate",
        params={"locationId": emu.loc(), "number": "+15125550777"},
        headers=emu.headers(),
    )
    assert by_phone.json()["contact"]["id"] == contact["id"]
    none = await emu.client.get(
        "/contacts/search/duplicate",
        params={"locationId": emu.loc(), "email": "nobody@example.com"},
        headers=emu.headers(),
    )
    assert none.json() == {"contact": None}


async def test_duplicate_lookup_needs_email_or_number(emu: Emu) -> None:
    response = await emu.client.get(
        "/contacts/search/duplicate", params={"locationId": emu.loc()}, headers=emu.headers()
    )
    assert response.status_code == 400
    assert "number, email" in response.json()["message"]


async def test_contact_appointments_come_from_calendar_events(emu: Emu) -> None:
    contact = await emu.create(email="appt@example.com")
    for start in ("2027-01-02T10:00:00.000Z", "2027-01-01T10:00:00.000Z"):
        await emu.client.post(
            f"/_emulator/locations/{emu.loc()}/calendar_events",
            json={"contactId": contact["id"], "startTime": start, "title": "Visit"},
        )
    response = await emu.client.get(
        f"/contacts/{contact['id']}/appointments", headers=emu.headers()
    )
    events = response.json()["events"]
    assert [event["startTime"] for event in events] == [
        "2027-01-01T10:00:00.000Z",
        "2027-01-02T10:00:00.000Z",
    ]


async def test_location_task_search_pages_with_skip_and_limit(emu: Emu) -> None:
    path = f"/locations/{emu.loc()}/tasks/search"
    everything = await emu.client.post(path, json={"limit": 1000}, headers=emu.headers())
    assert everything.status_code == 200
    tasks = everything.json()["tasks"]
    assert tasks and all(isinstance(task, dict) and task["contactId"] for task in tasks)
    paged = []
    for skip in range(0, len(tasks), 2):
        page = await emu.client.post(path, json={"skip": skip, "limit": 2}, headers=emu.headers())
        paged += page.json()["tasks"]
    assert [t["id"] for t in paged] == [t["id"] for t in tasks]
    done = await emu.client.post(
        path, json={"completed": True, "limit": 1000}, headers=emu.headers()
    )
    assert all(task["completed"] for task in done.json()["tasks"])
    one = tasks[0]["contactId"]
    mine = await emu.client.post(
        path, json={"contactId": [one], "limit": 1000}, headers=emu.headers()
    )
    assert {task["contactId"] for task in mine.json()["tasks"]} == {one}
