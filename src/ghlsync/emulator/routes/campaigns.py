"""Campaigns (``apps/campaigns.json``): ``GET /campaigns/?locationId=&status=``, no paging."""

from __future__ import annotations

import random

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ghlsync.emulator.common import ok, store_of
from ghlsync.emulator.routes._listing import location_query, seed_clock, seeded_times
from ghlsync.emulator.seed import SeedOptions
from ghlsync.emulator.state import LocationState, Store

NAMES = ("Spring Promo", "Welcome Series", "Re-engagement", "Holiday Offer", "Webinar Invite")


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


def seed(store: Store, location: LocationState, rng: random.Random, options: SeedOptions) -> None:
    now_ms, span_ms = seed_clock(store, options)
    for index in range(options.count("campaigns", 4)):
        added, updated = seeded_times(rng, now_ms, span_ms)
        location.collection("campaigns").put(
            {
                "id": store.new_id(),
                "name": NAMES[index % len(NAMES)],
                "status": "published" if rng.random() < 0.7 else "draft",
                "locationId": location.id,
                "dateAdded": added,
                "dateUpdated": updated,
            }
        )


routes: list[BaseRoute] = [Route("/campaigns/", list_campaigns, methods=["GET"])]
