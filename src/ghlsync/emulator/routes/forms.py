"""Forms and their submissions (``apps/forms.json``); ``surveys`` reuses this module's code.

``GET /forms/submissions``: ``page``/``limit`` (max 100), ``startAt``/``endAt`` (dates,
inclusive), ``formId``, ``q``; newest first; ``meta`` {total, currentPage, nextPage, prevPage}.
Submissions are immutable: ``createdAt`` is their only timestamp (``FormsSubmissionsSubmissionsSchema``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ghlsync.emulator.common import ApiError, int_param, ok, store_of
from ghlsync.emulator.routes._listing import DAY_MS, location_query, page_meta, parse_time_ms

Handler = Callable[[Request], Awaitable[Response]]


def list_handler(kind: str, scope: str, plural: str) -> Handler:
    """``GET /<kind>s/``: ``skip``/``limit`` (max 50), ``type``; ``{<plural>, total}``."""

    async def handler(request: Request) -> Response:
        location_id = location_query(request, scope)
        skip = int_param(request, "skip", 0)
        limit = int_param(request, "limit", 10, minimum=1, maximum=50)
        items = sorted(store_of(request).collection(location_id, plural), key=lambda i: i["id"])
        page = [{"id": i["id"], "name": i["name"], "locationId": i["locationId"]} for i in items]
        return ok({plural: page[skip : skip + limit], "total": len(items)})

    return handler


def submissions_handler(kind: str, scope: str, collection: str) -> Handler:
    id_field = f"{kind}Id"

    async def handler(request: Request) -> Response:
        q = request.query_params
        location_id = location_query(request, scope)
        page = int_param(request, "page", 1, minimum=1)
        limit = int_param(request, "limit", 20, minimum=1, maximum=100)
        start = parse_time_ms(q["startAt"], "startAt") if q.get("startAt") else None
        end = parse_time_ms(q["endAt"], "endAt") if q.get("endAt") else None
        if end is not None and len(q.get("endAt", "")) == 10:
            end += DAY_MS - 1  # a date means the whole day
        if start is not None and end is not None and end < start:
            raise ApiError(422, ["endAt must be after startAt"])
        wanted = q.get(id_field)
        text = (q.get("q") or "").strip().lower()
        items = []
        for item in store_of(request).collection(location_id, collection):
            if wanted and item[id_field] != wanted:
                continue
            if (start is not None and item["_ms"] < start) or (
                end is not None and item["_ms"] > end
            ):
                continue
            if text and text not in f"{item['name']} {item['email']}".lower():
                continue
            items.append(item)
        items.sort(key=lambda item: (item["createdAt"], item["id"]), reverse=True)
        found = items[(page - 1) * limit : page * limit]
        return ok(
            {
                "submissions": [view(item) for item in found],
                "meta": page_meta(len(items), page, limit),
            }
        )

    return handler


def view(item: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in item.items() if not key.startswith("_")}


routes: list[BaseRoute] = [
    Route(
        "/forms/submissions",
        submissions_handler("form", "forms.readonly", "form_submissions"),
        methods=["GET"],
    ),
    Route("/forms/", list_handler("form", "forms.readonly", "forms"), methods=["GET"]),
]
