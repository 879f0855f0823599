"""Seeded custom values: ``seed(store, location, rng, options)``, run for each location."""

from __future__ import annotations

import random

from ghlsync.emulator.routes.custom_values import make_value
from ghlsync.emulator.seeding.options import SeedOptions
from ghlsync.emulator.state import LocationState, Store

SEED_VALUES = (
    ("Company Phone", "+1 555 0100"),
    ("Booking Link", "https://example.com/book"),
    ("Support Email", "support@example.com"),
    ("Office Hours", "Mon-Fri 9-5"),
)


def seed(store: Store, location: LocationState, rng: random.Random, options: SeedOptions) -> None:
    for name, value in SEED_VALUES[: options.count("custom_values", len(SEED_VALUES))]:
        make_value(store, location.id, name, value)
