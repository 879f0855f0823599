"""Custom fields v2 and their folders (``apps/custom-fields.json``): the fields of custom objects.

HighLevel's v2 field API serves custom objects (``custom_objects.<name>``); contact and
opportunity fields stay under ``/locations/{id}/customFields`` (``custom_fields.py``). A field is
``ICustomField``: ``fieldKey`` is ``<objectKey>.<snake name>`` (``custom_objects.pet.name``,
GHL-NOTES §6) and ``parentId`` names its folder (``ICustomFieldFolder``). Each custom object gets
a folder when it is created (``objects.py``), which new fields default to.

| method and path | what |
| --- | --- |
| `POST /custom-fields/` | create a field (201 `{field}`) |
| `GET/PUT/DELETE /custom-fields/{id}` | one field; delete answers `{succeded, id, key}` |
| `GET /custom-fields/object-key/{objectKey}?locationId=` | `{fields, folders}` of one object |
| `POST /custom-fields/folder`, `PUT/DELETE /custom-fields/folder/{id}` | folders |
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ghlsync.emulator.common import ApiError, json_body, ok, require, store_of
from ghlsync.emulator.routes._listing import location_query, strip_private
from ghlsync.emulator.routes.custom_fields import DATA_TYPES as LOCATION_DATA_TYPES
from ghlsync.emulator.routes.custom_fields import snake
from ghlsync.emulator.state import Collection, Entity, Store

READ = "locations/customFields.readonly"
WRITE = "locations/customFields.write"
#: ``ICustomField.dataType`` (custom-fields.json)
#: custom fields v2 take the location custom fields' data types but a signature
#: (``CreateCustomFieldsDTO.dataType`` in ``apps/custom-fields.json``)
DATA_TYPES = tuple(kind for kind in LOCATION_DATA_TYPES if kind != "SIGNATURE")
ACCEPTED_FORMATS: tuple[str, ...] = (
    *(".pdf", ".docx", ".doc", ".jpg", ".jpeg", ".png", ".gif", ".csv", ".xlsx", ".xls"),
    "all",
)
CREATE_FIELDS = {
    "locationId",
    "name",
    "description",
    "placeholder",
    "showInForms",
    "options",
    "acceptedFormats",
    "dataType",
    "fieldKey",
    "objectKey",
    "maxFileLimit",
    "allowCustomOption",
    "parentId",
}
UPDATE_FIELDS = {
    "locationId",
    "name",
    "description",
    "placeholder",
    "showInForms",
    "options",
    "acceptedFormats",
    "maxFileLimit",
}


def fields_of(store: Store, location_id: str) -> Collection:
    return store.collection(location_id, "object_fields")


def folders_of(store: Store, location_id: str) -> Collection:
    return store.collection(location_id, "field_folders")


def object_fields(store: Store, location_id: str, object_key: str) -> list[Entity]:
    """The fields of one object, oldest first."""
    found = [f for f in fields_of(store, location_id) if f["objectKey"] == object_key]
    return sorted(found, key=lambda field: (field["dateAdded"], field["id"]))


def field_view(field: Entity) -> dict[str, Any]:
    return strip_private(field)


def make_folder(
    store: Store, location_id: str, object_key: str, name: str, *, at: str | None = None
) -> Entity:
    now = at or store.now()
    folder = {
        "id": store.new_id(),
        "objectKey": object_key,
        "locationId": location_id,
        "name": name,
        "dateAdded": now,
        "dateUpdated": now,
    }
    return folders_of(store, location_id).put(folder)


def make_field(
    store: Store,
    location_id: str,
    *,
    object_key: str,
    name: str,
    data_type: str,
    parent_id: str,
    key: str | None = None,
    options: list[dict[str, Any]] | None = None,
    show_in_forms: bool = True,
    at: str | None = None,
) -> Entity:
    """A stored field: ``fieldKey`` is the object key plus the field's short key."""
    short = snake(key.rsplit(".", 1)[-1] if key else name)
    now = at or store.now()
    field: Entity = {
        "id": store.new_id(),
        "locationId": location_id,
        "name": name,
        "description": "",
        "placeholder": "",
        "showInForms": show_in_forms,
        "options": list(options or []),
        "objectKey": object_key,
        "dataType": data_type,
        "parentId": parent_id,
        "fieldKey": f"{object_key}.{short}",
        "allowCustomOption": False,
        "dateAdded": now,
        "dateUpdated": now,
    }
    return fields_of(store, location_id).put(field)


def short_key(field: Entity) -> str:
    """``custom_objects.pet.name`` -> ``name``: the key records use in ``properties``."""
    return str(field["fieldKey"]).rsplit(".", 1)[-1]


def _check(body: dict[str, Any], *, creating: bool) -> list[str]:
    messages: list[str] = []
    if creating and body.get("dataType") not in DATA_TYPES:
        messages.append("dataType must be one of the following values: " + ", ".join(DATA_TYPES))
    if "showInForms" in body and not isinstance(body["showInForms"], bool):
        messages.append("showInForms must be a boolean value")
    for name in ("name", "description", "placeholder", "fieldKey", "objectKey", "parentId"):
        if name in body and not isinstance(body[name], str):
            messages.append(f"{name} must be a string")
    if "acceptedFormats" in body and body["acceptedFormats"] not in ACCEPTED_FORMATS:
        messages.append("acceptedFormats must be one of: " + ", ".join(ACCEPTED_FORMATS))
    options = body.get("options")
    if options is not None and not (
        isinstance(options, list)
        and all(isinstance(o, dict) and {"key", "label"} <= set(o) for o in options)
    ):
        messages.append("each value in options must be an object with key and label")
    return messages


def _object_exists(store: Store, location_id: str, object_key: str) -> bool:
    return any(s["key"] == object_key for s in store.collection(location_id, "object_schemas"))


async def create_field(request: Request) -> Response:
    require(request, scope=WRITE)
    body = await json_body(
        request,
        allowed=CREATE_FIELDS,
        required={"locationId", "dataType", "fieldKey", "objectKey", "parentId"},
    )
    location_id = str(body["locationId"])
    require(request, scope=WRITE, location_id=location_id)
    messages = _check(body, creating=True)
    if "showInForms" not in body:
        messages.append("showInForms must be a boolean value")
    if messages:
        raise ApiError(422, messages)
    store = store_of(request)
    with store.lock:
        object_key = body["objectKey"]
        if not _object_exists(store, location_id, object_key):
            raise ApiError(400, f"Object {object_key} not found", error="Bad Request")
        if folders_of(store, location_id).get(body["parentId"]) is None:
            raise ApiError(400, "Folder not found", error="Bad Request")
        short = snake(str(body["fieldKey"]).rsplit(".", 1)[-1])
        if any(short_key(f) == short for f in object_fields(store, location_id, object_key)):
            raise ApiError(400, f"Field key {object_key}.{short} already exists")
        field = make_field(
            store,
            location_id,
            object_key=object_key,
            name=str(body.get("name") or short),
            data_type=body["dataType"],
            parent_id=body["parentId"],
            key=body["fieldKey"],
            options=body.get("options"),
            show_in_forms=body["showInForms"],
        )
        for name in ("description", "placeholder", "acceptedFormats", "maxFileLimit"):
            if name in body:
                field[name] = body[name]
        if "allowCustomOption" in body:
            field["allowCustomOption"] = bool(body["allowCustomOption"])
    return ok({"field": field_view(field)}, status=201)


def _find_field(request: Request, scope: str) -> tuple[Store, str, Entity]:
    if request.path_params["id"] in ("folder", "object-key"):
        # a literal path of another route, not an id: HighLevel serves no such route (404)
        raise ApiError(404, f"Cannot {request.method} {request.url.path}")
    require(request, scope=scope)
    store = store_of(request)
    found = store.find("object_fields", request.path_params["id"])
    if found is None:
        raise ApiError(400, "Custom field not found", error="Bad Request")
    require(request, scope=scope, location_id=found[0])
    return store, found[0], found[1]


async def get_field(request: Request) -> Response:
    _, _, field = _find_field(request, READ)
    return ok({"field": field_view(field)})


async def update_field(request: Request) -> Response:
    store, location_id, field = _find_field(request, WRITE)
    body = await json_body(request, allowed=UPDATE_FIELDS, required={"locationId"})
    messages = _check(body, creating=False)
    if "showInForms" not in body:
        messages.append("showInForms must be a boolean value")
    if messages:
        raise ApiError(422, messages)
    if body["locationId"] != location_id:
        raise ApiError(403, "The token does not have access to this location.")
    with store.lock:
        updated = {**field, **{k: v for k, v in body.items() if k != "locationId"}}
        updated["dateUpdated"] = store.now()
        fields_of(store, location_id).put(updated)
    return ok({"field": field_view(updated)})


async def delete_field(request: Request) -> Response:
    store, location_id, field = _find_field(request, WRITE)
    with store.lock:
        store.delete(location_id, "object_fields", field["id"])
    return ok({"succeded": True, "id": field["id"], "key": field["fieldKey"]})


async def fields_by_object(request: Request) -> Response:
    location_id = location_query(request, READ)
    store = store_of(request)
    object_key = request.path_params["objectKey"]
    if not _object_exists(store, location_id, object_key):
        raise ApiError(400, f"Object {object_key} not found", error="Bad Request")
    folders = [f for f in folders_of(store, location_id) if f["objectKey"] == object_key]
    folders.sort(key=lambda folder: (folder["dateAdded"], folder["id"]))
    return ok(
        {
            "fields": [field_view(f) for f in object_fields(store, location_id, object_key)],
            "folders": [_folder_view(f) for f in folders],
        }
    )


def _folder_view(folder: Entity) -> dict[str, Any]:
    return {key: folder[key] for key in ("id", "objectKey", "locationId", "name")}


async def create_folder(request: Request) -> Response:
    require(request, scope=WRITE)
    body = await json_body(
        request,
        allowed={"objectKey", "name", "locationId"},
        required={"objectKey", "name", "locationId"},
    )
    location_id = str(body["locationId"])
    require(request, scope=WRITE, location_id=location_id)
    store = store_of(request)
    with store.lock:
        if not _object_exists(store, location_id, str(body["objectKey"])):
            raise ApiError(400, f"Object {body['objectKey']} not found", error="Bad Request")
        folder = make_folder(store, location_id, str(body["objectKey"]), str(body["name"]))
    return ok(_folder_view(folder), status=201)


def _find_folder(request: Request, location_id: str) -> tuple[Store, Entity]:
    store = store_of(request)
    folder = folders_of(store, location_id).get(request.path_params["id"])
    if folder is None:
        raise ApiError(400, "Folder not found", error="Bad Request")
    return store, folder


async def update_folder(request: Request) -> Response:
    require(request, scope=WRITE)
    body = await json_body(request, allowed={"name", "locationId"}, required={"name", "locationId"})
    location_id = str(body["locationId"])
    require(request, scope=WRITE, location_id=location_id)
    store, folder = _find_folder(request, location_id)
    with store.lock:
        updated = {**folder, "name": str(body["name"]), "dateUpdated": store.now()}
        folders_of(store, location_id).put(updated)
    return ok(_folder_view(updated))


async def delete_folder(request: Request) -> Response:
    location_id = location_query(request, WRITE)
    store, folder = _find_folder(request, location_id)
    with store.lock:
        if any(f.get("parentId") == folder["id"] for f in fields_of(store, location_id)):
            raise ApiError(400, "Folder is not empty: move or delete its fields first")
        store.delete(location_id, "field_folders", folder["id"])
    return ok({"succeded": True, "id": folder["id"], "key": folder["objectKey"]})


routes: list[BaseRoute] = [
    Route("/custom-fields/", create_field, methods=["POST"]),
    Route("/custom-fields/folder", create_folder, methods=["POST"]),
    Route("/custom-fields/folder/{id}", update_folder, methods=["PUT"]),
    Route("/custom-fields/folder/{id}", delete_folder, methods=["DELETE"]),
    Route("/custom-fields/object-key/{objectKey}", fields_by_object, methods=["GET"]),
    Route("/custom-fields/{id}", get_field, methods=["GET"]),
    Route("/custom-fields/{id}", update_field, methods=["PUT"]),
    Route("/custom-fields/{id}", delete_field, methods=["DELETE"]),
]
