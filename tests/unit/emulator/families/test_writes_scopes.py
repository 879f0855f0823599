"""Scopes per endpoint, incremental timestamps on writes, tracked deletes, emitted events,
and identical replays of one seed."""

from __future__ import annotations

from typing import Any

import pytest

from ghlsync.emulator import SeedOptions, build
from tests.unit.emulator.conftest import Emu
from tests.unit.emulator.families.conftest import OPTIONS

V415 = "2021-04-15"

#: (method, path template, params, scope it needs, Version)
READS = [
    ("GET", "/opportunities/search", {"location_id": "{loc}"}, "opportunities.readonly", None),
    ("GET", "/opportunities/pipelines", {"locationId": "{loc}"}, "opportunities.readonly", None),
    ("GET", "/users/", {"locationId": "{loc}"}, "users.readonly", None),
    ("GET", "/calendars/", {"locationId": "{loc}"}, "calendars.readonly", V415),
    ("GET", "/conversations/search", {"locationId": "{loc}"}, "conversations.readonly", V415),
    ("GET", "/campaigns/", {"locationId": "{loc}"}, "campaigns.readonly", None),
    ("GET", "/businesses/", {"locationId": "{loc}"}, "businesses.readonly", None),
    ("GET", "/forms/submissions", {"locationId": "{loc}"}, "forms.readonly", None),
    ("GET", "/surveys/submissions", {"locationId": "{loc}"}, "surveys.readonly", None),
    (
        "GET",
        "/invoices/",
        {"altId": "{loc}", "altType": "location", "limit": "5", "offset": "0"},
        "invoices.readonly",
        None,
    ),
    ("GET", "/products/", {"locationId": "{loc}"}, "products.readonly", None),
    ("GET", "/payments/orders", {"altId": "{loc}"}, "payments/orders.readonly", None),
    (
        "GET",
        "/payments/transactions",
        {"altId": "{loc}", "altType": "location"},
        "payments/transactions.readonly",
        None,
    ),
]


async def _token(emu: Emu, scopes: list[str]) -> str:
    minted = await emu.client.post(
        "/_emulator/tokens", json={"locationId": emu.loc(), "scopes": scopes}
    )
    token: str = minted.json()["token"]
    return token


@pytest.mark.parametrize(("method", "path", "params", "scope", "version"), READS)
async def test_reads_need_their_scope(
    emu: Emu, method: str, path: str, params: dict[str, str], scope: str, version: str | None
) -> None:
    query = {key: value.format(loc=emu.loc()) for key, value in params.items()}
    with_scope = await _token(emu, [scope])
    without = await _token(emu, ["contacts.readonly"])
    headers = emu.token_headers(with_scope, version or "2021-07-28")
    assert (
        await emu.client.request(method, path, params=query, headers=headers)
    ).status_code == 200
    refused = await emu.client.request(
        method, path, params=query, headers=emu.token_headers(without, version or "2021-07-28")
    )
    assert refused.status_code == 401
    assert refused.json()["message"] == "The token is not authorized for this scope."
    other = await emu.client.request(
        method, path, params=query, headers=emu.headers(1, version=version or "2021-07-28")
    )
    assert other.status_code == 403


async def test_opportunity_writes_need_the_write_scope(emu: Emu) -> None:
    token = await _token(emu, ["opportunities.readonly"])
    found = (
        await emu.client.get(
            "/opportunities/search", params={"location_id": emu.loc()}, headers=emu.headers()
        )
    ).json()["opportunities"][0]
    refused = await emu.client.put(
        f"/opportunities/{found['id']}/status",
        json={"status": "lost"},
        headers=emu.token_headers(token),
    )
    assert refused.status_code == 401


async def _an_opportunity(emu: Emu) -> dict[str, Any]:
    body = (
        await emu.client.get(
            "/opportunities/search",
            params={"location_id": emu.loc(), "status": "open"},
            headers=emu.headers(),
        )
    ).json()
    opportunity: dict[str, Any] = body["opportunities"][0]
    return opportunity


async def test_opportunity_writes_stamp_updated_at_and_emit_events(emu: Emu) -> None:
    before = await _an_opportunity(emu)
    events: list[tuple[str, dict[str, Any]]] = []
    emu.store.subscribe(lambda kind, _loc, body: events.append((kind, body)))
    pipelines = (
        await emu.client.get(
            "/opportunities/pipelines", params={"locationId": emu.loc()}, headers=emu.headers()
        )
    ).json()["pipelines"]
    pipeline = next(p for p in pipelines if p["id"] == before["pipelineId"])
    new_stage = next(s["id"] for s in pipeline["stages"] if s["id"] != before["pipelineStageId"])
    updated = await emu.client.put(
        f"/opportunities/{before['id']}",
        json={"monetaryValue": 12345, "pipelineStageId": new_stage},
        headers=emu.headers(),
    )
    after = updated.json()["opportunity"]
    assert after["updatedAt"] > before["updatedAt"]
    assert after["createdAt"] == before["createdAt"]
    assert after["lastStageChangeAt"] == after["updatedAt"]
    status = await emu.client.put(
        f"/opportunities/{before['id']}/status", json={"status": "won"}, headers=emu.headers()
    )
    assert status.json() == {"succeded": True}
    kinds = [kind for kind, _ in events]
    assert kinds == [
        "OpportunityUpdate",
        "OpportunityStageUpdate",
        "OpportunityMonetaryValueUpdate",
        "OpportunityUpdate",
        "OpportunityStatusUpdate",
    ]
    body = events[-1][1]
    assert body["type"] == "OpportunityStatusUpdate" and body["locationId"] == emu.loc()
    assert body["status"] == "won" and body["monetaryValue"] == 12345
    assert set(body) >= {"id", "contactId", "pipelineId", "pipelineStageId", "dateAdded"}
    # an incremental read by updatedAt sees exactly the changed record
    bookmark = before["updatedAt"]
    changed = [
        opp
        for opp in emu.store.collection(emu.loc(), "opportunities")
        if opp["updatedAt"] > bookmark
    ]
    assert before["id"] in {opp["id"] for opp in changed}
    deleted = await emu.client.delete(f"/opportunities/{before['id']}", headers=emu.headers())
    assert deleted.json() == {"succeded": True}
    assert before["id"] in emu.store.collection(emu.loc(), "opportunities").deleted
    assert events[-1][0] == "OpportunityDelete"
    gone = await emu.client.get(f"/opportunities/{before['id']}", headers=emu.headers())
    assert gone.status_code == 400


async def test_opportunity_create_validates_and_refuses_unknown_properties(emu: Emu) -> None:
    contact = await emu.create(email="opp@example.com")
    pipelines = (
        await emu.client.get(
            "/opportunities/pipelines", params={"locationId": emu.loc()}, headers=emu.headers()
        )
    ).json()["pipelines"]
    body = {
        "locationId": emu.loc(),
        "pipelineId": pipelines[0]["id"],
        "name": "Deal",
        "status": "open",
        "contactId": contact["id"],
    }
    unknown = await emu.client.post(
        "/opportunities/", json={**body, "colour": "red"}, headers=emu.headers()
    )
    assert unknown.status_code == 422
    assert unknown.json()["message"] == ["property colour should not exist"]
    created = await emu.client.post("/opportunities/", json=body, headers=emu.headers())
    assert created.status_code == 201
    opp = created.json()["opportunity"]
    assert opp["pipelineStageId"] == pipelines[0]["stages"][0]["id"]
    assert opp["createdAt"] == opp["updatedAt"]
    again = await emu.client.post("/opportunities/", json=body, headers=emu.headers())
    assert again.status_code == 400
    upserted = await emu.client.post(
        "/opportunities/upsert",
        json={
            "locationId": emu.loc(),
            "pipelineId": pipelines[0]["id"],
            "contactId": contact["id"],
            "monetaryValue": 99,
            "followers": [],
            "isRemoveAllFollowers": False,
            "followersActionType": "add",
        },
        headers=emu.headers(),
    )
    assert upserted.json()["new"] is False
    assert upserted.json()["opportunity"]["id"] == opp["id"]


async def test_appointment_writes_stamp_date_updated_and_emit(emu: Emu) -> None:
    headers = emu.headers(version=V415)
    events: list[tuple[str, dict[str, Any]]] = []
    emu.store.subscribe(lambda kind, _loc, body: events.append((kind, body)))
    calendar = (
        await emu.client.get("/calendars/", params={"locationId": emu.loc()}, headers=headers)
    ).json()["calendars"][0]
    contact = await emu.create(email="appt@example.com")
    created = await emu.client.post(
        "/calendars/events/appointments",
        json={
            "calendarId": calendar["id"],
            "locationId": emu.loc(),
            "contactId": contact["id"],
            "startTime": "2030-01-01T10:00:00Z",
        },
        headers=headers,
    )
    assert created.status_code == 200
    event_id = created.json()["id"]
    first = (
        await emu.client.get(f"/calendars/events/appointments/{event_id}", headers=headers)
    ).json()["event"]
    await emu.client.put(
        f"/calendars/events/appointments/{event_id}",
        json={"appointmentStatus": "cancelled"},
        headers=headers,
    )
    second = (
        await emu.client.get(f"/calendars/events/appointments/{event_id}", headers=headers)
    ).json()["event"]
    assert (
        second["dateUpdated"] > first["dateUpdated"] and second["dateAdded"] == first["dateAdded"]
    )
    assert [kind for kind, _ in events] == [
        "ContactCreate",
        "AppointmentCreate",
        "AppointmentUpdate",
    ]
    assert events[-1][1]["appointment"]["appointmentStatus"] == "cancelled"


async def test_sending_a_message_updates_the_conversation(emu: Emu) -> None:
    headers = emu.headers(version=V415)
    contact = await emu.create(email="msg@example.com", phone="+15125550199")
    sent = await emu.client.post(
        "/conversations/messages",
        json={"type": "SMS", "contactId": contact["id"], "message": "hello"},
        headers=headers,
    )
    assert sent.status_code == 200
    found = (
        await emu.client.get(
            "/conversations/search",
            params={"locationId": emu.loc(), "contactId": contact["id"]},
            headers=headers,
        )
    ).json()["conversations"]
    assert found[0]["id"] == sent.json()["conversationId"]
    assert found[0]["lastMessageBody"] == "hello"
    newest = (
        await emu.client.get(
            "/conversations/search", params={"locationId": emu.loc(), "limit": 1}, headers=headers
        )
    ).json()["conversations"][0]
    assert newest["id"] == found[0]["id"]


def test_replayed_seeds_are_identical() -> None:
    anchored = SeedOptions(**{**OPTIONS.__dict__, "anchor_ms": 1_790_000_000_000})
    one, _ = build(anchored)
    two, _ = build(anchored)
    kinds = (
        "opportunities",
        "pipelines",
        "users",
        "calendars",
        "calendar_events",
        "conversations",
        "messages",
        "businesses",
        "form_submissions",
        "survey_submissions",
        "invoices",
        "products",
        "orders",
        "transactions",
        "campaigns",
    )
    for first, second in zip(one.locations.values(), two.locations.values(), strict=True):
        for kind in kinds:
            assert len(first.collection(kind)) > 0, kind
            assert list(first.collection(kind)) == list(second.collection(kind)), kind


async def test_followers_details_and_appointment_delete(emu: Emu) -> None:
    opp = await _an_opportunity(emu)
    users = (
        await emu.client.get("/users/", params={"locationId": emu.loc()}, headers=emu.headers())
    ).json()["users"]
    path = f"/opportunities/{opp['id']}/followers"
    added = await emu.client.post(
        path, json={"followers": [users[0]["id"], users[1]["id"]]}, headers=emu.headers()
    )
    assert added.status_code == 201
    assert added.json()["followersAdded"] == [users[0]["id"], users[1]["id"]]
    removed = await emu.client.request(
        "DELETE", path, json={"followers": [users[0]["id"]]}, headers=emu.headers()
    )
    assert removed.json() == {"followers": [users[1]["id"]], "followersRemoved": [users[0]["id"]]}
    got = (await emu.client.get(f"/opportunities/{opp['id']}", headers=emu.headers())).json()
    assert got["opportunity"]["followers"] == [users[1]["id"]]
    assert got["opportunity"]["updatedAt"] > opp["updatedAt"]
    detailed = await emu.client.get(
        "/opportunities/search",
        params={"location_id": emu.loc(), "id": opp["id"], "getCalendarEvents": "true"},
        headers=emu.headers(),
    )
    events = detailed.json()["opportunities"][0]["calendarEvents"]
    assert all(event["contactId"] == opp["contactId"] for event in events)

    headers = emu.headers(version=V415)
    event = next(iter(emu.store.collection(emu.loc(), "calendar_events")))
    deleted = await emu.client.delete(f"/calendars/events/{event['id']}", headers=headers)
    assert deleted.status_code == 201 and deleted.json() == {"succeeded": True}
    assert event["id"] in emu.store.collection(emu.loc(), "calendar_events").deleted
    assert emu.store.events[-1][0] == "AppointmentDelete"
    again = await emu.client.delete(f"/calendars/events/{event['id']}", headers=headers)
    assert again.status_code == 400


async def test_inbound_message_and_conversation_lifecycle(emu: Emu) -> None:
    headers = emu.headers(version=V415)
    contact = await emu.create(email="inbound@example.com")
    created = await emu.client.post(
        "/conversations/",
        json={"locationId": emu.loc(), "contactId": contact["id"]},
        headers=headers,
    )
    assert created.status_code == 201
    conversation = created.json()["conversation"]
    twice = await emu.client.post(
        "/conversations/",
        json={"locationId": emu.loc(), "contactId": contact["id"]},
        headers=headers,
    )
    assert twice.status_code == 400 and twice.json()["conversationId"] == conversation["id"]
    inbound = await emu.client.post(
        "/conversations/messages/inbound",
        json={
            "type": "SMS",
            "conversationId": conversation["id"],
            "contactId": contact["id"],
            "conversationProviderId": "p1",
            "message": "hi there",
        },
        headers=headers,
    )
    assert inbound.status_code == 200
    kind, _, body = emu.store.events[-1]
    assert kind == "InboundMessage" and body["body"] == "hi there"
    assert body["conversationId"] == conversation["id"] and body["direction"] == "inbound"
    found = (
        await emu.client.get(
            "/conversations/search",
            params={"locationId": emu.loc(), "id": conversation["id"]},
            headers=headers,
        )
    ).json()["conversations"][0]
    assert found["unreadCount"] == 1 and found["lastMessageDirection"] == "inbound"
    read = await emu.client.put(
        f"/conversations/{conversation['id']}",
        json={"locationId": emu.loc(), "unreadCount": 0},
        headers=headers,
    )
    assert read.json()["conversation"]["unreadCount"] == 0
    gone = await emu.client.delete(f"/conversations/{conversation['id']}", headers=headers)
    assert gone.json() == {"success": True}
    assert conversation["id"] in emu.store.collection(emu.loc(), "conversations").deleted


async def test_opportunity_custom_fields_by_key_and_id(emu: Emu) -> None:
    fields = (
        await emu.client.get(
            f"/locations/{emu.loc()}/customFields",
            params={"model": "opportunity"},
            headers=emu.headers(),
        )
    ).json()["customFields"]
    by_key = {field["fieldKey"]: field for field in fields}
    source, priority = by_key["opportunity.deal_source"], by_key["opportunity.deal_priority"]
    seeded = [
        opp for opp in emu.store.collection(emu.loc(), "opportunities") if opp["customFields"]
    ]
    assert seeded and all(
        {item["id"] for item in opp["customFields"]} <= {source["id"], priority["id"]}
        for opp in seeded
    )
    opp = await _an_opportunity(emu)
    path = f"/opportunities/{opp['id']}"
    written = await emu.client.put(
        path,
        json={"customFields": [{"key": "deal_source", "field_value": "trade show"}]},
        headers=emu.headers(),
    )
    assert written.status_code == 200, written.text
    values = {
        item["id"]: item["fieldValue"] for item in written.json()["opportunity"]["customFields"]
    }
    assert values[source["id"]] == "trade show"
    bad = await emu.client.put(
        path,
        json={"customFields": [{"id": priority["id"], "field_value": "urgent"}, {"key": "nope"}]},
        headers=emu.headers(),
    )
    assert bad.status_code == 422 and len(bad.json()["message"]) == 2


async def test_user_lifecycle_emits_user_create(emu: Emu) -> None:
    body = {
        "companyId": emu.state.company_id,
        "firstName": "Ada",
        "lastName": "Lovelace",
        "email": "ada@example.com",
        "password": "s3cret!pass",
        "type": "account",
        "role": "user",
        "locationIds": [emu.loc()],
    }
    created = await emu.client.post("/users/", json=body, headers=emu.headers())
    assert created.status_code == 201
    user = created.json()
    assert emu.store.events[-1][0] == "UserCreate"
    assert (await emu.client.post("/users/", json=body, headers=emu.headers())).status_code == 400
    elsewhere = await emu.client.post(
        "/users/", json={**body, "locationIds": [emu.loc(1)]}, headers=emu.headers()
    )
    assert elsewhere.status_code == 403
    renamed = await emu.client.put(
        f"/users/{user['id']}", json={"lastName": "King"}, headers=emu.headers()
    )
    assert renamed.json()["name"] == "Ada King"
    listed = (
        await emu.client.get("/users/", params={"locationId": emu.loc()}, headers=emu.headers())
    ).json()["users"]
    assert "Ada King" in {u["name"] for u in listed}
    gone = await emu.client.delete(f"/users/{user['id']}", headers=emu.headers())
    assert gone.json()["succeded"] is True
    assert user["id"] in emu.store.collection(emu.loc(), "users").deleted


async def test_admin_changes_behind_the_api_keep_conversation_stamps_numeric(emu: Emu) -> None:
    conversation = next(iter(emu.store.collection(emu.loc(), "conversations")))
    patched = await emu.client.patch(
        f"/_emulator/locations/{emu.loc()}/conversations/{conversation['id']}",
        json={"starred": True},
    )
    assert patched.status_code == 200, patched.text
    stored = emu.store.get(emu.loc(), "conversations", conversation["id"])
    assert stored is not None and isinstance(stored["dateUpdated"], int)
    assert stored["dateUpdated"] > conversation["dateUpdated"]
    got = await emu.client.get(
        f"/conversations/{conversation['id']}", headers=emu.headers(version=V415)
    )
    assert got.json()["starred"] is True
