"""Calendars and appointments (``apps/calendars.json``; ``Version: 2021-04-15``).

``GET /calendars/events`` needs ``locationId``, one of ``calendarId`` / ``userId`` /
``groupId`` and a ``startTime``/``endTime`` window in epoch ms: readers page by time window.
Appointments carry ``dateAdded``/``dateUpdated`` (``CalendarEventDTO``), stamped on every write;
writes emit ``AppointmentCreate`` / ``AppointmentUpdate`` (``docs/webhook events``).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ghlsync.emulator.common import V2021_04_15, ApiError, json_body, ok, require, store_of
from ghlsync.emulator.routes._listing import location_query, parse_time_ms
from ghlsync.emulator.state import Entity, Store, iso_from_ms, ms_from_iso

READ = "calendars.readonly"
EVENTS_READ = "calendars/events.readonly"
EVENTS_WRITE = "calendars/events.write"
STATUSES = ("new", "confirmed", "cancelled", "showed", "noshow", "invalid")
APPOINTMENT_FIELDS = {
    "title",
    "meetingLocationType",
    "meetingLocationId",
    "overrideLocationConfig",
    "appointmentStatus",
    "assignedUserId",
    "description",
    "address",
    "ignoreDateRange",
    "toNotify",
    "ignoreFreeSlotValidation",
    "rrule",
    "calendarId",
    "locationId",
    "contactId",
    "startTime",
    "endTime",
}
WEBHOOK_FIELDS = (
    "id",
    "address",
    "title",
    "calendarId",
    "contactId",
    "groupId",
    "appointmentStatus",
    "assignedUserId",
    "users",
    "notes",
    "source",
    "startTime",
    "endTime",
    "dateAdded",
    "dateUpdated",
)


def _require(request: Request, scope: str, location_id: str | None = None) -> Any:
    return require(request, scope=scope, location_id=location_id, versions=V2021_04_15)


def _location_param(request: Request, scope: str) -> str:
    return location_query(request, scope, versions=V2021_04_15)


def appointment_response(event: Entity, *, v3: bool = False) -> dict[str, Any]:
    """``AppointmentSchemaResponse`` (create / update answers); v3 adds the required
    ``dateAdded``/``dateUpdated``."""
    keys: tuple[str, ...] = (
        "id",
        "calendarId",
        "locationId",
        "contactId",
        "startTime",
        "endTime",
        "title",
        "meetingLocationType",
        "appointmentStatus",
        "assignedUserId",
        "address",
        "isRecurring",
        "rrule",
    )
    if v3:
        keys += ("dateAdded", "dateUpdated")
    return {key: event[key] for key in keys if key in event}


def webhook_body(event: Entity) -> dict[str, Any]:
    return {"appointment": {key: event[key] for key in WEBHOOK_FIELDS if key in event}}


# --------------------------------------------------------------------------- handlers
async def list_calendars(request: Request) -> Response:
    location_id = _location_param(request, READ)
    group_id = request.query_params.get("groupId")
    calendars = [
        calendar
        for calendar in store_of(request).collection(location_id, "calendars")
        if not group_id or calendar.get("groupId") == group_id
    ]
    calendars.sort(key=lambda calendar: calendar["id"])
    return ok({"calendars": calendars})


async def get_calendar(request: Request) -> Response:
    token = _require(request, READ)
    found = store_of(request).find("calendars", request.path_params["calendarId"])
    if found is None or found[0] != token.location_id:
        raise ApiError(400, "Calendar not found", error="Bad Request")
    return ok({"calendar": found[1]})


async def list_events(request: Request) -> Response:
    q = request.query_params
    location_id = _location_param(request, EVENTS_READ)
    selectors = {key: q.get(key) for key in ("calendarId", "userId", "groupId") if q.get(key)}
    messages = []
    if not selectors:
        messages.append("One of calendarId, userId or groupId is required")
    for name in ("startTime", "endTime"):
        if not q.get(name):
            messages.append(f"{name} should not be empty")
    if messages:
        raise ApiError(422, messages)
    start_ms = parse_time_ms(q["startTime"], "startTime")
    end_ms = parse_time_ms(q["endTime"], "endTime")
    if end_ms < start_ms:
        raise ApiError(422, ["endTime must be after startTime"])
    events = []
    for event in store_of(request).collection(location_id, "calendar_events"):
        if "calendarId" in selectors and event["calendarId"] != selectors["calendarId"]:
            continue
        if "groupId" in selectors and event.get("groupId") != selectors["groupId"]:
            continue
        if "userId" in selectors and selectors["userId"] not in (
            event.get("assignedUserId"),
            *event.get("users", []),
        ):
            continue
        # an event is in the window when it starts inside it
        if start_ms <= ms_from_iso(event["startTime"]) <= end_ms:
            events.append(event)
    events.sort(key=lambda event: (event["startTime"], event["id"]))
    return ok({"events": events})


async def get_appointment(request: Request) -> Response:
    token = _require(request, EVENTS_READ)
    found = store_of(request).find("calendar_events", request.path_params["eventId"])
    if found is None or found[0] != token.location_id:
        raise ApiError(400, "Appointment not found", error="Bad Request")
    return ok({"event": found[1]})


def _validated(store: Store, location_id: str, body: dict[str, Any]) -> dict[str, Any]:
    messages = []
    status = body.get("appointmentStatus")
    if status is not None and status not in STATUSES:
        messages.append(f"appointmentStatus must be one of: {', '.join(STATUSES)}")
    times: dict[str, str] = {}
    for name in ("startTime", "endTime"):
        if body.get(name) is not None:
            try:
                times[name] = iso_from_ms(parse_time_ms(str(body[name]), name))
            except ApiError:
                messages.append(f"{name} must be a valid ISO 8601 date string")
    calendar_id = body.get("calendarId")
    if calendar_id and store.get(location_id, "calendars", str(calendar_id)) is None:
        messages.append("calendarId is not a calendar of this location")
    contact_id = body.get("contactId")
    if contact_id and store.get(location_id, "contacts", str(contact_id)) is None:
        messages.append("contactId is not a contact of this location")
    if messages:
        raise ApiError(422, messages)
    return times


async def create_appointment(request: Request) -> Response:
    _require(request, EVENTS_WRITE)
    body = await json_body(
        request,
        allowed=APPOINTMENT_FIELDS,
        required={"calendarId", "locationId", "contactId", "startTime"},
    )
    location_id = str(body["locationId"])
    _require(request, EVENTS_WRITE, location_id)
    store = store_of(request)
    times = _validated(store, location_id, body)
    calendar = store.get(location_id, "calendars", str(body["calendarId"]))
    assert calendar is not None
    start = times["startTime"]
    end = times.get("endTime") or iso_from_ms(
        ms_from_iso(start) + int(calendar.get("slotDuration", 30)) * 60_000
    )
    now = store.now()
    assigned = body.get("assignedUserId") or (calendar.get("teamMembers") or [{}])[0].get(
        "userId", ""
    )
    event: Entity = {
        "id": store.new_id(),
        "title": body.get("title") or calendar["name"],
        "calendarId": calendar["id"],
        "locationId": location_id,
        "contactId": body["contactId"],
        "groupId": calendar.get("groupId", ""),
        "appointmentStatus": body.get("appointmentStatus") or "confirmed",
        "assignedUserId": assigned,
        "users": [assigned] if assigned else [],
        "address": body.get("address") or "",
        "notes": "",
        "description": body.get("description") or "",
        "source": "third_party",
        "isRecurring": bool(body.get("rrule")),
        "startTime": start,
        "endTime": end,
        "dateAdded": now,
        "dateUpdated": now,
    }
    if body.get("rrule"):
        event["rrule"] = body["rrule"]
    if body.get("meetingLocationType"):
        event["meetingLocationType"] = body["meetingLocationType"]
    store.put(location_id, "calendar_events", event)
    store.emit("AppointmentCreate", location_id, webhook_body(event))
    return ok(appointment_response(event, v3=request.headers.get("version") == "v3"))


async def update_appointment(request: Request) -> Response:
    token = _require(request, EVENTS_WRITE)
    store = store_of(request)
    found = store.find("calendar_events", request.path_params["eventId"])
    if found is None or found[0] != token.location_id:
        raise ApiError(400, "Appointment not found", error="Bad Request")
    location_id, before = found
    body = await json_body(request, allowed=APPOINTMENT_FIELDS - {"locationId", "contactId"})
    times = _validated(store, location_id, body)
    after = dict(before)
    for key in ("title", "appointmentStatus", "address", "description", "calendarId", "rrule"):
        if body.get(key) is not None:
            after[key] = body[key]
    if body.get("assignedUserId"):
        after["assignedUserId"] = body["assignedUserId"]
        after["users"] = [body["assignedUserId"]]
    after.update(times)
    after["dateUpdated"] = store.now()
    store.put(location_id, "calendar_events", after)
    store.emit("AppointmentUpdate", location_id, webhook_body(after))
    return ok(appointment_response(after, v3=request.headers.get("version") == "v3"))


async def delete_event(request: Request) -> Response:
    """``DELETE /calendars/events/{eventId}``: 201 ``{succeeded: true}`` (the spec's answer);
    the event leaves a tombstone and ``AppointmentDelete`` is emitted."""
    token = _require(request, EVENTS_WRITE)
    store = store_of(request)
    found = store.find("calendar_events", request.path_params["eventId"])
    if found is None or found[0] != token.location_id:
        raise ApiError(400, "Appointment not found", error="Bad Request")
    location_id, event = found
    store.delete(location_id, "calendar_events", event["id"])
    store.emit("AppointmentDelete", location_id, webhook_body(event))
    return ok({"succeeded": True}, status=201)


# --------------------------------------------------------------------------- calendars CRUD
CALENDAR_FIELDS = {
    "alertEmail", "allowBookingAfter", "allowBookingAfterUnit", "allowBookingFor",
    "allowBookingForUnit", "allowCancellation", "allowReschedule", "appoinmentPerDay",
    "appoinmentPerSlot", "autoConfirm", "availabilities", "availabilityType",
    "calendarCoverImage", "calendarType", "consentLabel", "description", "enableRecurring",
    "eventColor", "eventTitle", "eventType", "formId", "formSubmitRedirectURL",
    "formSubmitThanksMessage", "formSubmitType", "googleInvitationEmails", "groupId",
    "guestType", "isActive", "isLivePaymentMode", "locationConfigurations", "locationId",
    "lookBusyConfig", "meetingLocation", "name", "notes", "notifications", "openHours",
    "pixelId", "preBuffer", "preBufferUnit", "recurring", "shouldAssignContactToTeamMember",
    "shouldSendAlertEmailsToAssignedMember", "shouldSkipAssigningContactForExisting",
    "slotBuffer", "slotBufferUnit", "slotDuration", "slotDurationUnit", "slotInterval",
    "slotIntervalUnit", "slug", "stickyContact", "teamMembers", "widgetSlug", "widgetType",
}  # fmt: skip
#: the enums of ``CalendarCreateDTO`` that a write is checked against
CALENDAR_ENUMS = {
    "calendarType": ("round_robin", "event", "class_booking", "collective", "service_booking", "personal"),
    "widgetType": ("default", "classic"),
    "slotDurationUnit": ("mins", "hours"),
    "slotIntervalUnit": ("mins", "hours"),
    "slotBufferUnit": ("mins", "hours"),
    "preBufferUnit": ("mins", "hours"),
    "eventType": ("RoundRobin_OptimizeForAvailability", "RoundRobin_OptimizeForEqualDistribution"),
}  # fmt: skip


def _check_calendar(body: dict[str, Any]) -> None:
    messages = [
        f"{name} must be one of the following values: {', '.join(allowed)}"
        for name, allowed in CALENDAR_ENUMS.items()
        if name in body and body[name] not in allowed
    ]
    for name in ("slotDuration", "slotInterval", "slotBuffer", "preBuffer"):
        value = body.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            messages.append(f"{name} must be a number")
    if messages:
        raise ApiError(422, messages)


async def create_calendar(request: Request) -> Response:
    _require(request, "calendars.write")
    body = await json_body(request, allowed=CALENDAR_FIELDS, required={"locationId", "name"})
    location_id = str(body["locationId"])
    _require(request, "calendars.write", location_id)
    _check_calendar(body)
    store = store_of(request)
    name = str(body["name"])
    slug = str(body.get("slug") or "-".join(name.lower().split()))
    calendar: Entity = {
        "id": store.new_id(),
        "isActive": True,
        "calendarType": "event",
        "widgetType": "classic",
        "slotDuration": 30,
        "slotDurationUnit": "mins",
        "slotInterval": 30,
        "slotIntervalUnit": "mins",
        "teamMembers": [],
        "notifications": [],
        "openHours": [],
        "description": "",
        **body,
        "slug": slug,
        "widgetSlug": str(body.get("widgetSlug") or slug),
    }
    store.put(location_id, "calendars", calendar)
    return ok({"calendar": calendar})


def _calendar(request: Request, scope: str) -> tuple[Store, str, Entity]:
    token = _require(request, scope)
    store = store_of(request)
    found = store.find("calendars", request.path_params["calendarId"])
    if found is None or found[0] != token.location_id:
        raise ApiError(400, "Calendar not found", error="Bad Request")
    return store, found[0], found[1]


async def update_calendar(request: Request) -> Response:
    store, location_id, before = _calendar(request, "calendars.write")
    body = await json_body(
        request, allowed=CALENDAR_FIELDS - {"calendarType", "locationId", "slotBufferUnit"}
    )
    _check_calendar(body)
    after = {**before, **body}
    store.put(location_id, "calendars", after)
    return ok({"calendar": after})


async def delete_calendar(request: Request) -> Response:
    store, location_id, calendar = _calendar(request, "calendars.write")
    store.delete(location_id, "calendars", calendar["id"])
    return ok({"success": True})


async def list_groups(request: Request) -> Response:
    location_id = _location_param(request, "calendars/groups.readonly")
    groups = sorted(
        store_of(request).collection(location_id, "calendar_groups"), key=lambda g: g["id"]
    )
    return ok({"groups": groups})


routes: list[BaseRoute] = [
    Route("/calendars/events/appointments", create_appointment, methods=["POST"]),
    Route("/calendars/events/appointments/{eventId}", get_appointment, methods=["GET"]),
    Route("/calendars/events/appointments/{eventId}", update_appointment, methods=["PUT"]),
    Route("/calendars/events/{eventId}", delete_event, methods=["DELETE"]),
    Route("/calendars/events", list_events, methods=["GET"]),
    Route("/calendars/groups", list_groups, methods=["GET"]),
    Route("/calendars/", list_calendars, methods=["GET"]),
    Route("/calendars/", create_calendar, methods=["POST"]),
    Route("/calendars/{calendarId}", get_calendar, methods=["GET"]),
    Route("/calendars/{calendarId}", update_calendar, methods=["PUT"]),
    Route("/calendars/{calendarId}", delete_calendar, methods=["DELETE"]),
]
