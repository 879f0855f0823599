"""Associations and relations (``apps/associations.json``).

An association defines how two objects link (``contact`` ↔ ``custom_objects.pet``): ``id``,
``key``, ``firstObjectKey``/``Label``, ``secondObjectKey``/``Label``, ``associationType``
(``USER_DEFINED``), as ``GetPostSuccessfulResponseDto`` and the AssociationCreate webhook
document. A relation links two records through an association, in the RelationCreate document's
shape: ``id``, ``associationId``, ``firstObjectKey``, ``firstRecordId``, ``secondObjectKey``,
``secondRecordId``, ``locationId``.

The spec gives every operation the association body; the emulator answers relation routes with
relations and the list routes with ``{associations | relations, total, traceId}`` (list shapes
unconfirmed; the contract tests patch the spec for them in ``SPEC_QUIRKS``). Listing takes
``skip``/``limit`` (required by the spec). Writes emit ``Association*`` and ``Relation*``.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ghlsync.emulator.common import (
    ApiError,
    json_body,
    new_trace_id,
    ok,
    require,
    store_of,
)
from ghlsync.emulator.routes._listing import location_query, strip_private
from ghlsync.emulator.routes.objects import STANDARD, find_schema
from ghlsync.emulator.state import Entity, Store

READ = "associations.readonly"
WRITE = "associations.write"
RELATION_READ = "associations/relation.readonly"
RELATION_WRITE = "associations/relation.write"
#: record collections of the objects a relation may link
RECORD_KINDS = {"contact": "contacts", "opportunity": "opportunities", "business": "businesses"}


def _window(request: Request) -> tuple[int, int]:
    """``skip`` and ``limit`` (both required by the spec; the official SDK types them as
    floats, so ``10.0`` is read as 10)."""
    values: list[int] = []
    messages: list[str] = []
    for name, default, top in (("skip", 0, None), ("limit", 100, 100)):
        raw = request.query_params.get(name)
        try:
            number = float(raw) if raw not in (None, "") else float(default)
        except ValueError:
            number = -1.0
        if not number.is_integer() or number < (0 if name == "skip" else 1):
            messages.append(f"{name} must be a non-negative integer")
        values.append(min(int(number), top) if top is not None else int(number))
    if messages:
        raise ApiError(422, messages)
    return values[0], values[1]


def association_view(association: Entity) -> dict[str, Any]:
    return strip_private(association)


def relation_view(relation: Entity) -> dict[str, Any]:
    return strip_private(relation)


def _object_known(store: Store, location_id: str, key: Any) -> bool:
    return isinstance(key, str) and (
        key in STANDARD or find_schema(store, location_id, key) is not None
    )


def make_association(
    store: Store, location_id: str, key: str, first: tuple[str, str], second: tuple[str, str]
) -> Entity:
    association = {
        "id": store.new_id(24),
        "key": key,
        "locationId": location_id,
        "firstObjectKey": first[0],
        "firstObjectLabel": first[1],
        "secondObjectKey": second[0],
        "secondObjectLabel": second[1],
        "associationType": "USER_DEFINED",
    }
    return store.put(location_id, "associations", association)


def record_exists(store: Store, location_id: str, object_key: str, record_id: str) -> bool:
    kind = RECORD_KINDS.get(object_key)
    if kind is not None:
        return store.get(location_id, kind, record_id) is not None
    record = store.get(location_id, "object_records", record_id)
    return record is not None and record["objectKey"] == object_key


def make_relation(
    store: Store, location_id: str, association: Entity, first_id: str, second_id: str
) -> Entity:
    relation = {
        "id": store.new_id(24),
        "associationId": association["id"],
        "firstObjectKey": association["firstObjectKey"],
        "firstRecordId": first_id,
        "secondObjectKey": association["secondObjectKey"],
        "secondRecordId": second_id,
        "locationId": location_id,
    }
    return store.put(location_id, "relations", relation)


# --------------------------------------------------------------------------- associations
async def create_association(request: Request) -> Response:
    require(request, scope=WRITE)
    fields = {
        "locationId",
        "key",
        "firstObjectLabel",
        "firstObjectKey",
        "secondObjectLabel",
        "secondObjectKey",
    }
    body = await json_body(request, allowed=fields, required=fields)
    location_id = str(body["locationId"])
    require(request, scope=WRITE, location_id=location_id)
    store = store_of(request)
    with store.lock:
        messages = [
            f"{name} {body[name]} is not an object of this location"
            for name in ("firstObjectKey", "secondObjectKey")
            if not _object_known(store, location_id, body[name])
        ]
        if messages:
            raise ApiError(422, messages)
        if any(a["key"] == body["key"] for a in store.collection(location_id, "associations")):
            raise ApiError(400, f"Association with key {body['key']} already exists")
        association = make_association(
            store,
            location_id,
            str(body["key"]),
            (body["firstObjectKey"], str(body["firstObjectLabel"])),
            (body["secondObjectKey"], str(body["secondObjectLabel"])),
        )
        store.emit("AssociationCreate", location_id, association_view(association))
    return ok(association_view(association), status=201)


async def list_associations(request: Request) -> Response:
    location_id = location_query(request, READ)
    skip, limit = _window(request)
    items = sorted(store_of(request).collection(location_id, "associations"), key=entity_id)
    page = items[skip : skip + limit]
    return ok(
        {
            "associations": [association_view(a) for a in page],
            "total": len(items),
            "traceId": new_trace_id(),
        }
    )


def entity_id(entity: Entity) -> str:
    return str(entity["id"])


async def association_by_key(request: Request) -> Response:
    location_id = location_query(request, READ)
    key = request.path_params["key_name"]
    for association in store_of(request).collection(location_id, "associations"):
        if association["key"] == key:
            return ok(association_view(association))
    raise ApiError(400, f"Association with key {key} not found", error="Bad Request")


async def associations_by_object(request: Request) -> Response:
    location_id = location_query(request, READ)
    key = request.path_params["objectKey"]
    found = [
        association_view(a)
        for a in sorted(store_of(request).collection(location_id, "associations"), key=entity_id)
        if key in (a["firstObjectKey"], a["secondObjectKey"])
    ]
    return ok({"associations": found, "total": len(found), "traceId": new_trace_id()})


def _association(request: Request, scope: str) -> tuple[Store, str, Entity]:
    if request.path_params["associationId"] in ("relations", "key", "objectKey"):
        # a literal path of another route, not an id: HighLevel serves no such route (404)
        raise ApiError(404, f"Cannot {request.method} {request.url.path}")
    require(request, scope=scope)
    store = store_of(request)
    found = store.find("associations", request.path_params["associationId"])
    if found is None:
        raise ApiError(400, "Association not found", error="Bad Request")
    require(request, scope=scope, location_id=found[0])
    return store, found[0], found[1]


async def get_association(request: Request) -> Response:
    _, _, association = _association(request, READ)
    return ok(association_view(association))


async def update_association(request: Request) -> Response:
    store, location_id, association = _association(request, WRITE)
    labels = {"firstObjectLabel", "secondObjectLabel"}
    body = await json_body(request, allowed=labels, required=labels)
    with store.lock:
        updated = {**association, **{name: str(body[name]) for name in labels}}
        store.put(location_id, "associations", updated)
        store.emit("AssociationUpdate", location_id, association_view(updated))
    return ok(association_view(updated))


async def delete_association(request: Request) -> Response:
    store, location_id, association = _association(request, WRITE)
    with store.lock:
        for relation in list(store.collection(location_id, "relations")):
            if relation["associationId"] == association["id"]:
                store.delete(location_id, "relations", relation["id"])
        store.delete(location_id, "associations", association["id"])
        store.emit("AssociationDelete", location_id, association_view(association))
    return ok(
        {"deleted": True, "id": association["id"], "message": "Association deleted successfully"}
    )


# --------------------------------------------------------------------------- relations
async def create_relation(request: Request) -> Response:
    require(request, scope=RELATION_WRITE)
    fields = {"locationId", "associationId", "firstRecordId", "secondRecordId"}
    body = await json_body(request, allowed=fields, required=fields)
    location_id = str(body["locationId"])
    require(request, scope=RELATION_WRITE, location_id=location_id)
    store = store_of(request)
    with store.lock:
        association = store.get(location_id, "associations", str(body["associationId"]))
        if association is None:
            raise ApiError(400, "Association not found", error="Bad Request")
        first, second = str(body["firstRecordId"]), str(body["secondRecordId"])
        messages = [
            f"{name} {record_id} is not a {association[key]} record"
            for name, record_id, key in (
                ("firstRecordId", first, "firstObjectKey"),
                ("secondRecordId", second, "secondObjectKey"),
            )
            if not record_exists(store, location_id, association[key], record_id)
        ]
        if messages:
            raise ApiError(400, messages, error="Bad Request")
        for relation in store.collection(location_id, "relations"):
            if (
                relation["associationId"],
                relation["firstRecordId"],
                relation["secondRecordId"],
            ) == (
                association["id"],
                first,
                second,
            ):
                raise ApiError(400, "Relation already exists", error="Bad Request")
        relation = make_relation(store, location_id, association, first, second)
        store.emit("RelationCreate", location_id, relation_view(relation))
    return ok(relation_view(relation), status=201)


async def relations_of_record(request: Request) -> Response:
    location_id = location_query(request, RELATION_READ)
    skip, limit = _window(request)
    record_id = request.path_params["recordId"]
    wanted = {
        value
        for raw in request.query_params.getlist("associationIds")
        for value in raw.split(",")
        if value
    }
    items = sorted(
        (
            r
            for r in store_of(request).collection(location_id, "relations")
            if record_id in (r["firstRecordId"], r["secondRecordId"])
            and (not wanted or r["associationId"] in wanted)
        ),
        key=entity_id,
    )
    return ok(
        {
            "relations": [relation_view(r) for r in items[skip : skip + limit]],
            "total": len(items),
            "traceId": new_trace_id(),
        }
    )


async def delete_relation(request: Request) -> Response:
    location_id = location_query(request, RELATION_WRITE)
    store = store_of(request)
    with store.lock:
        relation = store.get(location_id, "relations", request.path_params["relationId"])
        if relation is None:
            raise ApiError(400, "Relation not found", error="Bad Request")
        store.delete(location_id, "relations", relation["id"])
        store.emit("RelationDelete", location_id, relation_view(relation))
    return ok(relation_view(relation))


routes: list[BaseRoute] = [
    Route("/associations/", list_associations, methods=["GET"]),
    Route("/associations/", create_association, methods=["POST"]),
    Route("/associations/relations", create_relation, methods=["POST"]),
    Route("/associations/relations/{recordId}", relations_of_record, methods=["GET"]),
    Route("/associations/relations/{relationId}", delete_relation, methods=["DELETE"]),
    Route("/associations/key/{key_name}", association_by_key, methods=["GET"]),
    Route("/associations/objectKey/{objectKey}", associations_by_object, methods=["GET"]),
    Route("/associations/{associationId}", get_association, methods=["GET"]),
    Route("/associations/{associationId}", update_association, methods=["PUT"]),
    Route("/associations/{associationId}", delete_association, methods=["DELETE"]),
]
