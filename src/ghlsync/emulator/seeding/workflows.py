"""Seeded workflows: ``seed(store, location, rng, options)``, run for each location."""

from __future__ import annotations

import random
import uuid

from ghlsync.emulator.seeding.helpers import seed_clock, seeded_times
from ghlsync.emulator.seeding.options import SeedOptions
from ghlsync.emulator.state import LocationState, Store

NAMES = ("New Lead Nurture", "Appointment Reminder", "Birthday Greeting", "Win-back", "Onboarding")


def seed(store: Store, location: LocationState, rng: random.Random, options: SeedOptions) -> None:
    now_ms, span_ms = seed_clock(store, options)
    for index in range(options.count("workflows", 4)):
        added, updated = seeded_times(rng, now_ms, span_ms)
        location.collection("workflows").put(
            {
                "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "name": NAMES[index % len(NAMES)],
                "status": "published" if rng.random() < 0.7 else "draft",
                "version": rng.randrange(1, 6),
                "createdAt": added,
                "updatedAt": updated,
                "locationId": location.id,
            }
        )
