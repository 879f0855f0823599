"""Seeded campaigns: ``seed(store, location, rng, options)``, run for each location."""

from __future__ import annotations

import random

from ghlsync.emulator.seeding.helpers import seed_clock, seeded_times
from ghlsync.emulator.seeding.options import SeedOptions
from ghlsync.emulator.state import LocationState, Store

NAMES = ("Spring Promo", "Welcome Series", "Re-engagement", "Holiday Offer", "Webinar Invite")


def seed(store: Store, location: LocationState, rng: random.Random, options: SeedOptions) -> None:
    now_ms, span_ms = seed_clock(store, options)
    for index in range(options.count("campaigns", 4)):
        added, updated = seeded_times(rng, now_ms, span_ms)
        location.collection("campaigns").put(
            {
                "id": store.new_id(),
                "name": NAMES[index % len(NAMES)],
                "status": "published" if rng.random() < 0.7 else "draft",
                "locationId": location.id,
                "dateAdded": added,
                "dateUpdated": updated,
            }
        )
