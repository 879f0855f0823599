"""Businesses (``apps/businesses.json``): list (``limit``/``skip``) and get; ``createdAt`` and
``updatedAt`` per ``BusinessDto``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ghlsync.emulator.common import ApiError, int_param, ok, require, store_of
from ghlsync.emulator.routes._listing import by_created, location_query

READ = "businesses.readonly"


async def list_businesses(request: Request) -> Response:
    location_id = location_query(request, READ)
    limit = int_param(request, "limit", 100, minimum=1, maximum=1000)
    skip = int_param(request, "skip", 0)
    items = by_created(list(store_of(request).collection(location_id, "businesses")), "createdAt")
    return ok({"businesses": items[skip : skip + limit]})


async def get_business(request: Request) -> Response:
    token = require(request, scope=READ)
    found = store_of(request).find("businesses", request.path_params["businessId"])
    if found is None or found[0] != token.location_id:
        raise ApiError(400, "Business not found", error="Bad Request")
    return ok({"business": found[1]})


routes: list[BaseRoute] = [
    Route("/businesses/", list_businesses, methods=["GET"]),
    Route("/businesses/{businessId}", get_business, methods=["GET"]),
]
