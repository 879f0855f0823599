"""Locations (sub-accounts), their tags, and their custom fields with a cached key resolver.

Wire shapes: ``apps/locations.json``. Custom field ids differ per location while keys
(``contact.membership_status``) are stable, so writers resolve keys through
``CustomFieldsResource.field_map`` (cached per location, dropped on create/update/delete).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal, TypedDict, cast

from ghlsync.client._protocol import Requester
from ghlsync.client.pagination import OffsetPaginator, PageStream
from ghlsync.client.resources._base import Resource, records_from, segment, to_wire, unwrap
from ghlsync.client.resources.wire import INFERRED

FieldModel = Literal["contact", "opportunity", "all"]


class Location(TypedDict, total=False):
    id: str
    name: str
    companyId: str
    timezone: str
    email: str
    phone: str
    address: str
    city: str
    state: str
    country: str
    postalCode: str
    website: str
    settings: Annotated[dict[str, Any], INFERRED]


class LocationResponse(TypedDict, total=False):
    location: Location
    traceId: str


class LocationSearchResponse(TypedDict, total=False):
    locations: list[Location]


class Tag(TypedDict, total=False):
    id: str
    name: str
    locationId: str


class CustomField(TypedDict, total=False):
    """One custom-field definition; ``fieldKey``, ``dataType`` and ``picklistOptions`` are what
    writers need (``ghlsync.mapping.custom_fields.FieldDef.from_api`` reads this shape)."""

    id: str
    name: str
    fieldKey: str
    dataType: str
    model: str
    position: int
    placeholder: str
    picklistOptions: list[Any]
    locationId: Annotated[str, INFERRED]


Tags = list[Tag]
CustomFields = list[CustomField]
FieldMap = dict[str, CustomField]


class LocationsResource(Resource):
    """``client.locations``."""

    async def get(self, location_id: str) -> LocationResponse:
        """``GET /locations/{locationId}``."""
        path = f"/locations/{segment(location_id)}"
        return cast(LocationResponse, await self._call("GET", path, location_id=location_id))

    async def search(
        self,
        company_id: str,
        *,
        skip: int = 0,
        limit: int = 100,
        order: Literal["asc", "desc"] | None = None,
        email: str | None = None,
    ) -> LocationSearchResponse:
        """One page of ``GET /locations/search`` (agency token)."""
        params = to_wire(
            {"company_id": company_id, "skip": skip, "limit": limit, "order": order, "email": email}
        )
        response = await self._call(
            "GET", "/locations/search", params=params, company_id=company_id
        )
        return cast(LocationSearchResponse, response)

    def pages(
        self,
        company_id: str,
        *,
        page_size: int = 100,
        order: Literal["asc", "desc"] | None = None,
        email: str | None = None,
    ) -> PageStream:
        """Every page of ``GET /locations/search`` (``skip`` + ``limit``)."""
        params = to_wire({"company_id": company_id, "order": order, "email": email})
        paginator = OffsetPaginator(
            self._get("/locations/search", params, company_id=company_id),
            records="locations",
            page_size=page_size,
            offset_param="skip",
        )
        return self._stream(paginator)

    iterate = records_from(pages)

    def installed_pages(
        self,
        /,
        company_id: str,
        app_id: str,
        *,
        is_installed: bool | None = True,
        page_size: int = 100,
        **filters: Any,
    ) -> PageStream:
        """Where an app is installed: ``GET /oauth/installedLocations`` (agency token,
        ``skip`` + ``limit``, total in ``count``)."""
        params = to_wire(
            {"company_id": company_id, "app_id": app_id, "is_installed": is_installed, **filters}
        )
        paginator = OffsetPaginator(
            self._get("/oauth/installedLocations", params, company_id=company_id),
            records="locations",
            page_size=page_size,
            offset_param="skip",
            total=("count",),
        )
        return self._stream(paginator)

    iterate_installed = records_from(installed_pages)


class LocationTagsResource(Resource):
    """``client.tags``: the location's tag catalogue (``/locations/{id}/tags``)."""

    async def list(self, location_id: str) -> Tags:
        path = f"/locations/{segment(location_id)}/tags"
        response = await self._call("GET", path, location_id=location_id)
        return cast(Tags, unwrap(response, "tags", where=f"GET {path}"))

    async def create(self, location_id: str, name: str) -> Tag:
        path = f"/locations/{segment(location_id)}/tags"
        response = await self._call("POST", path, json={"name": name}, location_id=location_id)
        return cast(Tag, unwrap(response, "tag", where=f"POST {path}"))

    async def get(self, location_id: str, tag_id: str) -> Tag:
        path = f"/locations/{segment(location_id)}/tags/{segment(tag_id)}"
        response = await self._call("GET", path, location_id=location_id)
        return cast(Tag, unwrap(response, "tag", where=f"GET {path}"))

    async def update(self, location_id: str, tag_id: str, name: str) -> Tag:
        path = f"/locations/{segment(location_id)}/tags/{segment(tag_id)}"
        response = await self._call("PUT", path, json={"name": name}, location_id=location_id)
        return cast(Tag, unwrap(response, "tag", where=f"PUT {path}"))

    async def delete(self, location_id: str, tag_id: str) -> dict[str, Any]:
        path = f"/locations/{segment(location_id)}/tags/{segment(tag_id)}"
        return cast(dict[str, Any], await self._call("DELETE", path, location_id=location_id))


class CustomFieldsResource(Resource):
    """``client.custom_fields``: definitions under ``/locations/{id}/customFields``, plus a
    cached ``fieldKey -> definition`` map per location."""

    def __init__(self, requester: Requester) -> None:
        super().__init__(requester)
        self._maps: dict[str, FieldMap] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._misses: dict[str, set[str]] = {}

    async def list(self, location_id: str, *, model: FieldModel | None = None) -> CustomFields:
        """``GET /locations/{locationId}/customFields``."""
        path = f"/locations/{segment(location_id)}/customFields"
        params = to_wire({"model": model})
        response = await self._call("GET", path, params=params, location_id=location_id)
        return cast(CustomFields, unwrap(response, "customFields", where=f"GET {path}"))

    async def get(self, location_id: str, field_id: str) -> CustomField:
        """``GET /locations/{locationId}/customFields/{id}``."""
        path = f"/locations/{segment(location_id)}/customFields/{segment(field_id)}"
        response = await self._call("GET", path, location_id=location_id)
        return cast(CustomField, unwrap(response, "customField", where=f"GET {path}"))

    async def create(
        self,
        location_id: str,
        *,
        name: str,
        data_type: str,
        model: Literal["contact", "opportunity"] | None = None,
        placeholder: str | None = None,
        position: int | None = None,
        **fields: Any,
    ) -> CustomField:
        """``POST /locations/{locationId}/customFields`` (not resent on an unknown outcome).

        Other ``CreateCustomFieldsDTO`` fields go in ``fields`` in snake_case
        (``text_box_list_options=[...]``, ``accepted_format=[...]``).
        """
        body = to_wire(
            {
                "name": name,
                "data_type": data_type,
                "model": model,
                "placeholder": placeholder,
                "position": position,
                **fields,
            }
        )
        path = f"/locations/{segment(location_id)}/customFields"
        try:
            response = await self._call("POST", path, json=body, location_id=location_id)
        finally:
            self.invalidate(location_id)
        return cast(CustomField, unwrap(response, "customField", where=f"POST {path}"))

    async def update(
        self,
        location_id: str,
        field_id: str,
        *,
        name: str,
        placeholder: str | None = None,
        position: int | None = None,
        **fields: Any,
    ) -> CustomField:
        """``PUT /locations/{locationId}/customFields/{id}`` (``name`` is required by the API)."""
        body = to_wire(
            {
                "name": name,
                "placeholder": placeholder,
                "position": position,
                **fields,
            }
        )
        path = f"/locations/{segment(location_id)}/customFields/{segment(field_id)}"
        try:
            response = await self._call("PUT", path, json=body, location_id=location_id)
        finally:
            self.invalidate(location_id)
        return cast(CustomField, unwrap(response, "customField", where=f"PUT {path}"))

    async def delete(self, location_id: str, field_id: str) -> dict[str, Any]:
        """``DELETE /locations/{locationId}/customFields/{id}``."""
        path = f"/locations/{segment(location_id)}/customFields/{segment(field_id)}"
        try:
            response = await self._call("DELETE", path, location_id=location_id)
        finally:
            self.invalidate(location_id)
        return cast(dict[str, Any], response)

    # -- the resolver ---------------------------------------------------------------------------

    def invalidate(self, location_id: str | None = None) -> None:
        """Forget the cached map of one location (or of all)."""
        if location_id is None:
            self._maps.clear()
            self._misses.clear()
        else:
            self._maps.pop(location_id, None)
            self._misses.pop(location_id, None)

    async def field_map(self, location_id: str, *, refresh: bool = False) -> FieldMap:
        """``fieldKey -> definition`` (``id``, ``dataType``, ``picklistOptions``, ...) for every
        custom field of the location (contact and opportunity), fetched once and cached.

        Concurrent callers share one fetch per location.
        """
        if not refresh and location_id in self._maps:
            return self._maps[location_id]
        lock = self._locks.setdefault(location_id, asyncio.Lock())
        async with lock:
            if not refresh and location_id in self._maps:
                return self._maps[location_id]
            # ``model=all``: HighLevel's default may be contact fields only
            definitions = await self.list(location_id, model="all")
            mapping: FieldMap = {d["fieldKey"]: d for d in definitions if d.get("fieldKey")}
            self._maps[location_id] = mapping
            self._misses.pop(location_id, None)
            return mapping

    async def resolve(self, location_id: str, field_key: str) -> CustomField | None:
        """The definition of ``field_key`` (``contact.x`` or just ``x`` for contact fields), or
        ``None``. The first miss of a key refetches the map once (the field may have been created
        since it was read); later misses of the same key are answered from the cache.
        """
        candidates = (field_key,) if "." in field_key else (field_key, f"contact.{field_key}")
        mapping = await self.field_map(location_id)
        found = next((mapping[k] for k in candidates if k in mapping), None)
        if found is not None or field_key in self._misses.get(location_id, set()):
            return found
        mapping = await self.field_map(location_id, refresh=True)
        found = next((mapping[k] for k in candidates if k in mapping), None)
        if found is None:
            self._misses.setdefault(location_id, set()).add(field_key)
        return found
