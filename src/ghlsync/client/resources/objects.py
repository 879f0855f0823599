"""Custom objects and associations (``apps/objects.json``, ``apps/associations.json``), custom
values (``/locations/{id}/customValues``) and workflows (``apps/workflows.json``).

Record search pages like contact search (``page`` + ``pageLimit``, then the last record's
``searchAfter``); association and relation lists take ``skip`` + ``limit``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, TypedDict, cast

from ghlsync.client.pagination import OffsetPaginator, PageRequest, PageStream, SearchAfterPaginator
from ghlsync.client.resources._base import Resource, enveloped, records_from, segment, unwrap
from ghlsync.client.resources.wire import INFERRED, DateTime

Records = list[dict[str, Any]]
#: record search's page size limit (the emulator's; HighLevel's is unconfirmed)
RECORDS_MAX_PAGE = 100


class ObjectSchema(TypedDict, total=False):
    id: str
    key: str
    labels: dict[str, str]
    description: str
    primaryDisplayProperty: str
    searchableProperties: list[str]
    standard: bool
    dateAdded: DateTime
    dateUpdated: DateTime
    locationId: Annotated[str, INFERRED]


class ObjectField(TypedDict, total=False):
    """One field of ``fields()``' ``fields`` (custom fields v2)."""

    id: str
    name: str
    fieldKey: str
    objectKey: str
    dataType: str
    parentId: str
    description: str
    placeholder: str
    showInForms: bool
    options: list[dict[str, Any]]
    dateAdded: DateTime
    dateUpdated: DateTime


class ObjectRecord(TypedDict, total=False):
    id: str
    objectKey: str
    objectId: str
    properties: dict[str, Any]
    owner: list[str]
    followers: list[str]
    createdBy: dict[str, Any]
    lastUpdatedBy: dict[str, Any]
    createdAt: DateTime
    updatedAt: DateTime
    locationId: Annotated[str, INFERRED]


class Association(TypedDict, total=False):
    id: str
    key: str
    firstObjectKey: str
    firstObjectLabel: str
    secondObjectKey: str
    secondObjectLabel: str
    associationType: str
    locationId: Annotated[str, INFERRED]


class Relation(TypedDict, total=False):
    id: str
    associationId: str
    firstObjectKey: str
    firstRecordId: str
    secondObjectKey: str
    secondRecordId: str
    locationId: Annotated[str, INFERRED]


class CustomValue(TypedDict, total=False):
    id: str
    name: str
    fieldKey: str
    value: str
    locationId: str


class Workflow(TypedDict, total=False):
    """A record of ``workflows.list()``."""

    id: str
    name: str
    status: str
    version: int
    locationId: str
    createdAt: DateTime
    updatedAt: DateTime


class ObjectsResource(Resource):
    """``client.objects``: object schemas and the records of custom objects."""

    async def list(self, location_id: str) -> list[ObjectSchema]:
        """``GET /objects/?locationId=``: standard (``contact``, ...) and custom objects."""
        response = await self._call(
            "GET", "/objects/", params={"locationId": location_id}, location_id=location_id
        )
        return cast(list[ObjectSchema], unwrap(response, "objects", where="GET /objects/"))

    async def get(
        self, key: str, location_id: str, *, fetch_properties: bool = False
    ) -> dict[str, Any]:
        """``GET /objects/{key}``: ``{object, fields}`` (fields with ``fetch_properties``)."""
        params = {"locationId": location_id}
        if fetch_properties:
            params["fetchProperties"] = "true"
        response = await self._call(
            "GET", f"/objects/{segment(key)}", params=params, location_id=location_id
        )
        return cast(dict[str, Any], response)

    async def fields(self, object_key: str, location_id: str) -> dict[str, Any]:
        """``GET /custom-fields/object-key/{objectKey}``: ``{fields, folders}`` of one object
        (custom fields v2)."""
        path = f"/custom-fields/object-key/{segment(object_key)}"
        response = await self._call(
            "GET", path, params={"locationId": location_id}, location_id=location_id
        )
        return cast(dict[str, Any], response)

    def record_pages(
        self, schema_key: str, location_id: str, *, query: str = "", page_size: int = 100
    ) -> PageStream:
        """Every page of ``POST /objects/{key}/records/search`` (a read: safe to resend)."""
        path = f"/objects/{segment(schema_key)}/records/search"
        first = PageRequest(
            "POST",
            path,
            json={"locationId": location_id, "query": query},
            location_id=location_id,
            idempotent=True,
        )
        paginator = SearchAfterPaginator(
            first, records="records", page_size=min(page_size, RECORDS_MAX_PAGE)
        )
        return self._stream(paginator)

    iterate_records = records_from(record_pages)

    async def get_record(self, schema_key: str, record_id: str, location_id: str) -> ObjectRecord:
        """``GET /objects/{key}/records/{id}`` (the location comes from the token)."""
        path = f"/objects/{segment(schema_key)}/records/{segment(record_id)}"
        response = await self._call("GET", path, location_id=location_id)
        return cast(ObjectRecord, enveloped(response, "record"))

    async def create_record(
        self,
        schema_key: str,
        location_id: str,
        properties: Mapping[str, Any],
        *,
        owner: Sequence[str] | None = None,
        followers: Sequence[str] | None = None,
    ) -> ObjectRecord:
        """``POST /objects/{key}/records`` (not resent on an unknown outcome)."""
        body: dict[str, Any] = {"locationId": location_id, "properties": dict(properties)}
        if owner is not None:
            body["owner"] = list(owner)
        if followers is not None:
            body["followers"] = list(followers)
        path = f"/objects/{segment(schema_key)}/records"
        response = await self._call("POST", path, json=body, location_id=location_id)
        return cast(ObjectRecord, enveloped(response, "record"))

    async def update_record(
        self, schema_key: str, record_id: str, location_id: str, properties: Mapping[str, Any]
    ) -> ObjectRecord:
        """``PUT /objects/{key}/records/{id}``: the given properties change, others stay."""
        path = f"/objects/{segment(schema_key)}/records/{segment(record_id)}"
        response = await self._call(
            "PUT",
            path,
            params={"locationId": location_id},
            json={"properties": dict(properties)},
            location_id=location_id,
            idempotent=True,
        )
        return cast(ObjectRecord, enveloped(response, "record"))

    async def delete_record(
        self, schema_key: str, record_id: str, location_id: str
    ) -> dict[str, Any]:
        """``DELETE /objects/{key}/records/{id}`` (the location comes from the token)."""
        path = f"/objects/{segment(schema_key)}/records/{segment(record_id)}"
        response = await self._call("DELETE", path, location_id=location_id)
        return cast(dict[str, Any], response)


class AssociationsResource(Resource):
    """``client.associations``: association definitions and the relations of a record."""

    def pages(self, location_id: str, *, page_size: int = 100) -> PageStream:
        """Every page of ``GET /associations/`` (``skip`` + ``limit``)."""
        paginator = OffsetPaginator(
            self._get("/associations/", {"locationId": location_id}, location_id=location_id),
            records="associations",
            page_size=page_size,
            offset_param="skip",
        )
        return self._stream(paginator)

    iterate = records_from(pages)

    async def get(self, association_id: str, *, location_id: str | None = None) -> Association:
        path = f"/associations/{segment(association_id)}"
        response = await self._call("GET", path, location_id=location_id)
        return cast(Association, response)

    def relation_pages(
        self,
        record_id: str,
        location_id: str,
        *,
        association_ids: Sequence[str] | None = None,
        page_size: int = 100,
    ) -> PageStream:
        """Every page of ``GET /associations/relations/{recordId}`` (``skip`` + ``limit``)."""
        params: dict[str, Any] = {"locationId": location_id}
        if association_ids:
            params["associationIds"] = list(association_ids)
        paginator = OffsetPaginator(
            self._get(
                f"/associations/relations/{segment(record_id)}", params, location_id=location_id
            ),
            records="relations",
            page_size=page_size,
            offset_param="skip",
        )
        return self._stream(paginator)

    iterate_relations = records_from(relation_pages)

    async def create_relation(
        self, location_id: str, association_id: str, first_record_id: str, second_record_id: str
    ) -> Relation:
        """``POST /associations/relations`` (not resent on an unknown outcome)."""
        body = {
            "locationId": location_id,
            "associationId": association_id,
            "firstRecordId": first_record_id,
            "secondRecordId": second_record_id,
        }
        response = await self._call(
            "POST", "/associations/relations", json=body, location_id=location_id
        )
        return cast(Relation, response)

    async def delete_relation(self, relation_id: str, location_id: str) -> Relation:
        path = f"/associations/relations/{segment(relation_id)}"
        response = await self._call(
            "DELETE", path, params={"locationId": location_id}, location_id=location_id
        )
        return cast(Relation, response)


class CustomValuesResource(Resource):
    """``client.custom_values``: ``/locations/{locationId}/customValues`` (no paging)."""

    async def list(self, location_id: str) -> list[CustomValue]:
        path = f"/locations/{segment(location_id)}/customValues"
        response = await self._call("GET", path, location_id=location_id)
        return cast(list[CustomValue], unwrap(response, "customValues", where=f"GET {path}"))

    async def get(self, location_id: str, value_id: str) -> CustomValue:
        path = f"/locations/{segment(location_id)}/customValues/{segment(value_id)}"
        response = await self._call("GET", path, location_id=location_id)
        return cast(CustomValue, unwrap(response, "customValue", where=f"GET {path}"))

    async def create(self, location_id: str, *, name: str, value: str) -> CustomValue:
        """``POST`` (not resent on an unknown outcome)."""
        path = f"/locations/{segment(location_id)}/customValues"
        body = {"name": name, "value": value}
        response = await self._call("POST", path, json=body, location_id=location_id)
        return cast(CustomValue, unwrap(response, "customValue", where=f"POST {path}"))

    async def update(
        self, location_id: str, value_id: str, *, name: str, value: str
    ) -> CustomValue:
        path = f"/locations/{segment(location_id)}/customValues/{segment(value_id)}"
        body = {"name": name, "value": value}
        response = await self._call(
            "PUT", path, json=body, location_id=location_id, idempotent=True
        )
        return cast(CustomValue, unwrap(response, "customValue", where=f"PUT {path}"))

    async def delete(self, location_id: str, value_id: str) -> dict[str, Any]:
        path = f"/locations/{segment(location_id)}/customValues/{segment(value_id)}"
        response = await self._call("DELETE", path, location_id=location_id)
        return cast(dict[str, Any], response)


class WorkflowsResource(Resource):
    """``client.workflows``: ``GET /workflows/?locationId=`` (no paging)."""

    async def list(self, location_id: str) -> Records:
        response = await self._call(
            "GET", "/workflows/", params={"locationId": location_id}, location_id=location_id
        )
        return cast(Records, unwrap(response, "workflows", where="GET /workflows/"))
