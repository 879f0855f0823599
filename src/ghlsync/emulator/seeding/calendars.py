"""Seeded calendars: ``seed(store, location, rng, options)``, run for each location."""

from __future__ import annotations

import random

from ghlsync.emulator.seeding.helpers import seed_clock, seeded_contacts, seeded_users
from ghlsync.emulator.seeding.options import SeedOptions
from ghlsync.emulator.state import LocationState, Store, iso_from_ms

CALENDAR_NAMES = ("Discovery Call", "Consultation", "Follow-up Visit", "Team Demo")


# --------------------------------------------------------------------------- seed
def seed(store: Store, location: LocationState, rng: random.Random, options: SeedOptions) -> None:
    """Calendars (``--count calendars=N``, default 3) and appointments (``appointments=N``,
    default 2 per contact up to 400) spread over the past and next year."""
    users = seeded_users(location)
    calendars = location.collection("calendars")
    group_id = store.new_id()
    location.collection("calendar_groups").put(
        {
            "id": group_id,
            "locationId": location.id,
            "name": "Main team",
            "description": "Everyone who takes bookings",
            "slug": "main-team",
            "isActive": True,
        }
    )
    calendar_ids: list[str] = []
    for index in range(options.count("calendars", 3)):
        calendar_id = store.new_id()
        name = CALENDAR_NAMES[index % len(CALENDAR_NAMES)]
        members = users[index % len(users) :][:2] if users else []
        calendars.put(
            {
                "id": calendar_id,
                "locationId": location.id,
                "groupId": group_id,
                "name": name if index < len(CALENDAR_NAMES) else f"{name} {index}",
                "description": f"Book a {name.lower()}",
                "slug": f"{name.lower().replace(' ', '-')}-{index}",
                "widgetSlug": f"{name.lower().replace(' ', '-')}-{index}",
                "calendarType": "round_robin" if len(members) > 1 else "personal",
                "widgetType": "classic",
                "eventTitle": "{{contact.name}}",
                "eventColor": "#039be5",
                "teamMembers": [
                    {"userId": user, "priority": 0.5, "isPrimary": i == 0}
                    for i, user in enumerate(members)
                ],
                "slotDuration": 30,
                "slotDurationUnit": "mins",
                "slotInterval": 30,
                "slotIntervalUnit": "mins",
                "isActive": True,
                "notifications": [],
                "openHours": [],
            }
        )
        calendar_ids.append(calendar_id)
    contacts = seeded_contacts(location)
    if not contacts or not calendar_ids:
        return
    count = options.count("appointments", min(2 * len(contacts), 400))
    now_ms, span_ms = seed_clock(store, options)
    events = location.collection("calendar_events")
    for _ in range(count):
        contact = contacts[int(rng.random() * len(contacts))]
        calendar_id = calendar_ids[int(rng.random() * len(calendar_ids))]
        calendar = calendars.get(calendar_id) or {}
        members = [member["userId"] for member in calendar.get("teamMembers", [])]
        assigned = members[int(rng.random() * len(members))] if members else ""
        # a year back and a year ahead: two years of appointments
        start = now_ms - span_ms // 2 + int(rng.random() * span_ms)
        start -= start % 1_800_000
        added = min(start, now_ms) - int(rng.random() * 30 * 86_400_000)
        updated = added + int(rng.random() * (now_ms - added))
        status = (
            "confirmed"
            if start > now_ms
            else rng.choice(("showed", "showed", "noshow", "cancelled"))
        )
        event_id = store.new_id()
        events.put(
            {
                "id": event_id,
                "title": f"{calendar.get('name', 'Appointment')} with {contact.get('firstName') or 'guest'}",
                "calendarId": calendar_id,
                "locationId": location.id,
                "contactId": contact["id"],
                "groupId": group_id,
                "appointmentStatus": status,
                "assignedUserId": assigned,
                "users": [assigned] if assigned else [],
                "address": "https://meet.example.com/" + event_id.lower(),
                "notes": "",
                "description": "",
                "source": "booking_widget",
                "isRecurring": False,
                "startTime": iso_from_ms(start),
                "endTime": iso_from_ms(start + 1_800_000),
                "dateAdded": iso_from_ms(added),
                "dateUpdated": iso_from_ms(updated),
            }
        )
