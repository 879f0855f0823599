"""Deterministic seed data, apart from the routes that serve it.

``build(SeedOptions(...))`` gives a seeded ``Store``; ``seed_store`` fills an empty one;
``add_seed`` adds to a running emulator (``POST /_emulator/seed``). One module per family
(``seeding/contacts.py``, ``seeding/opportunities.py``, ...) exposes
``seed(store, location, rng, options)``; ``run.SEEDERS`` lists them in seeding order.
"""

from __future__ import annotations

from ghlsync.emulator.seeding.options import SeedOptions, SeedResult, location_index
from ghlsync.emulator.seeding.run import (
    SEEDERS,
    add_location,
    add_seed,
    build,
    seed_store,
    settle_memory,
)

__all__ = [
    "SEEDERS",
    "SeedOptions",
    "SeedResult",
    "add_location",
    "add_seed",
    "build",
    "location_index",
    "seed_store",
    "settle_memory",
]
