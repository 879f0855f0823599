"""Custom field definitions under ``/locations/{locationId}/customFields`` and value checks.

Definitions follow ``CustomFieldSchema`` (``apps/locations.json``): ``id``, ``name``,
``fieldKey`` (``contact.<snake_name>``), ``dataType``, ``picklistOptions``, ``model``, ...
``resolve_values`` turns a write's ``customFields`` (``[{id | key, field_value | value}]``)
into the stored ``[{id, value}]``, type-checked against each field's ``dataType``; other
route modules (opportunities) use it too.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ghlsync.emulator.common import ApiError, json_body, ok, require, store_of
from ghlsync.emulator.state import Collection, Store

#: the data types of location custom fields (v2: ``object_fields.DATA_TYPES``, all but SIGNATURE)
DATA_TYPES = (
    "TEXT",
    "LARGE_TEXT",
    "NUMERICAL",
    "PHONE",
    "MONETORY",
    "CHECKBOX",
    "SINGLE_OPTIONS",
    "MULTIPLE_OPTIONS",
    "DATE",
    "TEXTBOX_LIST",
    "FILE_UPLOAD",
    "SIGNATURE",
    "RADIO",
    "EMAIL",
)
OPTION_TYPES = ("CHECKBOX", "SINGLE_OPTIONS", "MULTIPLE_OPTIONS", "RADIO")
MODELS = ("contact", "opportunity")

# The spec's CreateCustomFieldsDTO omits the picklist; HighLevel accepts ``options`` (a list
# of strings) for option types, as its UI and integrators do. Accepted here on purpose.
CREATE_FIELDS = {
    "name",
    "dataType",
    "placeholder",
    "acceptedFormat",
    "isMultipleFile",
    "maxNumberOfFiles",
    "textBoxListOptions",
    "position",
    "model",
    "options",
    "fieldKey",
}
UPDATE_FIELDS = CREATE_FIELDS - {"dataType", "fieldKey"}


def snake(name: str) -> str:
    text = re.sub(r"[^0-9a-zA-Z]+", "_", name.strip()).strip("_").lower()
    return text or "field"


def field_view(field: dict[str, Any]) -> dict[str, Any]:
    return dict(field)


def _fields(store: Store, location_id: str) -> Collection:
    return store.collection(location_id, "custom_fields")


def make_field(
    store: Store,
    location_id: str,
    *,
    name: str,
    data_type: str,
    model: str = "contact",
    options: list[str] | None = None,
    position: int = 0,
    placeholder: str = "",
    field_key: str | None = None,
    extra: dict[str, Any] | None = None,
    date_added: str | None = None,
) -> dict[str, Any]:
    """A new field definition (``date_added`` defaults to now)."""
    fields = _fields(store, location_id)
    key = field_key or f"{model}.{snake(name)}"
    taken = {field["fieldKey"] for field in fields}
    base, suffix = key, 1
    while key in taken:
        suffix += 1
        key = f"{base}_{suffix}"
    field: dict[str, Any] = {
        "id": store.new_id(),
        "name": name,
        "fieldKey": key,
        "placeholder": placeholder,
        "dataType": data_type,
        "position": position,
        "picklistOptions": list(options or []),
        "picklistImageOptions": [],
        "isAllowedCustomOption": False,
        "isMultiFileAllowed": False,
        "maxFileLimit": 0,
        "locationId": location_id,
        "model": model,
        "dateAdded": date_added or store.now(),
    }
    if extra:
        field.update(extra)
    fields.put(field)
    return field


def _validate_definition(body: dict[str, Any], *, creating: bool) -> list[str]:
    messages: list[str] = []
    if creating and body.get("dataType") not in DATA_TYPES:
        messages.append(f"dataType must be one of the following values: {', '.join(DATA_TYPES)}")
    if "model" in body and body["model"] not in MODELS:
        messages.append("model must be one of the following values: contact, opportunity")
    if "name" in body and not isinstance(body["name"], str):
        messages.append("name must be a string")
    if "options" in body and not (
        isinstance(body["options"], list) and all(isinstance(o, str) for o in body["options"])
    ):
        messages.append("options must be an array of strings")
    return messages


async def list_fields(request: Request) -> Response:
    location_id = request.path_params["locationId"]
    require(request, scope="locations/customFields.readonly", location_id=location_id)
    model = request.query_params.get("model", "all")
    if model not in ("all", *MODELS):
        raise ApiError(
            422, ["model must be one of the following values: contact, opportunity, all"]
        )
    fields = [
        field_view(field)
        for field in _fields(store_of(request), location_id)
        if model == "all" or field.get("model") == model
    ]
    return ok({"customFields": fields})


async def create_field(request: Request) -> Response:
    location_id = request.path_params["locationId"]
    require(request, scope="locations/customFields.write", location_id=location_id)
    body = await json_body(request, allowed=CREATE_FIELDS, required={"name", "dataType"})
    messages = _validate_definition(body, creating=True)
    if messages:
        raise ApiError(422, messages)
    store = store_of(request)
    extra: dict[str, Any] = {
        key: body[key]
        for key in ("acceptedFormat", "textBoxListOptions", "isMultipleFile", "maxNumberOfFiles")
        if key in body
    }
    field = make_field(
        store,
        location_id,
        name=body["name"],
        data_type=body["dataType"],
        model=body.get("model", "contact"),
        options=body.get("options"),
        position=int(body.get("position", 0)),
        placeholder=body.get("placeholder", ""),
        field_key=body.get("fieldKey"),
        extra=extra,
    )
    return ok({"customField": field_view(field)}, status=201)


def _field(request: Request, scope: str) -> tuple[Store, str, dict[str, Any]]:
    location_id = request.path_params["locationId"]
    require(request, scope=scope, location_id=location_id)
    store = store_of(request)
    field = _fields(store, location_id).get(request.path_params["id"])
    if field is None:
        raise ApiError(404, "Custom field not found")
    return store, location_id, field


async def get_field(request: Request) -> Response:
    _, _, field = _field(request, "locations/customFields.readonly")
    return ok({"customField": field_view(field)})


async def update_field(request: Request) -> Response:
    store, location_id, field = _field(request, "locations/customFields.write")
    body = await json_body(request, allowed=UPDATE_FIELDS, required={"name"})
    messages = _validate_definition(body, creating=False)
    if messages:
        raise ApiError(422, messages)
    updated = dict(field)
    for key, value in body.items():
        if key == "options":
            updated["picklistOptions"] = list(value)
        else:
            updated[key] = value
    _fields(store, location_id).put(updated)
    return ok({"customField": field_view(updated)})


async def delete_field(request: Request) -> Response:
    store, location_id, field = _field(request, "locations/customFields.write")
    store.delete(location_id, "custom_fields", field["id"])
    return ok({"succeded": True})


# --------------------------------------------------------------------------- values
def _check_value(field: dict[str, Any], value: Any) -> tuple[Any, str | None]:
    """The value to store, or an error message, for one field's ``dataType``."""
    data_type = field.get("dataType", "TEXT")
    label = field.get("fieldKey") or field["id"]
    if value is None:
        return None, None
    if data_type in ("NUMERICAL", "MONETORY"):
        if isinstance(value, bool):
            return None, f"customFields {label} must be a number"
        if isinstance(value, int | float):
            return value, None
        if isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                return None, f"customFields {label} must be a number"
            return (int(number) if number.is_integer() and "." not in value else number), None
        return None, f"customFields {label} must be a number"
    options = field.get("picklistOptions") or []
    if data_type in ("CHECKBOX", "MULTIPLE_OPTIONS"):
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(item, str) for item in values):
            return None, f"customFields {label} must be a list of strings"
        bad = [item for item in values if options and item not in options]
        if bad:
            return None, f"customFields {label}: {', '.join(bad)} not among the field's options"
        return list(values), None
    if data_type in ("SINGLE_OPTIONS", "RADIO"):
        if not isinstance(value, str):
            return None, f"customFields {label} must be a string"
        if options and value not in options:
            return None, f"customFields {label}: {value} not among the field's options"
        return value, None
    if data_type == "DATE":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value, None
        if isinstance(value, str):
            try:
                datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                return None, f"customFields {label} must be a date (YYYY-MM-DD or ISO-8601)"
            return value, None
        return None, f"customFields {label} must be a date"
    if data_type in ("TEXTBOX_LIST", "FILE_UPLOAD"):
        if isinstance(value, dict | list | str):
            return value, None
        return None, f"customFields {label} must be an object"
    if isinstance(value, dict | list):
        return None, f"customFields {label} must be a string"
    return str(value), None


def resolve_values(
    store: Store,
    location_id: str,
    items: Any,
    *,
    model: str = "contact",
    current: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Merge a write's ``customFields`` into ``current``; 422 listing every bad item.

    Items name their field by ``id`` or ``key`` (``contact.x`` or ``x``) and carry
    ``field_value`` (or ``value``). A ``null`` or empty value clears the field.
    """
    if not isinstance(items, list):
        raise ApiError(422, ["customFields must be an array"])
    fields = _fields(store, location_id)
    by_key: dict[str, dict[str, Any]] = {}
    for defined in fields:
        if defined.get("model", "contact") == model:
            by_key[defined["fieldKey"]] = defined
            by_key[defined["fieldKey"].split(".", 1)[-1]] = defined
    merged = {item["id"]: item["value"] for item in current or []}
    messages: list[str] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            messages.append(f"customFields.{index} must be an object")
            continue
        unknown = set(item) - {"id", "key", "field_value", "value"}
        messages += [f"property customFields.{index}.{key} should not exist" for key in unknown]
        field: dict[str, Any] | None = None
        if item.get("id"):
            field = fields.get(str(item["id"]))
        elif item.get("key"):
            field = by_key.get(str(item["key"]))
        if field is None:
            messages.append(
                f"customFields.{index}: no custom field with "
                + (f"id {item.get('id')}" if item.get("id") else f"key {item.get('key')}")
            )
            continue
        raw = item["field_value"] if "field_value" in item else item.get("value")
        value, error = _check_value(field, raw)
        if error:
            messages.append(error)
        elif value is None or value == "" or value == []:
            merged.pop(field["id"], None)
        else:
            merged[field["id"]] = value
    if messages:
        raise ApiError(422, messages)
    return [{"id": field_id, "value": value} for field_id, value in merged.items()]


routes: list[BaseRoute] = [
    Route("/locations/{locationId}/customFields", list_fields, methods=["GET"]),
    Route("/locations/{locationId}/customFields", create_field, methods=["POST"]),
    Route("/locations/{locationId}/customFields/{id}", get_field, methods=["GET"]),
    Route("/locations/{locationId}/customFields/{id}", update_field, methods=["PUT"]),
    Route("/locations/{locationId}/customFields/{id}", delete_field, methods=["DELETE"]),
]
