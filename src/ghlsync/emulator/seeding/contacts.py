"""Seeded contacts, notes and tasks: fast (no per-record heavy libraries) and deterministic.

Names from word lists, lowercase emails, E.164 phones of eight countries (unique per location
by construction), tags, sources, custom-field values of every data type, DND settings, and
timestamps spread over ``SeedOptions.history_days``.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from ghlsync.emulator.seeding.locations import SEED_TAGS
from ghlsync.emulator.seeding.options import SeedOptions, location_index
from ghlsync.emulator.seeding.words import EMAIL_DOMAINS, FIRST_NAMES, LAST_NAMES
from ghlsync.emulator.state import Entity, LocationState, Store, iso_from_ms

_PHONE_PLANS: tuple[tuple[str, tuple[str, ...], int, int], ...] = (
    # country, prefixes, digits after the prefix, weight
    ("US", ("+1212", "+1312", "+1415", "+1512", "+1617", "+1713", "+1305", "+1206"), 7, 40),
    ("GB", ("+447",), 9, 10),
    ("CA", ("+1416", "+1604", "+1514", "+1403"), 7, 10),
    ("AU", ("+614",), 8, 8),
    ("DE", ("+49151", "+49160", "+49170"), 8, 8),
    ("FR", ("+336", "+337"), 8, 8),
    ("BR", ("+55119", "+55219"), 8, 8),
    ("IN", ("+919", "+918"), 9, 8),
)
_TIMEZONES = {
    "US": "America/New_York",
    "GB": "Europe/London",
    "CA": "America/Toronto",
    "AU": "Australia/Sydney",
    "DE": "Europe/Berlin",
    "FR": "Europe/Paris",
    "BR": "America/Sao_Paulo",
    "IN": "Asia/Kolkata",
}
_SOURCES = (
    "public api",
    "facebook form",
    "website",
    "google ads",
    "referral",
    "import",
    "chat widget",
)
_DAY_MS = 86_400_000


class _IsoCache:
    """Fast ISO-ms formatting for millions of seeded timestamps (hour prefixes are cached)."""

    def __init__(self) -> None:
        self.hours: dict[int, str] = {}

    def __call__(self, ms: int) -> str:
        hour, rest = divmod(ms, 3_600_000)
        prefix = self.hours.get(hour)
        if prefix is None:
            prefix = self.hours[hour] = iso_from_ms(hour * 3_600_000)[:14]
        minutes, rest = divmod(rest, 60_000)
        seconds, millis = divmod(rest, 1000)
        return f"{prefix}{minutes:02d}:{seconds:02d}.{millis:03d}Z"


def seed(store: Store, location: LocationState, rng: random.Random, options: SeedOptions) -> None:
    """Contacts (names, lowercase emails, E.164 phones of eight countries, tags, sources,
    custom fields of every type, DND), notes and tasks, dates spread over ``history_days``."""
    count = options.per_location(options.contacts, location_index(location))
    if count <= 0:
        return
    now_ms = options.now_ms(store)
    span_ms = options.history_days * _DAY_MS
    iso = _IsoCache()
    fields = {field["fieldKey"]: field for field in location.collection("custom_fields")}
    tag_pool = [list(rng.sample(SEED_TAGS, k)) for k in (0, 1, 1, 2, 2, 3) for _ in range(40)]
    plans = [plan for plan in _PHONE_PLANS for _ in range(plan[3])]
    contacts: list[Entity] = []
    added_ms: list[int] = []
    ids = store.new_ids(count)
    number_from = options.number_from
    rand = rng.random

    n_first, n_last, n_dom = len(FIRST_NAMES), len(LAST_NAMES), len(EMAIL_DOMAINS)
    tag_n, plan_n, source_n = len(tag_pool), len(plans), len(_SOURCES)
    salt = location_index(location)
    fk = {key.split(".", 1)[1]: field["id"] for key, field in fields.items()}
    locals_ = [
        [f"{first}.{last}".lower().replace("'", "") for last in LAST_NAMES] for first in FIRST_NAMES
    ]
    # shared, never mutated in place (writes replace dndSettings as a whole)
    dnd_settings = {
        "SMS": {"status": "active", "message": "Opted out by SMS reply", "code": "STOP"},
        "Email": {"status": "inactive", "message": "", "code": ""},
    }
    location_id = location.id
    for i in range(count):
        first_at = int(rand() * n_first)
        last_at = int(rand() * n_last)
        first = FIRST_NAMES[first_at]
        last = LAST_NAMES[last_at]
        country, prefixes, digits, _ = plans[int(rand() * plan_n)]
        n = i + number_from  # numbers emails and phones after those already seeded
        suffix = (n * 7_919 + salt * 104_729) % (10**digits)
        phone = f"{prefixes[i % len(prefixes)]}{suffix:0{digits}d}"
        added = now_ms - int(rand() * span_ms)
        added_ms.append(added)
        updated = added + int(rand() * (now_ms - added))
        contact: Entity = {
            "id": ids[i],
            "locationId": location_id,
            "firstName": first,
            "lastName": last,
            "email": f"{locals_[first_at][last_at]}{n}@{EMAIL_DOMAINS[int(rand() * n_dom)]}",
            "phone": phone,
            "country": country,
            "timezone": _TIMEZONES[country],
            "source": _SOURCES[int(rand() * source_n)],
            "tags": tag_pool[int(rand() * tag_n)],
            "type": "lead" if rand() < 0.7 else "customer",
            "dateAdded": iso(added),
            "dateUpdated": iso(updated),
        }
        roll = rand()
        if roll < 0.35 and fk:
            contact["customFields"] = _seed_custom_values(fk, n, rand)
        if roll > 0.92:
            contact["dnd"] = True
            contact["dndSettings"] = dnd_settings
        contacts.append(contact)
    store.contacts(location.id).bulk_load(contacts)
    _seed_activities(store, location, rng, contacts, added_ms, iso, now_ms, options)


def _seed_custom_values(fk: dict[str, str], i: int, rand: Callable[[], float]) -> list[Entity]:
    values: list[Entity] = [
        {"id": fk["membership_status"], "value": ("active", "paused", "cancelled")[i % 3]},
        {"id": fk["company_size"], "value": 1 + i % 500},
        {"id": fk["lifetime_value"], "value": round(rand() * 5000, 2)},
        {"id": fk["referral_code"], "value": f"REF{i:06d}"},
    ]
    if i % 2:
        values.append({"id": fk["interests"], "value": ["yoga", "running"][: 1 + i % 2]})
        values.append({"id": fk["preferred_channel"], "value": ("email", "sms", "call")[i % 3]})
        values.append({"id": fk["renewal_date"], "value": f"2027-{1 + i % 12:02d}-15"})
    if i % 5 == 0:
        values.append({"id": fk["services"], "value": ["cleaning", "whitening"]})
        values.append({"id": fk["notes_summary"], "value": "Prefers morning appointments."})
        values.append({"id": fk["alternate_phone"], "value": "+15125550100"})
        values.append({"id": fk["household"], "value": {"adults": "2", "children": "1"}})
    if i % 11 == 0:
        values.append(
            {"id": fk["contract"], "value": [{"url": f"https://files.example.com/c{i}.pdf"}]}
        )
        values.append({"id": fk["consent_signature"], "value": f"signed-{i}"})
    if i % 3 == 0:
        values.append({"id": fk.get("billing_email", ""), "value": f"billing{i}@example.com"})
    return [item for item in values if item["id"]]


_NOTE_BODIES = (
    "Called, left a voicemail.",
    "Asked for a quote on the premium plan.",
    "Booked a follow-up for next week.",
    "Prefers to be contacted by email.",
    "Interested in the annual membership.",
)
_TASK_TITLES = (
    "Follow up",
    "Send quote",
    "Confirm appointment",
    "Collect feedback",
    "Renewal call",
)


def _seed_activities(
    store: Store,
    location: LocationState,
    rng: random.Random,
    contacts: list[Entity],
    added_ms: list[int],
    iso: _IsoCache,
    now_ms: int,
    options: SeedOptions,
) -> None:
    notes = location.collection("notes")
    tasks = location.collection("tasks")
    n_notes = min(options.count("notes", max(len(contacts) // 10, 1)), len(contacts))
    n_tasks = min(options.count("tasks", max(len(contacts) // 20, 1)), len(contacts))
    note_ids = store.new_ids(n_notes)
    for n, i in enumerate(rng.sample(range(len(contacts)), n_notes)):
        contact, added = contacts[i], added_ms[i]
        at = iso(added + int(rng.random() * (now_ms - added)))
        note_id = note_ids[n]
        notes.items[note_id] = {
            "id": note_id,
            "body": _NOTE_BODIES[rng.randrange(len(_NOTE_BODIES))],
            "dateAdded": at,
            "contactId": contact["id"],
            "locationId": location.id,
            "pinned": False,
        }
    task_ids = store.new_ids(n_tasks)
    for n, i in enumerate(rng.sample(range(len(contacts)), n_tasks)):
        contact, added = contacts[i], added_ms[i]
        at_ms = added + int(rng.random() * (now_ms - added))
        at = iso(at_ms)
        due = iso(at_ms + rng.randrange(1, 30) * _DAY_MS)
        task_id = task_ids[n]
        tasks.items[task_id] = {
            "id": task_id,
            "title": _TASK_TITLES[rng.randrange(len(_TASK_TITLES))],
            "body": "",
            "dueDate": due,
            "completed": rng.random() < 0.4,
            "contactId": contact["id"],
            "locationId": location.id,
            "dateAdded": at,
            "dateUpdated": at,
        }
