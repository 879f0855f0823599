"""Locations: get, search (agency token), and location tags CRUD (``apps/locations.json``)."""

from __future__ import annotations

import random
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ghlsync.emulator.common import (
    ANY_TOKEN,
    ApiError,
    int_param,
    json_body,
    ok,
    require,
    store_of,
)
from ghlsync.emulator.seed import SeedOptions
from ghlsync.emulator.state import LocationState, Store

SEED_TAGS = (
    "lead",
    "customer",
    "vip",
    "newsletter",
    "webinar",
    "referral",
    "cold",
    "hot",
    "facebook-ad",
    "google-ad",
    "appointment-booked",
    "no-show",
    "churned",
    "trial",
    "wholesale",
)


def public_location(record: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in record.items() if not key.startswith("_")}


async def get_location(request: Request) -> Response:
    location_id = request.path_params["locationId"]
    store = store_of(request)
    token = require(request, scope="locations.readonly", token_kinds=ANY_TOKEN)
    location = store.locations.get(location_id)
    if token.kind == "location" and token.location_id != location_id:
        raise ApiError(403, "The token does not have access to this location.")
    if location is None or location.record.get("companyId") != token.company_id:
        raise ApiError(400, "Location not found", error="Bad Request")
    return ok({"location": public_location(location.record)})


async def search_locations(request: Request) -> Response:
    token = require(request, scope="locations.readonly", token_kinds=ANY_TOKEN)
    store = store_of(request)
    company_id = request.query_params.get("companyId") or token.company_id
    if company_id != token.company_id:
        raise ApiError(403, "The token does not have access to this company.")
    skip = int_param(request, "skip", 0)
    limit = int_param(request, "limit", 10, minimum=1, maximum=1000)
    email = request.query_params.get("email")
    order = request.query_params.get("order", "asc")
    records = [
        public_location(location.record)
        for location in store.locations.values()
        if location.record.get("companyId") == company_id
        and (token.kind == "company" or location.id == token.location_id)
        and (not email or location.record.get("email") == email)
    ]
    records.sort(key=lambda record: (record.get("dateAdded") or "", record["id"]))
    if order == "desc":
        records.reverse()
    return ok({"locations": records[skip : skip + limit]})


def _tag_view(tag: dict[str, Any]) -> dict[str, Any]:
    return {"name": tag["name"], "locationId": tag["locationId"], "id": tag["id"]}


def _tags_of(store: Store, location_id: str) -> Any:
    return store.collection(location_id, "tags")


def ensure_tags(store: Store, location_id: str, names: list[str]) -> None:
    """Create location tags for ``names`` not yet known (HighLevel does so on contact writes)."""
    tags = _tags_of(store, location_id)
    known = {tag["name"] for tag in tags}
    for name in names:
        if name not in known:
            tags.put({"id": store.new_id(), "name": name, "locationId": location_id})
            known.add(name)


async def list_tags(request: Request) -> Response:
    location_id = request.path_params["locationId"]
    require(request, scope="locations/tags.readonly", location_id=location_id)
    tags = _tags_of(store_of(request), location_id)
    return ok({"tags": [_tag_view(tag) for tag in tags]})


async def create_tag(request: Request) -> Response:
    location_id = request.path_params["locationId"]
    require(request, scope="locations/tags.write", location_id=location_id)
    body = await json_body(request, allowed={"name"}, required={"name"})
    store = store_of(request)
    name = str(body["name"]).strip()
    tags = _tags_of(store, location_id)
    if any(tag["name"] == name for tag in tags):
        raise ApiError(400, "Tag with this name already exists", error="Bad Request")
    tag = tags.put({"id": store.new_id(), "name": name, "locationId": location_id})
    return ok({"tag": _tag_view(tag)})


def _tag(request: Request, scope: str) -> tuple[Store, str, dict[str, Any]]:
    location_id = request.path_params["locationId"]
    require(request, scope=scope, location_id=location_id)
    store = store_of(request)
    tag = _tags_of(store, location_id).get(request.path_params["tagId"])
    if tag is None:
        raise ApiError(404, "Tag not found")
    return store, location_id, tag


async def get_tag(request: Request) -> Response:
    _, _, tag = _tag(request, "locations/tags.readonly")
    return ok({"tag": _tag_view(tag)})


async def update_tag(request: Request) -> Response:
    store, location_id, tag = _tag(request, "locations/tags.write")
    body = await json_body(request, allowed={"name"}, required={"name"})
    updated = {**tag, "name": str(body["name"]).strip()}
    _tags_of(store, location_id).put(updated)
    return ok({"tag": _tag_view(updated)})


async def delete_tag(request: Request) -> Response:
    store, location_id, tag = _tag(request, "locations/tags.write")
    store.delete(location_id, "tags", tag["id"])
    return ok({"succeded": True})


def seed(store: Store, location: LocationState, rng: random.Random, options: SeedOptions) -> None:
    ensure_tags(store, location.id, list(SEED_TAGS))


routes: list[BaseRoute] = [
    Route("/locations/search", search_locations, methods=["GET"]),
    Route("/locations/{locationId}", get_location, methods=["GET"]),
    Route("/locations/{locationId}/tags", list_tags, methods=["GET"]),
    Route("/locations/{locationId}/tags", create_tag, methods=["POST"]),
    Route("/locations/{locationId}/tags/{tagId}", get_tag, methods=["GET"]),
    Route("/locations/{locationId}/tags/{tagId}", update_tag, methods=["PUT"]),
    Route("/locations/{locationId}/tags/{tagId}", delete_tag, methods=["DELETE"]),
]
