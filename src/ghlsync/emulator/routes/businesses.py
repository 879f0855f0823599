"""Businesses (``apps/businesses.json``): list (``limit``/``skip``) and get; ``createdAt`` and
``updatedAt`` per ``BusinessDto``."""

from __future__ import annotations

import random

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ghlsync.emulator.common import ApiError, int_param, ok, require, store_of
from ghlsync.emulator.routes._listing import (
    by_created,
    location_query,
    pick,
    seed_clock,
    seeded_times,
)
from ghlsync.emulator.seed import BUSINESS_WORDS, CITIES, SeedOptions
from ghlsync.emulator.state import LocationState, Store

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


def seed(store: Store, location: LocationState, rng: random.Random, options: SeedOptions) -> None:
    now_ms, span_ms = seed_clock(store, options)
    for index in range(options.count("businesses", 12)):
        city, state, country, _ = pick(rng, CITIES)
        name = f"{pick(rng, BUSINESS_WORDS)} {index + 1}"
        slug = "".join(ch for ch in name.lower() if ch.isalnum())
        created, updated = seeded_times(rng, now_ms, span_ms)
        location.collection("businesses").put(
            {
                "id": store.new_id(),
                "name": name,
                "phone": f"+1512556{index:04d}",
                "email": f"info@{slug}.example.com",
                "website": f"https://{slug}.example.com",
                "address": f"{rng.randint(1, 999)} Market Street",
                "city": city,
                "state": state,
                "postalCode": f"{rng.randint(10000, 99999)}",
                "country": country,
                "description": "",
                "locationId": location.id,
                "createdAt": created,
                "updatedAt": updated,
            }
        )


routes: list[BaseRoute] = [
    Route("/businesses/", list_businesses, methods=["GET"]),
    Route("/businesses/{businessId}", get_business, methods=["GET"]),
]
