"""Opportunity search (``apps/opportunities.json``): ``GET /opportunities/search`` (v2: filters
in the query, ``startAfter``/``startAfterId`` paging) and ``POST /opportunities/search`` (v3).

Matches are cached per location and filter, keyed by the collection's version, so paging
through a large result re-sorts nothing."""

from __future__ import annotations

import bisect
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ghlsync.emulator.common import ApiError, int_param, json_body, ok, require, store_of
from ghlsync.emulator.routes._listing import in_window, parse_time_ms, time_param
from ghlsync.emulator.routes.opportunities import (
    READ,
    STATUSES,
    contact_summary,
    details_of,
    is_v3,
    opportunity_view,
)
from ghlsync.emulator.state import Entity, Store, iso_from_ms, ms_from_iso

#: ``GET /opportunities/search`` filters: (field, v2 query name, v3 query name)
SEARCH_FILTERS = (
    ("pipelineId", "pipeline_id", "pipelineId"),
    ("pipelineStageId", "pipeline_stage_id", "pipelineStageId"),
    ("contactId", "contact_id", "contactId"),
    ("assignedTo", "assigned_to", "assignedTo"),
)


# --------------------------------------------------------------------------- handlers
_CACHE_KEY = "opportunities.search_cache"


def _matching(
    store: Store,
    location_id: str,
    status: str,
    filters: dict[str, str],
    start_ms: int | None,
    end_ms: int | None,
    text: str,
) -> tuple[list[Entity], list[tuple[str, str]]]:
    """The opportunities matching a search, oldest first, and their ``(createdAt, id)`` keys.

    Cached per filter set and collection version, so paging through 100k opportunities costs a
    bisect per page rather than a scan and a sort.
    """
    collection = store.collection(location_id, "opportunities")
    contacts_version = store.collection(location_id, "contacts").version if text else 0
    cache: dict[Any, Any] = store.extras.setdefault(_CACHE_KEY, {})
    key = (location_id, status, tuple(sorted(filters.items())), start_ms, end_ms, text)
    hit = cache.get(key)
    if hit is not None and hit[0] == (collection.version, contacts_version):
        return hit[1], hit[2]
    items: list[Entity] = []
    for opp in collection:
        if status and status != "all" and opp["status"] != status:
            continue
        if any(opp.get(name) != value for name, value in filters.items()):
            continue
        if not in_window(opp["createdAt"], start_ms, end_ms):
            continue
        if text:
            contact = contact_summary(store, location_id, opp["contactId"])
            haystack = " ".join(
                str(value) for value in (opp["name"], contact.get("name"), contact.get("email"))
            )
            if text not in haystack.lower():
                continue
        items.append(opp)
    items.sort(key=lambda item: (item["createdAt"], item["id"]))
    keys = [(item["createdAt"], item["id"]) for item in items]
    if len(cache) > 64:
        cache.clear()
    cache[key] = ((collection.version, contacts_version), items, keys)
    return items, keys


async def search(request: Request) -> Response:
    """``GET /opportunities/search``: ``page`` or ``startAfter`` paging. Filters are snake_case
    (``location_id``, ``pipeline_id`` ...) and camelCase under ``Version: v3``."""
    q = request.query_params
    v3 = is_v3(request)
    location_name = "locationId" if v3 else "location_id"
    location_id = q.get(location_name) or ""
    if not location_id:
        require(request, scope=READ)
        raise ApiError(422, [f"{location_name} should not be empty"])
    require(request, scope=READ, location_id=location_id)
    store = store_of(request)
    limit = int_param(request, "limit", 20, minimum=1, maximum=100)
    page = int_param(request, "page", 1, minimum=1)
    status = q.get("status") or ""
    if status and status not in (*STATUSES, "all"):
        raise ApiError(
            422, ["status must be one of the following values: open, won, lost, abandoned, all"]
        )
    start_ms = time_param(request, "date")
    end_ms = time_param(request, "endDate")
    if end_ms is not None and q.get("endDate", "").count("-") == 2 and len(q["endDate"]) == 10:
        end_ms += 86_400_000 - 1  # a date means the whole day
    order = q.get("order") or "added_desc"
    if order not in ("added_asc", "added_desc"):
        raise ApiError(422, ["order must be one of the following values: added_asc, added_desc"])
    text = (q.get("q") or "").strip().lower()
    filters = {
        field: q.get(v3_name if v3 else v2_name) for field, v2_name, v3_name in SEARCH_FILTERS
    }
    filters["id"] = q.get("id")
    wanted = {key: value for key, value in filters.items() if value}
    asc, keys = _matching(store, location_id, status, wanted, start_ms, end_ms, text)
    descending = order == "added_desc"
    total = len(asc)
    start_after = q.get("startAfter")
    if start_after:
        cursor = (
            iso_from_ms(parse_time_ms(start_after, "startAfter")),
            q.get("startAfterId") or "",
        )
        # position of the cursor in the requested order
        offset = (
            total - bisect.bisect_left(keys, cursor)
            if descending
            else bisect.bisect_right(keys, cursor)
        )
    else:
        offset = (page - 1) * limit
    current_page = offset // limit + 1
    stop = min(offset + limit, total)
    if descending:
        found = [asc[total - 1 - index] for index in range(offset, stop)]
    else:
        found = asc[offset:stop]
    more = offset + limit < total
    last = found[-1] if found else None
    meta: dict[str, Any] = {
        "total": total,
        "currentPage": current_page,
        "prevPage": current_page - 1 if current_page > 1 else None,
        "nextPage": current_page + 1 if more else None,
        "startAfter": ms_from_iso(last["createdAt"]) if last and more else None,
        "startAfterId": last["id"] if last and more else None,
        "nextPageUrl": None,
    }
    if more and last is not None:
        params = {
            key: value
            for key, value in q.items()
            if key not in ("page", "startAfter", "startAfterId")
        }
        params.update(
            {
                "startAfter": str(meta["startAfter"]),
                "startAfterId": last["id"],
                "page": str(current_page + 1),
            }
        )
        meta["nextPageUrl"] = f"{request.base_url}opportunities/search?{urlencode(params)}"
    return ok(
        {
            "opportunities": [opportunity_view(store, opp, details_of(request)) for opp in found],
            "meta": meta,
            "aggregations": {},
        }
    )


IAM_UNSUPPORTED = (
    "This route is not yet supported by the IAM Service. Please update your IAM config."
)


async def search_post(request: Request) -> Response:
    """``POST /opportunities/search`` (``OpportunitySearchBodyDTO``).

    HighLevel does not open this filter-based search to public tokens: it answers 401 "This
    route is not yet supported by the IAM Service..." (GHL-NOTES §5, hl-docs#74, hl-docs#11).
    The emulator does the same unless ``EmulatorSettings.opportunity_filter_search`` is on;
    then it pages the location's opportunities, newest first, ``total`` at the top level.
    """
    require(request, scope=READ)
    if not getattr(request.app.state.settings, "opportunity_filter_search", False):
        raise ApiError(401, IAM_UNSUPPORTED, error="Unauthorized")
    body = await json_body(
        request,
        allowed={
            "locationId",
            "query",
            "limit",
            "page",
            "searchAfter",
            "additionalDetails",
            "filters",
            "sort",
        },
        required={"locationId"},
    )
    location_id = str(body["locationId"])
    require(request, scope=READ, location_id=location_id)
    store = store_of(request)
    limit = body.get("limit") or 20
    page = body.get("page") or 1
    if not isinstance(limit, int) or not 1 <= limit <= 500:
        raise ApiError(422, ["limit must not be greater than 500"])
    if not isinstance(page, int) or page < 1:
        raise ApiError(422, ["page must not be less than 1"])
    text = str(body.get("query") or "").strip().lower()
    items = [
        opp
        for opp in store.collection(location_id, "opportunities")
        if not text or text in opp["name"].lower()
    ]
    items.sort(key=lambda item: (item["createdAt"], item["id"]), reverse=True)
    found = items[(page - 1) * limit : page * limit]
    return ok(
        {
            "opportunities": [opportunity_view(store, opp) for opp in found],
            "total": len(items),
            "aggregations": {},
        }
    )


# ahead of ``opportunities.routes``: ``/opportunities/search`` is not an ``{id}``
routes: list[BaseRoute] = [
    Route("/opportunities/search", search, methods=["GET"]),
    Route("/opportunities/search", search_post, methods=["POST"]),
]
