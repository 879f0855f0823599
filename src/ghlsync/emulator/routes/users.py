"""Users (``apps/users.json``): list by location, search by company, get.

``UserSchema`` carries no timestamps, so none are invented; users are few and read in full.
"""

from __future__ import annotations

import random
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ghlsync.emulator.common import ANY_TOKEN, ApiError, int_param, ok, require, store_of
from ghlsync.emulator.seed import FIRST_NAMES, LAST_NAMES, SeedOptions
from ghlsync.emulator.state import Entity, LocationState, Store

READ = "users.readonly"
ROLES = ("admin", "user", "user", "user")
PERMISSIONS = (
    "campaignsEnabled",
    "contactsEnabled",
    "workflowsEnabled",
    "opportunitiesEnabled",
    "dashboardStatsEnabled",
    "appointmentsEnabled",
    "conversationsEnabled",
    "marketingEnabled",
)


def user_view(user: Entity) -> dict[str, Any]:
    return {key: value for key, value in user.items() if not key.startswith("_")}


async def list_users(request: Request) -> Response:
    location_id = request.query_params.get("locationId") or ""
    if not location_id:
        require(request, scope=READ)
        raise ApiError(422, ["locationId should not be empty"])
    require(request, scope=READ, location_id=location_id)
    users = store_of(request).collection(location_id, "users")
    return ok({"users": [user_view(user) for user in sorted(users, key=lambda u: u["id"])]})


async def search_users(request: Request) -> Response:
    q = request.query_params
    token = require(request, scope=READ, token_kinds=ANY_TOKEN)
    company_id = q.get("companyId") or ""
    if not company_id:
        raise ApiError(422, ["companyId should not be empty"])
    location_id = q.get("locationId") or None
    require(
        request, scope=READ, token_kinds=ANY_TOKEN, company_id=company_id, location_id=location_id
    )
    store = store_of(request)
    skip = int_param(request, "skip", 0)
    limit = int_param(request, "limit", 25, minimum=1, maximum=1000)
    locations = (
        [location_id]
        if location_id
        else [
            loc.id
            for loc in store.locations.values()
            if token.kind == "company" or loc.id == token.location_id
        ]
    )
    text = (q.get("query") or "").strip().lower()
    ids = {item for item in (q.get("ids") or "").split(",") if item}
    role = q.get("role")
    users: dict[str, Entity] = {}
    for loc in locations:
        for user in store.collection(loc, "users"):
            if text and text not in f"{user['name']} {user['email']} {user['phone']}".lower():
                continue
            if ids and user["id"] not in ids:
                continue
            if role and user["roles"]["role"] != role:
                continue
            users[user["id"]] = user
    ordered = sorted(users.values(), key=lambda user: user["id"])
    if q.get("sortDirection") == "desc":
        ordered.reverse()
    page = ordered[skip : skip + limit]
    return ok({"users": [user_view(user) for user in page], "count": len(ordered)})


async def get_user(request: Request) -> Response:
    token = require(request, scope=READ, token_kinds=ANY_TOKEN)
    found = store_of(request).find("users", request.path_params["userId"])
    if found is None or (token.location_id and found[0] != token.location_id):
        raise ApiError(400, "User not found", error="Bad Request")
    return ok(user_view(found[1]))


def seed(store: Store, location: LocationState, rng: random.Random, options: SeedOptions) -> None:
    """A handful of users per location (``--count users=N``, default 5), one admin first."""
    count = options.count("users", 5)
    slug = location.record.get("domain", "example.com").split(".", 1)[0]
    collection = location.collection("users")
    for index in range(count):
        first = FIRST_NAMES[int(rng.random() * len(FIRST_NAMES))]
        last = LAST_NAMES[int(rng.random() * len(LAST_NAMES))]
        role = "admin" if index == 0 else ROLES[int(rng.random() * len(ROLES))]
        collection.put(
            {
                "id": store.new_id(),
                "name": f"{first} {last}",
                "firstName": first,
                "lastName": last,
                "email": f"{first}.{last}.{index}@{slug}.example.com".lower().replace("'", ""),
                "phone": f"+1512555{1000 + index:04d}",
                "extension": "",
                "permissions": {name: True for name in PERMISSIONS},
                "roles": {
                    "type": "account",
                    "role": role,
                    "locationIds": [location.id],
                    "restrictSubAccount": role != "admin",
                },
                "deleted": False,
            }
        )


routes: list[BaseRoute] = [
    Route("/users/search", search_users, methods=["GET"]),
    Route("/users/", list_users, methods=["GET"]),
    Route("/users/{userId}", get_user, methods=["GET"]),
]
