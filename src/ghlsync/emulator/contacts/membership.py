"""A contact's followers and its campaign and workflow memberships (``apps/contacts.json``).

| method and path | answer |
| --- | --- |
| `POST /contacts/{id}/followers` `{followers}` | 201 `{followers, followersAdded}` |
| `DELETE /contacts/{id}/followers` `{followers}` | `{followers, followersRemoved}` |
| `POST`/`DELETE /contacts/{id}/campaigns/{campaignId}` | 201 / 200 `{succeded: true}` |
| `DELETE /contacts/{id}/campaigns/removeAll` | `{succeded: true}` |
| `POST`/`DELETE /contacts/{id}/workflow/{workflowId}` `{eventStartTime?}` | `{succeded: true}` |

Followers are the contact's ``followers`` (a write: ``dateUpdated`` moves and ``ContactUpdate``
fires). Memberships are kept per location (``campaign_members``, ``workflow_members``: admin
API readable); the campaign or workflow must exist (400 otherwise; the message is unconfirmed).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ghlsync.emulator.common import ApiError, json_body, ok
from ghlsync.emulator.contacts.lookup import contact_of
from ghlsync.emulator.contacts.model import as_iso
from ghlsync.emulator.contacts.writes import save
from ghlsync.emulator.state import Entity, LocationState, Store

WRITE = "contacts.write"


async def _followers(request: Request) -> list[str]:
    body = await json_body(request, allowed={"followers"}, required={"followers"})
    followers = body["followers"]
    if not isinstance(followers, list) or not all(isinstance(f, str) for f in followers):
        raise ApiError(422, ["each value in followers must be a string"])
    return list(followers)


async def add_followers(request: Request) -> Response:
    store, _, location, current = contact_of(request, WRITE)
    wanted = await _followers(request)
    with store.lock:
        followers = list(current.get("followers") or [])
        added = [f for f in dict.fromkeys(wanted) if f not in followers]
        contact = {**current, "followers": followers + added}
        save(store, location.id, current, contact)
    return ok({"followers": contact["followers"], "followersAdded": added}, status=201)


async def remove_followers(request: Request) -> Response:
    store, _, location, current = contact_of(request, WRITE)
    wanted = set(await _followers(request))
    with store.lock:
        followers = list(current.get("followers") or [])
        removed = [f for f in followers if f in wanted]
        contact = {**current, "followers": [f for f in followers if f not in wanted]}
        save(store, location.id, current, contact)
    return ok({"followers": contact["followers"], "followersRemoved": removed})


def _member_id(contact: Entity, other_id: str) -> str:
    return f"{contact['id']}:{other_id}"


def _require_entity(location: LocationState, kind: str, entity_id: str, label: str) -> None:
    if location.collection(kind).get(entity_id) is None:
        raise ApiError(400, f"{label} not found", error="Bad Request")


def _join(
    store: Store, location: LocationState, kind: str, contact: Entity, other: str, **extra: Any
) -> None:
    field = "campaignId" if kind == "campaign_members" else "workflowId"
    location.collection(kind).put(
        {
            "id": _member_id(contact, other),
            "contactId": contact["id"],
            field: other,
            "status": "active",
            "dateAdded": store.now(),
            **extra,
        }
    )


async def add_to_campaign(request: Request) -> Response:
    store, _, location, contact = contact_of(request, WRITE)
    await json_body(request, allowed=set())
    campaign_id = request.path_params["campaignId"]
    with store.lock:
        _require_entity(location, "campaigns", campaign_id, "Campaign")
        _join(store, location, "campaign_members", contact, campaign_id)
    return ok({"succeded": True}, status=201)


async def remove_from_campaign(request: Request) -> Response:
    store, _, location, contact = contact_of(request, WRITE)
    campaign_id = request.path_params["campaignId"]
    with store.lock:
        _require_entity(location, "campaigns", campaign_id, "Campaign")
        store.delete(location.id, "campaign_members", _member_id(contact, campaign_id))
    return ok({"succeded": True})


async def remove_from_all_campaigns(request: Request) -> Response:
    store, _, location, contact = contact_of(request, WRITE)
    with store.lock:
        for member in list(location.collection("campaign_members")):
            if member["contactId"] == contact["id"]:
                store.delete(location.id, "campaign_members", member["id"])
    return ok({"succeded": True})


async def _workflow_body(request: Request) -> dict[str, Any]:
    body = await json_body(request, allowed={"eventStartTime"})
    if "eventStartTime" in body:
        try:
            body["eventStartTime"] = as_iso(body["eventStartTime"])
        except (TypeError, ValueError):
            raise ApiError(422, ["eventStartTime must be a valid ISO 8601 date string"]) from None
    return body


async def add_to_workflow(request: Request) -> Response:
    store, _, location, contact = contact_of(request, WRITE)
    body = await _workflow_body(request)
    workflow_id = request.path_params["workflowId"]
    with store.lock:
        _require_entity(location, "workflows", workflow_id, "Workflow")
        _join(store, location, "workflow_members", contact, workflow_id, **body)
    return ok({"succeded": True})


async def remove_from_workflow(request: Request) -> Response:
    store, _, location, contact = contact_of(request, WRITE)
    await _workflow_body(request)
    workflow_id = request.path_params["workflowId"]
    with store.lock:
        _require_entity(location, "workflows", workflow_id, "Workflow")
        store.delete(location.id, "workflow_members", _member_id(contact, workflow_id))
    return ok({"succeded": True})


routes: list[BaseRoute] = [
    Route("/contacts/{contactId}/followers", add_followers, methods=["POST"]),
    Route("/contacts/{contactId}/followers", remove_followers, methods=["DELETE"]),
    Route(
        "/contacts/{contactId}/campaigns/removeAll", remove_from_all_campaigns, methods=["DELETE"]
    ),
    Route("/contacts/{contactId}/campaigns/{campaignId}", add_to_campaign, methods=["POST"]),
    Route("/contacts/{contactId}/campaigns/{campaignId}", remove_from_campaign, methods=["DELETE"]),
    Route("/contacts/{contactId}/workflow/{workflowId}", add_to_workflow, methods=["POST"]),
    Route("/contacts/{contactId}/workflow/{workflowId}", remove_from_workflow, methods=["DELETE"]),
]
