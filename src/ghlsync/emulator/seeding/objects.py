"""Seeded objects: ``seed(store, location, rng, options)``, run for each location."""

from __future__ import annotations

import random

from ghlsync.emulator.routes.object_fields import make_field, object_fields
from ghlsync.emulator.routes.objects import create_schema
from ghlsync.emulator.seeding.helpers import seed_clock
from ghlsync.emulator.seeding.options import SeedOptions
from ghlsync.emulator.state import LocationState, Store, iso_from_ms

# --------------------------------------------------------------------------- seed
SEED_PROPERTIES = (("breed", "Breed", "TEXT"), ("age", "Age", "NUMERICAL"))


def seed(store: Store, location: LocationState, rng: random.Random, options: SeedOptions) -> None:
    """One custom object, ``custom_objects.pet`` (name, breed, age); records: ``object_records``."""
    now_ms, span_ms = seed_clock(store, options)
    created = iso_from_ms(now_ms - span_ms)
    schema = create_schema(
        store,
        location.id,
        key="pet",
        labels={"singular": "Pet", "plural": "Pets"},
        description="Pets of our clients",
        primary={"key": "name", "name": "Name", "dataType": "TEXT"},
        at=created,
    )
    folder_id = object_fields(store, location.id, schema["key"])[0]["parentId"]
    for key, name, data_type in SEED_PROPERTIES:
        make_field(
            store,
            location.id,
            object_key=schema["key"],
            name=name,
            data_type=data_type,
            parent_id=folder_id,
            key=key,
            at=created,
        )
