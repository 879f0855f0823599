"""Seeded users: ``seed(store, location, rng, options)``, run for each location."""

from __future__ import annotations

import random

from ghlsync.emulator.routes.users import PERMISSIONS
from ghlsync.emulator.seeding.options import SeedOptions
from ghlsync.emulator.seeding.words import FIRST_NAMES, LAST_NAMES
from ghlsync.emulator.state import LocationState, Store

ROLES = ("admin", "user", "user", "user")


def seed(store: Store, location: LocationState, rng: random.Random, options: SeedOptions) -> None:
    """A handful of users per location (``--count users=N``, default 5), one admin first."""
    count = options.count("users", 5)
    slug = location.record.get("domain", "example.com").split(".", 1)[0]
    collection = location.collection("users")
    for index in range(count):
        first = FIRST_NAMES[int(rng.random() * len(FIRST_NAMES))]
        last = LAST_NAMES[int(rng.random() * len(LAST_NAMES))]
        role = "admin" if index == 0 else ROLES[int(rng.random() * len(ROLES))]
        collection.put(
            {
                "id": store.new_id(),
                "name": f"{first} {last}",
                "firstName": first,
                "lastName": last,
                "email": f"{first}.{last}.{index}@{slug}.example.com".lower().replace("'", ""),
                "phone": f"+1512555{1000 + index:04d}",
                "extension": "",
                "permissions": {name: True for name in PERMISSIONS},
                "roles": {
                    "type": "account",
                    "role": role,
                    "locationIds": [location.id],
                    "restrictSubAccount": role != "admin",
                },
                "deleted": False,
            }
        )
