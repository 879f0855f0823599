"""Custom values (``/locations/{locationId}/customValues``, ``apps/locations.json``).

A location's named constants used in templates: ``CustomValueSchema`` ``{id, name, fieldKey,
value, locationId}``, ``fieldKey`` being ``{{ custom_values.<snake name> }}``. No paging (the
spec has none). ``POST`` answers 201 ``{customValue}``; a name already taken answers 400
(unconfirmed). Writes emit no webhook (HighLevel documents none for custom values).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ghlsync.emulator.common import ApiError, json_body, ok, require, store_of
from ghlsync.emulator.routes.custom_fields import snake
from ghlsync.emulator.state import Entity, Store

READ = "locations/customValues.readonly"
WRITE = "locations/customValues.write"


def value_view(value: Entity) -> dict[str, Any]:
    return {key: value[key] for key in ("id", "name", "fieldKey", "value", "locationId")}


def make_value(store: Store, location_id: str, name: str, value: str) -> Entity:
    entity = {
        "id": store.new_id(),
        "name": name,
        "fieldKey": "{{ custom_values." + snake(name) + " }}",
        "value": value,
        "locationId": location_id,
    }
    return store.put(location_id, "custom_values", entity)


def _location(request: Request, scope: str) -> str:
    location_id = request.path_params["locationId"]
    require(request, scope=scope, location_id=location_id)
    return str(location_id)


async def _body(request: Request) -> dict[str, Any]:
    body = await json_body(request, allowed={"name", "value"}, required={"name"})
    messages = [
        f"{key} must be a string"
        for key in ("name", "value")
        if key in body and not isinstance(body[key], str)
    ]
    if "value" not in body:
        messages.append("value must be a string")
    if messages:
        raise ApiError(422, messages)
    return body


def _taken(store: Store, location_id: str, name: str, exclude: str | None = None) -> bool:
    key = snake(name)
    return any(
        snake(item["name"]) == key and item["id"] != exclude
        for item in store.collection(location_id, "custom_values")
    )


async def list_values(request: Request) -> Response:
    location_id = _location(request, READ)
    items = sorted(
        store_of(request).collection(location_id, "custom_values"), key=lambda v: v["name"]
    )
    return ok({"customValues": [value_view(item) for item in items]})


async def create_value(request: Request) -> Response:
    location_id = _location(request, WRITE)
    body = await _body(request)
    store = store_of(request)
    with store.lock:
        if _taken(store, location_id, body["name"]):
            raise ApiError(400, f"Custom value {body['name']} already exists")
        value = make_value(store, location_id, body["name"], body["value"])
    return ok({"customValue": value_view(value)}, status=201)


def _value(request: Request, scope: str) -> tuple[Store, str, Entity]:
    location_id = _location(request, scope)
    store = store_of(request)
    value = store.get(location_id, "custom_values", request.path_params["id"])
    if value is None:
        raise ApiError(400, "Custom value not found", error="Bad Request")
    return store, location_id, value


async def get_value(request: Request) -> Response:
    _, _, value = _value(request, READ)
    return ok({"customValue": value_view(value)})


async def update_value(request: Request) -> Response:
    store, location_id, value = _value(request, WRITE)
    body = await _body(request)
    with store.lock:
        if _taken(store, location_id, body["name"], exclude=value["id"]):
            raise ApiError(400, f"Custom value {body['name']} already exists")
        updated = {
            **value,
            "name": body["name"],
            "value": body["value"],
            "fieldKey": "{{ custom_values." + snake(body["name"]) + " }}",
        }
        store.put(location_id, "custom_values", updated)
    return ok({"customValue": value_view(updated)})


async def delete_value(request: Request) -> Response:
    store, location_id, value = _value(request, WRITE)
    with store.lock:
        store.delete(location_id, "custom_values", value["id"])
    return ok({"succeded": True})


routes: list[BaseRoute] = [
    Route("/locations/{locationId}/customValues", list_values, methods=["GET"]),
    Route("/locations/{locationId}/customValues", create_value, methods=["POST"]),
    Route("/locations/{locationId}/customValues/{id}", get_value, methods=["GET"]),
    Route("/locations/{locationId}/customValues/{id}", update_value, methods=["PUT"]),
    Route("/locations/{locationId}/customValues/{id}", delete_value, methods=["DELETE"]),
]
