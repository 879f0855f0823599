"""Opportunities (search, CRUD, status, upsert) and pipelines. Wire shapes: ``apps/opportunities.json``.

``GET /opportunities/search`` spells several query names in snake_case on the wire
(``location_id``, ``pipeline_id``, ...); they are listed once in ``_SEARCH_ALIASES``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, TypedDict, cast

from ghlsync.client.pagination import CursorPaginator, PageStream, meta_cursor
from ghlsync.client.resources._base import Resource, records_from, segment, to_wire
from ghlsync.client.resources.contacts import CustomFieldValue
from ghlsync.client.resources.wire import INFERRED, DateTime

SEARCH_MAX_PAGE: int = 100
Status = Literal["open", "won", "lost", "abandoned", "all"]

_SEARCH_ALIASES = {
    name: name
    for name in ("location_id", "pipeline_id", "pipeline_stage_id", "contact_id", "assigned_to")
}


class Opportunity(TypedDict, total=False):
    id: str
    name: str
    status: str
    monetaryValue: float
    pipelineId: str
    pipelineStageId: str
    assignedTo: str
    contactId: str
    source: str
    lastStatusChangeAt: DateTime
    createdAt: DateTime
    updatedAt: DateTime
    customFields: list[CustomFieldValue]
    locationId: Annotated[str, INFERRED]
    lastStageChangeAt: Annotated[str, INFERRED]
    contact: Annotated[dict[str, Any], INFERRED]


class OpportunityResponse(TypedDict, total=False):
    opportunity: Opportunity
    traceId: str


class OpportunityUpsertResponse(TypedDict, total=False):
    opportunity: Opportunity
    new: bool
    traceId: str


class OpportunitySearchResponse(TypedDict, total=False):
    opportunities: list[Opportunity]
    meta: dict[str, Any]
    aggregations: dict[str, Any]


class PipelineStage(TypedDict, total=False):
    id: str
    name: str
    position: int
    showInFunnel: bool
    showInPieChart: bool


class Pipeline(TypedDict, total=False):
    id: str
    name: str
    stages: list[PipelineStage]
    showInFunnel: Annotated[bool, INFERRED]
    showInPieChart: Annotated[bool, INFERRED]
    locationId: Annotated[str, INFERRED]


Pipelines = list[Pipeline]


def mdy(value: dt.date | str) -> str:
    """The ``mm-dd-yyyy`` form ``GET /opportunities/search`` takes for ``date`` / ``endDate``."""
    return value if isinstance(value, str) else value.strftime("%m-%d-%Y")


class OpportunitiesResource(Resource):
    """``client.opportunities``."""

    @staticmethod
    def _search_params(
        location_id: str,
        *,
        since: dt.date | str | None,
        until: dt.date | str | None,
        filters: Mapping[str, Any],
    ) -> dict[str, Any]:
        return to_wire(
            {
                "location_id": location_id,
                "date": mdy(since) if since is not None else None,
                "end_date": mdy(until) if until is not None else None,
                **filters,
            },
            _SEARCH_ALIASES,
        )

    async def search(
        self,
        location_id: str,
        *,
        since: dt.date | str | None = None,
        until: dt.date | str | None = None,
        status: Status | None = None,
        pipeline_id: str | None = None,
        pipeline_stage_id: str | None = None,
        contact_id: str | None = None,
        assigned_to: str | None = None,
        q: str | None = None,
        order: str | None = None,
        page: int | None = None,
        limit: int = SEARCH_MAX_PAGE,
        start_after: int | str | None = None,
        start_after_id: str | None = None,
        **filters: Any,
    ) -> OpportunitySearchResponse:
        """One page of ``GET /opportunities/search``.

        ``since`` / ``until`` become ``date`` / ``endDate`` (``mm-dd-yyyy``, day granularity).
        """
        params = self._search_params(
            location_id,
            since=since,
            until=until,
            filters={
                "status": status,
                "pipeline_id": pipeline_id,
                "pipeline_stage_id": pipeline_stage_id,
                "contact_id": contact_id,
                "assigned_to": assigned_to,
                "q": q,
                "order": order,
                "page": page,
                "limit": min(limit, SEARCH_MAX_PAGE),
                "start_after": start_after,
                "start_after_id": start_after_id,
                **filters,
            },
        )
        response = await self._call(
            "GET", "/opportunities/search", params=params, location_id=location_id
        )
        return cast(OpportunitySearchResponse, response)

    def pages(
        self,
        /,
        location_id: str,
        *,
        since: dt.date | str | None = None,
        until: dt.date | str | None = None,
        status: Status | None = None,
        pipeline_id: str | None = None,
        order: str | None = None,
        page_size: int = SEARCH_MAX_PAGE,
        start_after: int | str | None = None,
        start_after_id: str | None = None,
        **filters: Any,
    ) -> PageStream:
        """Every page of ``GET /opportunities/search``: cursor ``startAfter`` + ``startAfterId``
        from ``meta`` (``meta.nextPage`` when a response has no cursor).

        Incremental reads: ``since`` is HighLevel's ``date`` filter, a day (``mm-dd-yyyy``);
        the spec does not say which timestamp it applies to, so an extract should re-read the
        bookmark's day and deduplicate on ``id`` + ``updatedAt``.
        """
        size = min(page_size, SEARCH_MAX_PAGE)
        params = self._search_params(
            location_id,
            since=since,
            until=until,
            filters={
                "status": status,
                "pipeline_id": pipeline_id,
                "order": order,
                "limit": size,
                "start_after": start_after,
                "start_after_id": start_after_id,
                **filters,
            },
        )
        paginator = CursorPaginator(
            self._get("/opportunities/search", params, location_id=location_id),
            records="opportunities",
            cursor=meta_cursor("startAfter", "startAfterId", page_param="page"),
            page_size=size,
            total=("meta.total",),
        )
        return self._stream(paginator)

    iterate = records_from(pages)

    async def get(
        self, opportunity_id: str, *, location_id: str | None = None
    ) -> OpportunityResponse:
        """``GET /opportunities/{id}``."""
        path = f"/opportunities/{segment(opportunity_id)}"
        return cast(OpportunityResponse, await self._call("GET", path, location_id=location_id))

    async def create(
        self,
        location_id: str,
        *,
        pipeline_id: str,
        name: str,
        contact_id: str,
        status: Status = "open",
        pipeline_stage_id: str | None = None,
        monetary_value: float | None = None,
        assigned_to: str | None = None,
        custom_fields: Sequence[Mapping[str, Any]] | None = None,
        **fields: Any,
    ) -> OpportunityResponse:
        """``POST /opportunities/`` (not resent on an unknown outcome; prefer ``upsert``)."""
        body = to_wire(
            {
                "location_id": location_id,
                "pipeline_id": pipeline_id,
                "name": name,
                "contact_id": contact_id,
                "status": status,
                "pipeline_stage_id": pipeline_stage_id,
                "monetary_value": monetary_value,
                "assigned_to": assigned_to,
                "custom_fields": [dict(c) for c in custom_fields] if custom_fields else None,
                **fields,
            }
        )
        response = await self._call("POST", "/opportunities/", json=body, location_id=location_id)
        return cast(OpportunityResponse, response)

    async def update(
        self,
        opportunity_id: str,
        *,
        location_id: str | None = None,
        custom_fields: Sequence[Mapping[str, Any]] | None = None,
        **fields: Any,
    ) -> OpportunityResponse:
        """``PUT /opportunities/{id}`` (snake_case fields: ``pipeline_stage_id=``, ...)."""
        body = to_wire(
            {
                "custom_fields": [dict(c) for c in custom_fields] if custom_fields else None,
                **fields,
            }
        )
        path = f"/opportunities/{segment(opportunity_id)}"
        response = await self._call("PUT", path, json=body, location_id=location_id)
        return cast(OpportunityResponse, response)

    async def update_status(
        self,
        opportunity_id: str,
        status: Status,
        *,
        lost_reason_id: str | None = None,
        location_id: str | None = None,
    ) -> dict[str, Any]:
        """``PUT /opportunities/{id}/status``."""
        body = to_wire({"status": status, "lost_reason_id": lost_reason_id})
        path = f"/opportunities/{segment(opportunity_id)}/status"
        response = await self._call("PUT", path, json=body, location_id=location_id)
        return cast(dict[str, Any], response)

    async def delete(
        self, opportunity_id: str, *, location_id: str | None = None
    ) -> dict[str, Any]:
        """``DELETE /opportunities/{id}``."""
        path = f"/opportunities/{segment(opportunity_id)}"
        return cast(dict[str, Any], await self._call("DELETE", path, location_id=location_id))

    async def upsert(
        self,
        location_id: str,
        *,
        pipeline_id: str,
        opportunity_id: str | None = None,
        name: str | None = None,
        status: Status | None = None,
        pipeline_stage_id: str | None = None,
        monetary_value: float | None = None,
        assigned_to: str | None = None,
        contact_id: str | None = None,
        followers: Sequence[str] = (),
        followers_action_type: Literal["add", "remove"] = "add",
        is_remove_all_followers: bool = False,
        **fields: Any,
    ) -> OpportunityUpsertResponse:
        """``POST /opportunities/upsert`` (safe to resend). The spec requires the follower
        fields; the defaults (add none, remove none) leave followers unchanged."""
        body = to_wire(
            {
                "location_id": location_id,
                "pipeline_id": pipeline_id,
                "id": opportunity_id,
                "name": name,
                "status": status,
                "pipeline_stage_id": pipeline_stage_id,
                "monetary_value": monetary_value,
                "assigned_to": assigned_to,
                "contact_id": contact_id,
                "followers": list(followers),
                "followers_action_type": followers_action_type,
                "is_remove_all_followers": is_remove_all_followers,
                **fields,
            }
        )
        response = await self._call(
            "POST", "/opportunities/upsert", json=body, location_id=location_id, idempotent=True
        )
        return cast(OpportunityUpsertResponse, response)


class PipelinesResource(Resource):
    """``client.pipelines``: ``GET /opportunities/pipelines`` (all pipelines with their stages)."""

    async def list(self, location_id: str) -> Pipelines:
        params = {"locationId": location_id}
        response = await self._call(
            "GET", "/opportunities/pipelines", params=params, location_id=location_id
        )
        return cast(Pipelines, (response or {}).get("pipelines", []))
