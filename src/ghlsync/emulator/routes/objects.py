"""Custom objects (``apps/objects.json``): object schemas and their records.

Schemas follow ``ICustomObjectSchema``: custom ones are keyed ``custom_objects.<name>`` (the
prefix is added when missing), standard ones (``contact``, ``opportunity``, ``business``) are
listed with ``standard: true``. A custom object's fields are custom fields v2
(``object_fields.py``); ``primaryDisplayPropertyDetails`` creates the first one.

Records are in ``object_records.py``. Writes emit ``ObjectSchemaCreate``/``Update``.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ghlsync.emulator.common import ApiError, json_body, ok, require, store_of
from ghlsync.emulator.routes._listing import location_query, strip_private
from ghlsync.emulator.routes.custom_fields import snake
from ghlsync.emulator.routes.object_fields import make_field, make_folder, object_fields
from ghlsync.emulator.state import Entity, LocationState, Store

SCHEMA_READ = "objects/schema.readonly"
SCHEMA_WRITE = "objects/schema.write"
PREFIX = "custom_objects."
STANDARD = {
    "contact": ("Contact", "Contacts", "contact.name"),
    "opportunity": ("Opportunity", "Opportunities", "opportunity.name"),
    "business": ("Company", "Companies", "business.name"),
}


# --------------------------------------------------------------------------- schemas
def schemas_of(store: Store, location_id: str) -> list[Entity]:
    found = list(store.collection(location_id, "object_schemas"))
    return sorted(found, key=lambda schema: (schema["dateAdded"], schema["id"]))


def _standard(location: LocationState, key: str) -> dict[str, Any]:
    singular, plural, primary = STANDARD[key]
    stamp = location.record.get("dateAdded") or "2020-01-01T00:00:00.000Z"
    return {
        "id": f"{location.id[:12]}{key[:8]}".ljust(20, "0"),
        "standard": True,
        "key": key,
        "labels": {"singular": singular, "plural": plural},
        "description": "",
        "locationId": location.id,
        "primaryDisplayProperty": primary,
        "dateAdded": stamp,
        "dateUpdated": stamp,
    }


def schema_view(schema: Entity) -> dict[str, Any]:
    return strip_private(schema)


def find_schema(store: Store, location_id: str, key: str) -> Entity | None:
    """A custom object's schema by key (with or without the prefix) or id."""
    for schema in store.collection(location_id, "object_schemas"):
        if key in (schema["key"], schema["id"]) or PREFIX + key == schema["key"]:
            return schema
    return None


def _labels(value: Any, *, required: bool) -> list[str]:
    if value is None and not required:
        return []
    if not isinstance(value, dict) or not all(
        isinstance(value.get(name), str) and value.get(name) for name in ("singular", "plural")
    ):
        return ["labels must be an object with singular and plural"]
    return []


def create_schema(
    store: Store,
    location_id: str,
    *,
    key: str,
    labels: dict[str, str],
    description: str,
    primary: dict[str, str],
    at: str | None = None,
) -> Entity:
    """Store a custom object, its default folder and its primary display field."""
    full_key = key if key.startswith(PREFIX) else PREFIX + snake(key)
    now = at or store.now()
    schema: Entity = {
        "id": store.new_id(),
        "standard": False,
        "key": full_key,
        "labels": dict(labels),
        "description": description,
        "locationId": location_id,
        "primaryDisplayProperty": "",
        "searchableProperties": [],
        "dateAdded": now,
        "dateUpdated": now,
    }
    folder = make_folder(store, location_id, full_key, labels["singular"], at=now)
    field = make_field(
        store,
        location_id,
        object_key=full_key,
        name=primary["name"],
        data_type=primary["dataType"],
        parent_id=folder["id"],
        key=primary["key"],
        at=now,
    )
    schema["primaryDisplayProperty"] = field["fieldKey"]
    schema["searchableProperties"] = [field["fieldKey"]]
    return store.put(location_id, "object_schemas", schema)


def _schema_event(schema: Entity) -> dict[str, Any]:
    return {
        "id": schema["id"],
        "key": schema["key"],
        "labels": schema["labels"],
        "description": schema.get("description", ""),
        "searchableProperties": list(schema.get("searchableProperties") or []),
        "primaryDisplayProperty": schema["primaryDisplayProperty"],
        "locationId": schema["locationId"],
        "objectType": "USER_DEFINED",
        "createdAt": schema["dateAdded"],
        "updatedAt": schema["dateUpdated"],
    }


async def list_objects(request: Request) -> Response:
    location_id = location_query(request, SCHEMA_READ)
    store = store_of(request)
    location = store.locations[location_id]
    objects = [_standard(location, key) for key in STANDARD]
    objects += [schema_view(schema) for schema in schemas_of(store, location_id)]
    return ok({"objects": objects})


async def create_object(request: Request) -> Response:
    require(request, scope=SCHEMA_WRITE)
    body = await json_body(
        request,
        allowed={"labels", "key", "description", "locationId", "primaryDisplayPropertyDetails"},
        required={"labels", "key", "locationId", "primaryDisplayPropertyDetails"},
    )
    location_id = str(body["locationId"])
    require(request, scope=SCHEMA_WRITE, location_id=location_id)
    messages = _labels(body["labels"], required=True)
    primary = body["primaryDisplayPropertyDetails"]
    if not isinstance(primary, dict) or not all(
        isinstance(primary.get(name), str) and primary.get(name)
        for name in ("key", "name", "dataType")
    ):
        messages.append("primaryDisplayPropertyDetails must have key, name and dataType")
    elif primary["dataType"] not in ("TEXT", "NUMERICAL"):
        messages.append("primaryDisplayPropertyDetails.dataType must be TEXT or NUMERICAL")
    if not isinstance(body["key"], str):
        messages.append("key must be a string")
    if messages:
        raise ApiError(422, messages)
    store = store_of(request)
    with store.lock:
        if find_schema(store, location_id, body["key"]) is not None:
            raise ApiError(400, f"Object with key {body['key']} already exists")
        schema = create_schema(
            store,
            location_id,
            key=body["key"],
            labels=body["labels"],
            description=str(body.get("description") or ""),
            primary=primary,
        )
        store.emit("ObjectSchemaCreate", location_id, _schema_event(schema))
    return ok({"object": schema_view(schema)}, status=201)


def _field_view_for(field: Entity) -> dict[str, Any]:
    return strip_private(field)


async def get_object(request: Request) -> Response:
    location_id = location_query(request, SCHEMA_READ)
    store = store_of(request)
    key = request.path_params["key"]
    location = store.locations[location_id]
    fetch = request.query_params.get("fetchProperties", "").lower() == "true"
    if key in STANDARD:
        return ok({"object": _standard(location, key), "cache": False, "fields": []})
    schema = find_schema(store, location_id, key)
    if schema is None:
        raise ApiError(400, f"Object {key} not found", error="Bad Request")
    fields = object_fields(store, location_id, schema["key"]) if fetch else []
    return ok(
        {
            "object": schema_view(schema),
            "cache": False,
            "fields": [_field_view_for(field) for field in fields],
        }
    )


async def update_object(request: Request) -> Response:
    require(request, scope=SCHEMA_WRITE)
    body = await json_body(
        request,
        allowed={"labels", "description", "locationId", "searchableProperties"},
        required={"locationId"},
    )
    location_id = str(body["locationId"])
    require(request, scope=SCHEMA_WRITE, location_id=location_id)
    store = store_of(request)
    key = request.path_params["key"]
    with store.lock:
        schema = find_schema(store, location_id, key)
        if schema is None:
            raise ApiError(400, f"Object {key} not found", error="Bad Request")
        messages = _labels(body.get("labels"), required=False)
        searchable = body.get("searchableProperties", schema.get("searchableProperties"))
        keys = {field["fieldKey"] for field in object_fields(store, location_id, schema["key"])}
        if not isinstance(searchable, list) or any(item not in keys for item in searchable):
            messages.append("searchableProperties must be field keys of the object")
        if messages or not isinstance(searchable, list):
            raise ApiError(422, messages)
        updated = {**schema, "searchableProperties": list(searchable), "dateUpdated": store.now()}
        if body.get("labels"):
            updated["labels"] = {**schema["labels"], **body["labels"]}
        if "description" in body:
            updated["description"] = str(body["description"] or "")
        store.put(location_id, "object_schemas", updated)
        store.emit("ObjectSchemaUpdate", location_id, _schema_event(updated))
    return ok({"object": schema_view(updated)})


routes: list[BaseRoute] = [
    Route("/objects/", list_objects, methods=["GET"]),
    Route("/objects/", create_object, methods=["POST"]),
    Route("/objects/{key}", get_object, methods=["GET"]),
    Route("/objects/{key}", update_object, methods=["PUT"]),
]
