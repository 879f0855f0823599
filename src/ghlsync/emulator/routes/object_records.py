"""Custom object records (``apps/objects.json``): create, get, update, delete, search.

Records follow ``IRecordSchema`` / ``RecordResponseDTO``: ``properties`` is an object keyed by
the fields' short keys (``{"name": "Buddy"}``; the spec types it as a string, an error patched
in the contract tests), plus ``owner`` (≤ 1), ``followers`` (≤ 10), ``createdAt``/``updatedAt``
(and ``dateAdded``/``dateUpdated``, which ``IRecordSchema`` requires), ``createdBy`` and
``lastUpdatedBy``. These routes serve custom objects; the spec's ``business`` records are
served by ``/businesses/`` here. ``POST /objects/{key}/records/search`` pages with
``page``/``pageLimit`` (≤ 100, unconfirmed) or ``searchAfter`` (``[createdAt ms, id]``), oldest
first; ``query`` ``field:value`` matches a property containing value, bare text any text
property. Writes emit ``RecordCreate``/``Update``/``Delete``.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ghlsync.emulator.common import ApiError, json_body, new_trace_id, ok, require, store_of
from ghlsync.emulator.routes._listing import strip_private
from ghlsync.emulator.routes.object_fields import object_fields, short_key
from ghlsync.emulator.routes.objects import find_schema
from ghlsync.emulator.state import Entity, Store, ms_from_iso

RECORD_READ = "objects/record.readonly"
RECORD_WRITE = "objects/record.write"
MAX_PAGE_LIMIT = 100
RECORD_FIELDS = {"locationId", "properties", "owner", "followers"}


def record_view(record: Entity) -> dict[str, Any]:
    view = strip_private(record)
    view["dateAdded"] = record["createdAt"]
    view["dateUpdated"] = record["updatedAt"]
    return view


def _record_event(record: Entity) -> dict[str, Any]:
    return {
        "id": record["id"],
        "owners": list(record.get("owner") or []),
        "followers": list(record.get("followers") or []),
        "properties": [
            {"key": key, "valueString": value if isinstance(value, str) else str(value)}
            for key, value in record["properties"].items()
        ],
    }


def _schema_or_400(store: Store, location_id: str, key: str) -> Entity:
    schema = find_schema(store, location_id, key)
    if schema is None:
        raise ApiError(400, f"Object {key} not found", error="Bad Request")
    return schema


def _properties(
    store: Store, location_id: str, schema: Entity, value: Any, current: Entity
) -> dict[str, Any]:
    """Validated properties merged over ``current``; keys short or full (``<objectKey>.x``)."""
    if not isinstance(value, dict):
        raise ApiError(422, ["properties must be an object"])
    fields = {short_key(field): field for field in object_fields(store, location_id, schema["key"])}
    merged = dict(current)
    messages: list[str] = []
    for raw_key, item in value.items():
        key = str(raw_key).removeprefix(schema["key"] + ".")
        field = fields.get(key)
        if field is None:
            messages.append(f"properties.{raw_key} is not a field of {schema['key']}")
            continue
        kind = field["dataType"]
        if kind == "NUMERICAL" and (not isinstance(item, int | float) or isinstance(item, bool)):
            messages.append(f"properties.{raw_key} must be a number")
        elif kind in ("TEXT", "LARGE_TEXT", "PHONE", "EMAIL") and not isinstance(item, str):
            messages.append(f"properties.{raw_key} must be a string")
        else:
            merged[key] = item
    if messages:
        raise ApiError(422, messages)
    return merged


def _people(body: dict[str, Any], name: str, limit: int) -> list[str] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ApiError(422, [f"each value in {name} must be a string"])
    if len(value) > limit:
        raise ApiError(422, [f"{name} must contain no more than {limit} elements"])
    return list(value)


def provenance(record_id: str, at: str) -> dict[str, str]:
    return {"channel": "API", "createdAt": at, "source": "INTEGRATION", "sourceId": record_id}


async def create_record(request: Request) -> Response:
    require(request, scope=RECORD_WRITE)
    body = await json_body(request, allowed=RECORD_FIELDS, required={"locationId"})
    location_id = str(body["locationId"])
    require(request, scope=RECORD_WRITE, location_id=location_id)
    store = store_of(request)
    with store.lock:
        schema = _schema_or_400(store, location_id, request.path_params["schemaKey"])
        properties = _properties(store, location_id, schema, body.get("properties", {}), {})
        now = store.now()
        record_id = store.new_id(24)
        record = {
            "id": record_id,
            "owner": _people(body, "owner", 1) or [],
            "followers": _people(body, "followers", 10) or [],
            "properties": properties,
            "createdAt": now,
            "updatedAt": now,
            "locationId": location_id,
            "objectId": schema["id"],
            "objectKey": schema["key"],
            "createdBy": provenance(record_id, now),
            "lastUpdatedBy": provenance(record_id, now),
        }
        store.put(location_id, "object_records", record)
        store.emit("RecordCreate", location_id, _record_event(record))
    return ok({"record": record_view(record)}, status=201)


def _record(request: Request, scope: str) -> tuple[Store, str, Entity, Entity]:
    token = require(request, scope=scope)
    store = store_of(request)
    location_id = request.query_params.get("locationId") or token.location_id or ""
    if not location_id:
        raise ApiError(422, ["locationId should not be empty"])
    require(request, scope=scope, location_id=location_id)
    schema = _schema_or_400(store, location_id, request.path_params["schemaKey"])
    record = store.get(location_id, "object_records", request.path_params["id"])
    if record is None or record["objectKey"] != schema["key"]:
        raise ApiError(400, "Record not found", error="Bad Request")
    return store, location_id, schema, record


async def get_record(request: Request) -> Response:
    _, _, _, record = _record(request, RECORD_READ)
    return ok({"record": record_view(record)})


async def update_record(request: Request) -> Response:
    store, location_id, schema, record = _record(request, RECORD_WRITE)
    body = await json_body(request, allowed=RECORD_FIELDS)
    with store.lock:
        updated = dict(record)
        if "properties" in body:
            updated["properties"] = _properties(
                store, location_id, schema, body["properties"], record["properties"]
            )
        for name, limit in (("owner", 1), ("followers", 10)):
            people = _people(body, name, limit)
            if people is not None:
                updated[name] = people
        now = store.now()
        updated["updatedAt"] = now
        updated["lastUpdatedBy"] = provenance(record["id"], now)
        store.put(location_id, "object_records", updated)
        store.emit("RecordUpdate", location_id, _record_event(updated))
    return ok({"record": record_view(updated)})


async def delete_record(request: Request) -> Response:
    store, location_id, _, record = _record(request, RECORD_WRITE)
    with store.lock:
        store.delete(location_id, "object_records", record["id"])
        for relation in list(store.collection(location_id, "relations")):
            if record["id"] in (relation["firstRecordId"], relation["secondRecordId"]):
                store.delete(location_id, "relations", relation["id"])
        store.emit("RecordDelete", location_id, _record_event(record))
    return ok({"id": record["id"], "success": True})


def _matcher(query: str) -> Any:
    text = query.strip().lower()
    field, colon, wanted = text.partition(":")
    if colon and field and " " not in field:
        key = field.rsplit(".", 1)[-1]
        return lambda r: wanted.strip() in str(r["properties"].get(key, "")).lower()
    return lambda r: any(
        isinstance(value, str) and text in value.lower() for value in r["properties"].values()
    )


async def search_records(request: Request) -> Response:
    require(request, scope=RECORD_READ)
    body = await json_body(
        request,
        allowed={"locationId", "page", "pageLimit", "query", "searchAfter"},
        required={"locationId"},
    )
    location_id = str(body["locationId"])
    require(request, scope=RECORD_READ, location_id=location_id)
    limit, page = body.get("pageLimit", 10), body.get("page", 1)
    messages = []
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_PAGE_LIMIT:
        messages.append(f"pageLimit must not be greater than {MAX_PAGE_LIMIT} or less than 1")
    if page is not None and (not isinstance(page, int) or isinstance(page, bool) or page < 1):
        messages.append("page must not be less than 1")
    after = body.get("searchAfter") or None
    if after is not None and (not isinstance(after, list) or len(after) != 2):
        messages.append("searchAfter must be an array of [sort value, id]")
    if messages:
        raise ApiError(422, messages)
    store = store_of(request)
    schema = _schema_or_400(store, location_id, request.path_params["schemaKey"])
    match = _matcher(str(body.get("query") or ""))
    records = [
        record
        for record in store.collection(location_id, "object_records")
        if record["objectKey"] == schema["key"] and match(record)
    ]
    records.sort(key=lambda record: (record["createdAt"], record["id"]))
    if after is not None:
        cursor = (int(str(after[0])) if str(after[0]).isdigit() else 0, str(after[1]))
        records_after = [r for r in records if (ms_from_iso(r["createdAt"]), r["id"]) > cursor]
        found = records_after[:limit]
    else:
        found = records[((page or 1) - 1) * limit : (page or 1) * limit]
    rows = []
    for record in found:
        row = strip_private(record)
        row["searchAfter"] = [ms_from_iso(record["createdAt"]), record["id"]]
        rows.append(row)
    return ok({"records": rows, "total": len(records), "traceId": new_trace_id()})


routes: list[BaseRoute] = [
    Route("/objects/{schemaKey}/records/search", search_records, methods=["POST"]),
    Route("/objects/{schemaKey}/records", create_record, methods=["POST"]),
    Route("/objects/{schemaKey}/records/{id}", get_record, methods=["GET"]),
    Route("/objects/{schemaKey}/records/{id}", update_record, methods=["PUT"]),
    Route("/objects/{schemaKey}/records/{id}", delete_record, methods=["DELETE"]),
]
