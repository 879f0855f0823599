"""Seeded forms: ``seed(store, location, rng, options)``, run for each location."""

from __future__ import annotations

import random

from ghlsync.emulator.seeding.helpers import pick, seed_clock, seeded_contacts
from ghlsync.emulator.seeding.options import SeedOptions
from ghlsync.emulator.state import LocationState, Store, iso_from_ms

FORM_NAMES = ("Contact Us", "Free Quote", "Newsletter Signup", "Book a Demo")
MESSAGES = ("Please call me", "Interested in pricing", "", "Do you work weekends?")


def seed_submissions(
    store: Store,
    location: LocationState,
    rng: random.Random,
    options: SeedOptions,
    *,
    kind: str,
    names: tuple[str, ...],
    default_count: int,
) -> None:
    parents = f"{kind}s"
    collection = location.collection(f"{kind}_submissions")
    parent_ids = []
    for index in range(options.count(parents, len(names))):
        parent_id = store.new_id()
        location.collection(parents).put(
            {"id": parent_id, "name": names[index % len(names)], "locationId": location.id}
        )
        parent_ids.append(parent_id)
    contacts = seeded_contacts(location)
    if not contacts or not parent_ids:
        return
    now_ms, span_ms = seed_clock(store, options)
    for _ in range(options.count(f"{kind}_submissions", default_count)):
        contact = pick(rng, contacts)
        at = now_ms - int(rng.random() * span_ms)
        name = " ".join(p for p in (contact.get("firstName"), contact.get("lastName")) if p)
        collection.put(
            {
                "id": store.new_id(),
                "contactId": contact["id"],
                "createdAt": iso_from_ms(at),
                f"{kind}Id": pick(rng, parent_ids),
                "name": name,
                "email": contact.get("email") or "",
                "others": {
                    "__submissions_other_field__": "",
                    "message": pick(rng, MESSAGES),
                    "phone": contact.get("phone") or "",
                    "eventData": {"source": "direct", "page": {"url": "https://example.com/"}},
                },
                "_ms": at,
            }
        )


def seed(store: Store, location: LocationState, rng: random.Random, options: SeedOptions) -> None:
    """Forms (``--count forms=N``) and submissions (``form_submissions=N``, default 60)."""
    seed_submissions(store, location, rng, options, kind="form", names=FORM_NAMES, default_count=60)
