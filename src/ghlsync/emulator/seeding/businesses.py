"""Seeded businesses: ``seed(store, location, rng, options)``, run for each location."""

from __future__ import annotations

import random

from ghlsync.emulator.seeding.helpers import pick, seed_clock, seeded_times
from ghlsync.emulator.seeding.options import SeedOptions
from ghlsync.emulator.seeding.words import BUSINESS_WORDS, CITIES
from ghlsync.emulator.state import LocationState, Store


def seed(store: Store, location: LocationState, rng: random.Random, options: SeedOptions) -> None:
    now_ms, span_ms = seed_clock(store, options)
    for index in range(options.count("businesses", 12)):
        city, state, country, _ = pick(rng, CITIES)
        name = f"{pick(rng, BUSINESS_WORDS)} {index + 1}"
        slug = "".join(ch for ch in name.lower() if ch.isalnum())
        created, updated = seeded_times(rng, now_ms, span_ms)
        location.collection("businesses").put(
            {
                "id": store.new_id(),
                "name": name,
                "phone": f"+1512556{index:04d}",
                "email": f"info@{slug}.example.com",
                "website": f"https://{slug}.example.com",
                "address": f"{rng.randint(1, 999)} Market Street",
                "city": city,
                "state": state,
                "postalCode": f"{rng.randint(10000, 99999)}",
                "country": country,
                "description": "",
                "locationId": location.id,
                "createdAt": created,
                "updatedAt": updated,
            }
        )
