"""Users (``apps/users.json``): list by location, search by company, get.

``UserSchema`` carries no timestamps, so none are invented; users are few and read in full.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ghlsync.emulator.common import (
    AGENCY_ONLY,
    ANY_TOKEN,
    ApiError,
    int_param,
    json_body,
    ok,
    require,
    store_of,
)
from ghlsync.emulator.routes._listing import location_query
from ghlsync.emulator.state import Entity, Store

READ = "users.readonly"
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
    location_id = location_query(request, READ)
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


async def filter_by_email(request: Request) -> Response:
    """``POST /users/search/filter-by-email`` (``FilterByEmailDto``, an agency token): the
    company's users with any of ``emails`` (comma-separated); ``projection`` ``all`` or field
    names (default: id and email). Deleted users are not kept, so ``deleted: true`` finds none."""
    token = require(request, scope=READ, token_kinds=AGENCY_ONLY)
    body = await json_body(
        request,
        allowed={"companyId", "emails", "deleted", "skip", "limit", "projection"},
        required={"companyId", "emails"},
    )
    messages = [
        f"{name} must be a string"
        for name in ("companyId", "emails", "skip", "limit", "projection")
        if name in body and not isinstance(body[name], str)
    ]
    if "deleted" in body and not isinstance(body["deleted"], bool):
        messages.append("deleted must be a boolean value")
    bounds = {}
    for name, default in (("skip", "0"), ("limit", "25")):
        raw = body.get(name, default)
        if isinstance(raw, str) and not raw.isdigit():
            messages.append(f"{name} must be a number string")
        bounds[name] = int(raw) if isinstance(raw, str) and raw.isdigit() else 0
    if messages:
        raise ApiError(422, messages)
    if body["companyId"] != token.company_id:
        raise ApiError(403, "The token does not have access to this company.")
    store = store_of(request)
    wanted = {email.strip().lower() for email in body["emails"].split(",") if email.strip()}
    users: dict[str, Entity] = {}
    if not body.get("deleted"):
        for location in store.locations.values():
            for user in store.collection(location.id, "users"):
                if str(user.get("email", "")).lower() in wanted:
                    users[user["id"]] = user
    ordered = sorted(users.values(), key=lambda user: user["id"])
    page = ordered[bounds["skip"] : bounds["skip"] + max(bounds["limit"], 1)]
    projection = body.get("projection") or ""
    fields = {"id", "email"} | {name.strip() for name in projection.split(",") if name.strip()}

    def shaped(user: Entity) -> dict[str, Any]:
        view = user_view(user)
        return view if projection == "all" else {k: v for k, v in view.items() if k in fields}

    return ok({"users": [shaped(user) for user in page], "count": len(ordered)})


async def get_user(request: Request) -> Response:
    token = require(request, scope=READ, token_kinds=ANY_TOKEN)
    found = store_of(request).find("users", request.path_params["userId"])
    if found is None or (token.location_id and found[0] != token.location_id):
        raise ApiError(400, "User not found", error="Bad Request")
    return ok(user_view(found[1]))


USER_FIELDS = {
    "companyId", "email", "firstName", "lastName", "locationIds", "password", "permissions",
    "phone", "platformLanguage", "profilePhoto", "role", "scopes", "scopesAssignedToOnly",
    "twilioPhone", "type",
}  # fmt: skip
WRITE = "users.write"


def _check_user(body: dict[str, Any]) -> list[str]:
    messages = []
    if "type" in body and body["type"] not in ("account", "agency"):
        messages.append("type must be one of the following values: account, agency")
    if "role" in body and body["role"] not in ("admin", "user"):
        messages.append("role must be one of the following values: admin, user")
    if "email" in body and "@" not in str(body["email"]):
        messages.append("email must be an email")
    if "locationIds" in body and (
        not isinstance(body["locationIds"], list) or not body["locationIds"]
    ):
        messages.append("locationIds must be a non-empty array")
    return messages


def webhook_body(user: Entity) -> dict[str, Any]:
    keys = ("id", "firstName", "lastName", "email", "phone", "extension", "permissions")
    return {**{key: user[key] for key in keys if key in user}, "role": user["roles"]["role"]}


async def create_user(request: Request) -> Response:
    require(request, scope=WRITE, token_kinds=ANY_TOKEN)
    body = await json_body(
        request,
        allowed=USER_FIELDS,
        required={"companyId", "firstName", "lastName", "email", "password", "type", "role"},
    )
    messages = _check_user(body)
    if not body.get("locationIds"):
        messages.append("locationIds should not be empty")
    if messages:
        raise ApiError(422, messages)
    require(request, scope=WRITE, token_kinds=ANY_TOKEN, company_id=str(body["companyId"]))
    store = store_of(request)
    location_ids = [str(item) for item in body["locationIds"]]
    for location_id in location_ids:
        require(request, scope=WRITE, token_kinds=ANY_TOKEN, location_id=location_id)
    email = str(body["email"]).strip().lower()
    for location_id in location_ids:
        if any(user["email"] == email for user in store.collection(location_id, "users")):
            raise ApiError(400, "User with this email already exists", error="Bad Request")
    user: Entity = {
        "id": store.new_id(),
        "name": f"{body['firstName']} {body['lastName']}",
        "firstName": body["firstName"],
        "lastName": body["lastName"],
        "email": email,
        "phone": body.get("phone") or "",
        "extension": "",
        "permissions": body.get("permissions") or {name: True for name in PERMISSIONS},
        "roles": {
            "type": body["type"],
            "role": body["role"],
            "locationIds": location_ids,
            "restrictSubAccount": body["role"] != "admin",
        },
        "deleted": False,
    }
    for location_id in location_ids:
        store.put(location_id, "users", user)
        store.emit("UserCreate", location_id, webhook_body(user))
    return ok(user_view(user), status=201)


def _user(request: Request) -> tuple[Store, list[str], Entity]:
    token = require(request, scope=WRITE, token_kinds=ANY_TOKEN)
    store = store_of(request)
    user_id = request.path_params["userId"]
    holders = [
        location.id
        for location in store.locations.values()
        if user_id in location.collection("users")
        and (token.kind == "company" or location.id == token.location_id)
    ]
    if not holders:
        raise ApiError(400, "User not found", error="Bad Request")
    user = store.get(holders[0], "users", user_id)
    assert user is not None
    return store, holders, user


async def update_user(request: Request) -> Response:
    store, holders, before = _user(request)
    body = await json_body(request, allowed=USER_FIELDS)
    messages = _check_user(body)
    if messages:
        raise ApiError(422, messages)
    after = {**before, "roles": dict(before["roles"])}
    for key in ("firstName", "lastName", "phone", "permissions"):
        if body.get(key) is not None:
            after[key] = body[key]
    if body.get("email"):
        after["email"] = str(body["email"]).strip().lower()
    if body.get("role"):
        after["roles"]["role"] = body["role"]
    after["name"] = f"{after['firstName']} {after['lastName']}"
    for location_id in holders:
        store.put(location_id, "users", after)
    return ok(user_view(after))


async def delete_user(request: Request) -> Response:
    store, holders, user = _user(request)
    for location_id in holders:
        store.delete(location_id, "users", user["id"])
    return ok(
        {
            "succeded": True,
            "message": f"Queued deleting user with e-mail {user['email']} and name {user['name']}.",
        }
    )


routes: list[BaseRoute] = [
    Route("/users/search", search_users, methods=["GET"]),
    Route("/users/search/filter-by-email", filter_by_email, methods=["POST"]),
    Route("/users/", list_users, methods=["GET"]),
    Route("/users/", create_user, methods=["POST"]),
    Route("/users/{userId}", get_user, methods=["GET"]),
    Route("/users/{userId}", update_user, methods=["PUT"]),
    Route("/users/{userId}", delete_user, methods=["DELETE"]),
]
