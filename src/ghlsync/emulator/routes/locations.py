"""Locations: get, update and search (agency token), and location tags CRUD
(``apps/locations.json``).

``PUT /locations/{locationId}`` (``UpdateLocationDto``, an agency token with
``locations.write``) updates the sub-account's fields and ``settings``;
``settings.allowDuplicateContact`` is how HighLevel sets the duplicate-contact rule, so it
changes what contact creates and upserts do at once. Twilio and Mailgun credentials are kept
but never shown. Each update emits ``LocationUpdate``.
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
from ghlsync.emulator.state import Store


def public_location(record: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in record.items() if not key.startswith("_")}


async def get_location(request: Request) -> Response:
    location_id = request.path_params["locationId"]
    store = store_of(request)
    token = require(request, scope="locations.readonly", token_kinds=ANY_TOKEN)
    location = store.locations.get(location_id)
    if token.kind == "location" and token.location_id != location_id:
        raise ApiError(403, "The token does not have access to this location.")
    if location is None or location.record.get("companyId") != token.company_id:
        raise ApiError(400, "Location not found", error="Bad Request")
    return ok({"location": public_location(location.record)})


#: ``UpdateLocationDto``: top-level string fields
_UPDATE_STRINGS = (
    "name",
    "phone",
    "companyId",
    "address",
    "city",
    "state",
    "country",
    "postalCode",
    "website",
    "timezone",
)
#: nested objects: allowed keys, their type, required keys
_UPDATE_OBJECTS: dict[str, tuple[dict[str, type], tuple[str, ...]]] = {
    "settings": (
        dict.fromkeys(
            (
                "allowDuplicateContact",
                "allowDuplicateOpportunity",
                "allowFacebookNameMerge",
                "disableContactTimezone",
            ),
            bool,
        ),
        (),
    ),
    "social": (
        dict.fromkeys(
            (
                "facebookUrl",
                "googlePlus",
                "linkedIn",
                "foursquare",
                "twitter",
                "yelp",
                "instagram",
                "youtube",
                "pinterest",
                "blogRss",
                "googlePlacesId",
            ),
            str,
        ),
        (),
    ),
    "prospectInfo": (
        dict.fromkeys(("firstName", "lastName", "email"), str),
        ("firstName", "lastName", "email"),
    ),
    "twilio": ({"sid": str, "authToken": str}, ("sid", "authToken")),
    "mailgun": ({"apiKey": str, "domain": str}, ("apiKey", "domain")),
    "snapshot": ({"id": str, "override": bool}, ("id",)),
}
#: kept on the record but never answered (credentials)
_PRIVATE = {"twilio": "_twilio", "mailgun": "_mailgun", "snapshot": "_snapshot"}
#: the ``country`` enum of ``UpdateLocationDto``
_COUNTRY_CODES = (
    "AF AX AL DZ AS AD AO AI AQ AG AR AM AW AU AT AZ BS BH BD BB BY BE BZ BJ BM BT BO BA BW BV BR "
    "IO BN BG BF BI KH CM CA CV KY CF TD CL CN CX CC CO KM CG CD CK CR CI HR CU CY CZ DK DJ DM DO "
    "EC EG SV GQ ER EE ET FK FO FJ FI FR GF PF TF GA GM GE DE GH GI GR GL GD GP GU GT GG GN GW GY "
    "HT HM VA HN HK HU IS IN ID IR IQ IE IM IL IT JM JP JE JO KZ KE KI KP KR XK KW KG LA LV LB LS "
    "LR LY LI LT LU MO MK MG MW MY MV ML MT MH MQ MR MU YT MX FM MD MC MN ME MS MA MZ MM NA NR NP "
    "NL AN NC NZ NI NE NG NU NF MP NO OM PK PW PS PA PG PY PE PH PN PL PT PR QA RE RO RU RW SH KN "
    "LC MF PM VC WS SM ST SA SN RS SC SL SG SX SK SI SB SO ZA GS ES LK SD SR SJ SZ SE CH SY TW TJ "
    "TZ TH TL TG TK TO TT TN TR TM TC TV UG GB UA AE US UM UY UZ VU VE VN VG VI WF EH YE ZM ZW"
)
_COUNTRIES = frozenset(_COUNTRY_CODES.split())


def _update_messages(body: dict[str, Any]) -> list[str]:
    """Every problem of an ``UpdateLocationDto`` body, as HighLevel's 422 lists them."""
    messages = []
    for key in _UPDATE_STRINGS:
        if key in body and not isinstance(body[key], str):
            messages.append(f"{key} must be a string")
    if isinstance(body.get("country"), str) and body["country"] not in _COUNTRIES:
        messages.append("country must be a valid ISO 3166-1 alpha-2 country code")
    for key, (fields, required) in _UPDATE_OBJECTS.items():
        if key not in body:
            continue
        value = body[key]
        if not isinstance(value, dict):
            messages.append(f"{key} must be an object")
            continue
        for name, item in value.items():
            wanted = fields.get(name)
            if wanted is None:
                messages.append(f"property {key}.{name} should not exist")
            elif not isinstance(item, wanted):
                kind = "a boolean value" if wanted is bool else "a string"
                messages.append(f"{key}.{name} must be {kind}")
        messages += [
            f"{key}.{name} should not be empty" for name in required if not value.get(name)
        ]
    return messages


async def update_location(request: Request) -> Response:
    """``PUT /locations/{locationId}``: the sub-account's fields and settings."""
    location_id = request.path_params["locationId"]
    token = require(request, scope="locations.write", token_kinds=AGENCY_ONLY)
    body = await json_body(
        request, allowed={*_UPDATE_STRINGS, *_UPDATE_OBJECTS}, required={"companyId"}
    )
    messages = _update_messages(body)
    if messages:
        raise ApiError(422, messages)
    if body["companyId"] != token.company_id:
        raise ApiError(403, "The token does not have access to this company.")
    store = store_of(request)
    with store.lock:
        location = store.locations.get(location_id)
        if location is None or location.record.get("companyId") != token.company_id:
            raise ApiError(400, "Location not found", error="Bad Request")
        record = dict(location.record)
        for key in _UPDATE_STRINGS:
            if key in body and key != "companyId":
                record[key] = body[key]
        for key in ("settings", "social", "prospectInfo"):
            if key in body:
                record[key] = {**(record.get(key) or {}), **body[key]}
        for key, private in _PRIVATE.items():
            if key in body:
                record[private] = dict(body[key])
        settings = body.get("settings") or {}
        if "allowDuplicateContact" in settings:
            location.duplicates.allow_duplicate_contact = settings["allowDuplicateContact"]
        record["dateUpdated"] = store.now()
        location.record = record
    store.emit(
        "LocationUpdate",
        location_id,
        {
            "id": location_id,
            "companyId": record.get("companyId"),
            "name": record.get("name"),
            "email": record.get("email"),
        },
    )
    return ok(public_location(record))


async def search_locations(request: Request) -> Response:
    token = require(request, scope="locations.readonly", token_kinds=ANY_TOKEN)
    store = store_of(request)
    company_id = request.query_params.get("companyId") or token.company_id
    if company_id != token.company_id:
        raise ApiError(403, "The token does not have access to this company.")
    skip = int_param(request, "skip", 0)
    limit = int_param(request, "limit", 10, minimum=1, maximum=1000)
    email = request.query_params.get("email")
    order = request.query_params.get("order", "asc")
    records = [
        public_location(location.record)
        for location in store.locations.values()
        if location.record.get("companyId") == company_id
        and (token.kind == "company" or location.id == token.location_id)
        and (not email or location.record.get("email") == email)
    ]
    records.sort(key=lambda record: (record.get("dateAdded") or "", record["id"]))
    if order == "desc":
        records.reverse()
    return ok({"locations": records[skip : skip + limit]})


def _tag_view(tag: dict[str, Any]) -> dict[str, Any]:
    return {"name": tag["name"], "locationId": tag["locationId"], "id": tag["id"]}


def _tags_of(store: Store, location_id: str) -> Any:
    return store.collection(location_id, "tags")


def ensure_tags(store: Store, location_id: str, names: list[str]) -> None:
    """Create location tags for ``names`` not yet known (HighLevel does so on contact writes)."""
    tags = _tags_of(store, location_id)
    known = {tag["name"] for tag in tags}
    for name in names:
        if name not in known:
            tags.put({"id": store.new_id(), "name": name, "locationId": location_id})
            known.add(name)


async def list_tags(request: Request) -> Response:
    location_id = request.path_params["locationId"]
    require(request, scope="locations/tags.readonly", location_id=location_id)
    tags = _tags_of(store_of(request), location_id)
    return ok({"tags": [_tag_view(tag) for tag in tags]})


async def create_tag(request: Request) -> Response:
    location_id = request.path_params["locationId"]
    require(request, scope="locations/tags.write", location_id=location_id)
    body = await json_body(request, allowed={"name"}, required={"name"})
    store = store_of(request)
    name = str(body["name"]).strip()
    tags = _tags_of(store, location_id)
    if any(tag["name"] == name for tag in tags):
        raise ApiError(400, "Tag with this name already exists", error="Bad Request")
    tag = tags.put({"id": store.new_id(), "name": name, "locationId": location_id})
    return ok({"tag": _tag_view(tag)})


def _tag(request: Request, scope: str) -> tuple[Store, str, dict[str, Any]]:
    location_id = request.path_params["locationId"]
    require(request, scope=scope, location_id=location_id)
    store = store_of(request)
    tag = _tags_of(store, location_id).get(request.path_params["tagId"])
    if tag is None:
        raise ApiError(404, "Tag not found")
    return store, location_id, tag


async def get_tag(request: Request) -> Response:
    _, _, tag = _tag(request, "locations/tags.readonly")
    return ok({"tag": _tag_view(tag)})


async def update_tag(request: Request) -> Response:
    store, location_id, tag = _tag(request, "locations/tags.write")
    body = await json_body(request, allowed={"name"}, required={"name"})
    updated = {**tag, "name": str(body["name"]).strip()}
    _tags_of(store, location_id).put(updated)
    return ok({"tag": _tag_view(updated)})


async def delete_tag(request: Request) -> Response:
    store, location_id, tag = _tag(request, "locations/tags.write")
    store.delete(location_id, "tags", tag["id"])
    return ok({"succeded": True})


routes: list[BaseRoute] = [
    Route("/locations/search", search_locations, methods=["GET"]),
    Route("/locations/{locationId}", get_location, methods=["GET"]),
    Route("/locations/{locationId}", update_location, methods=["PUT"]),
    Route("/locations/{locationId}/tags", list_tags, methods=["GET"]),
    Route("/locations/{locationId}/tags", create_tag, methods=["POST"]),
    Route("/locations/{locationId}/tags/{tagId}", get_tag, methods=["GET"]),
    Route("/locations/{locationId}/tags/{tagId}", update_tag, methods=["PUT"]),
    Route("/locations/{locationId}/tags/{tagId}", delete_tag, methods=["DELETE"]),
]
