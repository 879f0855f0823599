"""Seeded products: ``seed(store, location, rng, options)``, run for each location."""

from __future__ import annotations

import random

from ghlsync.emulator.seeding.helpers import pick, seed_clock, seeded_times
from ghlsync.emulator.seeding.options import SeedOptions
from ghlsync.emulator.state import LocationState, Store

NAMES = ("Teeth Whitening", "Personal Training", "Gutter Cleaning", "Logo Design", "Yoga Pass")


def seed(store: Store, location: LocationState, rng: random.Random, options: SeedOptions) -> None:
    """Products (``--count products=N``, default 15)."""
    now_ms, span_ms = seed_clock(store, options)
    for index in range(options.count("products", 15)):
        created, updated = seeded_times(rng, now_ms, span_ms)
        product_id = store.new_id(24).lower()
        name = f"{pick(rng, NAMES)} {index + 1}"
        location.collection("products").put(
            {
                "id": product_id,
                "_id": product_id,
                "locationId": location.id,
                "name": name,
                "description": f"{name} by {location.record.get('name')}",
                "productType": pick(rng, ("SERVICE", "DIGITAL", "PHYSICAL")),
                "availableInStore": rng.random() < 0.5,
                "variants": [],
                "collectionIds": [],
                "isTaxesEnabled": False,
                "taxes": [],
                "slug": name.lower().replace(" ", "-"),
                "createdAt": created,
                "updatedAt": updated,
            }
        )
