"""Seeded object records: ``seed(store, location, rng, options)``, run for each location."""

from __future__ import annotations

import random

from ghlsync.emulator.routes.object_records import provenance
from ghlsync.emulator.routes.objects import find_schema
from ghlsync.emulator.seeding.helpers import seed_clock, seeded_times, seeded_users
from ghlsync.emulator.seeding.options import SeedOptions
from ghlsync.emulator.state import LocationState, Store

PET_NAMES = ("Buddy", "Luna", "Max", "Bella", "Charlie", "Daisy", "Rocky", "Milo")
BREEDS = ("Beagle", "Poodle", "Labrador", "Siamese", "Terrier")


def seed(store: Store, location: LocationState, rng: random.Random, options: SeedOptions) -> None:
    """A few ``custom_objects.pet`` records (the object is seeded by ``objects``)."""
    schema = find_schema(store, location.id, "custom_objects.pet")
    if schema is None:
        return
    now_ms, span_ms = seed_clock(store, options)
    users = seeded_users(location)
    for index in range(options.count("pets", 6)):
        added, updated = seeded_times(rng, now_ms, span_ms)
        record_id = store.new_id(24)
        record = {
            "id": record_id,
            "owner": [users[index % len(users)]] if users else [],
            "followers": [],
            "properties": {
                "name": PET_NAMES[index % len(PET_NAMES)],
                "breed": rng.choice(BREEDS),
                "age": rng.randrange(1, 15),
            },
            "createdAt": added,
            "updatedAt": updated,
            "locationId": location.id,
            "objectId": schema["id"],
            "objectKey": schema["key"],
            "createdBy": provenance(record_id, added),
            "lastUpdatedBy": provenance(record_id, updated),
        }
        location.collection("object_records").put(record)
