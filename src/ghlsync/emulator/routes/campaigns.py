"""Campaigns (``apps/campaigns.json``): ``GET /campaigns/?locationId=&status=``, no paging."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ghlsync.emulator.common import ok, store_of
from ghlsync.emulator.routes._listing import location_query


async def list_campaigns(request: Request) -> Response:
    location_id = location_query(request, "campaigns.readonly")
    status = request.query_params.get("status")
    campaigns = [
        campaign
        for campaign in store_of(request).collection(location_id, "campaigns")
        if not status or campaign["status"] == status
    ]
    campaigns.sort(key=lambda campaign: campaign["id"])
    return ok({"campaigns": campaigns})


routes: list[BaseRoute] = [Route("/campaigns/", list_campaigns, methods=["GET"])]
