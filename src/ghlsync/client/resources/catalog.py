"""Small location-scoped catalogues: campaigns, users, businesses.

Wire shapes: ``apps/campaigns.json``, ``apps/users.json``, ``apps/businesses.json``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypedDict, cast

from ghlsync.client.pagination import OffsetPaginator, PageStream
from ghlsync.client.resources._base import (
    Resource,
    enveloped,
    records_from,
    segment,
    to_wire,
    unwrap,
)
from ghlsync.client.resources.wire import INFERRED, DateTime

Records = list[dict[str, Any]]


class Campaign(TypedDict, total=False):
    """A record of ``campaigns.list()``."""

    id: str
    name: str
    status: str
    locationId: str


class User(TypedDict, total=False):
    id: str
    name: str
    firstName: str
    lastName: str
    email: str
    phone: str
    roles: dict[str, Any]
    permissions: dict[str, Any]
    deleted: bool


class UserSearchResponse(TypedDict, total=False):
    users: list[User]
    count: int


Users = list[User]


class Business(TypedDict, total=False):
    id: str
    name: str
    phone: str
    email: str
    website: str
    address: str
    city: str
    state: str
    postalCode: str
    country: str
    description: str
    createdAt: DateTime
    updatedAt: DateTime
    locationId: Annotated[str, INFERRED]


class CampaignsResource(Resource):
    """``client.campaigns``: ``GET /campaigns/`` (no paging)."""

    async def list(
        self, location_id: str, *, status: Literal["draft", "published"] | None = None
    ) -> Records:
        params = to_wire({"location_id": location_id, "status": status})
        response = await self._call("GET", "/campaigns/", params=params, location_id=location_id)
        return cast(Records, unwrap(response, "campaigns", where="GET /campaigns/"))


class UsersResource(Resource):
    """``client.users``: the users of a location, and the agency-wide search."""

    async def list(self, location_id: str) -> Users:
        """``GET /users/?locationId=`` (every user of the location, no paging)."""
        params = {"locationId": location_id}
        response = await self._call("GET", "/users/", params=params, location_id=location_id)
        return cast(Users, unwrap(response, "users", where="GET /users/"))

    async def get(self, user_id: str, *, location_id: str | None = None) -> User:
        """``GET /users/{userId}``."""
        path = f"/users/{segment(user_id)}"
        response = await self._call("GET", path, location_id=location_id)
        return cast(User, enveloped(response, "user"))

    async def search(
        self,
        company_id: str,
        *,
        location_id: str | None = None,
        query: str | None = None,
        skip: int = 0,
        limit: int = 25,
        **filters: Any,
    ) -> UserSearchResponse:
        """One page of ``GET /users/search`` (agency token; ``company_id`` required)."""
        params = to_wire(
            {
                "company_id": company_id,
                "location_id": location_id,
                "query": query,
                "skip": skip,
                "limit": limit,
                **filters,
            }
        )
        response = await self._call("GET", "/users/search", params=params, company_id=company_id)
        return cast(UserSearchResponse, response)

    def search_pages(
        self,
        company_id: str,
        *,
        location_id: str | None = None,
        query: str | None = None,
        page_size: int = 25,
        **filters: Any,
    ) -> PageStream:
        """Every page of ``GET /users/search`` (``skip`` + ``limit``; total in ``count``)."""
        params = to_wire(
            {"company_id": company_id, "location_id": location_id, "query": query, **filters}
        )
        paginator = OffsetPaginator(
            self._get("/users/search", params, company_id=company_id),
            records="users",
            page_size=page_size,
            offset_param="skip",
            total=("count",),
        )
        return self._stream(paginator)


class BusinessesResource(Resource):
    """``client.businesses``: ``GET /businesses/`` (``skip`` + ``limit``) and get by id."""

    async def get(self, business_id: str, *, location_id: str | None = None) -> Business:
        path = f"/businesses/{segment(business_id)}"
        response = await self._call("GET", path, location_id=location_id)
        return cast(Business, enveloped(response, "business"))

    def pages(self, location_id: str, *, page_size: int = 100) -> PageStream:
        paginator = OffsetPaginator(
            self._get("/businesses/", {"locationId": location_id}, location_id=location_id),
            records="businesses",
            page_size=page_size,
            offset_param="skip",
        )
        return self._stream(paginator)

    iterate = records_from(pages)
