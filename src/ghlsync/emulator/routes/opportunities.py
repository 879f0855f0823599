"""Opportunities and pipelines (``apps/opportunities.json``); search: ``opportunity_search``.

Opportunities carry ``createdAt``/``updatedAt`` (the spec's ``SearchOpportunitiesResponseSchema``);
every write stamps ``updatedAt`` and deletes leave a tombstone, so incremental readers are exact.
Writes emit ``OpportunityCreate`` / ``Update`` / ``StatusUpdate`` / ``StageUpdate`` /
``MonetaryValueUpdate`` / ``AssignedToUpdate`` / ``Delete`` with the documented bodies
(``docs/webhook events/Opportunity*.md``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ghlsync.emulator.common import ApiError, int_param, json_body, ok, require, store_of
from ghlsync.emulator.routes._listing import location_query
from ghlsync.emulator.routes.custom_fields import resolve_values
from ghlsync.emulator.state import Entity, Store

READ = "opportunities.readonly"
WRITE = "opportunities.write"
STATUSES = ("open", "won", "lost", "abandoned")
WEBHOOK_FIELDS = (
    "id",
    "assignedTo",
    "contactId",
    "monetaryValue",
    "name",
    "pipelineId",
    "pipelineStageId",
    "source",
    "status",
    "dateAdded",
)
CREATE_FIELDS = {
    "pipelineId",
    "locationId",
    "name",
    "pipelineStageId",
    "status",
    "contactId",
    "monetaryValue",
    "assignedTo",
    "customFields",
}
UPDATE_FIELDS = CREATE_FIELDS - {"locationId", "contactId"}
UPSERT_FIELDS = {
    "id",
    "pipelineId",
    "locationId",
    "contactId",
    "followers",
    "isRemoveAllFollowers",
    "followersActionType",
    "name",
    "status",
    "pipelineStageId",
    "monetaryValue",
    "assignedTo",
    "lostReasonId",
    "customFields",
}
#: v3 only (``apps/v3/opportunities-v3.json``): the deal's forecast, on create/update/upsert
FORECAST_FIELDS = {"forecastProbability", "forecastExpectedCloseDate"}
LOST_REASONS = ("Price too high", "Went with a competitor", "No response", "Not a fit")


# --------------------------------------------------------------------------- views
def contact_summary(store: Store, location_id: str, contact_id: str | None) -> dict[str, Any]:
    contact = store.get(location_id, "contacts", contact_id) if contact_id else None
    if contact is None:
        return {"id": contact_id or "", "name": "", "tags": []}
    name = " ".join(
        part for part in (contact.get("firstName"), contact.get("lastName")) if part
    ) or (contact.get("contactName") or "")
    summary: dict[str, Any] = {"id": contact["id"], "name": name, "tags": contact.get("tags") or []}
    for key in ("companyName", "email", "phone"):
        if contact.get(key):
            summary[key] = contact[key]
    return summary


def opportunity_view(
    store: Store, opportunity: Entity, details: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """The wire shape (``SearchOpportunitiesResponseSchema``) with the contact summary.

    ``notes``/``tasks``/``calendarEvents`` are the contact's (ids; objects for events) when
    ``details`` asks for them (``getNotes``/``getTasks``/``getCalendarEvents``), else empty.
    The spec types their items as arrays; HighLevel sends ids or objects (GHL-NOTES).
    """
    view = {key: value for key, value in opportunity.items() if not key.startswith("_")}
    location_id, contact_id = opportunity["locationId"], opportunity.get("contactId")
    view["contact"] = contact_summary(store, location_id, contact_id)
    for key, kind in (
        ("notes", "notes"),
        ("tasks", "tasks"),
        ("calendarEvents", "calendar_events"),
    ):
        view[key] = []
        if key in details and contact_id:
            related = [
                item
                for item in store.collection(location_id, kind)
                if item.get("contactId") == contact_id
            ]
            view[key] = related if key == "calendarEvents" else [item["id"] for item in related]
    return view


def details_of(request: Request) -> frozenset[str]:
    flags = {"getNotes": "notes", "getTasks": "tasks", "getCalendarEvents": "calendarEvents"}
    return frozenset(
        key
        for flag, key in flags.items()
        if request.query_params.get(flag, "").lower() in ("true", "1")
    )


def webhook_body(opportunity: Entity) -> dict[str, Any]:
    body = {"dateAdded": opportunity["createdAt"], **opportunity}
    return {key: body[key] for key in WEBHOOK_FIELDS if key in body}


def pipeline_view(pipeline: Entity) -> dict[str, Any]:
    # stages are objects {id, name, position, showInFunnel, showInPieChart}; the spec's
    # PipelinesResponseSchema types them as arrays (GHL-NOTES; seeds/002)
    return {key: value for key, value in pipeline.items() if not key.startswith("_")}


# --------------------------------------------------------------------------- helpers
def _find(request: Request, scope: str) -> tuple[Store, str, Entity]:
    store = store_of(request)
    token = require(request, scope=scope)
    found = store.find("opportunities", request.path_params["id"])
    if found is None or (token.location_id and found[0] != token.location_id):
        raise ApiError(400, "Opportunity not found", error="Bad Request")
    return store, found[0], found[1]


def _check_fields(store: Store, location_id: str, body: dict[str, Any]) -> list[str]:
    messages: list[str] = []
    status = body.get("status")
    if status is not None and status not in (*STATUSES, "all"):
        messages.append("status must be one of the following values: open, won, lost, abandoned")
    value = body.get("monetaryValue")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        messages.append("monetaryValue must be a number")
    for key in ("name", "pipelineId", "pipelineStageId", "assignedTo", "contactId"):
        if key in body and body[key] is not None and not isinstance(body[key], str):
            messages.append(f"{key} must be a string")
    if messages:
        return messages
    pipeline_id = body.get("pipelineId")
    if pipeline_id is not None:
        pipeline = store.get(location_id, "pipelines", pipeline_id)
        if pipeline is None:
            messages.append("pipelineId is not a pipeline of this location")
        elif body.get("pipelineStageId") and body["pipelineStageId"] not in {
            stage["id"] for stage in pipeline["stages"]
        }:
            messages.append("pipelineStageId is not a stage of the pipeline")
    contact_id = body.get("contactId")
    if contact_id and store.get(location_id, "contacts", contact_id) is None:
        messages.append("contactId is not a contact of this location")
    return messages


def _custom_fields(
    store: Store, location_id: str, items: Any, current: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Write ``[{id | key, field_value}]`` against the location's ``opportunity`` fields (the
    contacts' rules: unknown fields and bad values give 422); read back as ``[{id, fieldValue}]``
    (``CustomFieldResponseSchema``)."""
    if items is None:
        return list(current or [])
    merged = resolve_values(
        store,
        location_id,
        items,
        model="opportunity",
        current=[{"id": item["id"], "value": item["fieldValue"]} for item in current or []],
    )
    return [{"id": item["id"], "fieldValue": item["value"]} for item in merged]


def _first_stage(store: Store, location_id: str, pipeline_id: str) -> str:
    pipeline = store.get(location_id, "pipelines", pipeline_id)
    return str(pipeline["stages"][0]["id"]) if pipeline and pipeline["stages"] else ""


def _write(store: Store, location_id: str, before: Entity | None, after: Entity) -> Entity:
    """Store ``after`` and emit the events the change implies."""
    store.put(location_id, "opportunities", after)
    if before is None:
        # HighLevel sends OpportunityCreate and then OpportunityUpdate for one create
        # (GHL-NOTES §8, hl-docs#27)
        store.emit("OpportunityCreate", location_id, webhook_body(after))
        store.emit("OpportunityUpdate", location_id, webhook_body(after))
        return after
    store.emit("OpportunityUpdate", location_id, webhook_body(after))
    if before.get("status") != after.get("status"):
        store.emit("OpportunityStatusUpdate", location_id, webhook_body(after))
    if before.get("pipelineStageId") != after.get("pipelineStageId"):
        store.emit("OpportunityStageUpdate", location_id, webhook_body(after))
    if before.get("monetaryValue") != after.get("monetaryValue"):
        store.emit("OpportunityMonetaryValueUpdate", location_id, webhook_body(after))
    if before.get("assignedTo") != after.get("assignedTo"):
        store.emit("OpportunityAssignedToUpdate", location_id, webhook_body(after))
    return after


def _apply(store: Store, location_id: str, before: Entity, body: dict[str, Any]) -> Entity:
    now = store.now()
    after = dict(before)
    for key in ("name", "pipelineId", "pipelineStageId", "monetaryValue", "assignedTo"):
        if key in body and body[key] is not None:
            after[key] = body[key]
    if body.get("lostReasonId"):
        after["lostReasonId"] = body["lostReasonId"]
    after.update(_forecast(body))
    if body.get("status") and body["status"] != "all":
        after["status"] = body["status"]
    if "customFields" in body:
        after["customFields"] = _custom_fields(
            store, location_id, body["customFields"], before.get("customFields")
        )
    if after["pipelineId"] != before["pipelineId"] and "pipelineStageId" not in body:
        after["pipelineStageId"] = _first_stage(store, location_id, after["pipelineId"])
    if after.get("status") != before.get("status"):
        after["lastStatusChangeAt"] = now
    if after.get("pipelineStageId") != before.get("pipelineStageId"):
        after["lastStageChangeAt"] = now
    after["lastActionDate"] = now
    after["updatedAt"] = now
    return after


def _new(store: Store, location_id: str, body: dict[str, Any], entity_id: str | None) -> Entity:
    now = store.now()
    pipeline_id = body["pipelineId"]
    status = body.get("status") or "open"
    return {
        "id": entity_id or store.new_id(),
        "name": body.get("name") or "",
        "monetaryValue": body.get("monetaryValue") or 0,
        "pipelineId": pipeline_id,
        "pipelineStageId": body.get("pipelineStageId")
        or _first_stage(store, location_id, pipeline_id),
        "assignedTo": body.get("assignedTo") or "",
        "status": "open" if status == "all" else status,
        "source": "",
        "lastStatusChangeAt": now,
        "lastStageChangeAt": now,
        "lastActionDate": now,
        "createdAt": now,
        "updatedAt": now,
        "contactId": body.get("contactId") or "",
        "locationId": location_id,
        "customFields": _custom_fields(store, location_id, body.get("customFields")),
        "followers": list(body.get("followers") or []),
        **_forecast(body),
    }


def is_v3(request: Request) -> bool:
    return request.headers.get("version") == "v3"


def _with_forecast(request: Request, fields: set[str]) -> set[str]:
    """The body fields a write takes: the forecast ones under ``Version: v3`` only."""
    return fields | FORECAST_FIELDS if is_v3(request) else fields


def _forecast_messages(body: dict[str, Any]) -> list[str]:
    messages = []
    probability = body.get("forecastProbability")
    if probability is not None and (
        isinstance(probability, bool)
        or not isinstance(probability, int | float)
        or not 0 <= probability <= 100
    ):
        messages.append("forecastProbability must be a number between 0 and 100")
    close = body.get("forecastExpectedCloseDate")
    if close is not None and _close_date(close) is None:
        messages.append(
            "forecastExpectedCloseDate must be a date (YYYY-MM-DD, YYYY/MM/DD, MM/DD/YYYY, "
            "MM-DD-YYYY, YYYY.MM.DD, MM.DD.YYYY or ISO 8601)"
        )
    return messages


def _close_date(value: Any) -> str | None:
    """``forecastExpectedCloseDate`` in any documented format, as ``YYYY-MM-DD`` (or None)."""
    if not isinstance(value, str):
        return None
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%m/%d/%Y", "%m-%d-%Y", "%Y.%m.%d", "%m.%d.%Y"):
        try:
            return dt.datetime.strptime(value, fmt).date().isoformat()
        except ValueError:
            continue
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        return None


def _forecast(body: dict[str, Any]) -> dict[str, Any]:
    """The forecast fields of a (validated) v3 body, as the opportunity stores them."""
    out: dict[str, Any] = {}
    if body.get("forecastProbability") is not None:
        out["forecastProbability"] = body["forecastProbability"]
    if body.get("forecastExpectedCloseDate") is not None:
        out["forecastExpectedCloseDate"] = _close_date(body["forecastExpectedCloseDate"])
    return out


async def pipelines(request: Request) -> Response:
    location_id = location_query(request, READ)
    found = store_of(request).collection(location_id, "pipelines")
    items = sorted(found, key=lambda pipeline: (pipeline["_position"], pipeline["id"]))
    return ok({"pipelines": [pipeline_view(pipeline) for pipeline in items]})


async def get_opportunity(request: Request) -> Response:
    store, _, opp = _find(request, READ)
    view = opportunity_view(store, opp)
    # no ``notes`` here despite the docs (GHL-NOTES §5, hl-docs#305)
    view.pop("notes", None)
    return ok({"opportunity": view})


async def create(request: Request) -> Response:
    require(request, scope=WRITE)
    body = await json_body(
        request,
        allowed=_with_forecast(request, CREATE_FIELDS),
        required={"pipelineId", "locationId", "name", "status", "contactId"},
    )
    location_id = str(body["locationId"])
    require(request, scope=WRITE, location_id=location_id)
    store = store_of(request)
    messages = _check_fields(store, location_id, body) + _forecast_messages(body)
    if messages:
        raise ApiError(422, messages)
    location = store.locations[location_id]
    duplicates_allowed = bool(location.record.get("settings", {}).get("allowDuplicateOpportunity"))
    if not duplicates_allowed:
        for opp in store.collection(location_id, "opportunities"):
            if opp["contactId"] == body["contactId"] and opp["pipelineId"] == body["pipelineId"]:
                raise ApiError(
                    400,
                    "Can not create duplicate opportunity for the contact.",
                    error="Bad Request",
                )
    opp = _write(store, location_id, None, _new(store, location_id, body, None))
    return ok({"opportunity": opportunity_view(store, opp)}, status=201)


async def update(request: Request) -> Response:
    store, location_id, before = _find(request, WRITE)
    body = await json_body(request, allowed=_with_forecast(request, UPDATE_FIELDS))
    messages = _check_fields(store, location_id, {"pipelineId": before["pipelineId"], **body})
    messages += _forecast_messages(body)
    if messages:
        raise ApiError(422, messages)
    after = _write(store, location_id, before, _apply(store, location_id, before, body))
    return ok({"opportunity": opportunity_view(store, after)})


async def update_status(request: Request) -> Response:
    store, location_id, before = _find(request, WRITE)
    body = await json_body(request, allowed={"status", "lostReasonId"}, required={"status"})
    messages = _check_fields(store, location_id, {"status": body["status"]})
    if messages:
        raise ApiError(422, messages)
    _write(store, location_id, before, _apply(store, location_id, before, body))
    return ok({"succeded": True})


async def delete(request: Request) -> Response:
    store, location_id, opp = _find(request, WRITE)
    store.delete(location_id, "opportunities", opp["id"])
    store.emit("OpportunityDelete", location_id, webhook_body(opp))
    return ok({"succeded": True})


async def upsert(request: Request) -> Response:
    """``POST /opportunities/upsert``: by ``id``, else by (contact, pipeline)."""
    body = await json_body(
        request,
        allowed=_with_forecast(request, UPSERT_FIELDS),
        required={"pipelineId", "locationId"},
    )
    location_id = str(body["locationId"])
    require(request, scope=WRITE, location_id=location_id)
    store = store_of(request)
    messages = _check_fields(store, location_id, body) + _forecast_messages(body)
    if messages:
        raise ApiError(422, messages)
    collection = store.collection(location_id, "opportunities")
    before: Entity | None = None
    if body.get("id"):
        before = collection.get(str(body["id"]))
        if before is None:
            raise ApiError(400, "Opportunity not found", error="Bad Request")
    elif body.get("contactId"):
        for opp in collection:
            if opp["contactId"] == body["contactId"] and opp["pipelineId"] == body["pipelineId"]:
                before = opp
                break
    if before is None:
        if not body.get("contactId"):
            raise ApiError(422, ["contactId should not be empty"])
        after = _new(store, location_id, {"status": "open", **body}, None)
    else:
        after = _apply(store, location_id, before, body)
        followers = list(before.get("followers") or [])
        if body.get("isRemoveAllFollowers"):
            followers = []
        for follower in body.get("followers") or []:
            if body.get("followersActionType") == "remove":
                followers = [item for item in followers if item != follower]
            elif follower not in followers:
                followers.append(follower)
        after["followers"] = followers
    _write(store, location_id, before, after)
    return ok({"opportunity": opportunity_view(store, after), "new": before is None})


async def followers(request: Request) -> Response:
    """``POST`` adds, ``DELETE`` removes ``followers`` (user ids); stamps ``updatedAt``."""
    store, location_id, before = _find(request, WRITE)
    body = await json_body(request, allowed={"followers"}, required={"followers"})
    wanted = body["followers"]
    if not isinstance(wanted, list) or not all(isinstance(item, str) for item in wanted):
        raise ApiError(422, ["followers must be an array of strings"])
    current = list(before.get("followers") or [])
    if request.method == "POST":
        changed = [item for item in dict.fromkeys(wanted) if item not in current]
        after_followers = current + changed
    else:
        changed = [item for item in current if item in wanted]
        after_followers = [item for item in current if item not in wanted]
    if changed:
        after = {**before, "followers": after_followers, "updatedAt": store.now()}
        _write(store, location_id, before, after)
    if request.method == "POST":
        return ok({"followers": after_followers, "followersAdded": changed}, status=201)
    return ok({"followers": after_followers, "followersRemoved": changed})


async def lost_reasons(request: Request) -> Response:
    location_id = location_query(request, READ)
    skip = int_param(request, "skip", 0)
    limit = int_param(request, "limit", 20, minimum=1, maximum=100)
    text = (request.query_params.get("name") or request.query_params.get("query") or "").lower()
    reasons = [
        {"id": f"{location_id[:8]}-lost-{index}", "name": name, "locationId": location_id}
        for index, name in enumerate(LOST_REASONS)
        if text in name.lower()
    ]
    return ok({"lostReasons": reasons[skip : skip + limit], "total": len(reasons)})


routes: list[BaseRoute] = [
    Route("/opportunities/pipelines", pipelines, methods=["GET"]),
    Route("/opportunities/upsert", upsert, methods=["POST"]),
    Route("/opportunities/", create, methods=["POST"]),
    Route("/opportunities/lost-reason", lost_reasons, methods=["GET"]),
    Route("/opportunities/{id}/status", update_status, methods=["PUT"]),
    Route("/opportunities/{id}/followers", followers, methods=["POST", "DELETE"]),
    Route("/opportunities/{id}", get_opportunity, methods=["GET"]),
    Route("/opportunities/{id}", update, methods=["PUT"]),
    Route("/opportunities/{id}", delete, methods=["DELETE"]),
]
