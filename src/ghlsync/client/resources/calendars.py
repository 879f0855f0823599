"""Calendars and calendar events. Wire shapes: ``apps/calendars.json`` (Version ``2021-04-15``).

``GET /calendars/events`` has no paging: it answers every event in a time window, so a long
range is read as consecutive windows (``iterate_events``; one window per request).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Annotated, Any, TypedDict, cast

from ghlsync.client.resources._base import Resource, to_wire, unwrap
from ghlsync.client.resources.wire import INFERRED, DateTime
from ghlsync.client.timestamps import epoch_ms

Records = list[dict[str, Any]]


class Calendar(TypedDict, total=False):
    """A record of ``list()``."""

    id: str
    name: str
    description: str
    groupId: str
    calendarType: str
    eventType: str
    slug: str
    isActive: bool
    slotDuration: int
    teamMembers: list[dict[str, Any]]


class CalendarEvent(TypedDict, total=False):
    id: str
    title: str
    calendarId: str
    contactId: str
    groupId: str
    appointmentStatus: str
    assignedUserId: str
    users: list[str]
    address: str
    notes: str
    isRecurring: bool
    startTime: DateTime
    endTime: DateTime
    dateAdded: DateTime
    dateUpdated: DateTime
    locationId: Annotated[str, INFERRED]


Events = list[CalendarEvent]


class CalendarsResource(Resource):
    """``client.calendars``."""

    async def list(
        self, location_id: str, *, group_id: str | None = None, show_drafted: bool | None = None
    ) -> Records:
        """``GET /calendars/``: every calendar of the location."""
        params = to_wire(
            {"location_id": location_id, "group_id": group_id, "show_drafted": show_drafted}
        )
        response = await self._call("GET", "/calendars/", params=params, location_id=location_id)
        return cast(Records, unwrap(response, "calendars", where="GET /calendars/"))

    async def events(
        self,
        location_id: str,
        *,
        start: dt.datetime | int,
        end: dt.datetime | int,
        calendar_id: str | None = None,
        user_id: str | None = None,
        group_id: str | None = None,
    ) -> Events:
        """``GET /calendars/events`` for one window (``start``/``end`` as datetimes or ms epoch).

        HighLevel requires one of ``calendar_id``, ``user_id`` or ``group_id``.
        """
        if not (calendar_id or user_id or group_id):
            raise ValueError("events needs calendar_id, user_id or group_id")
        params = to_wire(
            {
                "location_id": location_id,
                "calendar_id": calendar_id,
                "user_id": user_id,
                "group_id": group_id,
                "start_time": epoch_ms(start),
                "end_time": epoch_ms(end),
            }
        )
        response = await self._call(
            "GET", "/calendars/events", params=params, location_id=location_id
        )
        return cast(Events, unwrap(response, "events", where="GET /calendars/events"))

    async def iterate_events(
        self,
        location_id: str,
        *,
        start: dt.datetime,
        end: dt.datetime,
        window: dt.timedelta = dt.timedelta(days=31),
        calendar_id: str | None = None,
        user_id: str | None = None,
        group_id: str | None = None,
    ) -> AsyncIterator[CalendarEvent]:
        """Every event from ``start`` to ``end``, one ``window`` per request.

        An event spanning a window edge can come back in both windows: it is yielded once.
        """
        seen: set[str] = set()
        lower = start
        while lower < end:
            upper = min(lower + window, end)
            for event in await self.events(
                location_id,
                start=lower,
                end=upper,
                calendar_id=calendar_id,
                user_id=user_id,
                group_id=group_id,
            ):
                event_id = str(event.get("id", ""))
                if event_id and event_id in seen:
                    continue
                seen.add(event_id)
                yield event
            lower = upper
